"""Figure 2 over several runs: each run's checkpoints and verdict read from its own
trajectory.csv, the count of verdicts, and the tool that prints and writes them."""

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from figure2_over_runs import main, parse_runs
from intdim.analysis.figure2_over_runs import (
    checkpoint_text,
    draw,
    pooled_generalisation,
    read_trajectories,
    runs_as_series,
    tally_text,
    verdict_table,
)
from intdim.analysis.findings import Finding


def trajectory(steps, brackets, status=None, beats=None, seeds=1, name="scratch",
               accuracy=None, gap=None):  # fmt: skip
    """A run's trajectory.csv: SAID d90 in (lo, hi] at each step; hi None where the search
    reached nothing up to d_max = 100,000; each checkpoint's full fine-tune's eval accuracy and
    relative generalisation gap."""
    n = len(steps)
    status = status or ["reached" if hi else "not reached" for _, hi in brackets]
    return pd.DataFrame({
        "trajectory": name, "step": steps, "task": "tweets", "method": "said",
        "d90_lo": [lo for lo, _ in brackets], "d90": [hi for _, hi in brackets],
        "d90_hi": [hi if hi else 100_000 for _, hi in brackets], "search_status": status,
        "beats_majority": beats or [True] * n, "seeds": seeds,
        "eval_accuracy": accuracy or [0.75] * n, "relative_gap": gap or [0.5] * n,
    })  # fmt: skip


FALLS = trajectory([125, 250, 500], [(1732, 2876), (400, 600), (83, 137)])
RISES = trajectory([125, 250, 500], [(50, 83), (83, 137), (900, 1500)])
# The last interval touches the first from below: touching intervals are apart, so it falls.
TOUCHES = trajectory([125, 250, 500], [(137, 228), (83, 137), (83, 137)])
# The first searched checkpoint reached nothing up to 100,000 and the last did: d90 fell.
BEYOND = trajectory([125, 250, 500], [(60_231, None), (400, 600), (400, 600)])
# One left out (full fine-tune within chance of the majority class): two checkpoints remain.
SHORT = trajectory([125, 250, 500], [(None, None), (83, 137), (50, 83)],
                   status=["skipped", "reached", "reached"], beats=[False, True, True])  # fmt: skip


def write_run(root, name, table):
    tables = root / name / "results" / "tables"
    tables.mkdir(parents=True)
    table.to_csv(tables / "trajectory.csv", index=False)
    return root / name


def test_each_run_gets_its_own_verdict_and_the_ends_tests_reason():
    table = verdict_table({"a": FALLS, "b": RISES, "c": TOUCHES, "d": BEYOND, "e": SHORT})
    assert list(table["run"]) == ["a", "b", "c", "d", "e"]
    assert list(table["verdict"]) == ["agrees", "disagrees", "agrees", "agrees", "not resolved"]
    assert list(table["reason"]) == [
        "the last interval lies below the first",
        "the last interval lies above the first",
        "the last interval lies below the first",
        "the last interval lies below the first",
        "2 checkpoints with a d90 or d90 > d_max: a trend needs at least 3",
    ]
    assert list(table["basis"])[:4] == ["one pre-training run, one seed"] * 4
    assert table["basis"].iloc[4] == ""  # not resolved: it rests on nothing


def test_a_search_above_d_max_counts_among_the_checkpoints_one_that_learned_nothing_does_not():
    # Seed 4's shape: nothing learned, a d90, then above d_max. Two checkpoints are judged.
    seed4 = trajectory([125, 250, 500], [(None, None), (232, 646), (300_000, None)],
                       status=["nothing learned", "reached", "not reached"])  # fmt: skip
    (reason,) = verdict_table({"seed4": seed4})["reason"]
    assert reason == "2 checkpoints with a d90 or d90 > d_max: a trend needs at least 3"


def test_the_table_shows_every_checkpoint_as_its_run_reads_it():
    table = verdict_table({"d": BEYOND, "e": SHORT})
    assert list(table.columns) == [
        "run", "task", "trajectory", "step 125", "step 250", "step 500", "verdict", "basis",
        "reason",
    ]  # fmt: skip
    assert list(table.iloc[0, 3:6]) == ["> 100,000", "(400, 600]", "(400, 600]"]
    assert list(table.iloc[1, 3:6]) == ["left out", "(83, 137]", "(50, 83]"]
    assert set(zip(table["task"], table["trajectory"], strict=True)) == {("tweets", "scratch")}


