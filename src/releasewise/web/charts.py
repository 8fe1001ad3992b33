"""Server-drawn SVG charts (no JavaScript; colours as SVG attributes, which the CSP allows).

The risk matrix plots each scenario by likelihood (x) and magnitude (y); the
recommendation chart shows, per asset, the marginal risk of each widening step
against the organisation's threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from html import escape
from typing import Any

REVIEWER_COLOURS = ["#3650d6", "#d97706", "#0f766e", "#9333ea", "#be123c", "#4d7c0f"]
TIER_LABELS = ["team", "reviewers", "partners", "vetted", "registered", "public"]


def _cell_colour(x: int, y: int) -> str:
    level = x + y  # 0..8
    palette = ["#e8f5ec", "#e8f5ec", "#f3f7df", "#fdf3d7", "#fde7c8", "#fbd3b6", "#f6b9a6", "#f09c93", "#e9817f"]
    return palette[level]


def risk_matrix(scenarios: Sequence[Mapping[str, Any]], size: int = 360) -> str:
    """5×5 likelihood × magnitude grid with numbered scenario dots."""
    pad, cell = 44, (size - 60) / 5
    parts = [f'<svg class="chart risk-matrix" viewBox="0 0 {size} {size}" role="img" '
             f'aria-label="Risk matrix: scenarios by likelihood and magnitude" xmlns="http://www.w3.org/2000/svg">']
    for gx in range(5):
        for gy in range(5):
            parts.append(f'<rect x="{pad + gx * cell:.1f}" y="{10 + (4 - gy) * cell:.1f}" width="{cell:.1f}" '
                         f'height="{cell:.1f}" fill="{_cell_colour(gx, gy)}" stroke="#ffffff"/>')
    parts.append(f'<text x="{pad + 2.5 * cell:.1f}" y="{size - 8}" text-anchor="middle" font-size="12" '
                 f'fill="#5d6b82">likelihood →</text>')
    parts.append(f'<text x="14" y="{10 + 2.5 * cell:.1f}" text-anchor="middle" font-size="12" fill="#5d6b82" '
                 f'transform="rotate(-90 14 {10 + 2.5 * cell:.1f})">magnitude →</text>')
    placed: dict[tuple[int, int], int] = {}
    for number, s in enumerate(scenarios, start=1):
        x = pad + float(s["likelihood"]) * 5 * cell
        y = 10 + (1 - float(s["magnitude"])) * 5 * cell
        key = (round(x / 12), round(y / 12))
        offset = placed.get(key, 0)
        placed[key] = offset + 1
        x += offset * 9
        title = escape(f"{number}. {s['title']}: likelihood {s['likelihood']:.2f}, magnitude {s['magnitude']:.2f}")
        parts.append(f'<g class="dot"><title>{title}</title><circle cx="{x:.1f}" cy="{y:.1f}" r="11" '
                     f'fill="#1d2433" stroke="#ffffff" stroke-width="2"/><text x="{x:.1f}" y="{y + 4:.1f}" '
                     f'text-anchor="middle" font-size="11" font-weight="700" fill="#ffffff">{number}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def recommendation_chart(assets: Sequence[Mapping[str, Any]], threshold: float) -> str:
    """One row per asset: each tier's marginal risk as a bar, red beyond the threshold, the recommended tier ringed."""
    label_w, col_w, row_h, top = 170, 86, 34, 30
    width = label_w + col_w * 6 + 10
    height = top + row_h * len(assets) + 10
    parts = [f'<svg class="chart recommendation" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="Marginal risk of each widening step per asset" xmlns="http://www.w3.org/2000/svg">']
    for i, label in enumerate(TIER_LABELS):
        parts.append(f'<text x="{label_w + i * col_w + col_w / 2:.0f}" y="18" text-anchor="middle" font-size="11" '
                     f'fill="#5d6b82">{label}</text>')
    scale = max([threshold * 2] + [float(t["marginal"]) for a in assets for t in a["tiers"]])
    for row, asset in enumerate(assets):
        y = top + row * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 21}" text-anchor="end" font-size="12" fill="#1d2433">'
                     f'{escape(str(asset["asset"]))}</text>')
        for i, tier in enumerate(asset["tiers"]):
            x = label_w + i * col_w
            marginal = float(tier["marginal"])
            within = bool(tier["within_threshold"])
            recommended = tier["tier"] == asset["recommended_tier"]
            bar = max(2.0, (col_w - 14) * marginal / scale) if marginal > 0 else 0
            parts.append(f'<rect x="{x + 4}" y="{y + 4}" width="{col_w - 8}" height="{row_h - 8}" rx="5" '
                         f'fill="{"#eef6ff" if within else "#fdecea"}" '
                         f'stroke="{"#3650d6" if recommended else "none"}" stroke-width="2"/>')
            if bar:
                parts.append(f'<rect x="{x + 7}" y="{y + row_h / 2 - 4:.0f}" width="{bar:.1f}" height="8" rx="3" '
                             f'fill="{"#6f86f0" if within else "#d64545"}"/>')
            parts.append(f'<title>{escape(str(asset["asset"]))} → {tier["tier"]}: marginal risk {marginal:.3f} '
                         f'({"within" if within else "over"} threshold {threshold:g})</title>')
    parts.append("</svg>")
    return "".join(parts)


