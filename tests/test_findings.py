"""The paper's findings checked against a run's tables: ordered or trending only when the
intervals allow it."""

import math
from dataclasses import replace

import pandas as pd
from intdim.analysis.findings import (
    ONE_DRAW_NOTE,
    POOLING_NOTE,
    Finding,
    all_findings,
    d90_predicts_generalisation,
    findings_note,
    larger_models_lower_d90,
    one_draw_note,
    pooling_note,
    pretraining_lowers_d90,
    said_below_did,
    small_d90,
)


def d90_rows(did: tuple, said: tuple, D: int = 1_000_000, seeds: int = 1) -> pd.DataFrame:
    rows = []
    for method, (lo, hi) in (("did", did), ("said", said)):
        rows.append({"model": "m", "task": "t", "method": method, "D": D, "d90_lo": lo,
                     "d90": hi, "d_max": 100_000, "seeds": seeds,
                     "d90_by_seed": f"0: {hi}"})  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["d90"] = frame["d90"].astype("Int64")
    frame["d90_lo"] = frame["d90_lo"].astype("Int64")
    return frame


def test_said_and_did_are_ordered_only_when_their_intervals_are_apart():
    assert said_below_did(d90_rows((1000, 3000), (100, 300)))[0].verdict == "agrees"
    assert said_below_did(d90_rows((100, 300), (1000, 3000)))[0].verdict == "disagrees"
    overlap = said_below_did(d90_rows((100, 3000), (300, 1000)))[0]
    assert overlap.verdict == "not resolved" and "overlap" in overlap.measured
    only_said = said_below_did(d90_rows((100_000, None), (100, 300)))[0]
    assert (
        only_said.verdict == "agrees" and "did not reach it up to d = 100,000" in only_said.measured
    )


def test_small_d90_states_the_fraction_of_D():
    finding = small_d90(d90_rows((1000, 3000), (100, 300), D=1_000_000))
    assert finding.verdict == "agrees" and "at most 0.003 of D = 1,000,000" in finding.measured
    assert small_d90(d90_rows((1000, 30_000), (100, 300), D=1_000_000)).verdict == "disagrees"


def trajectory(d90s: list[tuple], accuracy: list[float], gap: list[float]) -> pd.DataFrame:
    frame = pd.DataFrame({
        "step": [100 * (i + 1) for i in range(len(d90s))], "task": "t",
        "d90_lo": [lo for lo, _ in d90s], "d90": [hi for _, hi in d90s],
        "beats_majority": True, "eval_accuracy": accuracy, "relative_gap": gap,
    })  # fmt: skip
    frame["d90"] = frame["d90"].astype("Int64")
    return frame


# Six checkpoints whose d90 falls steadily by a factor of 2.5-4 each.
SIX_D90S = [(8000, 10000), (2000, 2500), (700, 900), (300, 400), (100, 130), (40, 50)]


def strong_trajectory() -> pd.DataFrame:
    """SIX_D90S with eval accuracy rising and the gap falling as d90 falls (Figures 4, 5)."""
    return trajectory(SIX_D90S, [0.60, 0.66, 0.70, 0.75, 0.80, 0.86],
                      [0.50, 0.45, 0.36, 0.31, 0.22, 0.15])  # fmt: skip


def test_a_trend_is_claimed_only_when_its_intervals_and_slope_allow_it():
    falling = trajectory([(8000, 10000), (2000, 2500), (700, 900), (300, 400)],
                         [0.6, 0.7, 0.75, 0.8], [0.5, 0.4, 0.3, 0.2])  # fmt: skip
    assert pretraining_lowers_d90(falling)[0].verdict == "agrees"
    rising = falling.assign(d90_lo=falling["d90_lo"][::-1].values, d90=falling["d90"][::-1].values)
    assert pretraining_lowers_d90(rising)[0].verdict == "disagrees"
    flat = trajectory([(100, 2000), (200, 1900), (150, 2100)], [0.6, 0.7, 0.8], [0.1] * 3)
    finding = pretraining_lowers_d90(flat)[0]
    assert finding.verdict == "not resolved" and "intervals overlap" in finding.measured