def test_runs_with_other_checkpoints_share_the_columns_and_fill_the_gaps():
    later = trajectory([125, 250, 1000], [(1732, 2876), (400, 600), (83, 137)])
    table = verdict_table({"a": FALLS, "b": later})
    assert [c for c in table.columns if c.startswith("step")] == [
        "step 125", "step 250", "step 500", "step 1,000",
    ]  # fmt: skip
    assert table.loc[0, "step 1,000"] == "-" and table.loc[1, "step 500"] == "-"


def test_a_run_with_nothing_to_judge_still_counts_as_not_resolved():
    # Every checkpoint after step 0 within chance of the majority class: the landing page has
    # no Figure 2 finding, and the count must not lose the run.
    nothing = SHORT.assign(beats_majority=False, search_status="skipped", d90=None, d90_lo=None)
    table = verdict_table({"a": FALLS, "z": nothing})
    assert list(table["verdict"]) == ["agrees", "not resolved"]
    assert table.loc[1, "reason"] == (
        "no checkpoint after step 0 with a d90 or a search that reached nothing"
    )
    assert list(table.iloc[1, 3:6]) == ["left out"] * 3
    assert table.loc[1, "basis"] == ""  # no finding: it rests on nothing
    assert tally_text(table) == [
        "tweets (scratch): agrees 1, disagrees 0, not resolved 1 of 2 runs"
    ]
    with pytest.raises(
        ValueError, match=r"^no run has a Section 5 checkpoint in its trajectory\.csv$"
    ):
        verdict_table({"empty": FALLS.iloc[:0]})


def test_a_checkpoint_without_a_d90_shows_its_search_status():
    row = FALLS.assign(d90=math.nan, search_status="failed").iloc[0]
    assert checkpoint_text(row) == "failed"
    untrained = FALLS.assign(d90=math.nan, search_status="nothing learned").iloc[0]
    assert checkpoint_text(untrained) == "nothing learned"  # not "> d_max"


def test_the_tally_names_every_verdict_with_its_count():
    table = verdict_table({"a": FALLS, "b": RISES, "c": TOUCHES, "e": SHORT})
    assert tally_text(table) == [
        "tweets (scratch): agrees 2, disagrees 1, not resolved 1 of 4 runs"
    ]
    one = verdict_table({"a": FALLS})
    assert tally_text(one) == ["tweets (scratch): agrees 1, disagrees 0, not resolved 0 of 1 run"]


def test_two_trajectories_in_one_run_are_counted_apart():
    both = pd.concat([FALLS, RISES.assign(trajectory="other")])
    table = verdict_table({"a": both, "b": FALLS})
    assert tally_text(table) == [
        "tweets (other): agrees 0, disagrees 1, not resolved 0 of 1 run",
        "tweets (scratch): agrees 2, disagrees 0, not resolved 0 of 2 runs",
    ]
    # Within a run its lines come in the order of their names, whatever the file's order.
    assert list(table["trajectory"]) == ["other", "scratch", "scratch"]


def test_the_tally_lists_the_lines_in_the_order_of_their_names_not_the_runs():
    # Run a has only "scratch", run b only "other": "other" still comes first.
    table = verdict_table({"a": FALLS, "b": RISES.assign(trajectory="other")})
    assert tally_text(table) == [
        "tweets (other): agrees 0, disagrees 1, not resolved 0 of 1 run",
        "tweets (scratch): agrees 1, disagrees 0, not resolved 0 of 1 run",
    ]


# Two runs whose full fine-tunes score higher and generalise better where d90 is lower.
SHARP = trajectory([125, 250, 500], [(1732, 2876), (400, 600), (83, 137)],
                   accuracy=[0.70, 0.75, 0.80], gap=[0.6, 0.4, 0.2])  # fmt: skip
SHARPER = trajectory([125, 250, 500], [(900, 1500), (200, 300), (50, 83)],
                     accuracy=[0.72, 0.78, 0.82], gap=[0.55, 0.35, 0.15])  # fmt: skip


