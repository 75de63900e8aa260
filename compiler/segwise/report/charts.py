"""The report's pictures, as PNG bytes, drawn with matplotlib's object API.

Figures are made with `Figure()` rather than pyplot: no global figure manager, no GUI backend
(PNG output goes through Agg whatever backend the process chose), nothing left open between
reports. Output is deterministic: fixed DPI, and no Software/date metadata in the PNG.

Readability at 50+ segments is a design constraint: one small chart per segment instead of 50
lines on one axis, figure heights that grow with the number of rows, 7-8 pt labels.
User-written names go through `_text` with mathtext off: a label like "$5 users" is text.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as BezierPath
from matplotlib.ticker import FuncFormatter

from segwise.report.data import MAX_CHARTED, Flow, GroupLabels, LabelCount, Overlap, ReportData, RunTotals, SegmentNow

DPI = 100
ENTERED, EXITED, LINE = "#2e8b57", "#c0392b", "#2c6fbb"
NO_LABEL = "(none)"  # a NULL from/to label in segment_group_changes
NO_LABEL_COLOR, FALLBACK_COLOR = "#bdbdbd", "#8c8c8c"
ANNOTATE_UP_TO = 25  # heatmap cells get their shared count up to this many segments


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def compact(n: float) -> str:
    """12, 4.5k, 1.2M: axis ticks stay short."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            return f"{n / limit:.3g}{suffix}"
    return f"{n:.3g}" if n != int(n) else str(int(n))


def short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def _text(ax: Axes, x: float, y: float, text: str, **style: Any) -> None:
    ax.text(x, y, text, parse_math=False, **style)


def _plain_axes(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=7)


# --- 2. sizes: small multiples -------------------------------------------------------------------


def sizes_chart(history: Mapping[str, Sequence[tuple[datetime, int]]]) -> bytes:
    """One sparkline per segment (largest first), titled with its name and current size; its
    two y ticks are the segment's smallest and largest size in the period."""
    names = [name for name, points in history.items() if points]
    columns = min(5, max(1, len(names)))
    rows = math.ceil(len(names) / columns)
    width, height = columns * 2.6, rows * 1.2 + 0.6
    fig = Figure(figsize=(width, height))
    # Margins by hand: the constrained layout engine costs a second at 50 axes.
    fig.subplots_adjust(
        left=0.5 / width, right=1 - 0.1 / width, bottom=0.1 / height, top=1 - 0.7 / height, wspace=0.25, hspace=0.55
    )
    axes = fig.subplots(rows, columns, squeeze=False)  # not sharex: 50 shared axes make set_ticks quadratic
    first, last = min(t for p in history.values() for t, _ in p), max(t for p in history.values() for t, _ in p)
    for ax, name in zip(axes.flat, names, strict=False):
        if last > first:  # one time axis for all: a segment added lately starts to the right
            ax.set_xlim(first - (last - first) * 0.03, last + (last - first) * 0.03)
        times = [t for t, _ in history[name]]
        members = [m for _, m in history[name]]
        ax.plot(times, members, color=LINE, linewidth=1.3)
        ax.plot([times[-1]], [members[-1]], "o", color=LINE, markersize=3)
        ax.set_title(f"{short(name, 21)}  {members[-1]:,}", fontsize=7.5, loc="left", parse_math=False)
        ax.tick_params(labelsize=6, length=2, labelbottom=False, bottom=False)
        low, high = min(members), max(members)
        ax.set_yticks(sorted({low, high}), [_exact(v) for v in sorted({low, high})])
        pad = max((high - low) * 0.15, 1)
        ax.set_ylim(max(0, low - pad), high + pad)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    period = f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M}"
    fig.suptitle(f"Members per run, {period}; each chart on its own scale (ticks: its lowest and highest)", fontsize=10)
    return png(fig)


def _exact(n: int) -> str:
    return f"{n:,}" if abs(n) < 100_000 else compact(n)


# --- 3. entered / exited -------------------------------------------------------------------------


