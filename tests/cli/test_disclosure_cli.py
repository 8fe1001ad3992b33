"""`releasewise disclose open|invite|status|extend|publish` against a real server."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from pathlib import Path

from releasewise.services import disclosure as svc
from tests.cli.conftest import login, rw


def test_disclose_open_invite_status_extend_publish(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    live, world = server
    now = world.rt.clock.now().replace(tzinfo=UTC)
    briefing = tmp_path / "briefing.md"
    briefing.write_text("# Echo\nDetector shared first.")
    login(live.url, "leo")
    code, out, err = rw("disclose", "add-stakeholder", "lab-a", "Moderate Platform", "--type", "platform",
                        "-c", "Tina <tina@platform.example>", "-i", "audio", "--json")
    assert code == 0, err
    stakeholder_id = json.loads(out)["id"]
    code, _, err = rw("disclose", "add-stakeholder", "lab-a", "Bad", "--type", "platform", "-c", "Ned <ned@@x>")
    assert code == 1 and "not a valid email" in err
    code, _, err = rw("disclose", "open", "lab-a", "echo", "--title", "Echo", "--briefing", str(briefing),
                      "--embargo-ends", "2030-01-01T09:00")
    assert code == 1 and "no timezone" in err
    ends = (now + timedelta(days=10)).isoformat()
    code, out, err = rw("disclose", "open", "lab-a", "echo", "--title", "Echo", "--briefing", str(briefing),
                        "--embargo-ends", ends, "--stage", "stage-1", "-a", "weights-1b")
    assert code == 0 and "Opened case #1" in out, err
    respond = (now + timedelta(days=2)).isoformat()
    code, out, err = rw("disclose", "invite", "lab-a", "1", str(stakeholder_id), "--respond-by", respond)
    assert code == 0 and "tina@platform.example" in out, err
    code, _, err = rw("disclose", "invite", "lab-a", "1", str(stakeholder_id), "--respond-by", respond)
    assert code == 1 and "already invited" in err
    code, out, _ = rw("disclose", "status", "lab-a", "1")
    assert code == 0 and "Moderate Platform" in out and "awaiting answer" in out
    code, out, err = rw("disclose", "extend", "lab-a", "1", "--until", (now + timedelta(days=12)).isoformat(),
                        "--reason", "Platform asked")
    assert code == 0 and "parties were told" in out, err
    assert svc.get_case(world.rt, world.lead, "lab-a", 1).embargo_ends_at == (now + timedelta(days=12)).replace(
        tzinfo=None)
    login(live.url, "rita")
    code, _, err = rw("disclose", "publish", "lab-a", "1")
    assert code == 1 and "does not allow 'disclosure.manage'" in err
    login(live.url, "leo")
    code, out, err = rw("disclose", "publish", "lab-a", "1", "--summary", "Out now.")
    assert code == 0 and "Published #1" in out, err
    code, out, _ = rw("disclose", "status", "lab-a", "--json")
    assert json.loads(out)[0]["status"] == "published"
    code, out, _ = rw("disclose", "stakeholders", "lab-a")
    assert "Moderate Platform" in out
