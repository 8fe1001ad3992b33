"""Misuse-report evidence is checked in the background with the detection service, against the reported
organisation's own keys, and responders see the grant a watermark points to."""

from __future__ import annotations

import pytest

from releasewise.errors import NotFound, PermissionDenied
from releasewise.services import evidence_checks, provenance
from tests.conftest import World, make_user
from tests.hfapi.support import gated_setup, request_and_approve
from tests.services.test_detection import MODEL, photo_bytes, strip
from tests.services.test_incidents import file_report, released


def test_evidence_traces_to_the_grant_and_only_for_the_reported_org(world: World) -> None:
    rt = released(world).rt
    gated_setup(rt, world.lead)
    grantee = make_user(rt, "mallory")
    grant = request_and_approve(rt, grantee, world.lead)
    leaked = provenance.mark_output(rt, world.researcher, "lab-a", "echo", MODEL, release="v3",
                                    data=photo_bytes(), grant_id=grant)
    filed = file_report(rt, evidence=[("clip-frame.jpg", "image/jpeg", strip(leaked.data)),
                                      ("notes.txt", "text/plain", b"just some notes")])
    # A report to another organisation with the same file learns nothing about lab-a's grant.
    other = file_report(rt, org="lab-b", project="secret", ip="203.0.113.9",
                        evidence=[("same.jpg", "image/jpeg", strip(leaked.data))])
    assert evidence_checks.check_pending(rt) == 3
    assert evidence_checks.check_pending(rt) == 0  # idempotent

    checks = evidence_checks.for_report(rt, world.lead, "lab-a", filed.report_id)
    traced = [c for c in checks.values() if c.detected]
    assert len(traced) == 1 and traced[0].grant_id == grant
    assert "mallory" in traced[0].summary and "v3" in traced[0].summary
    assert any("Not checked" in c.summary for c in checks.values())
    assert evidence_checks.detected_reports(rt, world.lead, "lab-a") == {filed.report_id}

    theirs = evidence_checks.for_report(rt, world.outsider, "lab-b", other.report_id)
    assert [c.detected for c in theirs.values()] == [False]
    assert all("mallory" not in c.summary for c in theirs.values())
    # Lab B cannot read lab A's checks, and lab A's researchers (not responders) cannot either.
    with pytest.raises(NotFound):
        evidence_checks.for_report(rt, world.outsider, "lab-a", filed.report_id)
    with pytest.raises(PermissionDenied):
        evidence_checks.for_report(rt, world.researcher, "lab-a", filed.report_id)