def churn_chart(totals: Sequence[RunTotals], last_run: Sequence[SegmentNow]) -> bytes:
    """Top: entries (up) and exits (down) of all segments per run. Bottom: the last run per
    segment, entries right and exits left, the MAX_CHARTED busiest first."""
    busiest = sorted(last_run, key=lambda s: (-(s.entered + s.exited), -s.members, s.segment))[:MAX_CHARTED]
    fig = Figure(figsize=(11, 3.2 + 0.19 * len(busiest) + 0.8), layout="constrained")
    top, bottom = fig.subplots(2, 1, height_ratios=[3.2, 0.19 * len(busiest) + 0.8])
    _per_run(top, totals)
    _diverging(bottom, busiest, len(last_run))
    return png(fig)


def _per_run(ax: Axes, totals: Sequence[RunTotals]) -> None:
    positions = np.arange(len(totals))
    entered, exited = [t.entered for t in totals], [-t.exited for t in totals]
    ax.bar(positions, entered, color=ENTERED, label="entered")
    ax.bar(positions, exited, color=EXITED, label="exited")
    reach = _reach([abs(v) for v in (*entered, *exited)])
    if reach is not None:  # a first full build would flatten every later run: cut its bar, print its value
        ax.set_ylim(-reach, reach)
        for series in (entered, exited):
            for x, value in enumerate(series):
                if abs(value) > reach:
                    y = 0.9 * (reach if value > 0 else -reach)
                    _text(ax, x, y, f"{abs(value):,}\n(cut)", ha="center", va="center", fontsize=7, color="white")
    ax.axhline(0, color="#555555", linewidth=0.6)
    step = max(1, math.ceil(len(totals) / 12))  # at most a dozen dates under the bars
    ticks = positions[::step]
    ax.set_xticks(ticks, [totals[i].evaluated_at.strftime("%Y-%m-%d\n%H:%M") for i in ticks], fontsize=7)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(abs(v))))
    ax.set_title("Entered (up) and exited (down) per run, all segments", fontsize=9, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    _plain_axes(ax)


def _reach(values: Sequence[int]) -> float | None:
    """An axis limit that leaves out outliers: 1.3 x the largest value that is not more than
    3 x the next one; None when no value stands out."""
    ordered = sorted(values, reverse=True)
    for i in range(min(3, len(ordered) - 1)):
        if ordered[i] > 3 * ordered[i + 1] and ordered[i + 1] > 0:
            continue
        return 1.3 * ordered[i] if i > 0 else None
    return None


def _diverging(ax: Axes, segments: Sequence[SegmentNow], of: int) -> None:
    y = np.arange(len(segments))
    entered = [s.entered for s in segments]
    exited = [s.exited for s in segments]
    ax.barh(y, entered, color=ENTERED, height=0.7)
    ax.barh(y, [-x for x in exited], color=EXITED, height=0.7)
    reach = max([*entered, *exited, 1]) * 1.3  # room for the numbers at the bar ends
    ax.set_xlim(-reach, reach)
    for row, (came, left) in enumerate(zip(entered, exited, strict=True)):
        if came:
            _text(ax, came + reach * 0.01, row, f"+{came:,}", fontsize=6.5, va="center", ha="left")
        if left:
            _text(ax, -left - reach * 0.01, row, f"−{left:,}", fontsize=6.5, va="center", ha="right")
    ax.set_yticks(y, [short(s.segment, 32) for s in segments], fontsize=7.5, parse_math=False)
    ax.set_ylim(len(segments) - 0.5, -0.5)  # the busiest on top
    ax.axvline(0, color="#555555", linewidth=0.6)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(abs(v))))
    which = f"the {len(segments)} busiest of {of} segments" if of > len(segments) else "per segment"
    ax.set_title(f"Last run, {which}: exited (left) and entered (right)", fontsize=9, loc="left")
    _plain_axes(ax)


# --- 4. overlaps ---------------------------------------------------------------------------------