def test_figure2_is_judged_by_its_first_and_last_checkpoints():
    # Falls, then levels off with a bump: a straight line's slope is not clear of zero, but
    # the last checkpoint's interval lies below the first's.
    plateau = trajectory([(1732, 2876), (83, 137), (50, 83), (83, 137), (83, 137)],
                         [0.69, 0.75, 0.76, 0.77, 0.78], [0.27, 0.16, 0.05, 0.13, 0.11])  # fmt: skip
    finding = pretraining_lowers_d90(plateau)[0]
    assert finding.verdict == "agrees"
    assert finding.measured.startswith(
        "first searched step=100: (1,732, 2,876], last step=500: (83, 137], the last interval "
        "lies below the first (log-log slope "
    )
    assert finding.measured.endswith(
        "; d90 by step: step=100: (1,732, 2,876], step=200: (83, 137], step=300: (50, 83], "
        "step=400: (83, 137], step=500: (83, 137]"
    )
    # a dip in the middle does not count: the ends overlap
    dip = trajectory([(300, 500), (10, 20), (400, 600)], [0.7] * 3, [0.1] * 3)
    assert pretraining_lowers_d90(dip)[0].verdict == "not resolved"
    # the random initialisation (step 0) is not the first checkpoint
    with_zero = trajectory([(10, 20), (800, 1000), (200, 250), (70, 90)], [0.6] * 4, [0.1] * 4)
    with_zero["step"] = [0, 100, 200, 300]
    assert pretraining_lowers_d90(with_zero)[0].verdict == "agrees"
    two = pretraining_lowers_d90(with_zero.head(3))[0]
    assert two.verdict == "not resolved"
    assert two.measured.startswith(
        "2 checkpoints with a d90 or d90 > d_max: a trend needs at least 3"
    )


def test_two_trajectories_of_one_task_are_judged_apart():
    falling = trajectory([(800, 1000), (200, 250), (70, 90), (20, 30)],
                         [0.6, 0.7, 0.75, 0.8], [0.5, 0.4, 0.3, 0.2])  # fmt: skip
    rising = falling.assign(d90_lo=falling["d90_lo"][::-1].values, d90=falling["d90"][::-1].values)
    both = pd.concat([falling.assign(trajectory="a"), rising.assign(trajectory="b")])
    figure2 = pretraining_lowers_d90(both)
    assert [(f.claim, f.verdict) for f in figure2] == [
        ("d90 falls as pre-training goes on (t, a; Figure 2)", "agrees"),
        ("d90 falls as pre-training goes on (t, b; Figure 2)", "disagrees"),
    ]
    accuracy = [f for f in d90_predicts_generalisation(both) if "Figure 4" in f.claim]
    assert [f.verdict for f in accuracy] == ["agrees", "disagrees"]
    # one trajectory: the claim names the task alone
    assert pretraining_lowers_d90(falling.assign(trajectory="a"))[0].claim.endswith("(t; Figure 2)")


def test_correlations_need_four_checkpoints_and_an_interval_clear_of_zero():
    few = trajectory([(800, 1000), (200, 250), (70, 90)], [0.6, 0.7, 0.8], [0.5, 0.4, 0.3])
    assert {f.verdict for f in d90_predicts_generalisation(few)} == {"not resolved"}
    strong = strong_trajectory()
    accuracy, gap = d90_predicts_generalisation(strong)
    assert accuracy.verdict == "agrees" and "Pearson r" in accuracy.measured
    assert gap.verdict == "agrees"


def test_survey_trend_and_all_findings_together():
    # d90 exactly proportional to 1 / parameters: slope -1 with no spread.
    survey = pd.DataFrame({"task": "t", "parameters": [1e4, 1e5, 1e6, 1e7],
                           "d90_lo": [2000, 200, 20, 2], "d90": [8000, 800, 80, 8]})  # fmt: skip
    finding = larger_models_lower_d90(survey)[0]
    assert finding.verdict == "agrees" and "slope -1.00" in finding.measured
    lines = [f.line() for f in all_findings(d90_rows((1000, 3000), (100, 300)), None, survey)]
    assert len(lines) == 3 and all("**" in line for line in lines)
    # with survey_table's search columns, and a model whose search reached nothing: the slope
    # goes through the brackets alone
    searched = survey.assign(search_status="reached", d90_hi=survey["d90"])
    beyond = {"task": "t", "parameters": 1e3, "d90_lo": 60_000, "d90": None,
              "search_status": "not reached", "d90_hi": 100_000}  # fmt: skip
    searched = pd.concat([searched, pd.DataFrame([beyond])], ignore_index=True)
    assert larger_models_lower_d90(searched)[0].measured == finding.measured
    # a task whose searches all stopped short keeps its line, saying so
    short = pd.concat([searched, pd.DataFrame([{**beyond, "task": "u"}])], ignore_index=True)
    first, second = larger_models_lower_d90(short)
    assert first.measured == finding.measured
    assert second.claim == "larger models have lower d90 (u; Figure 3)"
    assert (second.verdict, second.measured) == (
        "not resolved",
        "no d90 found among 1 model (not reached: 1)",
    )
    failed = pd.DataFrame([{**beyond, "task": "u", "search_status": "failed"}])
    (_, mixed) = larger_models_lower_d90(pd.concat([short, failed], ignore_index=True))
    assert mixed.measured == "no d90 found among 2 models (failed: 1, not reached: 1)"


