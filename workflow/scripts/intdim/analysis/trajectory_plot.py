"""What Figure 2 and Figures 4-5 draw alike: one colour per task and trajectory, and each d90 as
the interval (d90_lo, d90] its search narrowed it to."""

from __future__ import annotations

import pandas as pd


def series_colours(shown: pd.DataFrame, palette) -> dict:
    """{(task, trajectory): colour}, in sorted order, so a colour names one series in every
    panel; palette(n) gives n colours (seaborn.color_palette's n_colors)."""
    series = sorted(shown.groupby(["task", "trajectory"]).groups)
    return dict(zip(series, palette(max(len(series), 1)), strict=False))


def reach_below(points: pd.DataFrame) -> pd.Series:
    """How far below each d90 its interval reaches (d90 - d90_lo): zero where no probe failed,
    which a log axis can draw, unlike the interval's lower end of 0."""
    return (points["d90"].astype(float) - points["d90_lo"].astype(float)).fillna(0.0)
