"""heroku_app_state through ansible-playbook (targets/heroku_app_state) against the Heroku emulator, and the emulator's
write routes on their own: the only Heroku writes the collection makes, each checked against Heroku's schema and
logged."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import yaml

from tests.contract.heroku_schema import load
from tests.helpers import ROOT, EmulatorProcess, run_playbook

TARGET = Path(__file__).parent / "targets" / "heroku_app_state" / "main.yml"
FIXTURE = ROOT / "tests" / "emulators" / "fixtures" / "demo.yml"
ACCEPT = "application/vnd.heroku+json; version=3"
# The API key is a secret: it must not show anywhere in the playbook's output.
TOKEN = "heroku-key-NEVER-PRINT-7"
APP = "northwind-shop"


@pytest.fixture
def heroku():
    server = EmulatorProcess("heroku", "--fixture", str(FIXTURE), token=TOKEN)
    yield server
    server.stop()


def api(server, method: str, path: str, body=None) -> requests.Response:
    return requests.request(method, server.url + path, json=body, timeout=10,
                            headers={"Accept": ACCEPT, "Authorization": f"Bearer {server.token}"})


def assert_clean_log(server) -> None:
    """Every answer passed the emulator's own schema check."""
    broken = [e for e in server.requests()["requests"] if e.get("response_error")]
    assert not broken, broken


def test_the_target_freezes_and_restores(heroku, tmp_path):
    state_file = tmp_path / "cutover-state.yml"
    result = run_playbook(
        str(TARGET), heroku.env(), "-vvv", "--diff", "-e", f"heroku_app={APP}", "-e", f"heroku_state_file={state_file}"
    )
    assert "failed=0" in result.stdout
    output = result.stdout + result.stderr
    assert "NEVER-PRINT" not in output, [line for line in output.splitlines() if "NEVER-PRINT" in line][:3]
    assert yaml.safe_load(state_file.read_text()) == {
        "heroku": {APP: {"maintenance": False, "formation": {"web": 2, "worker": 1}}}
    }
    assert state_file.stat().st_mode & 0o777 == 0o600
    # the emulator holds the app as it was found
    assert api(heroku, "GET", f"/apps/{APP}").json()["maintenance"] is False
    assert {f["type"]: f["quantity"] for f in api(heroku, "GET", f"/apps/{APP}/formation").json()} == {
        "web": 2,
        "worker": 1,
    }
    assert_clean_log(heroku)


def test_the_write_routes_follow_the_schema_and_are_logged(heroku):
    heroku.clear_log()
    schema = load()
    scaled = api(heroku, "PATCH", f"/apps/{APP}/formation", {"updates": [{"type": "worker", "quantity": 0}]})
    assert scaled.status_code == 200, scaled.text
    assert not schema.check_response("PATCH", "/apps/{app}/formation", scaled.json())
    assert {f["type"]: f["quantity"] for f in scaled.json()} == {"web": 2, "worker": 0}
    one = api(heroku, "PATCH", f"/apps/{APP}/formation/web", {"quantity": 3})
    assert (
        one.status_code == 200
        and one.json()["quantity"] == 3
        and not schema.check_response("PATCH", "/apps/{app}/formation/{formation}", one.json())
    )
    on = api(heroku, "PATCH", f"/apps/{APP}", {"maintenance": True})
    assert on.status_code == 200 and on.json()["maintenance"] is True
    log = heroku.requests()
    assert log["writes"] == 3
    assert [e.get("body") for e in log["requests"]] == [
        {"updates": [{"type": "worker", "quantity": 0}]},
        {"quantity": 3},
        {"maintenance": True},
    ]
    # refused: a batch with an unknown type changes nothing, not even its known types
    for body, status, error in (
        ({"updates": [{"type": "web", "quantity": 1}, {"type": "clock", "quantity": 0}]}, 404, "not_found"),
        ({"updates": [{"type": "web", "quantity": "two"}]}, 422, "invalid_params"),
        ({"updates": [{"quantity": 1}]}, 422, "invalid_params"),
        ({"updates": [{"type": "web", "quantity": -1}]}, 422, "invalid_params"),
        ({"updates": [{"type": "web", "dyno_size": {"name": "eco"}}]}, 422, "invalid_params"),
        ({"scale": 1}, 422, "invalid_params"),
    ):
        resp = api(heroku, "PATCH", f"/apps/{APP}/formation", body)
        assert (resp.status_code, resp.json()["id"]) == (status, error), body
    assert "Couldn't find that process type (clock)." in api(
        heroku, "PATCH", f"/apps/{APP}/formation", {"updates": [{"type": "clock", "quantity": 0}]}
    ).json()["message"]
    assert {f["type"]: f["quantity"] for f in api(heroku, "GET", f"/apps/{APP}/formation").json()} == {
        "web": 3,
        "worker": 0,
    }
    assert_clean_log(heroku)
