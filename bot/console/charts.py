"""Small bar charts drawn as SVG on the server: no script, readable by screen readers (each
chart has a title and the page shows the same numbers in a table), printable."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["column_chart", "row_chart"]

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 260, 64, 40, 16


def _nice_max(value: float) -> float:
    """A round top for the axis (1, 2, 5 × 10^n) so the gridline labels read well."""
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def column_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    unit: str = "",
) -> str:
    """Grouped columns: one group per label, one colour per series (at most three)."""
    top = _nice_max(max((v for _, values in series for v in values), default=0))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    group = plot_w / max(len(labels), 1)
    bar = min(28.0, group * 0.8 / max(len(series), 1))
    parts = [_frame(title, top, unit, plot_h)]
    for index, label in enumerate(labels):
        x0 = LEFT + index * group + (group - bar * len(series)) / 2
        for number, (name, values) in enumerate(series):
            value = values[index]
            height = plot_h * value / top
            x, y = x0 + number * bar, TOP + plot_h - height
            parts.append(
                f'<rect class="c{number}" x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" '
                f'height="{height:.1f}"><title>{escape(name)} {escape(label)}: '
                f"{value:g}{escape(unit)}</title></rect>"
            )
        parts.append(
            f'<text x="{LEFT + index * group + group / 2:.1f}" y="{HEIGHT - BOTTOM + 18}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    return _svg(title, parts, HEIGHT)


def row_chart(title: str, labels: Sequence[str], values: Sequence[float], unit: str = "") -> str:
    """Horizontal bars, for long labels such as place names."""
    row, left = 26, 230
    height = TOP + row * max(len(labels), 1) + 8
    top = _nice_max(max(values, default=0))
    parts = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + index * row
        width = (WIDTH - left - 60) * value / top
        short = label if len(label) <= 32 else label[:31] + "…"
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{escape(short)}</text>'
            f'<rect class="c0" x="{left}" y="{y + 3}" width="{width:.1f}" height="{row - 8}">'
            f"<title>{escape(label)}: {value:g}{escape(unit)}</title></rect>"
            f'<text x="{left + width + 6:.1f}" y="{y + 15}">{value:g}{escape(unit)}</text>'
        )
    return _svg(title, parts, height)


def _frame(title: str, top: float, unit: str, plot_h: float) -> str:
    lines = []
    for step in range(5):
        value = top * step / 4
        y = TOP + plot_h - plot_h * step / 4
        lines.append(
            f'<line class="axis" x1="{LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke-opacity="{0.9 if step == 0 else 0.25}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}{escape(unit)}</text>'
        )
    return "".join(lines)


def _svg(title: str, parts: list[str], height: float) -> str:
    return (
        f'<svg viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        + "".join(parts)
        + "</svg>"
    )