def test_figures_4_and_5_pool_the_runs_checkpoints_which_alone_resolve_nothing():
    alone = pooled_generalisation({"a": SHARP})
    assert [f.verdict for f in alone] == ["not resolved"] * 2
    assert (
        alone[0].measured == "3 checkpoints with a d90: a correlation needs at least 4, from 1 run"
    )
    pooled = pooled_generalisation({"a": SHARP, "b": SHARPER})
    assert [(f.figure, f.verdict) for f in pooled] == [
        ("Figure 4", "agrees"),
        ("Figure 5", "agrees"),
    ]
    assert all(f.measured.endswith(", 6 checkpoints, from 2 runs") for f in pooled)
    assert [f.basis for f in pooled] == ["2 pre-training runs, one seed each"] * 2
    assert pooled[0].claim == "lower d90 goes with higher eval accuracy (tweets; Figure 4)"


def test_pooling_counts_only_checkpoints_with_a_d90_across_the_runs():
    # SHORT has two (one left out); with one more from another run, 3: one short of a
    # correlation; with two more, 4, and the correlation is computed.
    one_more = trajectory([500], [(83, 137)], accuracy=[0.8], gap=[0.2])
    two_more = trajectory([250, 500], [(400, 600), (83, 137)], accuracy=[0.7, 0.8])
    three = pooled_generalisation({"e": SHORT, "f": one_more})
    assert three[0].measured.startswith("3 checkpoints with a d90: a correlation needs at least 4")
    four = pooled_generalisation({"e": SHORT, "f": two_more})
    assert four[0].measured.startswith("Pearson r of log d90 and eval accuracy = ")
    assert ", 4 checkpoints, from 2 runs" in four[0].measured


def test_a_pooled_verdict_says_how_many_runs_and_seeds_it_rests_on():
    pooled = Finding("c", "m", "agrees", seeds=2, pretraining_runs=5)
    assert pooled.basis == "5 pre-training runs, the mean of 2 seeds each"
    assert Finding("c", "m", "not resolved", seeds=1, pretraining_runs=5).basis == ""


def test_each_run_becomes_one_series_of_the_pooled_figure():
    both = pd.concat([SHARP, SHARPER.assign(trajectory="other")])
    joined = runs_as_series({"seed0": SHARP, "seed1": both})
    assert (
        list(joined["trajectory"]) == ["seed0"] * 3 + ["seed1, scratch"] * 3 + ["seed1, other"] * 3
    )
    assert list(joined["step"]) == [125, 250, 500] * 3


def test_a_run_without_section_5_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="run 'seed3': .*trajectory.csv does not exist"):
        read_trajectories({"seed3": tmp_path})
    with pytest.raises(ValueError, match="^no runs given$"):
        read_trajectories({})


def test_runs_are_named_pairs_or_directories():
    assert parse_runs(["seed0=.", "results/section5_seed1"]) == {
        "seed0": Path("."),
        "results/section5_seed1": Path("results/section5_seed1"),
    }
    with pytest.raises(SystemExit, match="'a' given twice"):
        parse_runs(["a=x", "a=y"])
    with pytest.raises(SystemExit, match="give NAME=DIRECTORY"):
        parse_runs(["=x"])


def test_the_tool_prints_writes_the_csv_and_the_pages_section(tmp_path, capsys):
    a, b = write_run(tmp_path, "a", FALLS), write_run(tmp_path, "b", RISES)
    page = tmp_path / "page.md"
    page.write_text("before\n<!-- over:begin -->\nold\n<!-- over:end -->\nafter\n")
    out = tmp_path / "over.csv"
    main([f"seed0={a}", f"seed1={b}", "--out", str(out), "--readme", str(page), "--name", "over"])
    printed = capsys.readouterr().out
    assert "tweets (scratch): agrees 1, disagrees 1, not resolved 0 of 2 runs" in printed
    # Every checkpoint's full fine-tune scored 0.75 here: Figure 4 has nothing to correlate.
    pooled = ("- lower d90 goes with higher eval accuracy (tweets; Figure 4): **not resolved**. "
              "6 checkpoints with a d90, all with the same eval accuracy: nothing to correlate, "
              "from 2 runs")  # fmt: skip
    assert pooled in printed
    written = pd.read_csv(out)
    assert list(written["run"]) == ["seed0", "seed1"]
    assert list(written["verdict"]) == ["agrees", "disagrees"]
    text = page.read_text()
    assert (
        text.startswith("before\n<!-- over:begin -->\nGenerated by `python tools/")
        and "old" not in text
    )
    assert text.endswith("<!-- over:end -->\nafter\n")
    assert "Figures 4 and 5 on every run's checkpoints together:\n\n" + pooled in text
    assert "| seed0 | unknown (the run recorded no commit) | tweets | scratch |" in text


