"""Plotly figures from the aggregates: bars, log-scale histograms, a scatter.

Plotly because the report is read in a browser: hover names the model behind a
point or the count behind a bar, axes can be log-scaled and zoomed, and the one
JavaScript bundle (plotly.js, inlined once per page) needs nothing from the
network. Figures are built from plain lists: no pandas.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from hfcrawl.report.aggregates import LOG_BINS_PER_DECADE, LogHistogram

TEMPLATE = "plotly_white"
HEIGHT = 360


def _layout(fig: go.Figure, title: str, **extra: Any) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        template=TEMPLATE,
        height=HEIGHT,
        margin={"l": 60, "r": 20, "t": 50, "b": 60},
        showlegend=extra.pop("showlegend", False),
        **extra,
    )
    return fig


def bars(
    labels: Sequence[str], values: Sequence[int], title: str, axis: str = "models"
) -> go.Figure:
    """Horizontal bars, largest on top."""
    fig = go.Figure(
        go.Bar(
            x=list(values)[::-1],
            y=[str(label) for label in labels][::-1],
            orientation="h",
            hovertemplate=f"%{{y}}: %{{x:,}} {axis}<extra></extra>",
        )
    )
    height = max(HEIGHT, 24 * len(labels) + 100)
    _layout(fig, title, xaxis_title=axis)
    fig.update_layout(height=height, yaxis={"automargin": True})
    return fig


def columns(
    labels: Sequence[Any], values: Sequence[int], title: str, x: str, y: str
) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=[str(v) for v in labels],
            y=list(values),
            hovertemplate=f"{x} %{{x}}: %{{y:,}} {y}<extra></extra>",
        )
    )
    return _layout(fig, title, xaxis_title=x, yaxis_title=y, xaxis_type="category")


def _human(value: float) -> str:
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def log_histogram(h: LogHistogram, title: str, x: str) -> go.Figure:
    """A histogram on a log x axis: one bar per quarter decade."""
    k = LOG_BINS_PER_DECADE
    lows = [10 ** (b / k) for b in h.bins]
    highs = [10 ** ((b + 1) / k) for b in h.bins]
    fig = go.Figure(
        go.Bar(
            x=[(b + 0.5) / k for b in h.bins],
            y=h.counts,
            width=[0.95 / k] * len(h.bins),
            customdata=[
                [_human(lo), _human(hi)] for lo, hi in zip(lows, highs, strict=True)
            ],
            hovertemplate="%{customdata[0]} to %{customdata[1]}: %{y:,}<extra></extra>",
        )
    )
    top = math.ceil((max(h.bins) + 1) / k) if h.bins else 1
    decades = list(range(top + 1))
    _layout(fig, title, yaxis_title="models", yaxis_type="log")
    fig.update_xaxes(
        title=f"{x} (log scale)",
        tickvals=decades,
        ticktext=[_human(10**d) for d in decades],
    )
    return fig


def scatter(
    points: Sequence[tuple[str, float, float, str]], title: str, x: str, y: str
) -> go.Figure:
    """One trace per group (the first member of each point). SVG, not WebGL:
    a headless or GPU-less browser has no WebGL context."""
    groups: dict[str, list[tuple[float, float, str]]] = {}
    for group, px, py, label in points:
        groups.setdefault(str(group), []).append((px, py, str(label)))
    fig = go.Figure(
        [
            go.Scatter(
                x=[p[0] for p in members],
                y=[p[1] for p in members],
                text=[p[2] for p in members],
                mode="markers",
                name=group,
                marker={"size": 5, "opacity": 0.6},
                hovertemplate="%{text}<br>%{x:,.2f} B, %{y:.2f}<extra>%{fullData.name}</extra>",
            )
            for group, members in sorted(groups.items())
        ]
    )
    _layout(fig, title, xaxis_title=x, yaxis_title=y, showlegend=True)
    fig.update_xaxes(type="log")
    return fig


def figure_points(fig: go.Figure) -> int:
    """Data points the figure draws (a plot without any is a bug)."""
    total = 0
    for trace in fig.data:
        values = trace.x if trace.x is not None else trace.values
        total += len(values) if values is not None else 0
    return total
