"""Hourly stacked-bar charts drawn as inline SVG on the server: no JavaScript, no CDN, works offline.

Text uses `currentColor`, so a chart follows the admin's light and dark themes; the palette is
readable on both. Every bar segment has a <title> with its hour, series and count.
"""

from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from hub.attention import Chart

PALETTE = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#76b7b2", "#b07aa1", "#edc948", "#9c755f", "#ff9da7", "#bab0ac"]
WIDTH, PLOT_HEIGHT, LEFT, TOP, BOTTOM = 520, 120, 36, 8, 22
LEGEND_ROW = 16


def stacked_bars_svg(chart: Chart, hours: list[datetime]) -> SafeString:
    totals = [sum(series.values[n] for series in chart.series) for n in range(len(hours))]
    peak = max(totals, default=0) or 1
    slot = (WIDTH - LEFT) / max(len(hours), 1)
    legend_rows = (len(chart.series) + 2) // 3
    height = TOP + PLOT_HEIGHT + BOTTOM + legend_rows * LEGEND_ROW
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="hub-chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" aria-label="{escape(chart.title)}">',
        f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end" font-size="10" fill="currentColor">{peak}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + PLOT_HEIGHT}" text-anchor="end" font-size="10" fill="currentColor">0</text>',
        f'<line x1="{LEFT}" y1="{TOP + PLOT_HEIGHT}" x2="{WIDTH}" y2="{TOP + PLOT_HEIGHT}" stroke="currentColor" '
        'stroke-opacity="0.4"/>',
    ]
    for n, hour in enumerate(hours):
        x, base = LEFT + n * slot + 1, float(TOP + PLOT_HEIGHT)
        for colour, series in zip(PALETTE * 3, chart.series, strict=False):
            count = series.values[n]
            if not count:
                continue
            bar = PLOT_HEIGHT * count / peak
            base -= bar
            parts.append(f'<rect class="hub-bar" x="{x:.1f}" y="{base:.1f}" width="{slot - 2:.1f}" height="{bar:.1f}" '
                         f'fill="{colour}"><title>{hour:%H:00} UTC · {escape(series.name)}: {count}</title></rect>')
        if n % 6 == 0 or n == len(hours) - 1:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{TOP + PLOT_HEIGHT + 14}" text-anchor="middle" font-size="10" '
                         f'fill="currentColor">{hour:%H}h</text>')
    for n, (colour, series) in enumerate(zip(PALETTE * 3, chart.series, strict=False)):
        x, y = LEFT + (n % 3) * 160, TOP + PLOT_HEIGHT + BOTTOM + (n // 3) * LEGEND_ROW + 8
        parts.append(f'<rect x="{x}" y="{y - 8}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="{y + 1}" font-size="11" fill="currentColor">{escape(series.name)}</text>')
    if not chart.series:
        parts.append(f'<text x="{WIDTH / 2}" y="{TOP + PLOT_HEIGHT / 2}" text-anchor="middle" font-size="12" '
                     'fill="currentColor" fill-opacity="0.6">nothing in the last 24 hours</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
