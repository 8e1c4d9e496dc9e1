"""Bad credentials, URLs and TLS set-ups answered with one clear message, through the modules and the
inventory plugin (ansible-playbook / ansible-inventory) against the real emulators, a closed port, a
port that never answers, and a local HTTPS server with a self-signed certificate made here."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import certifi
import pytest
import yaml

from tests.helpers import COLLECTIONS, ROOT, EmulatorProcess, ensure_collection_link, run_playbook

FIXTURES = ROOT / "tests" / "emulators" / "fixtures"
TOKEN_HEROKU = "No Heroku API token: set the api_token option or the HEROKU_API_KEY environment variable."
TOKEN_NORTHFLANK = "No Northflank API token: set the api_token option or the NORTHFLANK_API_TOKEN environment variable."
# What a message must never hold: a traceback, urllib3's or Python's reprs.
NOISE = ("Traceback", "HTTPConnectionPool", "HTTPSConnectionPool", "MaxRetryError", "NewConnectionError",
         "object at 0x",
         "SSLCertVerificationError(")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def heroku():
    server = EmulatorProcess("heroku", "--fixture", str(FIXTURES / "account.yml"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def silent_port():
    """A port that accepts connections and never answers (a time-out)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self):  # pylint: disable=invalid-name
        body = json.dumps({"data": {"services": []}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    """An HTTPS server on 127.0.0.1 whose certificate is self-signed; yields its URL and the certificate's path."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d" % server.server_address[1], str(cert)
    server.shutdown()
    server.server_close()


def task(name, module, args, env):
    return {"name": name, module: args, "environment": env, "register": name, "ignore_errors": True}


def run_tasks(tmp_path, tasks, env):
    """One playbook of the given tasks; returns each task's result by name, and the whole output."""
    out = tmp_path / "results.json"
    names = [t["name"] for t in tasks]
    save = {"name": "save", "ansible.builtin.copy": {
        "dest": str(out), "content": "{{ {%s} | to_json }}" % ", ".join("'%s': %s" % (n, n) for n in names)}}
    play = [{"name": "bad inputs", "hosts": "localhost", "gather_facts": False, "tasks": tasks + [save]}]
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    run = run_playbook(str(playbook), env, "-v")
    return json.loads(out.read_text()), run.stdout + run.stderr


def clean(result):
    """The task failed with a message free of tracebacks and reprs."""
    assert result["failed"] is True, result
    assert not any(noise in result["msg"] for noise in NOISE), result["msg"]
    # (ansible-core may add "exception": "(traceback unavailable)" to any fail_json; never a real traceback)
    assert "module_stderr" not in result and "Traceback" not in str(result.get("exception", "")), result
    return result["msg"]


NF_INFO = "herokumigrate.northflank.northflank_service_info"
HEROKU_INFO = "herokumigrate.northflank.heroku_app_info"


def test_northflank_credentials_and_urls(northflank, silent_port, tmp_path):
    url, token = northflank.url, northflank.token
    closed = "http://127.0.0.1:%d" % free_port()
    tasks = [
        task("missing", NF_INFO, {"project": "p"}, {"NORTHFLANK_API_TOKEN": ""}),
        task("newline", NF_INFO, {"project": "p"}, {"NORTHFLANK_API_TOKEN": token + "\n"}),
        task("spaces", NF_INFO, {"project": "p", "api_token": "  %s \t" % token}, {}),
        # A ~/.netrc entry for the API's host (``heroku login`` writes them) never replaces the given token.
        task("netrc", NF_INFO, {"project": "p"}, {"HOME": str(tmp_path), "NETRC": str(tmp_path / ".netrc")}),
        task("inner_newline", NF_INFO, {"project": "p"}, {"NORTHFLANK_API_TOKEN": "demo\ntoken-MARK"}),
        task("non_ascii", NF_INFO, {"project": "p"}, {"NORTHFLANK_API_TOKEN": "d\u00e9mo-token-MARK"}),
        task("no_scheme", NF_INFO, {"project": "p"}, {"NORTHFLANK_API_BASE_URL": url.split("://", 1)[1]}),
        task("no_host", NF_INFO, {"project": "p", "api_url": "https://"}, {}),
        task("refused", NF_INFO, {"project": "p", "api_url": closed, "max_retries": 0}, {}),
        task("dns", NF_INFO, {"project": "p", "api_url": "https://no-such-host.invalid", "max_retries": 0}, {}),
        task("timeout", NF_INFO, {"project": "p", "api_url": "http://127.0.0.1:%d" % silent_port, "timeout": 1,
                                  "max_retries": 0}, {}),
    ]
    (tmp_path / ".netrc").write_text("machine 127.0.0.1 login someone password netrc-MARK\n")
    (tmp_path / ".netrc").chmod(0o600)
    results, output = run_tasks(tmp_path, tasks, northflank.env())

    assert clean(results["missing"]) == TOKEN_NORTHFLANK
    # Whitespace around a token is removed: the emulator accepted it (a 404 for the unknown project, not a 401).
    for name in ("newline", "spaces", "netrc"):
        assert results[name]["failure"]["status"] == 404, results[name]
        assert results[name]["api_requests"] == {"GET /v1/projects/{project}/services": 1}
    msg = clean(results["inner_newline"])
    assert msg.startswith("The Northflank API token (the api_token option or the NORTHFLANK_API_TOKEN environment "
                          "variable) holds a space, a line break")
    msg = clean(results["non_ascii"])
    assert "non-ASCII" in msg and "NORTHFLANK_API_TOKEN" in msg
    host = url.split("://", 1)[1]
    assert clean(results["no_scheme"]) == ("The Northflank API URL '%s' (the api_url option or the "
                                           "NORTHFLANK_API_BASE_URL environment variable) is not an http:// or "
                                           "https:// URL with a host name: write it in full, such as "
                                           "https://api.northflank.com." % host)
    assert "is not an http:// or https:// URL" in clean(results["no_host"])
    assert clean(results["refused"]) == (
        "%s refused the connection (nothing listens there): check the api_url option or the NORTHFLANK_API_BASE_URL "
        "environment variable, or start the server." % closed.split("://", 1)[1])
    assert results["refused"]["failure"]["id"] == "unreachable"
    assert clean(results["dns"]).startswith("The host name no-such-host.invalid could not be resolved (DNS lookup "
                                            "failed): check the api_url option or the NORTHFLANK_API_BASE_URL")
    assert clean(results["timeout"]) == (
        "127.0.0.1:%d did not answer in time (timeout=1 seconds): check the api_url option or the "
        "NORTHFLANK_API_BASE_URL environment variable and the network, or raise timeout." % silent_port)
    # No token ever printed, not even the refused ones.
    assert "MARK" not in output


def test_heroku_credentials_through_modules_the_mirror_and_the_inventory(heroku, tmp_path):
    url, token = heroku.url, heroku.token
    mirror = {"app": "acme-shop", "git_url": url + "/git/acme-shop.git", "target_url": "file://%s/t.git" % tmp_path}
    tasks = [
        task("missing", HEROKU_INFO, {"app": "acme-shop"}, {"HEROKU_API_KEY": ""}),
        task("mirror_missing", "herokumigrate.northflank.heroku_git_mirror", mirror, {"HEROKU_API_KEY": ""}),
        task("newline", HEROKU_INFO, {"app": "acme-shop"}, {"HEROKU_API_KEY": token + "\r\n"}),
        task("non_ascii", HEROKU_INFO, {"app": "acme-shop", "api_token": "\u201cMARK-%s\u201d" % token}, {}),
        task("no_scheme", HEROKU_INFO, {"app": "acme-shop"}, {"HEROKU_API_URL": "api.heroku.com"}),
        task("scheduler_no_scheme", HEROKU_INFO, {"app": "acme-shop", "scheduler_url": "particleboard.heroku.com"}, {}),
    ]
    results, output = run_tasks(tmp_path, tasks, heroku.env())
    assert clean(results["missing"]) == TOKEN_HEROKU
    assert clean(results["mirror_missing"]) == TOKEN_HEROKU
    assert results["newline"].get("failed") is not True and results["newline"]["app_info"]["app"]["name"] == "acme-shop"
    msg = clean(results["non_ascii"])
    assert "non-ASCII" in msg and "HEROKU_API_KEY" in msg
    assert clean(results["no_scheme"]) == (
        "The Heroku API URL 'api.heroku.com' (the api_url option or the HEROKU_API_URL environment variable) is not an "
        "http:// or https:// URL with a host name: write it in full, such as https://api.heroku.com.")
    assert "(the scheduler_url option or the HEROKU_SCHEDULER_API_URL environment variable)" in clean(
        results["scheduler_no_scheme"])
    assert "MARK" not in output

    # The inventory plugin goes through the same function, hence the same message.
    inventory = tmp_path / "units.heroku.yml"
    inventory.write_text("plugin: herokumigrate.northflank.heroku\n")
    ensure_collection_link()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
               ANSIBLE_CONFIG=str(ROOT / "tests" / "ansible.cfg"), HEROKU_API_URL=url, HEROKU_API_KEY="",
               ANSIBLE_INVENTORY_ENABLED="herokumigrate.northflank.heroku")
    run = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory), "--list"],
                         env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    assert TOKEN_HEROKU in " ".join(run.stderr.split()), run.stderr


