"""The report as one HTML file: sections of tables and plots, plotly.js inlined.

Nothing on the page is fetched when it is viewed: the script is in the page,
there are no fonts, images or style sheets from elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

PLOT_CONFIG = {"displaylogo": False, "responsive": True}

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 0 16px 48px; color: #222; }
h1 { margin: 24px 0 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #ddd; }
.sub { color: #666; margin: 0 0 16px; }
.absent { color: #8a6d3b; background: #fcf8e3; padding: 8px 12px; border-radius: 4px; }
.note { color: #555; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
nav a { margin-right: 12px; }
.plot { margin: 8px 0 20px; }
"""


@dataclass
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    caption: str | None = None


@dataclass
class Section:
    key: str
    title: str
    absent: str | None = (
        None  # why the section has nothing: its table is not in the run
    )
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[go.Figure] = field(default_factory=list)


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return f"<td>{escape(str(value if value is not None else ''))}</td>"
    if isinstance(value, int):
        return f'<td class="n">{value:,}</td>'
    if isinstance(value, float):
        return f'<td class="n">{value:,.2f}</td>'
    return f"<td>{escape(str(value))}</td>"


def _table(t: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in t.headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in t.rows)
    caption = f"<caption>{escape(t.caption)}</caption>" if t.caption else ""
    return (
        f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _section(s: Section, first_plot: int) -> tuple[str, int]:
    out = [f'<section id="{escape(s.key)}"><h2>{escape(s.title)}</h2>']
    if s.absent:
        out.append(f'<p class="absent">{escape(s.absent)}</p>')
    out.extend(f'<p class="note">{escape(n)}</p>' for n in s.notes)
    out.extend(_table(t) for t in s.tables)
    n = first_plot
    for fig in s.figures:
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"plot-{n}",
            config=PLOT_CONFIG,
        )
        out.append(f'<div class="plot" data-section="{escape(s.key)}">{div}</div>')
        n += 1
    out.append("</section>")
    return "\n".join(out), n


def render(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    nav = " ".join(
        f'<a href="#{escape(s.key)}">{escape(s.title)}</a>' for s in sections
    )
    parts = []
    n = 0
    for s in sections:
        html, n = _section(s, n)
        parts.append(html)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style>"
        # plotly.js, whole: the page must work with no network
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f'<h1>{escape(title)}</h1><p class="sub">{escape(subtitle)}</p>'
        f"<nav>{nav}</nav>\n" + "\n".join(parts) + "\n</body></html>\n"
    )
