"""Server-rendered SVG charts for the /ops page: no script, no CDN, allowed by the strict CSP.

``bar_chart`` draws one bar per point, oldest left, with the largest value labelled; a point
without a value (no live tip that minute) draws no bar, unlike a zero, which draws a baseline tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH = 720
HEIGHT = 140
_PAD_TOP = 18
_PAD_BOTTOM = 18


def bar_chart(points: Sequence[tuple[str, float | None]], *, title: str, unit: str) -> Markup:
    """An accessible SVG bar chart (role=img, <title>) of ``points`` = (label, value)."""
    values = [v for _, v in points if v is not None]
    top = max(values, default=0.0)
    scale = (HEIGHT - _PAD_TOP - _PAD_BOTTOM) / top if top > 0 else 0.0
    slot = WIDTH / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        if value is None:
            continue
        h = max(value * scale, 1.0)
        x = i * slot + slot * 0.1
        y = HEIGHT - _PAD_BOTTOM - h
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" height="{h:.1f}">'
            f"<title>{escape(label)}: {value:.1f} {escape(unit)}</title></rect>"
        )
    first = escape(points[0][0]) if points else ""
    last = escape(points[-1][0]) if points else ""
    summary = f"{title}: highest {top:.1f} {unit}" if values else f"{title}: no data"
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(summary)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(summary)}</title>"
        f'<line class="axis" x1="0" y1="{HEIGHT - _PAD_BOTTOM}" x2="{WIDTH}" '
        f'y2="{HEIGHT - _PAD_BOTTOM}"/>'
        f'<text x="0" y="12">{escape(title)} (max {top:.1f} {escape(unit)})</text>'
        f'<text x="0" y="{HEIGHT - 4}">{first}</text>'
        f'<text x="{WIDTH}" y="{HEIGHT - 4}" text-anchor="end">{last}</text>'
        f"{''.join(bars)}</svg>"
    )
    return Markup(svg)  # noqa: S704 - every interpolated text is escaped above
