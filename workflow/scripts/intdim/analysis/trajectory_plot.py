"""What Figures 2-5 draw alike: one colour per task and trajectory, each d90 as the interval
(d90_lo, d90] its search narrowed it to, hollow where a probe above it failed, in a grey square
where the probe that set it beat the majority class only within chance, a search that reached
nothing up to d_max as a mark at d_max pointing beyond it, and a d90 axis whose labels can be
read."""

from __future__ import annotations

import math
import textwrap

import pandas as pd

from .d90 import MAJORITY_ALPHA
from .section5 import learned_nothing, reached_nothing


def series_colours(shown: pd.DataFrame, palette) -> dict:
    """{(task, trajectory): colour}, in sorted order, so a colour names one series in every
    panel; palette(n) gives n colours (seaborn.color_palette's n_colors)."""
    series = sorted(shown.groupby(["task", "trajectory"]).groups)
    return dict(zip(series, palette(max(len(series), 1)), strict=False))


def reach_below(points: pd.DataFrame) -> pd.Series:
    """How far below each d90 its interval reaches (d90 - d90_lo): zero where no probe failed,
    which a log axis can draw, unlike the interval's lower end of 0."""
    return (points["d90"].astype(float) - points["d90_lo"].astype(float)).fillna(0.0)


# Characters of a 9-point title line that fit the axes of a 6-inch-wide figure.
TITLE_WIDTH = 72
_HELD_SPACE = "\x00"  # a space title_line does not break at, of the same width


def title_line(text: str, figure_width: float = 6.0) -> str:
    """``text`` as one title line, or, where longer than fits the axes of a figure
    figure_width inches wide (TITLE_WIDTH characters at 6 inches, in proportion), as several,
    each after the first indented, so that a long verdict stays within the axes it names."""
    width = int(TITLE_WIDTH * figure_width / 6)
    # A comparison stays on one line: "d90" ending one line and "> d_max" starting the next
    # hides what is compared.
    held = text.replace(" > ", f"{_HELD_SPACE}>{_HELD_SPACE}")
    # Whole words only: "pre-" at a line's end and "training" under it reads as two words.
    wrapped = textwrap.fill(held, width, subsequent_indent="  ", break_on_hyphens=False)
    return wrapped.replace(_HELD_SPACE, " ")


NOT_REACHED = "not reached: d90 above the largest d searched"
LEFT_OUT = "left out: full fine-tune within chance of the majority class"
UNTRAINED = "left out: no probe beat the majority class (nothing learned at the rates tried)"
FAILED_ABOVE = "hollow: a probe above d90 failed (not monotone in d)"


def has_failure_above(points: pd.DataFrame) -> pd.Series:
    """Which points' searches had a probe fail above their d90 (none in tables from before the
    count): their bracket's lower end assumes the monotonicity those probes contradict."""
    if "failed_above" not in points:
        return pd.Series(False, index=points.index)
    return points["failed_above"].fillna(0).astype(int) > 0


WITHIN_CHANCE = "square: its probe at d90 within chance of the majority class"


def within_chance(points: pd.DataFrame) -> pd.Series:
    """Which points' d90 was set by a probe whose p-value against the majority class is
    ``MAJORITY_ALPHA`` or more (none in tables from before the column, or without a d90)."""
    if "d90_majority_p" not in points:
        return pd.Series(False, index=points.index)
    return points["d90_majority_p"].astype(float).ge(MAJORITY_ALPHA).fillna(False)


def mark_flags(ax, points: pd.DataFrame, x: pd.Series, y: pd.Series, colour, taken: set) -> None:
    """Over the points (x, y) of ``points``, draw a hollow marker where a probe above d90 failed
    and a grey square where the probe that set d90 was within chance of the majority class,
    each named in the legend once a figure (``taken``: the names already used)."""
    flags = [
        (has_failure_above(points), FAILED_ABOVE,
         dict(marker="o", mfc="white", mec=colour, zorder=3)),
        (within_chance(points), WITHIN_CHANCE,
         dict(marker="s", mfc="none", mec="grey", markersize=11, zorder=2)),
    ]  # fmt: skip
    for mask, name, style in flags:
        if mask.any():
            ax.plot(x[mask], y[mask], linestyle="none",
                    label="_nolegend_" if name in taken else name, **style)  # fmt: skip
            taken.add(name)


def not_reached(table: pd.DataFrame) -> pd.DataFrame:
    """The rows ``reached_nothing`` picks. Without them a checkpoint that needs the most
    dimensions would vanish from the figures."""
    return table[reached_nothing(table)]


def log_limits(low: float, high: float, pad: float = 1.25) -> tuple[float, float]:
    """Log-axis limits from ``low`` to ``high`` (both > 0), ``pad`` times wider each way, and
    widened to the decades around them where fewer than two powers of ten lie within: a log
    axis labels only powers of ten, and beside a single label no point's value can be read."""
    lo, hi = low / pad, high * pad
    if math.floor(math.log10(hi)) - math.ceil(math.log10(lo)) < 1:
        lo, hi = 10.0 ** math.floor(math.log10(lo)), 10.0 ** math.ceil(math.log10(hi))
    return lo, hi


# Where the marks without a d (left out, nothing learned) sit, as a share of the axes'
# height from the bottom, and how high the lowest interval must start to stay clear of them.
FOOT = 0.03
CLEAR_OF_FOOT = 0.08


def foot_rows(table: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """The checkpoints drawn along the bottom, having no d to draw at, as (marker, legend
    text, rows): left out, the full fine-tune within chance of the majority class (x), and
    those whose search learned nothing (+)."""
    return [("x", LEFT_OUT, table[~table["beats_majority"].astype(bool)]),
            ("+", UNTRAINED, table[learned_nothing(table)])]  # fmt: skip


def mark_foot(ax, x, marker: str, color, label: str) -> None:
    """Marks at x along the bottom of ax (FOOT of its height up, drawn beyond its clip)."""
    ax.plot(x, [FOOT] * len(x), marker, color=color, clip_on=False,
            transform=ax.get_xaxis_transform(), label=label)  # fmt: skip


def interval_limits(
    points: pd.DataFrame, beyond: pd.DataFrame | None = None, foot: bool = False
) -> tuple[float, float]:
    """``log_limits`` around every d90 and the lower end of its interval (where above 0), and
    the d_max (d90_hi) of the searches in ``beyond`` that reached nothing. With ``foot`` (marks
    drawn along the bottom at FOOT), the lower limit drops until the lowest end sits at least
    CLEAR_OF_FOOT of the axes' height up, so that no bar's cap meets a mark."""
    d90 = points["d90"].astype(float)
    ends = [d90, d90 - reach_below(points)]
    if beyond is not None:
        ends.append(beyond["d90_hi"].astype(float))
    ends = pd.concat(ends)
    low, high = ends[ends > 0].min(), ends.max()
    lo, hi = log_limits(low, high)
    if foot and math.log(low / lo) < CLEAR_OF_FOOT * math.log(hi / lo):
        # log(low / lo') = CLEAR_OF_FOOT * log(hi / lo'), solved for lo'
        lo = math.exp((math.log(low) - CLEAR_OF_FOOT * math.log(hi)) / (1 - CLEAR_OF_FOOT))
    return lo, hi