def test_the_tool_stops_on_a_missing_run_and_on_half_a_page_target(tmp_path):
    with pytest.raises(SystemExit, match="run 'x'"):
        main([f"x={tmp_path}"])
    run = write_run(tmp_path, "a", FALLS)
    with pytest.raises(SystemExit):
        main([str(run), "--name", "over"])


def test_the_figure_draws_every_runs_line_side_by_side_and_names_its_verdict():
    tables = {"a": FALLS, "b": BEYOND}
    fig, ax = plt.subplots()
    draw(ax, tables, verdict_table(tables), lambda n: ["red", "blue"][:n])
    first, second = ax.containers
    # Two runs: the first a step 2% to the left, the second 2% to the right.
    assert list(first.lines[0].get_xdata()) == pytest.approx([125 * 0.99, 250 * 0.99, 500 * 0.99])
    assert list(first.lines[0].get_ydata()) == [2876, 600, 137]
    assert (first.lines[0].get_marker(), first.lines[0].get_color()) == ("o", "red")
    bars = first.lines[2][0].get_segments()  # down to each bracket's lower end
    assert [(a[1], b[1]) for a, b in bars] == [(1732, 2876), (400, 600), (83, 137)]
    assert list(second.lines[0].get_xdata()) == pytest.approx([250 * 1.01, 500 * 1.01])
    (triangle,) = [line for line in ax.lines if line.get_marker() == "^" and len(line.get_xdata())]
    # A run that reached something everywhere draws no triangle; one legend entry stands for all.
    assert list(triangle.get_xdata()) == pytest.approx([125 * 1.01])
    assert list(triangle.get_ydata()) == [100_000] and triangle.get_color() == "blue"
    labels = ax.get_legend_handles_labels()[1]
    assert sorted(labels) == ["a, tweets (scratch): agrees", "b, tweets (scratch): agrees",
                              "not reached: d90 above the largest d searched"]  # fmt: skip
    assert ax.get_yscale() == "log" and ax.get_ylim()[1] > 100_000 and ax.get_ylim()[0] < 83
    assert ax.get_title().splitlines() == [
        "d90 along pre-training, run by run",
        "tweets (scratch): agrees 2, disagrees 0, not resolved 0 of 2 runs",
    ]
    assert ax.get_ylabel() == "d90 (SAID)" and ax.get_xlabel() == "pre-training updates"
    (handle,) = [h for h, label in zip(*ax.get_legend_handles_labels(), strict=True)
                 if label.startswith("not reached")]  # fmt: skip
    assert (handle.get_marker(), handle.get_color()) == ("^", "grey")
    plt.close(fig)


def test_each_line_of_a_run_with_two_trajectories_draws_only_its_own_checkpoints():
    # Run a's second line is DID's on the same task: each series keeps its own three points.
    both = pd.concat([FALLS, RISES.assign(trajectory="other", method="did")])
    tables = {"a": both}
    fig, ax = plt.subplots()
    draw(ax, tables, verdict_table(tables), lambda n: ["red", "blue"][:n])
    other, scratch = ax.containers  # in the order of the lines' names
    assert list(other.lines[0].get_ydata()) == [83, 137, 1500]
    assert list(scratch.lines[0].get_ydata()) == [2876, 600, 137]
    assert ax.get_ylabel() == "d90 (DID, SAID)"
    plt.close(fig)


