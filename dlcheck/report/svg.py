"""Small inline SVG charts for the HTML report: no JavaScript, no library, no fetches.

Every label that comes from a host is escaped here. Past MAX_BARS items a
per-host bar chart becomes a histogram, so a 1,000-host fleet stays readable.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from html import escape

WIDTH = 720
BAR_H = 16
GAP = 4
LABEL_W = 200
MAX_BARS = 40
BINS = 20


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _clip(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _label(y: int, label: str) -> str:
    """A host label right-aligned before its row; the full text is in the row's <title>."""
    x, y_text = LABEL_W - 6, y + BAR_H - 4
    return f'<text x="{x}" y="{y_text}" text-anchor="end">{_e(_clip(label))}</text>'


def _svg(height: int, body: list[str], title: str) -> str:
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def bars(
    items: list[tuple[str, float]],
    title: str,
    fmt: Callable[[float], str],
    ceiling: float | None = None,
    css: Callable[[float], str] | None = None,
) -> str:
    """Horizontal bars, one per (label, value), biggest first; a histogram when too many."""
    if len(items) > MAX_BARS:
        return histogram([v for _, v in items], title, fmt)
    items = sorted(items, key=lambda kv: (-kv[1], kv[0]))
    top = ceiling or max((v for _, v in items), default=1.0) or 1.0
    plot_w = WIDTH - LABEL_W - 110
    body = []
    for i, (label, value) in enumerate(items):
        y = 8 + i * (BAR_H + GAP)
        w = max(1.0, plot_w * max(value, 0.0) / top)
        cls = css(value) if css else "bar"
        body.append(
            f"<g><title>{_e(label)}: {_e(fmt(value))}</title>"
            + _label(y, label)
            + f'<rect class="{cls}" x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR_H}"/>'
            f'<text x="{LABEL_W + w + 6:.1f}" y="{y + BAR_H - 4}">{_e(fmt(value))}</text></g>'
        )
    return _svg(16 + len(items) * (BAR_H + GAP), body, title)


def usage_bars(items: list[tuple[str, float, float]], title: str) -> str:
    """Used out of total per item (GPU memory), as a filled share of a full-width bar."""
    if len(items) > MAX_BARS:
        shares = [100.0 * used / total for _, used, total in items if total > 0]
        return histogram(shares, title + " (share used)", lambda v: f"{v:.0f}%")
    items = sorted(items, key=lambda it: (-(it[1] / it[2] if it[2] else 0), it[0]))
    plot_w = WIDTH - LABEL_W - 150
    body = []
    for i, (label, used, total) in enumerate(items):
        y = 8 + i * (BAR_H + GAP)
        share = used / total if total > 0 else 0.0
        text = f"{used / 2**30:.1f} / {total / 2**30:.1f} GiB"
        body.append(
            f"<g><title>{_e(label)}: {_e(text)}</title>"
            + _label(y, label)
            + f'<rect class="track" x="{LABEL_W}" y="{y}" width="{plot_w}" height="{BAR_H}"/>'
            f'<rect class="{"hot" if share > 0.9 else "bar"}" x="{LABEL_W}" y="{y}" '
            f'width="{max(1.0, plot_w * share):.1f}" height="{BAR_H}"/>'
            f'<text x="{LABEL_W + plot_w + 6}" y="{y + BAR_H - 4}">{_e(text)}</text></g>'
        )
    return _svg(16 + len(items) * (BAR_H + GAP), body, title)


def histogram(values: list[float], title: str, fmt: Callable[[float], str]) -> str:
    """How many items fall in each of BINS equal ranges, with min, median and max marked."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    counts = [0] * BINS
    for v in values:
        counts[min(BINS - 1, int((v - low) / span * BINS))] += 1
    height, base, left = 200, 160, 50
    plot_w = WIDTH - left - 20
    col = plot_w / BINS
    top = max(counts)
    body = [f'<line class="axis" x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}"/>']
    for i, n in enumerate(counts):
        if not n:
            continue
        h = (base - 20) * n / top
        lo, hi = low + span * i / BINS, low + span * (i + 1) / BINS
        body.append(
            f"<g><title>{_e(fmt(lo))} – {_e(fmt(hi))}: {n} hosts</title>"
            f'<rect class="bar" x="{left + i * col + 1:.1f}" y="{base - h:.1f}" '
            f'width="{col - 2:.1f}" height="{h:.1f}"/>'
            f'<text x="{left + (i + 0.5) * col:.1f}" y="{base - h - 4:.1f}" '
            f'text-anchor="middle">{n}</text></g>'
        )
    median = statistics.median(values)
    body.append(
        f'<text x="{left}" y="{base + 18}">{_e(fmt(low))}</text>'
        f'<text x="{left + plot_w}" y="{base + 18}" text-anchor="end">{_e(fmt(high))}</text>'
        f'<text x="{left + plot_w / 2:.0f}" y="{base + 34}" text-anchor="middle">'
        f"{len(values)} values, median {_e(fmt(median))}</text>"
    )
    return _svg(height, body, title)


def strips(items: list[tuple[str, list[float]]], title: str, fmt: Callable[[float], str]) -> str:
    """One row per host with a dot per fold and a tick at the mean (fold accuracies)."""
    if len(items) > MAX_BARS:
        return histogram([statistics.fmean(v) for _, v in items if v], title + " (mean)", fmt)
    values = [v for _, vs in items for v in vs]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or 0.005
    low, high = low - pad, high + pad
    plot_w = WIDTH - LABEL_W - 120
    body = []

    def x(v: float) -> float:
        return LABEL_W + plot_w * (v - low) / (high - low)

    for i, (label, vs) in enumerate(sorted(items)):
        y = 8 + i * (BAR_H + GAP)
        mid = y + BAR_H / 2
        mean = statistics.fmean(vs)
        dots = "".join(f'<circle class="dot" cx="{x(v):.1f}" cy="{mid}" r="4"/>' for v in vs)
        body.append(
            f"<g><title>{_e(label)}: {', '.join(_e(fmt(v)) for v in vs)}</title>"
            + _label(y, label)
            + f'<line class="axis" x1="{LABEL_W}" y1="{mid}" x2="{LABEL_W + plot_w}" y2="{mid}"/>'
            f"{dots}"
            f'<line class="mean" x1="{x(mean):.1f}" y1="{y}" x2="{x(mean):.1f}" y2="{y + BAR_H}"/>'
            f'<text x="{LABEL_W + plot_w + 6}" y="{y + BAR_H - 4}">mean {_e(fmt(mean))}</text></g>'
        )
    axis_y = 12 + len(items) * (BAR_H + GAP)
    body.append(
        f'<text x="{LABEL_W}" y="{axis_y + 10}">{_e(fmt(low))}</text>'
        f'<text x="{LABEL_W + plot_w}" y="{axis_y + 10}" text-anchor="end">{_e(fmt(high))}</text>'
    )
    return _svg(axis_y + 16, body, title)
