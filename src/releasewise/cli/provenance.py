"""CLI for provenance marks: `releasewise mark`, `detect`, `keys` and `bench watermark`.

Registered by ``releasewise.cli.main``::

    app.add_typer(mark_app, name="mark")
    app.command("detect")(detect_command)
    app.add_typer(keys_app, name="keys")
    app.add_typer(bench_app, name="bench")

Keys live in a local keystore (``$RELEASEWISE_DATA_DIR/provenance-keys.json``,
default ``./releasewise-data``; override with ``--keystore``).  ``detect``
exits 0 when a mark is found, 2 when none is, and 1 on an error.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from releasewise.cli.output import console, err_console, fail

if TYPE_CHECKING:
    from releasewise.provenance import Keystore, Payload


class _Library:
    """``releasewise.provenance``, loaded when a command first needs it.

    The library pulls in numpy, SciPy and Pillow; loading them only when a
    provenance command runs keeps every other command (and `--help`) fast, and
    lets an install without the ``provenance`` extra say what is missing.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            import releasewise.provenance as library
        except ImportError as exc:
            if name == "ProvenanceError":
                return _NeverRaised  # an `except pv.ProvenanceError` clause while the library is missing
            fail(f"This command needs the provenance extra ({exc.name or 'a dependency'} is missing): "
                 "pip install 'releasewise[provenance]'.")
        return getattr(library, name)


class _NeverRaised(Exception):
    """Stands in for ProvenanceError when the library cannot load."""


pv = _Library()