def overlap_matrix(names: Sequence[str], overlaps: Iterable[Overlap]) -> tuple[np.ndarray, np.ndarray]:
    """Jaccard and shared users of every two of `names` (0 where no row: nobody shared)."""
    index = {name: i for i, name in enumerate(names)}
    jaccard = np.zeros((len(names), len(names)))
    shared = np.zeros((len(names), len(names)), dtype=np.int64)
    for o in overlaps:
        if o.a in index and o.b in index:
            jaccard[index[o.a], index[o.b]] = jaccard[index[o.b], index[o.a]] = o.jaccard
            shared[index[o.a], index[o.b]] = shared[index[o.b], index[o.a]] = o.shared
    np.fill_diagonal(jaccard, 1.0)
    return jaccard, shared


def similarity_order(names: Sequence[str], jaccard: np.ndarray) -> list[int]:
    """Rows so that segments sharing members sit together: the leaf order of an average-linkage
    clustering on 1 - Jaccard (scipy), else the given order (largest first)."""
    if len(names) < 3:
        return list(range(len(names)))
    try:
        from scipy.cluster.hierarchy import leaves_list, linkage
        from scipy.spatial.distance import squareform
    except ImportError:
        return list(range(len(names)))
    distance = np.clip(1.0 - jaccard, 0.0, 1.0)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average", optimal_ordering=True)
    return [int(i) for i in leaves_list(tree)]


def overlap_chart(names: Sequence[str], overlaps: Iterable[Overlap]) -> bytes:
    jaccard, shared = overlap_matrix(names, overlaps)
    order = similarity_order(names, jaccard)
    jaccard, shared = jaccard[np.ix_(order, order)], shared[np.ix_(order, order)]
    labels = [short(names[i], 30) for i in order]
    n = len(names)
    cell = 0.2 if n > ANNOTATE_UP_TO else 0.42
    side = max(4.0, n * cell)
    fig = Figure(figsize=(side + 3.2, side + 2.4), layout="constrained")
    ax = fig.subplots()
    off_diagonal = np.ma.masked_array(jaccard, mask=np.eye(n, dtype=bool))  # self-overlap is 1: grey
    top = float(off_diagonal.max()) if off_diagonal.count() and off_diagonal.max() > 0 else 1.0
    colors = matplotlib.colormaps["YlGnBu"].with_extremes(bad="#e6e6e6")
    image = ax.imshow(off_diagonal, cmap=colors, vmin=0.0, vmax=top, interpolation="nearest", aspect="equal")
    size = 7 if n > 30 else 8
    ax.set_xticks(range(n), labels, rotation=90, fontsize=size, parse_math=False)
    ax.set_yticks(range(n), labels, fontsize=size, parse_math=False)
    ax.tick_params(length=0)
    edges = np.arange(n + 1) - 0.5  # white cell borders: two line collections, cheaper than minor ticks
    ax.hlines(edges, -0.5, n - 0.5, color="white", linewidth=0.5)
    ax.vlines(edges, -0.5, n - 0.5, color="white", linewidth=0.5)
    if n <= ANNOTATE_UP_TO:
        for row in range(n):
            for column in range(n):
                if row != column and shared[row, column]:
                    dark = jaccard[row, column] > top * 0.6
                    _text(
                        ax,
                        column,
                        row,
                        compact(int(shared[row, column])),
                        fontsize=6.5,
                        ha="center",
                        va="center",
                        color="white" if dark else "#222222",
                    )
    bar = fig.colorbar(image, ax=ax, shrink=min(0.6, 6 / side + 0.2), pad=0.01)
    bar.set_label("Jaccard (shared / either)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    ax.set_title("Overlap of segments, similar ones together", fontsize=10, loc="left")
    return png(fig)


# --- 5. group composition ------------------------------------------------------------------------


def label_colors(labels: Sequence[str], fallback: str | None) -> dict[str, str]:
    """One colour per label of a group, the same in the composition and the flow pictures."""
    palette = matplotlib.colormaps["tab10" if len(labels) <= 10 else "tab20"].colors  # type: ignore[attr-defined]
    colors: dict[str, str] = {}
    for i, label in enumerate(label for label in labels if label != fallback):
        colors[label] = matplotlib.colors.to_hex(palette[i % len(palette)])
    if fallback is not None:
        colors[fallback] = FALLBACK_COLOR
    colors[NO_LABEL] = NO_LABEL_COLOR
    return colors


def composition_chart(groups: GroupLabels, counts: Iterable[LabelCount]) -> bytes:
    """Per group, members per label in priority order (the fallback last)."""
    members = {(c.group, c.label): c.members for c in counts}
    heights = [0.32 * len(labels) + 0.9 for labels, _ in groups.values()]
    fig = Figure(figsize=(11, sum(heights) + 0.3), layout="constrained")
    axes = fig.subplots(len(groups), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, (group, (labels, fallback)) in zip(axes, groups.items(), strict=True):
        counted = [members.get((group, label), 0) for label in labels]
        total = sum(counted) or 1
        colors = label_colors(labels, fallback)
        y = np.arange(len(labels))
        ax.barh(y, counted, color=[colors[label] for label in labels], height=0.7)
        for row, n in enumerate(counted):
            _text(ax, n, row, f"  {n:,} ({100 * n / total:.1f}%)", fontsize=7, va="center", ha="left")
        ax.set_yticks(y, [short(label, 32) for label in labels], fontsize=7.5, parse_math=False)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_xlim(0, max([*counted, 1]) * 1.25)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))
        ax.set_title(f"{group}: {sum(counted):,} users", fontsize=9, loc="left", parse_math=False)
        _plain_axes(ax)
    return png(fig)