def stance_chart(disagreement: Sequence[Mapping[str, Any]]) -> str:
    """Each dimension on a 1–5 line with one dot per reviewer: spread shows disagreement."""
    label_w, line_w, row_h = 360, 300, 36
    reviewers: list[str] = []
    for dim in disagreement:
        reviewers.extend(r for r in dim.get("stances", {}) if r not in reviewers)
    colour_of = {r: REVIEWER_COLOURS[i % len(REVIEWER_COLOURS)] for i, r in enumerate(reviewers)}
    legend_h = 22
    width, height = label_w + line_w + 40, legend_h + 30 + row_h * len(disagreement)
    parts = [f'<svg class="chart stances" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="Reviewer stances on each dimension of disagreement" xmlns="http://www.w3.org/2000/svg">']
    x = 10.0
    for reviewer in reviewers:
        parts.append(f'<circle cx="{x + 6}" cy="10" r="6" fill="{colour_of[reviewer]}"/>'
                     f'<text x="{x + 16}" y="14" font-size="12" fill="#1d2433">{escape(reviewer)}</text>')
        x += 26 + 8 * len(reviewer)
    parts += [f'<g transform="translate(0 {legend_h})">',
              f'<text x="{label_w}" y="16" font-size="11" fill="#5d6b82">1 cautious</text>',
              f'<text x="{label_w + line_w}" y="16" text-anchor="end" font-size="11" fill="#5d6b82">open 5</text>']
    for row, dim in enumerate(disagreement):
        y = 36 + row * row_h
        colour = "#d64545" if dim.get("diverges") else "#c5cdda"
        parts.append(f'<text x="{label_w - 10}" y="{y + 4}" text-anchor="end" font-size="12" fill="#1d2433">'
                     f'{escape(str(dim["label"]))}</text>')
        parts.append(f'<line x1="{label_w}" y1="{y}" x2="{label_w + line_w}" y2="{y}" stroke="{colour}" '
                     f'stroke-width="3"/>')
        seen: dict[int, int] = {}
        for reviewer, value in dim.get("stances", {}).items():
            stack = seen.get(int(value), 0)
            seen[int(value)] = stack + 1
            x = label_w + (int(value) - 1) / 4 * line_w
            parts.append(f'<g><title>{escape(str(reviewer))}: {value}</title><circle cx="{x:.0f}" '
                         f'cy="{y - stack * 9}" r="7" fill="{colour_of[reviewer]}" stroke="#ffffff" '
                         f'stroke-width="2"/></g>')
    parts.append("</g></svg>")
    return "".join(parts)


def spread_chart(disagreements: Sequence[Mapping[str, Any]]) -> str:
    """How far apart reviewers were on each dimension (0–4), as bars: no names, no individual stances.

    For public pages (the precedent library), where ``stance_chart``'s one-dot-per-reviewer would show
    who thought what. Labels sit above their bars so the chart stays readable on a phone.
    """
    bar_w, row_h, top = 290, 42, 16
    width, height = bar_w + 70, top + row_h * len(disagreements)
    parts = [(f'<svg class="chart spreads" viewBox="0 0 {width} {height}" role="img" '
              'aria-label="How far apart reviewers were on each dimension of disagreement" '
              'xmlns="http://www.w3.org/2000/svg">'),
             '<text x="0" y="11" font-size="10" fill="#5d6b82">agreed</text>',
             f'<text x="{bar_w}" y="11" text-anchor="end" font-size="10" fill="#5d6b82">4 points apart</text>']
    for row, dim in enumerate(disagreements):
        y = top + row * row_h
        spread = max(0, min(4, int(dim.get("spread", 0))))
        diverges = bool(dim.get("diverges"))
        parts.append(f'<text x="0" y="{y + 14}" font-size="12" fill="#1d2433">{escape(str(dim.get("label", "")))}</text>')
        parts.append(f'<rect x="0" y="{y + 20}" width="{bar_w}" height="10" rx="4" fill="#eef1f6"/>')
        if spread:
            parts.append(f'<rect x="0" y="{y + 20}" width="{bar_w * spread / 4:.0f}" height="10" rx="4" '
                         f'fill="{"#d64545" if diverges else "#6f86f0"}"/>')
        parts.append(f'<text x="{bar_w + 8}" y="{y + 29}" font-size="11" '
                     f'fill="{"#b42318" if diverges else "#5d6b82"}">{spread}{" diverges" if diverges else ""}</text>')
    parts.append("</svg>")
    return "".join(parts)