mark_app = typer.Typer(help="Embed a provenance watermark into generated media.", no_args_is_help=True)
keys_app = typer.Typer(help="Watermark keys per organisation and model (local keystore).", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks.", no_args_is_help=True)

KeystoreOpt = Annotated[
    Path | None,
    typer.Option("--keystore", help="Keystore file (default: $RELEASEWISE_DATA_DIR/provenance-keys.json)."),
]
OrgOpt = Annotated[str, typer.Option("--org", help="Organisation that owns the model.")]
ModelOpt = Annotated[str, typer.Option("--model", help="Model (release) name.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _store(path: Path | None) -> Keystore:
    store: Keystore = pv.Keystore(path)
    return store


# -- mark ---------------------------------------------------------------------
def _payload_for(store: Keystore, org: str, model: str, grant: int | None) -> tuple[Any, Payload]:
    record = store.active(org, model)
    return record, pv.Payload(record.release_id, record.generation if grant is None else grant)


@mark_app.command("image")
def mark_image(
    source: Annotated[Path, typer.Argument(help="Image to mark (PNG, JPEG, WebP, ...).")],
    output: Annotated[Path, typer.Option("--out", "-o", help="Where to write the marked image (.png recommended).")],
    org: OrgOpt,
    model: ModelOpt,
    grant: Annotated[int | None, typer.Option("--grant", help="Grant id to embed (default: key generation).")] = None,
    keystore: KeystoreOpt = None,
) -> None:
    """Embed the model's watermark into an image."""
    try:
        record, payload = _payload_for(_store(keystore), org, model, grant)
        pixels = pv.load_image(source)
        marked = pv.ImageMark(record.key).embed(pixels, payload)
        pv.save_image(output, marked)
    except pv.ProvenanceError as exc:
        fail(str(exc))
    console.print(f"Marked {source} → {output} (release {payload.release_id}, grant {payload.grant_id}, key {record.key_id})")


@mark_app.command("audio")
def mark_audio(
    source: Annotated[Path, typer.Argument(help="Speech clip to mark (WAV; MP3/Ogg/FLAC need ffmpeg).")],
    output: Annotated[Path, typer.Option("--out", "-o", help="Where to write the marked clip (.wav recommended).")],
    org: OrgOpt,
    model: ModelOpt,
    grant: Annotated[int | None, typer.Option("--grant", help="Grant id to embed (default: key generation).")] = None,
    keystore: KeystoreOpt = None,
) -> None:
    """Embed the model's watermark into a speech clip."""
    try:
        record, payload = _payload_for(_store(keystore), org, model, grant)
        samples, rate = pv.load_audio(source)
        marked = pv.AudioMark(record.key).embed(samples, rate, payload)
        pv.save_audio(output, marked, rate)
    except pv.ProvenanceError as exc:
        fail(str(exc))
    console.print(f"Marked {source} → {output} (release {payload.release_id}, grant {payload.grant_id}, key {record.key_id})")


@mark_app.command("text")
def mark_text(org: OrgOpt, model: ModelOpt, keystore: KeystoreOpt = None) -> None:
    """Print the SynthID Text settings for generation (text is marked while it is generated).

    Python: ``model.generate(..., watermarking_config=TextMark(key).watermarking_config())``.
    These settings are as secret as the key: keep them server-side.
    """
    try:
        record = _store(keystore).active(org, model)
    except pv.ProvenanceError as exc:
        fail(str(exc))
    mark = pv.TextMark(record.key)
    print(json.dumps({"key_id": record.key_id, "ngram_len": mark.ngram_len, "keys": mark.keys,
                      "sampling_table_seed": mark.sampling_table_seed}, indent=2))


# -- detect -------------------------------------------------------------------
def detect_command(
    file: Annotated[Path, typer.Argument(help="Suspicious image, audio or text file.")],
    keystore: KeystoreOpt = None,
    tokenizer: Annotated[
        Path | None, typer.Option("--tokenizer", help="Local tokenizer directory (needed for text files).")
    ] = None,
    as_json: JsonFlag = False,
    api: Annotated[bool, typer.Option("--api", help="Ask the server's detection service instead of the local "
                                      "keystore; FILE may be a folder (every image and audio clip under it).")] = False,
) -> None:
    """Look for any known key's watermark in FILE. Exit 0 if found, 2 if not, 1 on error."""
    if api:
        from releasewise.cli.detection import detect_via_api

        detect_via_api(file, as_json)
    try:
        records = _store(keystore).detection_keys()
        if not records:
            fail("the keystore has no keys; create one with `releasewise keys create --org ORG --model MODEL`")
        kind = pv.media_kind(file)
        found: dict[str, Any] | None = None
        if kind == "image":
            pixels = pv.load_image(file)
            results = pv.ImageMark.detect_many(pixels, [pv.ImageMark(r.key) for r in records])
            for record, res in zip(records, results):
                if res.detected and res.payload is not None:
                    found = _found(record, res.payload.release_id, res.payload.grant_id, res.p_value)
                    break
        elif kind == "audio":
            samples, rate = pv.load_audio(file)
            for record in records:
                ares = pv.AudioMark(record.key).detect(samples, rate)
                if ares.detected and ares.payload is not None:
                    found = _found(record, ares.payload.release_id, ares.payload.grant_id, ares.p_value)
                    break
        else:
            if tokenizer is None:
                fail("detecting text needs the tokenizer used for generation: pass --tokenizer DIR")
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(str(tokenizer), local_files_only=True)
            text = file.read_text(errors="replace")
            for record in records:
                tres = pv.TextMark(record.key, tokenizer=tok).detect(text)
                if tres.detected:
                    found = _found(record, record.release_id, None, tres.p_value)
                    found["z_score"] = tres.z_score
                    break
    except pv.ProvenanceError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{file}: {exc}")
    result = {"file": str(file), "kind": kind, "detected": found is not None, **(found or {})}
    if as_json:
        print(json.dumps(result))
    elif found:
        console.print(
            f"[green]Watermark found[/] in {file}: organisation {found['organisation']}, model {found['model']}, "
            f"release {found['release_id']}, grant {found['grant_id']} (key {found['key_id']}, "
            f"p ≤ {found['p_value']:.2g})",
            highlight=False,
        )
    else:
        console.print(f"Not detected: no watermark from the {len(records)} known key(s) in {file}.")
    raise typer.Exit(0 if found else 2)


def _found(record: Any, release_id: int, grant_id: int | None, p_value: float) -> dict[str, Any]:
    return {
        "organisation": record.organisation,
        "model": record.model,
        "key_id": record.key_id,
        "key_status": record.status,
        "release_id": release_id,
        "grant_id": grant_id,
        "p_value": p_value,
    }


# -- keys ---------------------------------------------------------------------
@keys_app.command("create")
def keys_create(
    org: OrgOpt,
    model: ModelOpt,
    release_id: Annotated[int | None, typer.Option("--release-id", help="24-bit release id (default: next free).")] = None,
    keystore: KeystoreOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Create the watermark key for an organisation's model."""
    try:
        record = _store(keystore).create(org, model, release_id=release_id)
    except pv.ProvenanceError as exc:
        fail(str(exc))
    _print_record(record, as_json, "Created")


@keys_app.command("rotate")
def keys_rotate(org: OrgOpt, model: ModelOpt, keystore: KeystoreOpt = None, as_json: JsonFlag = False) -> None:
    """Replace the active key; the old one is retired but still detects what it marked."""
    try:
        record = _store(keystore).rotate(org, model)
    except pv.ProvenanceError as exc:
        fail(str(exc))
    _print_record(record, as_json, "Rotated; new active key")


@keys_app.command("list")
def keys_list(keystore: KeystoreOpt = None, as_json: JsonFlag = False) -> None:
    """List keys (never their secrets)."""
    try:
        records = _store(keystore).list()
    except pv.ProvenanceError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps([r.public() for r in records]))
        return
    table = Table("key id", "organisation", "model", "release", "generation", "status", "created", "fingerprint")
    for r in records:
        pub = r.public()
        table.add_row(r.key_id, r.organisation, r.model, str(r.release_id), str(r.generation), r.status,
                      r.created, pub["fingerprint"])
    console.print(table)


def _print_record(record: Any, as_json: bool, verb: str) -> None:
    if as_json:
        print(json.dumps(record.public()))
    else:
        console.print(f"{verb} {record.key_id} for {record.organisation}/{record.model} (release {record.release_id}, "
                      f"generation {record.generation}).", highlight=False)


# -- bench --------------------------------------------------------------------
def _load_dir_images(folder: Path) -> list[tuple[str, Any]]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".webp", ".bmp"})
    return [(p.name, pv.load_image(p)) for p in files]


def _load_dir_audio(folder: Path) -> list[tuple[str, Any, int]]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".wav", ".flac", ".mp3", ".ogg"})
    out = []
    for p in files:
        x, rate = pv.load_audio(p)
        out.append((p.name, x if x.ndim == 1 else x.mean(axis=1), rate))
    return out