# --- 6. flows between labels ---------------------------------------------------------------------


def flow_chart(groups: GroupLabels, flows: Sequence[Flow], last_flows: Sequence[Flow] | None) -> bytes:
    """Per group an alluvial picture of label changes: every run (left) and the last run (right)."""
    rows = [(g, labels, fallback) for g, (labels, fallback) in groups.items()]
    heights = [max(2.6, 0.5 * (len(labels) + 1) + 1.0) for _, labels, _ in rows]
    fig = Figure(figsize=(13, sum(heights) + 0.2), layout="constrained")
    axes = fig.subplots(len(rows), 2, squeeze=False, height_ratios=heights)
    for (group, labels, fallback), pair, height in zip(rows, axes, heights, strict=True):
        colors = label_colors(labels, fallback)
        order = [*labels, NO_LABEL]
        every = [f for f in flows if f.group == group]
        _alluvial(pair[0], every, order, colors, height, f"{group}: every run")
        last = [f for f in last_flows or () if f.group == group]
        title = f"{group}: last run" if last_flows is not None else f"{group}: last run (no segwise_runs table)"
        _alluvial(pair[1], last, order, colors, height, title)
    return png(fig)


def _label(name: str | None) -> str:
    return NO_LABEL if name is None else name


@dataclass(frozen=True)
class _Node:
    """A label's bar in one column of an alluvial picture: from `top` down by `size` users."""

    top: float
    size: int

    @property
    def bottom(self) -> float:
        return self.top - self.size