def test_said_and_did_boundaries_touching_and_one_method_reaching():
    # touching intervals (SAID's upper end is DID's lower end): apart, so ordered
    assert said_below_did(d90_rows((300, 1000), (100, 300)))[0].verdict == "agrees"
    assert said_below_did(d90_rows((100, 300), (300, 1000)))[0].verdict == "disagrees"
    # overlapping by one grid point: not resolved
    assert said_below_did(d90_rows((200, 1000), (100, 300)))[0].verdict == "not resolved"
    # only DID reaches: the paper's order is contradicted
    only_did = said_below_did(d90_rows((100, 300), (100_000, None)))[0]
    assert only_did.verdict == "disagrees" and "DID d90 in (100, 300]" in only_did.measured
    neither = said_below_did(d90_rows((100_000, None), (100_000, None)))[0]
    assert neither.verdict == "not resolved"


def test_small_d90_boundary_is_one_percent_of_D():
    # at most 1% of D is 'orders of magnitude' only strictly below 0.01
    assert small_d90(d90_rows((100, 9_999), (100, 9_999), D=1_000_000)).verdict == "agrees"
    assert small_d90(d90_rows((100, 10_000), (100, 300), D=1_000_000)).verdict == "disagrees"


def test_correlations_with_enough_points_but_an_interval_across_zero_or_the_wrong_sign():
    # accuracy unrelated to d90 (interval across zero), gap rising as d90 falls (wrong sign)
    mixed = trajectory(SIX_D90S, [0.70, 0.60, 0.72, 0.61, 0.71, 0.62],
                       [0.15, 0.22, 0.31, 0.36, 0.45, 0.50])  # fmt: skip
    accuracy, gap = d90_predicts_generalisation(mixed)
    assert accuracy.verdict == "not resolved" and "interval [" in accuracy.measured
    assert gap.verdict == "disagrees"
    # accuracy falling as d90 falls: the wrong sign for Figure 4
    wrong = trajectory(SIX_D90S, [0.86, 0.80, 0.75, 0.70, 0.66, 0.60],
                       [0.50, 0.45, 0.36, 0.31, 0.22, 0.15])  # fmt: skip
    assert d90_predicts_generalisation(wrong)[0].verdict == "disagrees"


def test_each_finding_names_its_claim_and_task():
    strong = strong_trajectory()
    accuracy, gap = d90_predicts_generalisation(strong)
    assert accuracy.claim == "lower d90 goes with higher eval accuracy (t; Figure 4)"
    assert gap.claim == "lower d90 goes with smaller relative generalisation gap (t; Figure 5)"
    few = d90_predicts_generalisation(strong.head(3))
    assert [f.claim for f in few] == [accuracy.claim, gap.claim]
    assert (
        pretraining_lowers_d90(strong)[0].claim == "d90 falls as pre-training goes on (t; Figure 2)"
    )
    pair = d90_rows((1000, 3000), (100, 300))
    assert said_below_did(pair)[0].claim == "SAID needs fewer dimensions than DID (m, t; Table 1)"
    assert small_d90(pair).claim == "d90 is orders of magnitude smaller than D (Section 4)"
    assert (
        small_d90(pair)
        .line()
        .startswith(
            "d90 is orders of magnitude smaller than D (Section 4): **agrees** (one seed). m t DID "
            "d90 in "
            "(1,000, 3,000] = at most 0.003 of D = 1,000,000; m t SAID d90 in (100, 300]"
        )
    )


def test_the_measured_sentences_carry_every_number():
    pair = d90_rows((1000, 3000), (100, 300))
    assert small_d90(pair).measured == (
        "m t DID d90 in (1,000, 3,000] = at most 0.003 of D = 1,000,000; "
        "m t SAID d90 in (100, 300] = at most 0.0003 of D = 1,000,000"
    )
    none = small_d90(d90_rows((100_000, None), (100_000, None)))
    assert (none.verdict, none.measured) == (
        "not resolved",
        "no sweep reached the threshold within its grid",
    )
    assert said_below_did(pair)[0].measured == "DID d90 in (1,000, 3,000], SAID in (100, 300]"
    seeded = said_below_did(d90_rows((1000, 3000), (100, 300), seeds=2))[0]
    assert seeded.measured == (
        "DID d90 in (1,000, 3,000], SAID in (100, 300]; by seed DID 0: 3000, SAID 0: 300"
    )
    overlap = said_below_did(d90_rows((100, 3000), (300, 1000)))[0]
    assert overlap.measured.endswith("SAID in (300, 1,000] (the intervals overlap)")
    only_did = said_below_did(d90_rows((100, 300), (100_000, None)))[0]
    assert (
        only_did.measured == "DID d90 in (100, 300]; the other did not reach it up to d = 100,000"
    )
    neither = said_below_did(d90_rows((100_000, None), (100_000, None)))[0]
    assert neither.measured == "neither reached the threshold"
    # an unknown lower end reads as 0
    assert "SAID in (0, 300]" in said_below_did(d90_rows((1000, 3000), (None, 300)))[0].measured


