"""The CLI against a real server on loopback."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.cli.conftest import login, rw
from tests.conftest import PASSWORD, World
from tests.support.live import LiveServer


def test_login_stores_token_privately_and_whoami(server: tuple[LiveServer, World], config_dir: Path) -> None:
    live, _ = server
    login(live.url, "olivia")
    creds = config_dir / "credentials.json"
    assert stat.S_IMODE(os.stat(creds).st_mode) == 0o600
    assert json.loads(creds.read_text())["token"].startswith("rwt_")
    code, out, _ = rw("whoami", "--json")
    assert code == 0 and json.loads(out)["username"] == "olivia"
    assert rw("logout")[0] == 0
    code, _, err = rw("whoami")
    assert code == 1 and "not logged in" in err


def test_wrong_password_is_a_clear_error(server: tuple[LiveServer, World], config_dir: Path) -> None:
    live, _ = server
    code, _, err = rw("login", "--url", live.url, "-u", "olivia", "--password-stdin", input="nope-nope-nope\n")
    assert code == 1 and "Wrong username or password" in err
    assert not (config_dir / "credentials.json").exists()


def test_unreachable_server_is_a_clear_error() -> None:
    code, _, err = rw("login", "--url", "http://127.0.0.1:9", "--token", "rwt_abcdef123456_" + "x" * 43)
    assert code == 1 and "Cannot reach the server" in err


def test_org_project_asset_member_and_audit_commands(server: tuple[LiveServer, World]) -> None:
    live, _ = server
    login(live.url, "olivia")
    code, out, err = rw("org", "create", "Sound Lab", "--json")
    assert code == 0, err
    assert json.loads(out)["slug"] == "sound-lab"
    code, out, _ = rw("org", "list", "--json")
    assert {o["slug"] for o in json.loads(out)} == {"lab-a", "sound-lab"}

    assert rw("project", "create", "sound-lab", "Vox", "--modality", "audio")[0] == 0
    code, out, _ = rw("asset", "create", "sound-lab/vox", "Vox weights", "--kind", "weights", "--json")
    assert json.loads(out)["high_water_tier"] == "team"
    code, out, _ = rw("asset", "list", "sound-lab/vox")
    assert code == 0 and "Vox weights" in out
    code, out, _ = rw("project", "list", "--json")
    assert {(p["org_slug"], p["slug"]) for p in json.loads(out)} == {("lab-a", "echo"), ("sound-lab", "vox")}

    code, out, _ = rw("member", "invite", "sound-lab", "vic@example.org", "--role", "viewer")
    assert code == 0 and "/invitations/" in out
    code, out, _ = rw("member", "invitations", "sound-lab", "--json")
    assert json.loads(out)[0]["status"] == "pending"

    code, out, _ = rw("audit", "list", "sound-lab", "--json")
    assert [e["action"] for e in json.loads(out)][:3] == ["member.invited", "asset.created", "project.created"]
    code, out, _ = rw("audit", "verify", "sound-lab")
    assert code == 0 and "intact" in out


def test_bad_input_and_permission_errors(server: tuple[LiveServer, World]) -> None:
    live, _ = server
    login(live.url, "vic")
    code, _, err = rw("project", "create", "lab-a", "Rogue")
    assert code == 1 and "viewer" in err and "project.create" in err
    code, _, err = rw("project", "list", "lab-b")
    assert code == 1 and "No organisation 'lab-b'" in err
    code, _, err = rw("asset", "list", "just-one-part")
    assert code == 1 and "ORG/PROJECT" in err
    code, _, err = rw("asset", "create", "lab-a/echo", "X", "--kind", "nonsense")
    assert code == 1 and "kind" in err


def test_audit_verify_exits_2_when_tampered(server: tuple[LiveServer, World]) -> None:
    live, world = server
    from sqlalchemy import text

    with world.rt.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor_label = 'mallory' WHERE chain_key = 'org:1' AND seq = 2"))
    login(live.url, "olivia")
    code, _, err = rw("audit", "verify", "lab-a")
    assert code == 2 and "tampered" in err and "#2" in err


def test_token_create_list_revoke(server: tuple[LiveServer, World]) -> None:
    live, _ = server
    login(live.url, "olivia")
    code, out, err = rw("token", "create", "ci-bot", "--scope", "read", "-u", "olivia", "--password-stdin", "--json",
                        input=PASSWORD + "\n")
    assert code == 0, err
    created = json.loads(out)
    code, out, _ = rw("token", "list", "--json")
    assert "ci-bot" in {t["name"] for t in json.loads(out)}
    code, out, _ = rw("token", "revoke", created["details"]["public_id"], "--json")
    assert json.loads(out)["revoked_at"] is not None


def test_environment_token_overrides_saved_login(server: tuple[LiveServer, World],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    live, world = server
    from releasewise.services import tokens

    _, raw = tokens.create_token(world.rt, world.outsider, name="env", scopes=["read"])
    monkeypatch.setenv("RELEASEWISE_URL", live.url)
    monkeypatch.setenv("RELEASEWISE_TOKEN", raw)
    code, out, _ = rw("whoami", "--json")
    assert json.loads(out)["username"] == "oscar"


def test_provenance_commands_explain_a_missing_extra() -> None:
    import subprocess
    import sys

    # Simulate an install without the provenance extra: numpy cannot be imported.
    code = ("import sys; sys.modules['numpy'] = None\n"
            "from releasewise.cli.main import app\n"
            "app(['mark', 'image', 'x.png', '-o', 'y.png', '--org', 'lab', '--model', 'echo'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "pip install 'releasewise[provenance]'" in result.stderr
    assert "Traceback" not in result.stderr
