# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What heroku_git_mirror pushes and how it compares, without git (module_utils/heroku_git.py);
tests/integration/test_heroku_git_mirror.py runs the module with real repositories."""

from __future__ import annotations

import os
import subprocess

import pytest

from ansible_collections.herokumigrate.northflank.plugins.module_utils import heroku_git as g

A, B, C, T = "a" * 40, "b" * 40, "c" * 40, "7" * 40

LS_REMOTE = f"""{A}\tHEAD
{A}\trefs/heads/main
{B}\trefs/heads/master
{T}\trefs/tags/v1
{A}\trefs/tags/v1^{{}}
{C}\trefs/pull/1/head
"""


def test_ls_remote_output_keeps_branches_and_tags_only():
    assert g.parse_refs(LS_REMOTE) == {"refs/heads/main": A, "refs/heads/master": B, "refs/tags/v1": T}
    assert g.parse_refs("") == {}
    # for-each-ref --format='%(objectname) %(refname)' reads the same
    assert g.parse_refs(f"{A} refs/heads/main\n") == {"refs/heads/main": A}


def test_branch_specs():
    assert g.parse_branches(["main", "master:main", "refs/heads/dev:refs/heads/staging"]) == [
        ("main", "main"), ("master", "main"), ("dev", "staging")]
    assert g.parse_branches(None) == []
    for bad in (":main", "main:", ""):
        with pytest.raises(g.MirrorError, match="SOURCE or SOURCE:TARGET"):
            g.parse_branches([bad])


def test_without_branches_every_branch_and_tag_keeps_its_name():
    wanted, notes = g.wanted_refs(g.parse_refs(LS_REMOTE))
    assert [(w["source"], w["target"], w["object"]) for w in wanted] == [
        ("refs/heads/main", "refs/heads/main", A),
        ("refs/heads/master", "refs/heads/master", B),
        ("refs/tags/v1", "refs/tags/v1", T),
    ]
    assert notes == []
    assert [w["target"] for w in g.wanted_refs(g.parse_refs(LS_REMOTE), tags=False)[0]] == [
        "refs/heads/main",
        "refs/heads/master",
    ]


def test_several_sources_for_one_target_the_first_that_exists_wins():
    source = g.parse_refs(LS_REMOTE)
    wanted, notes = g.wanted_refs(source, ["main:main", "master:main"], tags=False)
    assert wanted == [{"source": "refs/heads/main", "target": "refs/heads/main", "object": A}]
    assert notes == ["branch master is not pushed: main goes to main"]
    only_master = {"refs/heads/master": B}
    wanted, notes = g.wanted_refs(only_master, ["main:main", "master:main"])
    assert wanted == [{"source": "refs/heads/master", "target": "refs/heads/main", "object": B}] and notes == []


def test_a_mapping_that_matches_nothing_names_the_branches_there_are():
    with pytest.raises(g.MirrorError, match=r"None of the branches develop exist .* \(it has: main, master\)"):
        g.wanted_refs(g.parse_refs(LS_REMOTE), ["develop"])
    # one unmatched target among others is a note, not an error
    wanted, notes = g.wanted_refs(g.parse_refs(LS_REMOTE), ["main", "develop:staging"], tags=False)
    assert [w["target"] for w in wanted] == ["refs/heads/main"]
    assert notes == ["no branch develop in the Heroku repository for target branch staging"]


def test_compare_tells_unchanged_new_and_moved_refs():
    wanted, _notes = g.wanted_refs(g.parse_refs(LS_REMOTE))
    target = {"refs/heads/main": A, "refs/heads/master": C, "refs/heads/other": C}
    assert [(r["target"], r["before"], r["action"]) for r in g.compare(wanted, target)] == [
        ("refs/heads/main", A, "unchanged"),
        ("refs/heads/master", C, "update"),
        ("refs/tags/v1", None, "create"),
    ]


@pytest.mark.parametrize("url", ["https://git.heroku.com/acme.git", "http://127.0.0.1:5000/git/acme.git"])
def test_source_urls_are_http_without_credentials(url):
    g.check_source_url(url)


@pytest.mark.parametrize(
    "url,message",
    [
        ("git@heroku.com:acme.git", "must be an https://"),
        ("https://heroku:secret@git.heroku.com/acme.git", "must not hold credentials"),
    ],
)
def test_bad_source_urls(url, message):
    with pytest.raises(g.MirrorError, match=message) as err:
        g.check_source_url(url)
    assert "secret" not in str(err.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/web.git",
        "git@github.com:acme/web.git",
        "ssh://git@host:2222/web.git",
        "file:///srv/git/web.git",
        "/srv/git/web.git",
        "git://host/web.git",
    ],
)
def test_target_urls_git_can_push_to(url):
    g.check_target_url(url)


@pytest.mark.parametrize(
    "url,message",
    [
        ("ext::sh -c touch% /tmp/pwned", "remote helper"),
        ("fd::3", "remote helper"),
        ("--upload-pack=touch /tmp/pwned", "must be a Git remote URL"),
        ("ftp://host/web.git", "unsupported scheme ftp"),
        ("", "must be a Git remote URL"),
    ],
)
def test_target_urls_refused(url, message):
    with pytest.raises(g.MirrorError, match=message):
        g.check_target_url(url)


def test_ssh_and_http_targets_are_told_apart():
    assert g.is_ssh("git@github.com:acme/web.git") and g.is_ssh("ssh://git@host/web.git") and g.is_ssh("host:web.git")
    assert (
        not g.is_ssh("https://github.com/acme/web.git")
        and not g.is_ssh("/srv/web.git")
        and not g.is_ssh("file:///srv/web.git")
    )
    assert g.is_http("HTTPS://github.com/x") and not g.is_http("git@github.com:x")
    assert g.http_host("https://user@git.example.com:8443/x.git") == "git.example.com:8443"


def test_passwords_and_secrets_are_masked():
    assert g.redact_url("https://user:tok3n@github.com/acme/web.git") == "https://user:********@github.com/acme/web.git"
    assert g.redact_url("https://github.com/acme/web.git") == "https://github.com/acme/web.git"
    text = "fatal: Authentication failed for 'https://x:tok3n@github.com/acme/web.git/' (key hk-123)"
    assert (
        g.scrub(text, ["hk-123", None, ""])
        == "fatal: Authentication failed for 'https://x:********@github.com/acme/web.git/' (key ********)"
    )


def run_askpass(tmp_path, prompt, host):
    script = tmp_path / "askpass"
    script.write_text(g.ASKPASS_SCRIPT)
    script.chmod(0o700)
    env = dict(
        os.environ,
        HEROKUMIGRATE_GIT_HOST=host,
        HEROKUMIGRATE_GIT_USERNAME="heroku",
        HEROKUMIGRATE_GIT_PASSWORD="s3cret",
    )
    return subprocess.run([str(script), prompt], env=env, capture_output=True, text=True, check=False)


def test_askpass_answers_for_its_host_only(tmp_path):
    assert g.ASKPASS_SCRIPT.startswith("#!/bin/sh\n") and "s3cret" not in g.ASKPASS_SCRIPT
    user = run_askpass(tmp_path, "Username for 'https://git.heroku.com': ", "git.heroku.com")
    assert (user.returncode, user.stdout) == (0, "heroku\n")
    password = run_askpass(tmp_path, "Password for 'https://heroku@git.heroku.com': ", "git.heroku.com")
    assert (password.returncode, password.stdout) == (0, "s3cret\n")
    port = run_askpass(tmp_path, "Password for 'http://heroku@127.0.0.1:4000': ", "127.0.0.1:4000")
    assert port.stdout == "s3cret\n"
    # a redirect to another host, or a look-alike host, gets nothing
    for prompt in (
        "Password for 'https://heroku@evil.example': ",
        "Password for 'https://heroku@git.heroku.com.evil.example': ",
    ):
        other = run_askpass(tmp_path, prompt, "git.heroku.com")
        assert (other.returncode, other.stdout) == (1, "")