def _alluvial(
    ax: Axes, flows: Sequence[Flow], order: list[str], colors: dict[str, str], height: float, title: str
) -> None:
    """Left column: labels before, right column: labels after; a band per (before, after) pair,
    as thick as its number of changes, coloured by the label before."""
    ax.set_axis_off()
    total = sum(f.changes for f in flows)
    ax.set_title(f"{title} ({total:,} label changes)", fontsize=9, loc="left", parse_math=False)
    if not flows:
        _text(ax, 0.5, 0.5, "no label changes", ha="center", va="center", color="#777777", transform=ax.transAxes)
        return
    rank = {label: i for i, label in enumerate(order)}
    for f in flows:  # a label the project no longer defines: after the known ones
        for label in (_label(f.source), _label(f.target)):
            rank.setdefault(label, len(rank))
            colors.setdefault(label, NO_LABEL_COLOR)
    gap = total * 0.04
    left = _stack(_sizes(flows, lambda f: f.source), rank, gap)
    right = _stack(_sizes(flows, lambda f: f.target), rank, gap)
    node = 0.035  # bar width, in axis units (the columns are at x = 0 and x = 1)
    # Within a left bar, bands leave in the order of their targets; within a right bar they
    # arrive in the order of their sources: the fewest crossings.
    leaving = {label: n.top for label, n in left.items()}
    arriving = {label: n.top for label, n in right.items()}
    for f in sorted(flows, key=lambda f: (rank[_label(f.source)], rank[_label(f.target)])):
        source, target = _label(f.source), _label(f.target)
        _band(ax, (node, leaving[source]), (1 - node, arriving[target]), f.changes, colors[source])
        leaving[source] -= f.changes
        arriving[target] -= f.changes
    lowest = min(n.bottom for n in (*left.values(), *right.values()))
    floor, ceiling = min(lowest, -gap), total * 0.05
    line = 0.17 * (ceiling - floor) / max(height - 0.8, 1.0)  # a label's height, in users
    for nodes, x, align, offset in ((left, 0.0, "right", -0.012), (right, 1 - node, "left", node + 0.012)):
        spots = _spread([n.top - n.size / 2 for n in nodes.values()], line)
        for (label, n), spot in zip(nodes.items(), spots, strict=True):
            ax.add_patch(Rectangle((x, n.bottom), node, n.size, color=colors[label], linewidth=0))
            _text(ax, x + offset, spot, f"{short(label, 24)}  {n.size:,}", ha=align, va="center", fontsize=7.5)
    ax.set_xlim(-0.42, 1.42)  # room for the labels either side
    ax.set_ylim(floor, ceiling)
    for x, heading in ((node / 2, "before"), (1 - node / 2, "after")):
        _text(ax, x, total * 0.035, heading, ha="center", fontsize=7.5, color="#555555")


def _sizes(flows: Sequence[Flow], side: Callable[[Flow], str | None]) -> Counter[str]:
    sizes: Counter[str] = Counter()
    for f in flows:
        sizes[_label(side(f))] += f.changes
    return sizes


def _stack(sizes: Counter[str], rank: dict[str, int], gap: float) -> dict[str, _Node]:
    """Each label's bar, from y = 0 downwards in label order, `gap` apart."""
    nodes: dict[str, _Node] = {}
    y = 0.0
    for label in sorted(sizes, key=lambda name: rank[name]):
        nodes[label] = _Node(y, sizes[label])
        y -= sizes[label] + gap
    return nodes


def _band(ax: Axes, start: tuple[float, float], end: tuple[float, float], width: int, color: str) -> None:
    """A ribbon `width` users thick from (x, top) on the left to (x, top) on the right, its
    edges S-shaped cubic Bezier curves."""
    (x0, top0), (x1, top1) = start, end
    bottom0, bottom1, middle = top0 - width, top1 - width, (x0 + x1) / 2
    vertices = [
        (x0, top0), (middle, top0), (middle, top1), (x1, top1),
        (x1, bottom1), (middle, bottom1), (middle, bottom0), (x0, bottom0), (x0, top0),
    ]  # fmt: skip
    curve = [BezierPath.CURVE4] * 3
    codes = [BezierPath.MOVETO, *curve, BezierPath.LINETO, *curve, BezierPath.CLOSEPOLY]
    ax.add_patch(PathPatch(BezierPath(vertices, codes), facecolor=color, alpha=0.45, edgecolor="none"))


def _spread(centres: list[float], spacing: float) -> list[float]:
    """Label positions near `centres` (top to bottom) at least `spacing` apart: small nodes
    sit close together and their labels would overlap."""
    spots: list[float] = []
    for centre in centres:
        spots.append(min(centre, spots[-1] - spacing) if spots else centre)
    return spots


def draw(data: ReportData, groups: GroupLabels, empty: Iterable[str]) -> dict[str, bytes]:
    """The picture of every section that has data, by section key."""
    skip = set(empty)
    charted = [s.segment for s in data.current[:MAX_CHARTED]]
    drawers: dict[str, Callable[[], bytes]] = {
        "sizes": lambda: sizes_chart(data.history),
        "churn": lambda: churn_chart(data.totals, data.current),
        "overlaps": lambda: overlap_chart(charted, data.overlaps or ()),
        "groups": lambda: composition_chart(groups, data.labels or ()),
        "flows": lambda: flow_chart(groups, data.flows or (), data.last_flows),
    }
    return {key: drawer() for key, drawer in drawers.items() if key not in skip}