def test_a_model_with_one_method_only_has_no_table1_finding():
    assert said_below_did(d90_rows((1000, 3000), (100, 300)).head(1)) == []


def test_the_correlation_sentence_is_pearsons_r_with_its_fisher_interval():
    strong = strong_trajectory()
    x = [math.log10(math.sqrt(lo * hi)) for lo, hi in SIX_D90S]
    y = [0.60, 0.66, 0.70, 0.75, 0.80, 0.86]
    n, xb, yb = 6, sum(x) / 6, sum(y) / 6
    sxy = sum((a - xb) * (b - yb) for a, b in zip(x, y, strict=True))
    r = sxy / math.sqrt(sum((a - xb) ** 2 for a in x) * sum((b - yb) ** 2 for b in y))
    z, half = math.atanh(r), 1.959963984540054 / math.sqrt(n - 3)
    low, high = math.tanh(z - half), math.tanh(z + half)
    accuracy = d90_predicts_generalisation(strong)[0]
    assert accuracy.measured == (
        f"Pearson r of log d90 and eval accuracy = {r:.2f}, 95% interval "
        f"[{low:.2f}, {high:.2f}], 6 checkpoints"
    )
    few = d90_predicts_generalisation(strong.head(3))[0]
    assert few.measured == "3 checkpoints with a d90: a correlation needs at least 4"


def test_checkpoints_that_do_not_count_are_left_out():
    strong = strong_trajectory()
    # a checkpoint that does not beat the majority class has no d90 worth correlating
    losing = strong.assign(beats_majority=[True, True, True, False, False, False])
    assert "3 checkpoints" in d90_predicts_generalisation(losing)[0].measured
    # step 0 (the random initialisation) is not on a log axis of steps
    with_zero = pd.concat([strong.head(1).assign(step=0, d90_lo=1, d90=2), strong.tail(3)])
    finding = pretraining_lowers_d90(with_zero)[0]
    # as in Figures 4 and 5, a d90 whose full fine-tune does not beat the majority class is out
    last_losing = with_zero.assign(beats_majority=[True, True, True, False])
    measured = pretraining_lowers_d90(last_losing)[0].measured
    assert measured.endswith("d90 by step: step=400: (300, 400], step=500: (100, 130]")
    by_step = finding.measured.split("d90 by step: ")[1]
    assert "step=0" not in finding.measured and by_step.count("step=") == 3
    assert finding.measured.endswith(
        "d90 by step: step=400: (300, 400], step=500: (100, 130], step=600: (40, 50]"
    )


def test_every_pair_is_judged_and_the_other_method_is_named_by_its_own_range():
    first = d90_rows((100_000, None), (100_000, None))  # model m: neither reaches
    second = d90_rows((100, 300), (100_000, None)).assign(model="n")  # n: only DID
    second.loc[second["method"] == "said", "d_max"] = 50_000
    third = d90_rows((1000, 3000), (100, 300)).assign(model="o")
    findings = said_below_did(pd.concat([first, second, third], ignore_index=True))
    assert [f.claim for f in findings] == [
        f"SAID needs fewer dimensions than DID ({m}, t; Table 1)" for m in ("m", "n", "o")
    ]
    assert findings[0].measured == "neither reached the threshold"
    assert findings[1].measured == (
        "DID d90 in (100, 300]; the other did not reach it up to d = 50,000"
    )
    only_said = d90_rows((100_000, None), (100, 300))
    only_said.loc[only_said["method"] == "did", "d_max"] = 70_000
    assert said_below_did(only_said)[0].measured.endswith("up to d = 70,000")


def test_unresolved_findings_keep_their_claims():
    none = small_d90(d90_rows((100_000, None), (100_000, None)))
    assert none.claim == "d90 is orders of magnitude smaller than D (Section 4)"
    flat = trajectory([(100, 2000), (200, 1900), (150, 2100)], [0.6, 0.7, 0.8], [0.1] * 3)
    assert pretraining_lowers_d90(flat)[0].claim == (
        "d90 falls as pre-training goes on (t; Figure 2)"
    )


def test_a_missing_lower_end_reads_as_zero_and_counts_as_one():
    # the first checkpoint's d90 is at the grid's first point: its interval is (0, 40]
    d90s = [(None, 40), (2000, 2500), (700, 900), (300, 400)]
    frame = trajectory(d90s, [0.6, 0.7, 0.75, 0.8], [0.5, 0.4, 0.3, 0.2])
    frame["d90_lo"] = frame["d90_lo"].astype("Int64")
    finding = pretraining_lowers_d90(frame)[0]
    assert "step=100: (0, 40]" in finding.measured
    x = [
        math.log10(math.sqrt(lo * hi)) for lo, hi in [(1, 40), (2000, 2500), (700, 900), (300, 400)]
    ]
    y = [0.6, 0.7, 0.75, 0.8]
    xb, yb = sum(x) / 4, sum(y) / 4
    sxy = sum((a - xb) * (b - yb) for a, b in zip(x, y, strict=True))
    r = sxy / math.sqrt(sum((a - xb) ** 2 for a in x) * sum((b - yb) ** 2 for b in y))
    accuracy = d90_predicts_generalisation(frame)[0]
    assert accuracy.measured.startswith(f"Pearson r of log d90 and eval accuracy = {r:.2f}, ")