@bench_app.command("watermark")
def bench_watermark(
    images: Annotated[Path | None, typer.Option("--images", help="Folder of test images.")] = None,
    audio: Annotated[Path | None, typer.Option("--audio", help="Folder of speech clips.")] = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Write a model-card 'Provenance' section here.")] = None,
    baselines: Annotated[bool, typer.Option(help="Run invisible-watermark baselines (needs releasewise[bench]).")] = True,
    text: Annotated[bool, typer.Option(help="Run the text (SynthID) check with a tiny random model.")] = True,
    fpr_crops: Annotated[int, typer.Option("--fpr-crops", help="Unmarked crops for the false-positive check.")] = 2000,
    timing_runs: Annotated[int, typer.Option("--timing-runs", help="Runs for the 1024² timing (median).")] = 5,
    one_core: Annotated[bool, typer.Option(help="Pin the run to one CPU core so timings compare like for like.")] = True,
) -> None:
    """Robustness suite: method × attack → bit accuracy, detection, PSNR/SNR, timings."""
    from releasewise.provenance import bench

    try:
        import skimage  # noqa: F401  (sample photos for the timing and false-positive checks)
    except ImportError:
        fail("The benchmark needs scikit-image (and the baselines): pip install 'releasewise[bench]'.")

    cores = "all cores"
    if one_core and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        cores = "one core"
    if images is None and audio is None and not text:
        fail("nothing to do: pass --images DIR and/or --audio DIR (or keep --text)")
    notes: list[str] = []
    image_results: list[Any] = []
    timing: dict[str, tuple[float, float]] = {}
    fpr = None
    audio_res = None
    text_res = None
    try:
        imgs = _load_dir_images(images) if images else []
        clips = _load_dir_audio(audio) if audio else []
    except pv.ProvenanceError as exc:
        fail(str(exc))
    if images and not imgs:
        fail(f"{images}: no images found (PNG/JPEG/WebP/BMP)")
    if audio and not clips:
        fail(f"{audio}: no audio found (WAV/FLAC/MP3/Ogg)")
    methods = [bench.releasewise_image_method()]
    if imgs and baselines:
        extra, why = bench.baseline_image_methods()
        methods += extra
        if why:
            notes.append(f"Baselines not run: {why}.")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=False) as progress:
        if imgs:
            task = progress.add_task("images", total=len(imgs) * len(methods))
            image_results = bench.run_image_suite(imgs, methods, lambda d: progress.update(task, advance=1, description=d))
            task = progress.add_task("timing 1024²", total=1)
            timing = bench.time_at_1024(methods, runs=timing_runs)
            progress.update(task, advance=1)
            if fpr_crops > 0:
                task = progress.add_task("unmarked crops", total=fpr_crops)
                fpr = bench.unmarked_false_positives(imgs, fpr_crops, progress=lambda d: progress.update(task, advance=100, description=d))
        if clips:
            task = progress.add_task("audio", total=len(clips))
            audio_res = bench.run_audio_suite(clips, lambda d: progress.update(task, advance=1, description=d))
        if text:
            task = progress.add_task("text", total=1)
            text_res = bench.run_text_suite()
            progress.update(task, advance=1)
    command = os.environ.get("RELEASEWISE_BENCH_COMMAND") or (
        "releasewise bench watermark " + " ".join(shlex.quote(a) for a in sys.argv[3:])
    )
    report = bench.markdown_report(
        image_results, timing, fpr, audio_res, text_res, notes, command, timing_runs=timing_runs, cores=cores
    )
    console.print(report, markup=False, highlight=False)
    if markdown:
        markdown.write_text(report)
        console.print(f"Wrote {markdown}")
