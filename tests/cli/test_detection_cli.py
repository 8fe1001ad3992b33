"""`releasewise credential`, `detect --api` and `detection` against a live server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import login, rw
from tests.conftest import World
from tests.services.test_detection import MODEL, photo_bytes, strip
from tests.support.live import LiveServer


def test_sign_read_and_batch_detect(server: tuple[LiveServer, World], tmp_path: Path) -> None:
    live, _ = server
    login(live.url, "rita")
    source = tmp_path / "gen.jpg"
    source.write_bytes(photo_bytes())
    signed = tmp_path / "signed.jpg"
    code, out, err = rw("credential", "sign", str(source), "--project", "lab-a/echo", "--model", MODEL,
                        "--release", "v3", "-o", str(signed))
    assert code == 0, err
    assert "watermark key wk_" in out

    code, out, err = rw("credential", "read", str(signed))
    assert code == 0, err
    assert "TRUSTED" in out and "echo" not in out and MODEL in out
    code, out, _ = rw("credential", "read", str(signed), "--json")
    assert json.loads(out)["generator"]["release"] == "v3"
    code, out, _ = rw("credential", "read", str(source))
    assert code == 2 and "ABSENT" in out

    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "a-stripped.jpg").write_bytes(strip(signed.read_bytes()))
    (folder / "b-unrelated.png").write_bytes(photo_bytes("PNG", size=200))
    (folder / "notes.txt").write_text("ignored")
    login(live.url, "leo")
    code, out, err = rw("detect", "--api", str(folder))
    assert code == 0, err
    assert "a-stripped" in out and "detected" in out
    code, out, _ = rw("detect", "--api", str(folder), "--json")
    results = {Path(r["file"]).name: r for r in json.loads(out)}
    assert set(results) == {"a-stripped.jpg", "b-unrelated.png"}
    assert results["a-stripped.jpg"]["watermark"]["release"] == "v3"
    assert results["a-stripped.jpg"]["recovered"]["model"] == MODEL
    assert not results["b-unrelated.png"]["watermark"]["detected"]

    code, out, _ = rw("detect", "--api", str(folder / "b-unrelated.png"))
    assert code == 2


def test_detection_settings_commands(server: tuple[LiveServer, World]) -> None:
    live, _ = server
    login(live.url, "olivia")
    code, out, err = rw("detection", "mode", "lab-a/echo", "public")
    assert code == 0 and "public" in out, err
    code, _, err = rw("detection", "mode", "lab-a/echo", "everyone")
    assert code == 1 and "public, partners, off" in err
    assert rw("detection", "retention", "lab-a", "30")[0] == 0
    code, out, err = rw("detection", "partner-add", "lab-a", "oscar", "--note", "VideoShare T&S")
    assert code == 0, err
    code, out, _ = rw("detection", "show", "lab-a", "--json")
    data = json.loads(out)
    assert data["retention_days"] == 30 and data["partners"][0]["username"] == "oscar"
    assert data["projects"][0]["mode"] == "public"
    assert rw("detection", "partner-remove", "lab-a", "oscar")[0] == 0
    code, _, err = rw("detection", "partner-remove", "lab-a", "oscar")
    assert code == 1 and "not a detection partner" in err
    code, out, err = rw("detection", "rotate-key", "lab-a/echo", MODEL)
    assert code == 0 and "generation 0" in out, err
    code, out, _ = rw("detection", "keys", "lab-a/echo", "--json")
    assert json.loads(out)[0]["model"] == MODEL
    login(live.url, "vic")
    code, _, err = rw("detection", "checks", "lab-a")
    assert code == 1 and "Permission denied" in err