def test_a_correlation_needs_four_checkpoints_and_two_distinct_values_of_each():
    four = trajectory(SIX_D90S[:4], [0.60, 0.66, 0.70, 0.75], [0.50, 0.45, 0.36, 0.31])
    assert "4 checkpoints" in d90_predicts_generalisation(four)[0].measured
    assert "Pearson r" in d90_predicts_generalisation(four)[0].measured
    two_values = trajectory(SIX_D90S[:4], [0.6, 0.6, 0.8, 0.8], [0.5, 0.5, 0.3, 0.3])
    assert "Pearson r" in d90_predicts_generalisation(two_values)[0].measured
    constant = trajectory(SIX_D90S[:4], [0.7] * 4, [0.5, 0.45, 0.36, 0.31])
    accuracy, gap = d90_predicts_generalisation(constant)
    assert accuracy.verdict == "not resolved"
    assert accuracy.measured == (
        "4 checkpoints with a d90, all with the same eval accuracy: nothing to correlate"
    )
    assert "Pearson r" in gap.measured
    two_d90s = trajectory([(800, 1000), (800, 1000), (80, 100), (80, 100)],
                          [0.6, 0.65, 0.7, 0.8], [0.5, 0.45, 0.3, 0.2])  # fmt: skip
    assert "Pearson r" in d90_predicts_generalisation(two_d90s)[0].measured
    same_d90 = trajectory([(800, 1000)] * 4, [0.6, 0.65, 0.7, 0.8], [0.5, 0.45, 0.3, 0.2])
    assert d90_predicts_generalisation(same_d90)[0].measured == (
        "4 checkpoints with a d90, all with the same d90 bracket: nothing to correlate"
    )
    # Two accuracies are enough for the accuracy; the bracket is what is constant.
    same_d90_two_values = same_d90.assign(eval_accuracy=[0.6, 0.6, 0.8, 0.8])
    assert d90_predicts_generalisation(same_d90_two_values)[0].measured == (
        "4 checkpoints with a d90, all with the same d90 bracket: nothing to correlate"
    )
    # Nothing to correlate still names what it was judged on.
    assert (accuracy.figure, gap.figure) == ("Figure 4", "Figure 5")
    seeded, _ = d90_predicts_generalisation(constant.assign(seeds=2))
    assert (seeded.subject, seeded.pretraining_runs, seeded.seeds) == ("t", 1, 2)


def test_all_findings_lists_each_part_in_order():
    pair = d90_rows((1000, 3000), (100, 300))
    survey = pd.DataFrame({"task": "t", "parameters": [1e4, 1e5, 1e6, 1e7],
                           "d90_lo": [2000, 200, 20, 2], "d90": [8000, 800, 80, 8]})  # fmt: skip
    claims = [f.claim for f in all_findings(pair, strong_trajectory(), survey)]
    assert claims == [
        "d90 is orders of magnitude smaller than D (Section 4)",
        "SAID needs fewer dimensions than DID (m, t; Table 1)",
        "d90 falls as pre-training goes on (t; Figure 2)",
        "lower d90 goes with higher eval accuracy (t; Figure 4)",
        "lower d90 goes with smaller relative generalisation gap (t; Figure 5)",
        "larger models have lower d90 (t; Figure 3)",
    ]
    assert len(all_findings(pair, strong_trajectory().head(0), survey.head(0))) == 2
    assert len(all_findings(pair)) == 2
    # a run with no sweep (Section 5's tables alone) has no Section 4 or Table 1 finding
    assert [f.claim for f in all_findings(None, strong_trajectory(), survey)] == claims[2:]
    text = larger_models_lower_d90(survey)[0].measured
    assert text.endswith("d90 by parameters: parameters=10000: (2,000, 8,000], "
                         "parameters=100000: (200, 800], parameters=1e+06: (20, 80], "
                         "parameters=1e+07: (2, 8]")  # fmt: skip


def test_checkpoint_one_is_on_the_axis():
    frame = strong_trajectory().assign(step=[1, 10, 100, 1000, 10000, 100000])
    assert "step=1: " in pretraining_lowers_d90(frame)[0].measured