def test_a_search_that_learned_nothing_is_a_cross_along_the_bottom_in_its_runs_colour():
    # Run b's first checkpoint learned nothing: no d90 and no triangle, a cross at the foot.
    untrained = BEYOND.assign(search_status=["nothing learned", "reached", "reached"])
    untrained.loc[0, "d90_lo"] = None
    tables = {"a": FALLS, "b": untrained}
    fig, ax = plt.subplots(figsize=(6.5, 4))
    draw(ax, tables, verdict_table(tables), lambda n: ["red", "blue"][:n])
    (cross,) = [line for line in ax.lines if line.get_marker() == "+" and len(line.get_xdata())]
    assert list(cross.get_xdata()) == pytest.approx([125 * 1.01]) and cross.get_color() == "blue"
    assert list(cross.get_ydata()) == [0.03] and cross.get_transform() == ax.get_xaxis_transform()
    assert not [line for line in ax.lines if line.get_marker() == "^" and len(line.get_xdata())]
    # The lowest interval's end (83) sits 8% up, clear of the cross at 3%.
    lo, hi = ax.get_ylim()
    assert math.log(83 / lo) / math.log(hi / lo) == pytest.approx(0.08)
    labels = ax.get_legend_handles_labels()[1]
    assert "left out: no probe beat the majority class (nothing learned at the rates tried)" in (
        labels
    )
    plt.close(fig)


def test_a_checkpoint_left_out_is_an_x_along_the_bottom_in_its_runs_colour():
    # Run b's first checkpoint: its full fine-tune is within chance of the majority class.
    tables = {"a": FALLS, "b": SHORT}
    fig, ax = plt.subplots(figsize=(6.5, 4))
    draw(ax, tables, verdict_table(tables), lambda n: ["red", "blue"][:n])
    (mark,) = [line for line in ax.lines if line.get_marker() == "x" and len(line.get_xdata())]
    assert list(mark.get_xdata()) == pytest.approx([125 * 1.01]) and mark.get_color() == "blue"
    assert list(mark.get_ydata()) == [0.03]
    labels = ax.get_legend_handles_labels()[1]
    assert "left out: full fine-tune within chance of the majority class" in labels
    assert not [label for label in labels if "nothing learned" in label]
    plt.close(fig)


def test_a_wider_figure_keeps_a_longer_tally_on_one_line():
    # 'tweets_balanced (scratch): agrees 1, disagrees 0, not resolved 0 of 1 run' has 74
    # characters: one line at 6.5 inches (78), two at 6 (72).
    tables = {"a": FALLS.assign(task="tweets_balanced")}
    for width, lines in ((6.5, 2), (6.0, 3)):
        fig, ax = plt.subplots(figsize=(width, 4))
        draw(ax, tables, verdict_table(tables), lambda n: ["red"][:n])
        assert len(ax.get_title().splitlines()) == lines, width
        plt.close(fig)


def test_the_tool_saves_the_figures(tmp_path):
    a, b = write_run(tmp_path, "a", FALLS), write_run(tmp_path, "b", SHORT)
    main([str(a), str(b), "--figure", str(tmp_path / "figure.png"),
          "--figure45", str(tmp_path / "pooled" / "figure45.png")])  # fmt: skip
    for png in (tmp_path / "figure.png", tmp_path / "pooled" / "figure45.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_pooled_figure_draws_a_series_per_run_under_the_pooled_verdicts():
    from intdim.analysis import figures4_5_plot

    tables = {"a": SHARP, "b": SHARPER}
    fig, axes = plt.subplots(1, 2)
    figures4_5_plot.draw(fig, axes, runs_as_series(tables), pooled_generalisation(tables),
                         lambda n: ["red", "blue"][:n], "pooled")  # fmt: skip
    accuracy = axes[0]
    assert [c.get_label() for c in accuracy.containers] == ["tweets (a)", "tweets (b)"]
    assert [list(c.lines[0].get_ydata()) for c in accuracy.containers] == [
        [0.70, 0.75, 0.80], [0.72, 0.78, 0.82],
    ]  # fmt: skip
    assert (
        accuracy.get_title()
        .splitlines()[1]
        .startswith("tweets: agrees (2 pre-training runs, one seed each); Pearson r")
    )
    assert fig._suptitle.get_text() == "pooled"
    plt.close(fig)
