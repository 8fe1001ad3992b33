"""The precedent library from the terminal: publish as a lead, search and show without logging in, errors."""

from __future__ import annotations

import json

from tests.cli.conftest import login, rw
from tests.services.precedent_fixtures import COMMENT, decide, second_lab


def test_precedent_commands(server) -> None:  # type: ignore[no-untyped-def]
    live, world = server
    echo = decide(world)
    pixel = second_lab(world)

    code, _, err = rw("precedents", "search")
    assert code == 1 and "--url" in err  # no login and no server named

    login(live.url, "vic")  # a viewer may preview but not publish
    code, out, err = rw("precedents", "preview", "lab-a", str(echo), "--json")
    assert code == 0, err
    assert json.loads(out)["suggested_options"] == ["tiered_access"]
    code, _, err = rw("precedents", "publish", "lab-a", str(echo))
    assert code == 1 and "precedent.publish" in err

    login(live.url, "leo")
    code, _, err = rw("precedents", "publish", "lab-a", str(echo), "--option", "warp_drive")
    assert code == 1 and "staged_release" in err
    code, out, err = rw("precedents", "publish", "lab-a", str(echo), "--option", "staged_release",
                        "--option", "detector_first", "--note", "Brief platforms early.")
    assert code == 0, err
    assert "as precedent #1" in out
    login(live.url, "oscar")
    assert rw("precedents", "publish", "lab-b", str(pixel))[0] == 0  # the suggested options

    rw("logout")
    code, out, err = rw("precedents", "search", "--url", live.url, "--modality", "audio", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["total"] == 1 and data["items"][0]["record"]["options"] == ["staged_release", "detector_first"]
    code, out, err = rw("precedents", "search", "consent", "faces", "--url", live.url)
    assert code == 0, err
    assert "Pixel forge" in out and "Echo" not in out and "1 precedent(s)" in out
    code, _, err = rw("precedents", "search", "--url", live.url, "--outcome", "terrible")
    assert code == 1 and "'none'" in err and "'severe'" in err
    code, out, err = rw("precedents", "show", "1", "--url", live.url)
    assert code == 0, err
    assert "Brief platforms early." in out and "No incidents since the decision." in out
    assert "fiona" not in out and COMMENT not in out
    code, _, err = rw("precedents", "show", "99", "--url", live.url)
    assert code == 1 and "No published precedent #99" in err

    login(live.url, "leo")
    assert rw("precedents", "withdraw", "lab-a", str(echo))[0] == 0
    code, out, _ = rw("precedents", "search", "--json")  # the saved login's server
    assert json.loads(out)["total"] == 1