def test_open_lower_ends_order_only_where_the_upper_end_allows():
    # (0, 1] below (0, 300]: apart only if SAID's upper end is at most DID's lower end (0)
    assert said_below_did(d90_rows((None, 300), (None, 1)))[0].verdict == "not resolved"
    assert said_below_did(d90_rows((None, 1), (None, 5)))[0].verdict == "not resolved"
    assert said_below_did(d90_rows((None, 300), (None, 100)))[0].verdict == "not resolved"
    assert said_below_did(d90_rows((300, 1000), (None, 300)))[0].verdict == "agrees"


def test_a_model_with_one_method_does_not_stop_the_others():
    lone = d90_rows((100, 300), (100, 300)).head(1).assign(model="a")  # DID only
    pair = d90_rows((1000, 3000), (100, 300)).assign(model="b")
    findings = said_below_did(pd.concat([lone, pair], ignore_index=True))
    assert [f.claim for f in findings] == ["SAID needs fewer dimensions than DID (b, t; Table 1)"]


def test_a_correlation_across_zero_keeps_its_claim():
    mixed = trajectory(SIX_D90S, [0.70, 0.60, 0.72, 0.61, 0.71, 0.62],
                       [0.15, 0.22, 0.31, 0.36, 0.45, 0.50])  # fmt: skip
    accuracy = d90_predicts_generalisation(mixed)[0]
    assert accuracy.verdict == "not resolved"
    assert accuracy.claim == "lower d90 goes with higher eval accuracy (t; Figure 4)"


def test_figure3_is_unresolved_when_the_slope_allows_either_sign_and_disagrees_when_it_rises():
    flat = pd.DataFrame({"task": "t", "parameters": [1e4, 1e5, 1e6],
                         "d90_lo": [100, 100, 100], "d90": [2000, 1900, 2100]})  # fmt: skip
    finding = larger_models_lower_d90(flat)[0]
    assert (finding.claim, finding.verdict) == (
        "larger models have lower d90 (t; Figure 3)", "not resolved")  # fmt: skip
    assert finding.measured.endswith(
        "; d90 by parameters: parameters=10000: (100, 2,000], parameters=100000: (100, 1,900], "
        "parameters=1e+06: (100, 2,100]"
    )
    rising = pd.DataFrame({"task": "t", "parameters": [1e4, 1e5, 1e6, 1e7],
                           "d90_lo": [2, 20, 200, 2000], "d90": [8, 80, 800, 8000]})  # fmt: skip
    assert larger_models_lower_d90(rising)[0].verdict == "disagrees"


def test_figure2_with_too_few_checkpoints_keeps_its_claim_and_numbers():
    two = trajectory([(8000, 10000), (300, 400)], [0.6, 0.8], [0.5, 0.2])
    finding = pretraining_lowers_d90(two)[0]
    assert finding == Finding(
        "d90 falls as pre-training goes on (t; Figure 2)",
        "2 checkpoints with a d90 or d90 > d_max: a trend needs at least 3; d90 by step: "
        "step=100: (8,000, 10,000], step=200: (300, 400]",
        "not resolved",
        pretraining_runs=1,
    )


def test_a_run_with_too_few_checkpoints_for_figures_4_and_5_is_pointed_to_pooling():
    # 3 checkpoints with a d90: short of a correlation; 4: a correlation, resolved or not.
    three = d90_predicts_generalisation(trajectory(SIX_D90S[:3], [0.6, 0.66, 0.7], [0.5, 0.4, 0.3]))
    assert pooling_note(three) == POOLING_NOTE
    assert [f.too_few_checkpoints for f in three] == [True, True]
    four = trajectory(SIX_D90S[:4], [0.60, 0.66, 0.70, 0.75], [0.50, 0.45, 0.36, 0.31])
    assert pooling_note(d90_predicts_generalisation(four)) is None
    # Four that share one eval accuracy: more runs would not help, so no pointer.
    constant = trajectory(SIX_D90S[:4], [0.7] * 4, [0.7] * 4)
    assert pooling_note(d90_predicts_generalisation(constant)) is None
    # The note follows the flag, not the words: the same words without it point nowhere.
    assert pooling_note([replace(f, too_few_checkpoints=False) for f in three]) is None
    # Figure 2's own shortfall is not a correlation's.
    short_trend = Finding("c", "2 checkpoints with a d90 or d90 > d_max: a trend needs at least 3",
                          "not resolved", figure="Figure 2")  # fmt: skip
    assert pooling_note([short_trend]) is None


def test_the_notes_under_the_findings_come_one_paragraph_each():
    one_seed = Finding("c", "m", "agrees", seeds=1)
    few = d90_predicts_generalisation(trajectory(SIX_D90S[:3], [0.6, 0.66, 0.7], [0.5, 0.4, 0.3]))
    assert findings_note([one_seed, *few]) == f"{ONE_DRAW_NOTE}\n\n{POOLING_NOTE}"
    assert findings_note(few) == POOLING_NOTE and findings_note([one_seed]) == ONE_DRAW_NOTE
    assert findings_note([Finding("c", "m", "agrees", seeds=2)]) is None


