"""Misuse reports and incidents from the terminal: file, queue, triage, open, show, export; clear errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.cli.conftest import login, rw
from tests.services.test_incidents import released


def test_incident_commands(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    live, world = server
    released(world)
    evidence = tmp_path / "frame.png"
    evidence.write_bytes(b"\x89PNG\r\n\x1a\n frame")
    login(live.url, "oscar")  # a member of another organisation reports
    code, _, err = rw("incident", "file", "lab-a/echo", "--harm", "fraud", "--description", "x",
                      "--evidence", str(tmp_path / "missing.png"))
    assert code == 1 and "is not a file" in err
    code, _, err = rw("incident", "file", "lab-a/echo", "--harm", "spam", "--description", "Scam calls")
    assert code == 1 and "harm_category" in err
    code, out, err = rw("incident", "file", "lab-a/echo", "--harm", "fraud", "--description", "Scam calls",
                        "--url", "https://video.example/1", "--evidence", str(evidence))
    assert code == 0, err
    assert "/reports/followup/invitations/" in out
    code, _, err = rw("incident", "reports", "lab-a")
    assert code == 1 and "No organisation 'lab-a'" in err  # the reporter cannot read the queue

    login(live.url, "leo")
    code, out, err = rw("incident", "reports", "lab-a", "--json")
    assert code == 0, err
    reports = json.loads(out)
    assert [(r["reporter"], r["status"]) for r in reports] == [("oscar", "new")]
    rid = reports[0]["id"]
    code, _, err = rw("incident", "triage", "lab-a", str(rid), "--status", "resolved")
    assert code == 1 and "cannot become resolved" in err
    code, out, err = rw("incident", "triage", "lab-a", str(rid), "--status", "triaged", "--severity", "4")
    assert code == 0 and "triaged" in out, err
    code, out, err = rw("incident", "message", "lab-a", str(rid), "--body", "Which number called?")
    assert code == 0 and "emailed to 1 address" in out, err  # oscar reported signed in
    code, out, err = rw("incident", "thread", "lab-a", str(rid), "--json")
    assert code == 0 and json.loads(out)[0]["body"] == "Which number called?", err
    code, out, err = rw("incident", "thread", "lab-a", str(rid))
    assert code == 0 and "Which number called?" in out and "leo" in out, err
    code, _, err = rw("incident", "message", "lab-a", str(rid + 40), "--body", "x")
    assert code == 1 and f"#{rid + 40}" in err
    code, out, err = rw("incident", "open", "lab-a", "--report", str(rid), "--title", "Scam", "--severity", "4",
                        "--json")
    assert code == 0, err
    iid = json.loads(out)["id"]
    code, out, err = rw("incident", "show", "lab-a", str(iid))
    assert code == 0 and "Scam" in out and "Reports" in out, err
    code, out, err = rw("incident", "list", "lab-a")
    assert code == 0 and "Scam" in out
    target = tmp_path / "aiid.csv"
    code, out, err = rw("incident", "export", "lab-a", "--format", "csv", "-o", str(target))
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert rows[0]["title"] == "Scam" and rows[0]["source_domain"] == "video.example"
    code, _, err = rw("incident", "export", "lab-a", "--format", "xml")
    assert code == 1 and "json or csv" in err
    login(live.url, "vic")
    code, _, err = rw("incident", "export", "lab-a")
    assert code == 1 and "incident.view" in err