def test_tls_options_win_over_the_environment_bundles(northflank, self_signed, tmp_path):
    url, cert = self_signed
    other = certifi.where()  # a real bundle that did not sign the test certificate
    args = {"project": "p", "api_url": url, "max_retries": 0}
    tasks = [
        task("default", NF_INFO, args, {}),
        task("ca_path", NF_INFO, dict(args, ca_path=cert), {}),
        task("env_bundle", NF_INFO, args, {"REQUESTS_CA_BUNDLE": cert}),
        task("ca_path_over_env", NF_INFO, dict(args, ca_path=other), {"REQUESTS_CA_BUNDLE": cert}),
        task("ca_path_over_curl_env", NF_INFO, dict(args, ca_path=other), {"CURL_CA_BUNDLE": cert}),
        task("off_over_env", NF_INFO, dict(args, validate_certs=False), {"REQUESTS_CA_BUNDLE": other}),
        task("empty_env_is_not_off", NF_INFO, args, {"CURL_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": ""}),
        task("missing_bundle", NF_INFO, dict(args, ca_path=str(tmp_path / "nope.pem")), {}),
        task("missing_env_bundle", NF_INFO, args, {"REQUESTS_CA_BUNDLE": str(tmp_path / "gone.pem")}),
        task("plain_http_to_tls", NF_INFO, dict(args, api_url=url.replace("https://", "http://")), {}),
        task("tls_to_plain_http", NF_INFO, dict(args, api_url=northflank.url.replace("http://", "https://")), {}),
    ]
    results, _output = run_tasks(tmp_path, tasks, northflank.env())
    host = url.split("://", 1)[1]
    expected = ("The TLS certificate of %s could not be verified (self-signed certificate): set ca_path to the CA "
                "bundle that signed it, or check the api_url option or the NORTHFLANK_API_BASE_URL environment "
                "variable." % host)
    assert clean(results["default"]) == expected
    for name in ("ca_path", "env_bundle", "off_over_env"):
        assert results[name].get("failed") is not True and results[name]["services"] == [], (name, results[name])
    for name in ("ca_path_over_env", "ca_path_over_curl_env", "empty_env_is_not_off"):
        assert clean(results[name]) == expected, name
    assert clean(results["missing_bundle"]) == ("The CA bundle %s (ca_path) does not exist: fix ca_path."
                                                % (tmp_path / "nope.pem"))
    assert clean(results["missing_env_bundle"]) == (
        "The CA bundle %s (REQUESTS_CA_BUNDLE) does not exist: fix or unset REQUESTS_CA_BUNDLE, or set ca_path."
        % (tmp_path / "gone.pem"))
    assert clean(results["plain_http_to_tls"]) == ("%s closed the connection without an answer: check that the scheme "
                                                   "(http:// or https://) and the port of the api_url option or the "
                                                   "NORTHFLANK_API_BASE_URL environment variable match the server."
                                                   % host)
    assert clean(results["tls_to_plain_http"]).startswith("The TLS handshake with %s failed"
                                                          % northflank.url.split("://")[1])