def test_each_correlation_names_its_task_and_figure_whatever_its_verdict():
    strong = strong_trajectory()
    mixed = trajectory(SIX_D90S, [0.70, 0.60, 0.72, 0.61, 0.71, 0.62],
                       [0.15, 0.22, 0.31, 0.36, 0.45, 0.50])  # fmt: skip
    for frame in (strong, strong.head(3), mixed):
        findings = d90_predicts_generalisation(frame)
        assert [(f.subject, f.figure) for f in findings] == [("t", "Figure 4"), ("t", "Figure 5")]


def with_searches(frame: pd.DataFrame, reached_nothing: dict) -> pd.DataFrame:
    """``frame`` with a search status and d_max (d90_hi) per row; the rows of the steps in
    ``reached_nothing`` failed every probe up to the d_max given there (no d90)."""
    frame = frame.assign(search_status="reached", d90_hi=frame["d90"].astype(float))
    for step, d_max in reached_nothing.items():
        row = frame["step"] == step
        frame.loc[row, ["search_status", "d90_hi"]] = ["not reached", d_max]
        frame.loc[row, "d90"] = pd.NA
    return frame


def test_a_search_that_reached_nothing_counts_as_d90_above_its_d_max():
    base = trajectory([(None, None), (700, 900), (300, 400), (40, 50)], [0.7] * 4, [0.1] * 4)
    falls = pretraining_lowers_d90(with_searches(base, {100: 100_000}))[0]
    assert falls.verdict == "agrees"
    assert falls.measured.startswith(
        "first searched step=100: > 100,000, last step=400: (40, 50], the last interval lies "
        "below the first (log-log slope "  # through the three brackets: a slope, not "no slope"
    )
    assert falls.measured.endswith(
        "d90 by step: step=100: > 100,000, step=200: (700, 900], step=300: (300, 400], "
        "step=400: (40, 50]"
    )
    rising = base.assign(d90_lo=[40, 300, 700, None], d90=pd.array([50, 400, 900, None]))
    assert pretraining_lowers_d90(with_searches(rising, {400: 100_000}))[0].verdict == "disagrees"
    # d90 above d_max against a bracket whose upper end is d_max: apart, as touching intervals
    # are; one past it: they overlap
    touching = base.assign(d90_lo=[None, 700, 300, 60_000], d90=pd.array([None, 900, 400, 100_000]))
    assert pretraining_lowers_d90(with_searches(touching, {100: 100_000}))[0].verdict == "agrees"
    past = with_searches(touching.assign(d90=pd.array([None, 900, 400, 100_001])), {100: 100_000})
    assert pretraining_lowers_d90(past)[0].verdict == "not resolved"
    both = pretraining_lowers_d90(with_searches(base, {100: 100_000, 400: 50_000}))[0]
    assert both.verdict == "not resolved" and "step=400: > 50,000" in both.measured


def test_a_search_that_reached_nothing_counts_only_where_its_full_fine_tune_does():
    base = trajectory([(None, None), (700, 900), (300, 400), (40, 50)], [0.7] * 4, [0.1] * 4)
    losing = with_searches(base, {100: 100_000}).assign(beats_majority=[False, True, True, True])
    finding = pretraining_lowers_d90(losing)[0]
    assert finding.verdict == "agrees" and finding.measured.startswith("first searched step=200")
    at_zero = with_searches(base.assign(step=[0, 200, 300, 400]), {0: 100_000})
    assert "step=0" not in pretraining_lowers_d90(at_zero)[0].measured
    # Figures 4 and 5 correlate brackets: a search that reached nothing is not among them
    strong = with_searches(strong_trajectory(), {100: 100_000})
    assert "5 checkpoints" in d90_predicts_generalisation(strong)[0].measured


