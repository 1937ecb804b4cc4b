"""A small server-rendered SVG chart of a learner's daily errors (no JavaScript, no CDN).

Drawn from `progress.progress_get`, so the admin shows the same real-time numbers as the API.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tutor.progress import Progress

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 36, 12, 12, 28
# Colour-blind-safe (Okabe-Ito), in legend order.
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00"]
TOP_SUBCATEGORIES = len(COLOURS)


def _points(daily: list[int], peak: int) -> str:
    step = (WIDTH - LEFT - RIGHT) / max(len(daily) - 1, 1)
    height = HEIGHT - TOP - BOTTOM
    return " ".join(
        f"{LEFT + i * step:.1f},{TOP + height - n * height / peak:.1f}" for i, n in enumerate(daily)
    )


def _axes(progress: Progress, peak: int) -> list[str]:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    first, last = progress.days[0], progress.days[-1]
    return [
        f'<line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#999"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 6}" y="{bottom}" text-anchor="end">0</text>',
        f'<text x="{LEFT}" y="{bottom + 16}">{first:%d %b}</text>',
        f'<text x="{right}" y="{bottom + 16}" text-anchor="end">{last:%d %b}</text>',
    ]


def progress_chart_svg(progress: Progress) -> SafeString:
    """Errors per day for the top subcategories of the window, one line each, with a legend."""
    shown = [s for s in progress.subcategories if s.errors][:TOP_SUBCATEGORIES]
    if not shown:
        return mark_safe(f"<p>No errors in the last {len(progress.days)} days.</p>")
    peak = max(max(s.daily) for s in shown)
    parts = _axes(progress, peak)
    legend = []
    for colour, item in zip(COLOURS, shown, strict=False):
        label = escape(f"{item.category} / {item.subcategory}")
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
            f'points="{_points(item.daily, peak)}"><title>{label}: {item.errors} errors'
            "</title></polyline>"
        )
        legend.append(
            f'<li><span style="color:{colour}">&#9632;</span> {label}: {item.errors} errors '
            f"({escape(item.trend)} vs the {len(progress.days)} days before)</li>"
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-size="11" font-family="sans-serif">'
        f"<title>Errors per day, last {len(progress.days)} days</title>{''.join(parts)}</svg>"
    )
    # Safe: every label and value interpolated above is escaped or a number.
    return mark_safe(f'{svg}<ul style="list-style:none;padding:0">{"".join(legend)}</ul>')
