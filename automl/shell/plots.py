"""Small SVG charts for the HTML report: scatter, heatmap and horizontal bars.

Written by hand rather than with matplotlib so the report needs nothing beyond the package's own
dependencies (matplotlib is not one, and an offline Kaggle notebook cannot install it), and so
the charts stay crisp at any zoom and weigh a few kilobytes inside the page.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import numpy as np

WIDTH, HEIGHT = 560, 380
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 70, 20, 16, 50
ACCENT, MUTED, GRID = "#d9480f", "#4c6ef5", "#e9ecef"


@dataclass
class Point:
    x: float
    y: float
    label: str = ""  # shown as a tooltip; and next to the point when ``highlight``
    highlight: bool = False


def scatter(points: list[Point], x_label: str, y_label: str, *, log_x: bool = False,
            diagonal: bool = False, y_limits: tuple[float, float] | None = None) -> str:
    """A scatter plot; ``diagonal`` draws y = x (predicted against actual). Points outside
    ``y_limits`` sit on the plot's edge as hollow circles, so one outlier cannot flatten the rest."""
    xs = np.array([p.x for p in points], dtype=float)
    ys = np.array([p.y for p in points], dtype=float)
    if log_x:
        xs = np.log10(np.maximum(xs, 1e-3))
    clipped = np.zeros(len(ys), dtype=bool)
    if y_limits is not None:
        clipped = (ys < y_limits[0]) | (ys > y_limits[1])
        ys = np.clip(ys, *y_limits)
    x_lo, x_hi = _padded_range(xs)
    y_lo, y_hi = _padded_range(ys)
    if diagonal:  # the same scale on both axes, so y = x is the 45-degree line
        x_lo = y_lo = min(x_lo, y_lo)
        x_hi = y_hi = max(x_hi, y_hi)
    sx, sy = _scale(x_lo, x_hi, MARGIN_LEFT, WIDTH - MARGIN_RIGHT), _scale(y_lo, y_hi, HEIGHT - MARGIN_BOTTOM,
                                                                          MARGIN_TOP)
    parts = [_axes(x_lo, x_hi, y_lo, y_hi, sx, sy, x_label, y_label, log_x)]
    if diagonal:
        parts.append(f'<line x1="{sx(x_lo):.1f}" y1="{sy(y_lo):.1f}" x2="{sx(x_hi):.1f}" y2="{sy(y_hi):.1f}" '
                     f'stroke="#868e96" stroke-dasharray="4 3"/>')
    radius = 4.5 if len(points) <= 200 else 2
    opacity = 0.85 if len(points) <= 200 else 0.35
    labels = _Labels()
    for i in sorted(range(len(points)), key=lambda i: points[i].highlight):  # highlighted on top
        p, cx, cy = points[i], sx(xs[i]), sy(ys[i])
        color = ACCENT if p.highlight else MUTED
        paint = f'fill="white" stroke="{color}"' if clipped[i] else f'fill="{color}" fill-opacity="{opacity}"'
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}" {paint}>'
                     f'<title>{escape(p.label)}</title></circle>')
        if p.highlight and p.label:
            parts.append(labels.place(p.label, cx, cy))
    return _svg("".join(parts))