def test_a_d90_with_failures_above_it_says_how_many_and_keeps_its_verdict():
    base = trajectory([(1000, 2000), (300, 400), (40, 50)], [0.7] * 3, [0.1] * 3)
    plain = pretraining_lowers_d90(base)[0]
    flagged = pretraining_lowers_d90(base.assign(failed_above=[0, 1, 2]))[0]
    assert flagged.verdict == plain.verdict == "agrees"
    assert flagged.measured.endswith(
        "d90 by step: step=100: (1,000, 2,000], step=200: (300, 400] (1 probe above it "
        "failed), step=300: (40, 50] (2 probes above it failed)"
    )
    # none failed above: the sentence of a table without the column
    assert pretraining_lowers_d90(base.assign(failed_above=0))[0].measured == plain.measured
    survey = pd.DataFrame({"task": "t", "parameters": [1e4, 1e5, 1e6], "d90_lo": [200, 20, 2],
                           "d90": [800, 80, 8], "failed_above": [0, 0, 1]})  # fmt: skip
    assert larger_models_lower_d90(survey)[0].measured.endswith(
        "parameters=1e+06: (2, 8] (1 probe above it failed)"
    )
    # a sweep's grid points
    sweep = d90_rows((100, 300), (10, 30)).assign(failed_above=[1, 0])
    assert "DID d90 in (100, 300] (1 grid point above it failed), SAID in (10, 30]" in (
        said_below_did(sweep)[0].measured
    )
    said_short = d90_rows((100, 300), (10, 30)).assign(failed_above=[0, 2])
    assert said_below_did(said_short)[0].measured == (
        "DID d90 in (100, 300], SAID in (10, 30] (2 grid points above it failed)"
    )
    only_said = d90_rows((100_000, None), (10, 30)).assign(failed_above=[0, 1])
    (finding,) = said_below_did(only_said)
    assert finding.measured == (
        "SAID d90 in (10, 30] (1 grid point above it failed); the other did not reach it up "
        "to d = 100,000"
    )
    assert (finding.verdict, finding.basis) == ("agrees", "one seed")
    assert small_d90(sweep).measured.startswith(
        "m t DID d90 in (100, 300] (1 grid point above it failed) = at most 0.0003 of D"
    )


def test_a_d90_whose_probe_beat_the_majority_only_within_chance_says_so():
    base = trajectory([(1000, 2000), (300, 400), (40, 50)], [0.7] * 3, [0.1] * 3)
    plain = pretraining_lowers_d90(base)[0]
    # The boundary is the majority test's own: p below 0.05 beats it, 0.05 does not.
    flagged = pretraining_lowers_d90(base.assign(d90_majority_p=[0.0499, 0.05, None]))[0]
    assert flagged.verdict == plain.verdict == "agrees"
    assert flagged.measured.endswith(
        "d90 by step: step=100: (1,000, 2,000], step=200: (300, 400] (its probe within chance "
        "of the majority class, p = 0.05), step=300: (40, 50]"
    )
    both = pretraining_lowers_d90(base.assign(failed_above=[0, 0, 1], d90_majority_p=0.0696))[0]
    assert both.measured.endswith(
        "step=300: (40, 50] (1 probe above it failed) (its probe within chance of the majority "
        "class, p = 0.07)"
    )


def test_a_resolved_verdict_names_the_seeds_it_rests_on_and_one_seed_is_cautioned():
    pair = d90_rows((1000, 3000), (100, 300), seeds=1)
    one = small_d90(pair)
    assert (one.basis, one.one_draw) == ("one seed", True)
    assert one.verdict_text() == "**agrees** (one seed)"
    # the boundary: two seeds average out one seed's draw
    two = said_below_did(d90_rows((1000, 3000), (100, 300), seeds=2))[0]
    assert (two.verdict, two.basis, two.one_draw) == ("agrees", "the mean of 2 seeds", False)
    assert one_draw_note([two]) is None and one_draw_note([two, one]) == ONE_DRAW_NOTE
    # the fewest seeds behind any of the rows count
    mixed = pair.assign(seeds=[2, 1])
    assert small_d90(mixed).basis == "one seed"
    # an unresolved verdict rests on nothing, and a table from before the column names nothing
    overlap = said_below_did(d90_rows((100, 3000), (300, 1000), seeds=1))[0]
    assert (overlap.basis, overlap.one_draw, overlap.verdict_text()) == (
        "",
        False,
        "**not resolved**",
    )
    assert small_d90(pair.drop(columns="seeds")).basis == ""


def test_section5s_verdicts_rest_on_one_pre_training_run_whatever_the_seeds():
    falling = strong_trajectory().assign(seeds=3)
    figure2 = pretraining_lowers_d90(falling)[0]
    assert figure2.verdict == "agrees"
    assert figure2.basis == "one pre-training run, the mean of 3 seeds" and figure2.one_draw
    assert figure2.line().startswith(
        "d90 falls as pre-training goes on (t; Figure 2): **agrees** (one pre-training run, the "
        "mean of 3 seeds). first searched"
    )
    accuracy, gap = d90_predicts_generalisation(falling)
    assert accuracy.basis == gap.basis == "one pre-training run, the mean of 3 seeds"
    survey = pd.DataFrame({"task": "t", "parameters": [1e4, 1e5, 1e6, 1e7], "seeds": 2,
                           "d90_lo": [2000, 200, 20, 2], "d90": [8000, 800, 80, 8]})  # fmt: skip
    figure3 = larger_models_lower_d90(survey)[0]
    assert (figure3.verdict, figure3.basis, figure3.one_draw) == (
        "agrees", "the mean of 2 seeds", False
    )  # fmt: skip
