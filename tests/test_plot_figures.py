"""The figures as their rules draw them. Figure 1 from the sweep's tables: each d90 marked on
its 90% line and, with one model, d90 against D in a box. Figures 2, 4 and 5 from a trajectory
table: one series per task and trajectory, each d90 as its search interval, and the findings'
verdicts in the titles."""

import math
import runpy
import textwrap
import types

import matplotlib.figure
import pandas as pd
import pytest
from intdim.analysis.trajectory_plot import (
    CLEAR_OF_FOOT,
    FOOT,
    TITLE_WIDTH,
    interval_limits,
    log_limits,
    title_line,
)
from matplotlib.backends.backend_agg import FigureCanvasAgg


def checkpoints(name: str, d90s: list[tuple], accuracy: list[float], gap: list[float]):
    return pd.DataFrame({
        "trajectory": name, "step": [125 * 2**i for i in range(len(d90s))], "task": "tweets",
        "method": "said", "d90_lo": [lo for lo, _ in d90s], "d90": [hi for _, hi in d90s],
        "d90_hi": [hi for _, hi in d90s], "search_status": "reached", "beats_majority": True,
        "eval_accuracy": accuracy, "relative_gap": gap,
    })  # fmt: skip


# Four checkpoints whose accuracy rises and gap falls as d90 falls; three (too few for a
# correlation) along another trajectory, whose d90 rises.
STRONG = checkpoints("scratch", [(1732, 2876), (400, 600), (83, 137), (None, 30)],
                     [0.70, 0.74, 0.78, 0.82], [0.30, 0.20, 0.12, 0.05])  # fmt: skip
SHORT = checkpoints("other", [(50, 83), (83, 137), (900, 1500)], [0.7, 0.8, 0.75], [0.2] * 3)


