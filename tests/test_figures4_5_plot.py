"""Figures 4 and 5's drawing (``intdim.analysis.figures4_5_plot``): labels of points that would
print over each other merge into one. The figure itself: test_plot_figures.py (one run) and
test_figure2_over_runs.py (several runs pooled)."""

from intdim.analysis.figures4_5_plot import LABEL_GAP, merged_step_labels

# Two points 0.25 apart in y: one label where the panel is at least 0.25 / LABEL_GAP high.
HIGH_ENOUGH = 0.25 / LABEL_GAP


def test_points_at_one_x_within_the_gap_share_one_label_at_the_highest():
    labels = merged_step_labels([3e5, 3e5, 3e5], [0.5, 0.75, 0.5], [250, 125, 125],
                                1.001 * HIGH_ENOUGH)  # fmt: skip
    assert labels == [(3e5, 0.75, "125/250")]


def test_points_past_the_gap_or_at_another_x_keep_their_own_labels():
    apart = merged_step_labels([3e5, 3e5], [0.5, 0.75], [125, 2000], 0.999 * HIGH_ENOUGH)
    assert apart == [(3e5, 0.5, "125"), (3e5, 0.75, "2,000")]
    beside = merged_step_labels([1e5, 3e5], [0.5, 0.5], [125, 250], HIGH_ENOUGH)
    assert beside == [(1e5, 0.5, "125"), (3e5, 0.5, "250")]
    assert merged_step_labels([], [], [], 0.0) == []


def test_a_group_is_measured_from_its_lowest_point_so_a_chain_does_not_merge_without_end():
    # Each 0.2 above the last: the third lies 0.4 above the first, past the gap of 0.25.
    chain = merged_step_labels([1e3] * 3, [0.1, 0.3, 0.5], [125, 250, 500], HIGH_ENOUGH)
    assert [text for *_, text in chain] == ["125/250", "500"]


def test_labels_come_in_the_points_order():
    # A run's checkpoints in order of updates, their d90 falling: the labels keep that order.
    labels = merged_step_labels([3e3, 1e3, 2e2], [0.7, 0.75, 0.8], [125, 250, 500], 1.0)
    assert [text for *_, text in labels] == ["125", "250", "500"]