class _Labels:
    """Places point labels so they do not overlap: a label that would cover one already placed
    moves down a line, and is left out (its point keeps its tooltip) when no nearby line is free."""

    LINE, CHAR = 13, 6.2  # pixels per line of 11px text, and per character (about)

    def __init__(self):
        self.boxes: list[tuple[float, float, float, float]] = []

    def place(self, text: str, cx: float, cy: float) -> str:
        width = len(text) * self.CHAR
        # Labels on the right half of the plot go to the left of their point, to stay inside.
        right_half = cx > (MARGIN_LEFT + WIDTH - MARGIN_RIGHT) / 2
        x0 = cx - 7 - width if right_half else cx + 7
        anchor, x = ("end", cx - 7) if right_half else ("start", cx + 7)
        for shift in (0, 1, -1, 2, -2):
            y = cy + 4 + shift * self.LINE
            box = (x0, x0 + width, y - self.LINE + 2, y + 2)
            if not any(_overlap(box, other) for other in self.boxes):
                self.boxes.append(box)
                return f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" text-anchor="{anchor}">{escape(text)}</text>'
        return ""


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def heatmap(matrix: np.ndarray, row_labels: list[str], col_labels: list[str], x_label: str, y_label: str) -> str:
    """Counts in a grid, shaded by each row's share (a confusion matrix reads per true class)."""
    n_rows, n_cols = matrix.shape
    cell = max(18, min(64, 420 // max(n_rows, n_cols)))
    left, top = 120, 30
    width, height = left + cell * n_cols + 20, top + cell * n_rows + 50
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    parts = []
    for i in range(n_rows):
        parts.append(f'<text x="{left - 6}" y="{top + cell * i + cell / 2 + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{escape(_short(row_labels[i]))}</text>')
        for j in range(n_cols):
            share = float(shares[i, j])
            fill = f"rgba(217,72,15,{0.08 + 0.92 * share:.3f})"
            ink = "#fff" if share > 0.5 else "#212529"
            x, y = left + cell * j, top + cell * i
            parts.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="#fff"/>')
            if cell >= 24:
                parts.append(f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" font-size="11" '
                             f'text-anchor="middle" fill="{ink}">{int(matrix[i, j])}</text>')
    for j in range(n_cols):
        parts.append(f'<text x="{left + cell * j + cell / 2:.1f}" y="{top - 8}" font-size="11" '
                     f'text-anchor="middle">{escape(_short(col_labels[j]))}</text>')
    parts.append(f'<text x="{left + cell * n_cols / 2:.1f}" y="{top + cell * n_rows + 30}" font-size="12" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<text x="14" y="{top + cell * n_rows / 2:.1f}" font-size="12" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top + cell * n_rows / 2:.1f})">{escape(y_label)}</text>')
    return _svg("".join(parts), width, height)


def bars(labels: list[str], values: list[float], value_label: str) -> str:
    """Horizontal bars from zero, one per label (ensemble weights)."""
    row, left = 22, 190
    width, height = WIDTH, MARGIN_TOP + row * len(labels) + 40
    top = max(max(values, default=0.0), 1e-12)
    sx = _scale(0.0, top, left, WIDTH - 70)
    parts = []
    for i, (label, value) in enumerate(zip(labels, values)):
        y = MARGIN_TOP + row * i
        parts.append(f'<text x="{left - 8}" y="{y + 15}" font-size="12" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{max(sx(value) - left, 1):.1f}" height="{row - 6}" '
                     f'fill="{ACCENT}"/>')
        parts.append(f'<text x="{sx(value) + 6:.1f}" y="{y + 15}" font-size="11">{value:.3g}</text>')
    parts.append(f'<text x="{(left + WIDTH - 70) / 2:.1f}" y="{height - 12}" font-size="12" '
                 f'text-anchor="middle">{escape(value_label)}</text>')
    return _svg("".join(parts), width, height)


# ------------------------------------------------------------------ helpers
def _svg(body: str, width: int = WIDTH, height: int = HEIGHT) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif">{body}</svg>')


def _scale(lo: float, hi: float, out_lo: float, out_hi: float):
    span = hi - lo
    return lambda v: out_lo + (v - lo) / span * (out_hi - out_lo)


def _padded_range(values: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = (hi - lo) * 0.06 or max(abs(lo) * 0.05, 0.5)
    return lo - pad, hi + pad


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round numbers between lo and hi, about ``count`` of them."""
    raw = (hi - lo) / count
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if raw <= step * m)
    first = math.ceil(lo / step) * step
    return [first + k * step for k in range(int((hi - first) / step) + 1)]


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Ticks at 1, 2 and 5 times powers of ten (as log10 values); only powers of ten when that
    gives too many, and evenly spaced ones when the range holds fewer than two."""
    decades = range(math.floor(lo), math.ceil(hi) + 1)
    for multiples in ((1, 2, 5), (1,)):
        ticks = [math.log10(m) + k for k in decades for m in multiples if lo <= math.log10(m) + k <= hi]
        if 2 <= len(ticks) <= 8:
            return ticks
    return _ticks(lo, hi)


def _axes(x_lo, x_hi, y_lo, y_hi, sx, sy, x_label, y_label, log_x) -> str:
    bottom, right = HEIGHT - MARGIN_BOTTOM, WIDTH - MARGIN_RIGHT
    parts = []
    for t in (_log_ticks(x_lo, x_hi) if log_x else _ticks(x_lo, x_hi)):
        label = _number(10 ** t) if log_x else _number(t)
        parts.append(f'<line x1="{sx(t):.1f}" y1="{MARGIN_TOP}" x2="{sx(t):.1f}" y2="{bottom}" stroke="{GRID}"/>'
                     f'<text x="{sx(t):.1f}" y="{bottom + 16}" font-size="11" text-anchor="middle">{label}</text>')
    for t in _ticks(y_lo, y_hi):
        parts.append(f'<line x1="{MARGIN_LEFT}" y1="{sy(t):.1f}" x2="{right}" y2="{sy(t):.1f}" stroke="{GRID}"/>'
                     f'<text x="{MARGIN_LEFT - 6}" y="{sy(t) + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{_number(t)}</text>')
    parts.append(f'<rect x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{right - MARGIN_LEFT}" '
                 f'height="{bottom - MARGIN_TOP}" fill="none" stroke="#adb5bd"/>')
    parts.append(f'<text x="{(MARGIN_LEFT + right) / 2:.1f}" y="{HEIGHT - 10}" font-size="12" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    mid = (MARGIN_TOP + bottom) / 2
    parts.append(f'<text x="16" y="{mid:.1f}" font-size="12" text-anchor="middle" '
                 f'transform="rotate(-90 16 {mid:.1f})">{escape(y_label)}</text>')
    return "".join(parts)


def _number(v: float) -> str:
    if abs(v) >= 1e7:
        return f"{v:.2e}"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _short(text: str, limit: int = 16) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
