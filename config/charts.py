"""Small charts for the admin, drawn on the server as inline SVG.

No JavaScript library and no CDN: the page is complete when it arrives, works offline and
under a strict Content-Security-Policy, and a test reads a chart as text (its <title>s carry
the numbers). Two shapes cover the support console: stacked bars per time bucket, and a time
axis with rows of blocks and markers (a user's upcoming meetings, a calendar's sync history).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# One palette for every chart, readable by most colour-blind people (Okabe-Ito).
COLOURS = {
    "good": "#009e73",
    "bad": "#d55e00",
    "warn": "#e69f00",
    "neutral": "#56b4e9",
    "muted": "#999999",
    "accent": "#0072b2",
}

_ids = itertools.count(1)


def _id(prefix: str) -> str:
    # Unique within a page (several charts on one page each need their own title id).
    return f"{prefix}-{next(_ids)}"


def _open_svg(width: int, height: int, title: str, desc: str, css_class: str) -> list[str]:
    title_id, desc_id = _id("chart-title"), _id("chart-desc")
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {escape(css_class)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(desc)}</desc>',
    ]


@dataclass
class Series:
    """One stacked layer of a bar chart: a name (legend), a colour key and a value per bucket."""

    name: str
    colour: str
    values: list[float]


def _legend(items: list[tuple[str, str]], y: int) -> list[str]:
    parts, x = [], 4
    for name, colour in items:
        parts.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{COLOURS.get(colour, colour)}"/>'
            f'<text x="{x + 14}" y="{y}" font-size="11">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    return parts


def stacked_bars(
    *,
    title: str,
    labels: list[str],
    series: list[Series],
    unit: str = "",
    width: int = 360,
    height: int = 140,
    css_class: str = "",
) -> SafeString:
    """Bars per bucket (`labels`), each stacking the values of `series`. Every bar's tooltip
    (<title>) says its numbers; the description sums them up for screen readers."""
    top, bottom, left = 6, 34, 28
    plot_h = height - top - bottom
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    slot = (width - left - 4) / max(len(labels), 1)
    bar_w = max(slot * 0.8, 1)
    grand = {s.name: sum(s.values) for s in series}
    desc = "; ".join(f"{name}: {total:g}{unit}" for name, total in grand.items()) or "no data"
    parts = _open_svg(width, height, title, f"{title}. In total {desc}.", css_class)
    # Axis: zero and the peak, so a bar's height reads without hovering.
    parts.append(
        f'<text x="{left - 3}" y="{top + 9}" font-size="10" text-anchor="end">{peak:g}</text>'
        f'<text x="{left - 3}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>'
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" '
        f'stroke="#ccc"/>'
    )
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h
        tooltip = f"{label}: " + ", ".join(f"{s.name} {s.values[i]:g}{unit}" for s in series)
        parts.append(f'<g class="bar"><title>{escape(tooltip)}</title>')
        for s in series:
            h = plot_h * s.values[i] / peak
            if h > 0:
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{COLOURS.get(s.colour, s.colour)}"/>'
                )
        parts.append("</g>")
    # A few bucket labels under the axis (first, middle, last), not one per bar.
    # The outer ones are aligned to their bar's outer edge, so they stay inside the picture.
    last = len(labels) - 1
    for i in sorted({0, len(labels) // 2, last} if labels else set()):
        if i == 0:
            x, anchor = left + i * slot, "start"
        elif i == last:
            x, anchor = left + (i + 1) * slot, "end"
        else:
            x, anchor = left + i * slot + slot / 2, "middle"
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 12}" font-size="10" text-anchor="{anchor}">'
            f"{escape(labels[i])}</text>"
        )
    parts += _legend([(s.name, s.colour) for s in series], height - 4)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


@dataclass
class Block:
    """A span on a row (a meeting): its colour key, tooltip and link."""

    start: datetime
    end: datetime
    colour: str
    label: str
    href: str = ""
    css_class: str = ""


@dataclass
class Marker:
    """A point on a row (a bot's join time, a sync): a tick with a tooltip and link."""

    at: datetime
    colour: str
    label: str
    href: str = ""
    css_class: str = ""


@dataclass
class Row:
    label: str
    blocks: list[Block] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    title: str = ""  # the label's tooltip (the label itself is shortened to fit)


def time_axis(
    *,
    title: str,
    start: datetime,
    end: datetime,
    rows: list[Row],
    legend: list[tuple[str, str]],
    tick: timedelta = timedelta(days=1),
    tick_format: str = "%a %d %b",
    width: int = 900,
    row_height: int = 26,
    label_width: int = 170,
    css_class: str = "",
) -> SafeString:
    """Rows of blocks and markers over [start, end), with a tick every `tick` (labelled in the
    times' own zone: pass aware datetimes in the zone to show)."""
    top, axis_h, legend_h = 4, 16, 20
    plot_w = width - label_width - 8
    height = top + axis_h + max(len(rows), 1) * row_height + legend_h
    span = (end - start).total_seconds() or 1

    def x_of(at: datetime) -> float:
        seconds = min(max((at - start).total_seconds(), 0), span)
        return label_width + plot_w * seconds / span

    count = sum(len(r.blocks) for r in rows)
    points = sum(len(r.markers) for r in rows)
    desc = (
        f"{len(rows)} row(s), {count} block(s) and {points} marker(s) from "
        f"{start:%Y-%m-%d %H:%M %Z} to {end:%Y-%m-%d %H:%M %Z}."
    )
    parts = _open_svg(width, height, title, desc, css_class)
    at = start
    while at <= end:
        x = x_of(at)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top + axis_h - 4}" x2="{x:.1f}" y2="{height - legend_h}" '
            f'stroke="#e3e3e3"/><text x="{x + 2:.1f}" y="{top + 10}" font-size="10">'
            f"{escape(at.strftime(tick_format))}</text>"
        )
        at += tick
    for n, row in enumerate(rows):
        y = top + axis_h + n * row_height
        parts.append(
            f'<g class="row"><text x="4" y="{y + row_height / 2 + 4:.1f}" font-size="11">'
            f"<title>{escape(row.title or row.label)}</title>{escape(_fit(row.label, label_width))}"
            "</text>"
            f'<line x1="{label_width}" y1="{y + row_height - 1}" x2="{width - 8}" '
            f'y2="{y + row_height - 1}" stroke="#f0f0f0"/>'
        )
        for block in row.blocks:
            x1, x2 = x_of(block.start), x_of(block.end)
            rect = (
                f'<rect class="block {escape(block.css_class)}" x="{x1:.1f}" y="{y + 4}" '
                f'width="{max(x2 - x1, 3):.1f}" height="{row_height - 10}" rx="2" '
                f'fill="{COLOURS.get(block.colour, block.colour)}" fill-opacity="0.85">'
                f"<title>{escape(block.label)}</title></rect>"
            )
            parts.append(_linked(rect, block.href))
        for marker in row.markers:
            x = x_of(marker.at)
            tick = (
                f'<path class="marker {escape(marker.css_class)}" '
                f'd="M{x:.1f} {y + 1} l4 -0 l-4 6 l-4 -6 z M{x:.1f} {y + 7} v{row_height - 10}" '
                f'stroke="{COLOURS.get(marker.colour, marker.colour)}" stroke-width="2" '
                f'fill="{COLOURS.get(marker.colour, marker.colour)}">'
                f"<title>{escape(marker.label)}</title></path>"
            )
            parts.append(_linked(tick, marker.href))
        parts.append("</g>")
    if not rows:
        parts.append(
            f'<text x="{label_width}" y="{top + axis_h + 16}" font-size="12">Nothing here.</text>'
        )
    parts += _legend(legend, height - 5)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _fit(text: str, width: int) -> str:
    """`text` shortened to about `width` pixels of 11 px type."""
    most = max(width // 6 - 1, 4)
    return text if len(text) <= most else text[: most - 1] + "…"


def _linked(shape: str, href: str) -> str:
    return f'<a href="{escape(href)}">{shape}</a>' if href else shape