def draw(tmp_path, monkeypatch, table: pd.DataFrame, repo_root, script="plot_figures4_5",
         rule=None):  # fmt: skip
    """Run the rule's script on ``table`` (or on ``rule``'s inputs); return the figure it saved."""
    saved = []
    original = matplotlib.figure.Figure.savefig

    def keep(figure, *args, **kwargs):
        saved.append(figure)
        return original(figure, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    if rule is None:
        table.to_csv(tmp_path / "trajectory.csv", index=False)
        rule = types.SimpleNamespace(input=[str(tmp_path / "trajectory.csv")])
    rule.__dict__.update(output=[str(tmp_path / "figure.png")], log=[], rule=script,
                         scriptdir=None)  # fmt: skip
    path = repo_root / "workflow" / "scripts" / f"{script}.py"
    runpy.run_path(str(path), init_globals={"snakemake": rule})
    assert (tmp_path / "figure.png").stat().st_size > 0
    return saved[0]


def title_lines(ax) -> list[str]:
    """The title's lines, each wrapped line joined back to the one it goes on from."""
    lines = []
    for line in ax.get_title().splitlines():
        if line.startswith("  "):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def test_each_panel_is_titled_with_its_own_findings_verdict(tmp_path, monkeypatch, repo_root):
    figure = draw(tmp_path, monkeypatch, STRONG, repo_root)
    accuracy, gap = (ax.get_title() for ax in figure.axes)
    assert accuracy.startswith("eval accuracy (Figure 4)\ntweets: agrees; Pearson r")
    assert gap.startswith("relative generalization gap (Figure 5)\ntweets: agrees; Pearson r")
    assert "eval accuracy = -" in accuracy.replace("\n", " ")
    assert accuracy.count("Pearson r") == gap.count("Pearson r") == 1
    # One series, its d90 drawn at the intervals' upper ends on a log axis, one label a point.
    (series,) = figure.axes[0].containers
    assert list(series.lines[0].get_xdata()) == [2876, 600, 137, 30]
    assert figure.axes[0].get_xscale() == "log"
    # Each bar spans the search's bracket; the last search failed no probe, so has none.
    bars = series.lines[2][0].get_segments()
    assert [(a[0], b[0]) for a, b in bars] == [(1732, 2876), (400, 600), (83, 137), (30, 30)]
    labels = [t.get_text() for t in figure.axes[0].texts]
    assert labels == ["125", "250", "500", "1,000"]


def test_several_trajectories_get_a_series_and_a_verdict_each(tmp_path, monkeypatch, repo_root):
    figure = draw(tmp_path, monkeypatch, pd.concat([STRONG, SHORT]), repo_root)
    title = figure.axes[0].get_title().replace("\n", " ")
    assert "tweets, other: not resolved; 3 checkpoints with a d90" in title
    assert "tweets, scratch: agrees" in title
    (legend,) = figure.legends  # one, under both panels
    assert [t.get_text() for t in legend.get_texts()] == ["tweets (other)", "tweets (scratch)"]
    assert all(ax.get_legend() is None for ax in figure.axes)
    colours = [c.lines[0].get_color() for c in figure.axes[0].containers]
    assert colours[0] != colours[1]


def test_without_a_checkpoint_to_show_the_panels_say_so(tmp_path, monkeypatch, repo_root):
    figure = draw(tmp_path, monkeypatch, STRONG.assign(beats_majority=False), repo_root)
    for ax, title in zip(figure.axes, ["eval accuracy (Figure 4)",
                                       "relative generalization gap (Figure 5)"], strict=True):  # fmt: skip
        assert [t.get_text() for t in ax.texts] == ["no checkpoint reached the threshold"]
        assert ax.get_title() == title and ax.get_xscale() == "linear"


def test_figure2_gives_each_trajectory_its_line_and_verdict(tmp_path, monkeypatch, repo_root):
    both = pd.concat([STRONG, SHORT])
    figure = draw(tmp_path, monkeypatch, both, repo_root, script="plot_figure2")
    (ax,) = figure.axes
    assert title_lines(ax) == [
        "d90 along pre-training",
        "tweets (other): disagrees; the last interval lies above the first",
        "tweets (scratch): agrees; the last interval lies below the first",
    ]
    other, scratch = ax.containers
    assert list(scratch.lines[0].get_xdata()) == [125, 250, 500, 1000]
    assert list(scratch.lines[0].get_ydata()) == [2876, 600, 137, 30]
    bars = scratch.lines[2][0].get_segments()  # down to each bracket's lower end
    assert [(a[1], b[1]) for a, b in bars] == [(1732, 2876), (400, 600), (83, 137), (30, 30)]
    assert other.lines[0].get_color() != scratch.lines[0].get_color()


def test_figure2_marks_the_checkpoints_it_leaves_out_along_the_bottom(
    tmp_path, monkeypatch, repo_root
):
    within_chance = SHORT.assign(trajectory="scratch", step=[60, 4000, 8000], beats_majority=False)
    figure = draw(tmp_path, monkeypatch, pd.concat([STRONG, within_chance]), repo_root,
                  script="plot_figure2")  # fmt: skip
    (ax,) = figure.axes
    (marks,) = [line for line in ax.lines if line.get_label().startswith("left out")]
    assert list(marks.get_xdata()) == [60, 4000, 8000] and marks.get_marker() == "x"
    assert ax.get_xlim()[0] < 60 and ax.get_xlim()[1] > 8000
    # The lowest d90 (30, no probe failed below it) sits clear of the marks at the foot.
    assert share_up(30, ax.get_ylim()) == pytest.approx(CLEAR_OF_FOOT)
    assert title_lines(ax)[0] == "d90 along pre-training (3 checkpoint-task pairs left out)"
    labels = {t.get_text() for t in ax.get_legend().get_texts()}
    assert labels == {
        "tweets (scratch)",
        "left out: full fine-tune within chance of the majority class",
    }


# A randomly initialised checkpoint (step 0) whose full fine-tune beats the majority class but
# whose search failed every probe up to d_max = 100,000, and one at step 60 whose search failed
# too but whose full fine-tune is within chance of the majority class (left out, not drawn).
BEYOND = pd.DataFrame({
    "trajectory": "scratch", "step": [0, 60], "task": "tweets", "method": "said",
    "d90_lo": [60231, 60231], "d90": [None, None], "d90_hi": [100_000, 100_000],
    "search_status": "not reached", "beats_majority": [True, False], "eval_accuracy": [0.73, 0.7],
    "relative_gap": [0.05, 0.0],
})  # fmt: skip


def test_figure2_draws_a_search_that_reached_nothing_at_d_max_pointing_up(
    tmp_path, monkeypatch, repo_root
):
    figure = draw(tmp_path, monkeypatch, pd.concat([STRONG, BEYOND]), repo_root,
                  script="plot_figure2")  # fmt: skip
    (ax,) = figure.axes
    (mark,) = [line for line in ax.lines if line.get_marker() == "^"]
    assert (list(mark.get_xdata()), list(mark.get_ydata())) == ([0], [100_000])
    assert [t.get_text() for t in ax.texts] == ["> 100,000"]
    assert ax.get_ylim()[1] > 100_000  # the axis reaches the mark
    # The line and the finding still start after the random initialisation's checkpoint.
    (scratch,) = ax.containers
    assert list(scratch.lines[0].get_xdata()) == [125, 250, 500, 1000]
    assert title_lines(ax) == [
        "d90 along pre-training (1 checkpoint-task pair left out, 1 not reached)",
        "tweets (scratch): agrees; the last interval lies below the first",
    ]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "not reached: d90 above the largest d searched" in labels


def test_figure2_marks_a_search_that_learned_nothing_along_the_bottom_outside_the_finding(
    tmp_path, monkeypatch, repo_root
):
    # After 2,000 updates every probe ended at one class, at the rate tried: no bracket to
    # draw, and not "d90 above 100,000", which would turn the verdict to "disagrees".
    untrained = BEYOND.tail(1).assign(step=2000, beats_majority=True,
                                      search_status="nothing learned")  # fmt: skip
    figure = draw(tmp_path, monkeypatch, pd.concat([STRONG, untrained]), repo_root,
                  script="plot_figure2")  # fmt: skip
    (ax,) = figure.axes
    (marks,) = [line for line in ax.lines if line.get_marker() == "+"]
    assert list(marks.get_xdata()) == [2000]
    assert not [line for line in ax.lines if line.get_marker() == "^"]
    assert title_lines(ax) == [
        "d90 along pre-training (1 nothing learned)",
        "tweets (scratch): agrees; the last interval lies below the first",
    ]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "left out: no probe beat the majority class (nothing learned at the rates tried)" in (
        labels
    )


def test_figure2_labels_a_mark_in_its_right_half_on_the_left(tmp_path, monkeypatch, repo_root):
    # Reached nothing after the last update as after the first: both labels stay in the axes.
    last = BEYOND.assign(beats_majority=True, step=[0, 2000])
    (ax,) = draw(tmp_path, monkeypatch, pd.concat([STRONG, last]), repo_root,
                 script="plot_figure2").axes  # fmt: skip
    labels = {text.xy[0]: (text.get_ha(), text.get_position()[0]) for text in ax.texts}
    assert labels == {0: ("left", 6), 2000: ("right", -6)}


def test_figure2_judges_a_search_that_reached_nothing_as_the_finding_does(
    tmp_path, monkeypatch, repo_root
):
    two = checkpoints("scratch", [(50, 83), (83, 137)], [0.75, 0.8], [0.1, 0.1])
    alone = draw(tmp_path, monkeypatch, two, repo_root, script="plot_figure2")
    assert title_lines(alone.axes[0])[1] == (
        "tweets (scratch): not resolved; 2 checkpoints with a d90 or d90 > d_max: a trend needs at least 3"
    )
    # After the random initialisation, at 60 updates, it reached nothing up to 100,000: d90
    # lies above 100,000 there, so the last checkpoint's (83, 137] lies below it.
    early = BEYOND.assign(beats_majority=True).tail(1)
    figure = draw(tmp_path, monkeypatch, pd.concat([two, early]), repo_root, script="plot_figure2")
    assert title_lines(figure.axes[0])[1] == (
        "tweets (scratch): agrees; the last interval lies below the first"
    )


@pytest.mark.parametrize("seeds, basis", [(1, "one seed"), (2, "the mean of 2 seeds")])
def test_figure2_says_what_each_verdict_rests_on(tmp_path, monkeypatch, repo_root, seeds, basis):
    # Every checkpoint comes from one pre-training run, whatever the seeds of its searches.
    table = STRONG.assign(seeds=seeds)
    (ax,) = draw(tmp_path, monkeypatch, table, repo_root, script="plot_figure2").axes
    assert title_lines(ax)[1] == (
        f"tweets (scratch): agrees (one pre-training run, {basis}); the last interval lies "
        "below the first"
    )


@pytest.mark.parametrize("figure_width, width", [(6.0, TITLE_WIDTH), (6.5, 78), (3.0, 36)])
def test_a_title_line_wraps_only_past_its_width_and_keeps_every_word(figure_width, width):
    # The width grows with the figure's: 72 characters at 6 inches, 78 at 6.5.
    words = ("tweets (scratch): agrees (one pre-training run); the last interval lies below "
             "the first, and more").split()  # fmt: skip
    for length in (width, width + 1):
        text = " ".join(words)[:length].rstrip()
        text += "x" * (length - len(text))  # exactly ``length`` characters
        wrapped = title_line(text, figure_width)
        assert len(wrapped.splitlines()) == (1 if length <= width else 2)
        assert all(len(line) <= width for line in wrapped.splitlines())
        assert wrapped.split() == text.split()
        assert all(line.startswith("  ") for line in wrapped.splitlines()[1:])


def test_a_title_line_keeps_a_comparison_on_one_line():
    # Seed 4's verdict: plain wrapping at 72 characters ends its second line at "d90".
    text = ("tweets_balanced (scratch): not resolved; 2 checkpoints with a d90 or d90 > d_max: "
            "a trend needs at least 3")  # fmt: skip
    assert textwrap.fill(text, TITLE_WIDTH).splitlines()[0].endswith(" d90")
    wrapped = title_line(text)
    assert wrapped.splitlines() == [
        "tweets_balanced (scratch): not resolved; 2 checkpoints with a d90 or",
        "  d90 > d_max: a trend needs at least 3",
    ]
    assert title_line("a > b") == "a > b" and "\x00" not in wrapped


def test_figure2_wraps_a_long_verdict_within_its_axes(tmp_path, monkeypatch, repo_root):
    # Two tasks' long names, verdicts resting on several seeds and the longest reasons.
    long = pd.concat([
        STRONG.assign(task="yelp_polarity", trajectory="roberta_base_scratch", seeds=2),
        SHORT.assign(task="yelp_polarity", trajectory="roberta_base_other", seeds=2),
    ])  # fmt: skip
    figure = draw(tmp_path, monkeypatch, long, repo_root, script="plot_figure2")
    (ax,) = figure.axes
    renderer = FigureCanvasAgg(figure).get_renderer()  # the script closed its own canvas
    assert ax.title.get_window_extent(renderer).width <= ax.get_window_extent(renderer).width
    assert len(ax.get_title().splitlines()) > 3  # it did wrap, and nothing was lost in wrapping
    assert title_lines(ax)[2] == (
        "yelp_polarity (roberta_base_scratch): agrees (one pre-training run, the mean of 2 "
        "seeds); the last interval lies below the first"
    )


def test_figures_4_and_5_draw_it_at_d_max_pointing_right_outside_the_correlation(
    tmp_path, monkeypatch, repo_root
):
    alone = draw(tmp_path, monkeypatch, STRONG, repo_root)
    figure = draw(tmp_path, monkeypatch, pd.concat([STRONG, BEYOND]), repo_root)
    for ax, value in zip(figure.axes, [0.73, 0.05], strict=True):
        (mark,) = [line for line in ax.lines if line.get_marker() == ">"]
        assert (list(mark.get_xdata()), list(mark.get_ydata())) == ([100_000], [value])
        assert [t.get_text() for t in ax.texts] == ["125", "250", "500", "1,000", "0"]
        assert ax.get_xlim()[1] > 100_000
    # The correlation is over the checkpoints with a d90 alone: the same titles as without it.
    assert [ax.get_title() for ax in figure.axes] == [ax.get_title() for ax in alone.axes]


@pytest.mark.parametrize(
    "low, high, limits",
    [
        (12.5, 81, (10.0, 101.25)),  # 10 and 100 lie within, padded: kept
        (12.6, 81, (10.0, 1000.0)),  # 10.08 to 101.25 holds 100 alone: widened to its decades
        (120, 700, (10.0, 1000.0)),  # 96 to 875 holds 100 alone
        (200, 700, (100.0, 1000.0)),  # 160 to 875 holds none
        (83, 2876, (66.4, 3595.0)),
    ],
)
def test_a_log_axis_holds_at_least_two_powers_of_ten(low, high, limits):
    assert log_limits(low, high) == pytest.approx(limits)


def share_up(value: float, limits: tuple[float, float]) -> float:
    """Where value sits on a log axis with these limits, as a share of its height."""
    lo, hi = limits
    return math.log(value / lo) / math.log(hi / lo)


def test_marks_along_the_bottom_leave_the_lowest_interval_clear_of_them():
    # (83, 137] and a search above d_max = 300,000: padded, 83 sits 2.7% up, where the marks
    # along the bottom (3%) are; with them it moves to 8%, and the top stays.
    points = pd.DataFrame({"d90": [137.0], "d90_lo": [83.0]})
    beyond = pd.DataFrame({"d90_hi": [300_000.0]})
    plain = interval_limits(points, beyond=beyond)
    assert plain == pytest.approx(log_limits(83, 300_000))
    assert share_up(83, plain) < FOOT
    clear = interval_limits(points, beyond=beyond, foot=True)
    assert share_up(83, clear) == pytest.approx(CLEAR_OF_FOOT) and clear[1] == plain[1]
    # Already clear (widened to its decades, 150 sits 18% up): the marks change nothing.
    high = pd.DataFrame({"d90": [300.0], "d90_lo": [150.0]})
    assert interval_limits(high, foot=True) == interval_limits(high) == (100.0, 1000.0)


def test_figures_2_4_and_5_with_one_d90_still_label_two_powers_of_ten(
    tmp_path, monkeypatch, repo_root
):
    one = checkpoints("scratch", [(83, 137)], [0.74], [0.2])
    (ax,) = draw(tmp_path, monkeypatch, one, repo_root, script="plot_figure2").axes
    assert ax.get_ylim() == pytest.approx((10, 1000))
    panels = draw(tmp_path, monkeypatch, one, repo_root).axes
    assert [ax.get_xlim() == pytest.approx((10, 1000)) for ax in panels] == [True, True]


def sweep(tmp_path, models: dict[str, int]) -> types.SimpleNamespace:
    """Runs and d90 tables of a sweep at d = 100, 1,000 and 10,000 for ``models`` (name: D):
    DID reaches the 0.75 line at 1,000, SAID at 100; with several models the second's DID
    reaches nothing."""
    grid = [100, 1000, 10000]
    runs, d90 = [], []
    for i, (model, D) in enumerate(models.items()):
        curves = {"did": [0.6, 0.76, 0.8] if i == 0 else [0.6, 0.65, 0.7],
                  "said": [0.75, 0.78, 0.8]}  # fmt: skip
        for method, scores in curves.items():
            key = {"model": model, "task": "tweets", "method": method}
            for d, score in zip(grid, scores, strict=True):
                runs.append({**key, "d": d, "lr": 0.2, "seed": 0, "status": "ok",
                             "eval_accuracy": score, "eval_majority_accuracy": 0.6})  # fmt: skip
            reached = [d for d, score in zip(grid, scores, strict=True) if score >= 0.75]
            d90.append({**key, "D": D, "threshold_score": 0.75,
                        "d90": reached[0] if reached else None})  # fmt: skip
    pd.DataFrame(runs).to_csv(tmp_path / "runs.csv", index=False)
    pd.DataFrame(d90).to_csv(tmp_path / "d90.csv", index=False)
    inputs = types.SimpleNamespace(runs=str(tmp_path / "runs.csv"), d90=str(tmp_path / "d90.csv"))
    return types.SimpleNamespace(input=inputs, params=types.SimpleNamespace(metric="accuracy"))


def d90_marks(ax) -> list[tuple[float, float]]:
    return [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.lines
            if line.get_marker() == "v"]  # fmt: skip


def test_figure1_marks_each_d90_on_its_line_and_states_it_against_D(
    tmp_path, monkeypatch, repo_root
):
    rule = sweep(tmp_path, {"minilm": 22_713_986})
    figure = draw(tmp_path, monkeypatch, None, repo_root, script="plot_figure1", rule=rule)
    (ax,) = figure.axes
    # DID's d90 at 1,000 and SAID's at 100, each on the 0.75 line, DID's shifted left of its
    # d and SAID's right, by less than a tenth of a decade.
    (did_x, did_y), (said_x, said_y) = d90_marks(ax)
    assert did_y == said_y == 0.75
    assert 1000 / 1.2 < did_x < 1000 and 100 < said_x < 100 * 1.2
    (box,) = ax.texts
    assert box.get_text().splitlines() == [
        "D = 22,713,986",
        "DID: d90 ≤ 1,000 = 4.4e-05 D",
        "SAID: d90 ≤ 100 = 4.4e-06 D",
    ]
    # One panel: its legend inside it, none beside the figure (which would widen it).
    assert [t.get_text() for t in ax.get_legend().texts] == ["DID", "SAID"]
    assert not figure.legends


def test_figure1_with_several_models_marks_only_the_reached_d90s_without_a_box(
    tmp_path, monkeypatch, repo_root
):
    rule = sweep(tmp_path, {"minilm": 22_713_986, "bert": 109_483_778})
    figure = draw(tmp_path, monkeypatch, None, repo_root, script="plot_figure1", rule=rule)
    (ax,) = figure.axes
    marks = d90_marks(ax)
    # minilm's DID (1,000) and SAID (100), bert's SAID (100); bert's DID reaches nothing.
    targets = [1000, 100, 100]
    assert all(
        t / 1.2 < x < t * 1.2 and y == 0.75 for (x, y), t in zip(marks, targets, strict=True)
    )
    colours = [line.get_color() for line in ax.lines if line.get_marker() == "v"]
    assert colours[0] == colours[1] != colours[2]  # a colour per model
    assert not ax.texts


def hollow(ax):
    """The (x, y) of the hollow markers: d90s with a failed probe above them."""
    return [(list(line.get_xdata()), list(line.get_ydata())) for line in ax.lines
            if line.get_markerfacecolor() == "white"]  # fmt: skip


def assert_marked_at_250(tmp_path, monkeypatch, repo_root, table, marks, label):
    """Figure 2 marks STRONG's 250-update d90 (600) with ``marks``' lines and names it in its
    legend; Figures 4 and 5 mark the same checkpoint in each panel, named once."""
    (ax,) = draw(tmp_path, monkeypatch, table, repo_root, script="plot_figure2").axes
    assert marks(ax) == [([250], [600])]
    assert label in [t.get_text() for t in ax.get_legend().get_texts()]
    figure = draw(tmp_path, monkeypatch, table, repo_root)
    assert [marks(ax) for ax in figure.axes] == [[([600], [0.74])], [([600], [0.20])]]
    assert [t.get_text() for t in figure.legends[0].get_texts()].count(label) == 1


def test_a_d90_with_a_probe_failed_above_it_is_drawn_hollow(tmp_path, monkeypatch, repo_root):
    label = "hollow: a probe above d90 failed (not monotone in d)"
    flagged = STRONG.assign(failed_above=[0, 1, 0, 0])  # at 250 updates, d90 = 600
    assert_marked_at_250(tmp_path, monkeypatch, repo_root, flagged, hollow, label)
    # none failed above (or a table from before the count): nothing hollow, no such label
    for table in (STRONG, STRONG.assign(failed_above=0)):
        (ax,) = draw(tmp_path, monkeypatch, table, repo_root, script="plot_figure2").axes
        assert hollow(ax) == [] and label not in [t.get_text() for t in ax.get_legend().get_texts()]
    survey = pd.DataFrame({"model": ["a", "b", "c"], "task": "t", "parameters": [1e4, 1e5, 1e6],
                           "d90_lo": [200, 20, 2], "d90": [800, 80, 8], "d90_hi": [800, 80, 8],
                           "searched_up_to": [800, 80, 8], "search_status": "reached",
                           "failed_above": [0, 2, 0]})  # fmt: skip
    (ax,) = draw(tmp_path, monkeypatch, survey, repo_root, script="plot_figure3").axes
    assert hollow(ax) == [([1e5], [80])]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [label]


def squares(ax):
    """The (x, y) of the grey squares: d90s set by a probe within chance of the majority."""
    return [(list(line.get_xdata()), list(line.get_ydata())) for line in ax.lines
            if line.get_marker() == "s"]  # fmt: skip


def test_a_d90_set_within_chance_of_the_majority_is_drawn_in_a_square(
    tmp_path, monkeypatch, repo_root
):
    label = "square: its probe at d90 within chance of the majority class"
    # the majority test's boundary: p = 0.05 is within chance, 0.0499 is not
    chance = STRONG.assign(d90_majority_p=[0.0499, 0.05, None, 0.001])  # at 250 updates, 600
    assert_marked_at_250(tmp_path, monkeypatch, repo_root, chance, squares, label)
    (ax,) = draw(tmp_path, monkeypatch, STRONG, repo_root, script="plot_figure2").axes
    assert squares(ax) == [] and label not in [t.get_text() for t in ax.get_legend().get_texts()]
    survey = pd.DataFrame({"model": ["a", "b"], "task": "t", "parameters": [1e4, 1e6],
                           "d90_lo": [200, 2], "d90": [800, 8], "d90_hi": [800, 8],
                           "searched_up_to": [800, 8], "search_status": "reached",
                           "d90_majority_p": [0.3, 0.01]})  # fmt: skip
    (ax,) = draw(tmp_path, monkeypatch, survey, repo_root, script="plot_figure3").axes
    assert squares(ax) == [([1e4], [800])]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [label]


def test_figure3_names_the_unsearched_and_those_that_learned_nothing_apart(
    tmp_path, monkeypatch, repo_root
):
    survey = pd.DataFrame(
        {
            "model": ["a", "b", "c", "d"],
            "task": "t",
            "parameters": [1e4, 1e5, 1e6, 1e7],
            "d90_lo": [200, 20, None, 60],
            "d90": [800, 80, None, None],
            "d90_hi": [800, 80, 1000, 1000],
            "searched_up_to": [800, 80, 1000, 1000],
            "search_status": ["reached", "reached", "skipped", "nothing learned"],
        }
    )
    (ax,) = draw(tmp_path, monkeypatch, survey, repo_root, script="plot_figure3").axes
    assert ax.get_title().splitlines()[:3] == [
        "t: 2 models with a d90", "not searched: c", "nothing learned: d"
    ]  # fmt: skip
    assert not ax.collections[-1].get_offsets().size  # no triangle: neither reached above d_max