STATE_COLOURS = {"opened": "#1f7a4d", "ready": "#3650d6", "waiting": "#d64545", "scheduled": "#8a94a8",
                 "blocked": "#c5cdda", "pending": "#b45309"}


def plan_timeline(stages: Sequence[Mapping[str, Any]], now: Any) -> str:
    """Stages on a time axis: a dot at each stage's date (green opened, red held by a gate, grey to come)."""
    if not stages:
        return ""
    times = [s["earliest_at"] for s in stages] + [s["opened_at"] for s in stages if s["opened_at"]] + [now]
    start, end = min(times), max(times)
    raw_span = max((end - start).total_seconds(), 86400.0)
    start -= timedelta(seconds=raw_span * 0.05)  # a margin on both sides
    span = raw_span * 1.1
    label_w, width, row_h, top = 230, 900, 40, 40
    axis_w = width - label_w - 30
    height = top + row_h * len(stages) + 30

    def x_of(moment: Any) -> float:
        return float(label_w + axis_w * min(1.0, max(0.0, (moment - start).total_seconds() / span)))

    parts = [f'<svg class="chart timeline" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="Release plan timeline" xmlns="http://www.w3.org/2000/svg">']
    for i in range(5):
        tick = start + timedelta(seconds=span * i / 4)
        x = x_of(tick)
        parts.append(f'<line x1="{x:.0f}" y1="{top - 12}" x2="{x:.0f}" y2="{height - 24}" stroke="#eef1f6"/>'
                     f'<text x="{x:.0f}" y="{height - 8}" text-anchor="middle" font-size="11" fill="#5d6b82">'
                     f'{tick:%Y-%m-%d}</text>')
    now_x = x_of(now)
    parts.append(f'<line x1="{now_x:.0f}" y1="{top - 20}" x2="{now_x:.0f}" y2="{height - 24}" stroke="#3650d6" '
                 f'stroke-dasharray="4 3"/><text x="{now_x:.0f}" y="{top - 24}" text-anchor="middle" font-size="11" '
                 f'fill="#3650d6">now</text>')
    for row, stage in enumerate(stages):
        y = top + row * row_h + row_h / 2
        colour = STATE_COLOURS.get(stage["state"], "#8a94a8")
        parts.append(f'<text x="{label_w - 12}" y="{y + 4:.0f}" text-anchor="end" font-size="12" fill="#1d2433">'
                     f'{escape(str(stage["title"]))[:34]}</text>')
        parts.append(f'<line x1="{label_w}" y1="{y:.0f}" x2="{label_w + axis_w}" y2="{y:.0f}" stroke="#f0f3f8"/>')
        x = x_of(stage["earliest_at"])
        holding = "; ".join(f"{g.name}: {g.detail}" for g in stage["gate_results"] if not g.passed)
        tip = escape(f"{stage['title']} — {stage['state']}; earliest {stage['earliest_at']:%Y-%m-%d %H:%M} UTC"
                     + (f"; opened {stage['opened_at']:%Y-%m-%d %H:%M} UTC" if stage["opened_at"] else "")
                     + (f"; held by {holding}" if holding and stage["state"] != "opened" else ""))
        parts.append(f'<g class="stage stage-{stage["state"]}"><title>{tip}</title>'
                     f'<circle cx="{x:.1f}" cy="{y:.0f}" r="9" fill="{colour}" stroke="#ffffff" stroke-width="2"/>')
        if stage["opened_at"]:
            ox = x_of(stage["opened_at"])
            parts.append(f'<line x1="{x:.1f}" y1="{y:.0f}" x2="{ox:.1f}" y2="{y:.0f}" stroke="{colour}" '
                         f'stroke-width="3"/><circle cx="{ox:.1f}" cy="{y:.0f}" r="5" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14:.1f}" y="{y - 10:.0f}" font-size="11" fill="{colour}">{stage["state"]}</text>'
                     "</g>")
    parts.append("</svg>")
    return "".join(parts)
