"""The report's landing page, built from the run's tables."""

import pandas as pd
from intdim.analysis.summary import landing_page, rst_table

RUN = {"models": ["minilm"], "tasks": ["tweets"], "methods": ["did", "said"],
       "d_values": [10, 20_000], "seeds": [0, 1], "metric": "accuracy", "threshold": 0.9,
       "runs": 9, "ok_runs": 8, "subspace_runs": 6, "collapsed": 2}  # fmt: skip


def test_rst_table_lists_every_row_and_escapes_jinja():
    frame = pd.DataFrame({"model": ["{{ evil }}", "b"], "d90": [pd.NA, 120_000], "x": [1, 2]})
    frame["d90"] = frame["d90"].astype("Int64")
    table = rst_table(frame, ["model", "d90", "missing"])
    assert "{{" not in table and "{ { evil } }" in table
    assert table.count("   * - ") == 3  # header and two rows
    assert "     - -" in table and "120,000" in table and "missing" not in table


def test_landing_page_says_what_ran_and_what_was_found():
    d90 = pd.DataFrame({"model": ["minilm"] * 2, "task": ["tweets"] * 2, "method": ["did", "said"],
                        "D": [22_713_986] * 2, "full_score": [0.85] * 2, "d90": [None, 3000],
                        "d90_lo": [None, 1000], "best_score_at_d90": [None, 0.8]})  # fmt: skip
    d90["d90"] = d90["d90"].astype("Int64")
    page = landing_page(RUN, d90, None)
    assert "reaches 90% of the full fine-tuning" in page
    assert "- **d values**: 10, 20,000" in page and "9 (8 finished, 1 diverged" in page
    assert "1 of 2 (model, task, method) sweeps reach the threshold" in page
    assert "searches" not in page  # no Section 5 in this run
    assert "2 of 6 finished subspace runs predict one class" in page
    # the compact table: the interval and its share of D = 22,713,986 (3,000 / D = 1.3e-04)
    assert "     - (1,000, 3,000]\n     - 1.3e-04" in page
    assert "     - not reached\n     - -" in page


def test_the_searches_show_their_bracket_none_when_skipped_and_d_max_when_not_reached():
    from intdim.analysis.summary import compact_search

    # A search that reached nothing keeps hi at d_max, where its last probe failed.
    search = pd.DataFrame({"model": ["a", "b", "c"], "task": "t", "method": "said",
                           "lo": [100, 30, 60_231], "hi": [300, 300_000, 100_000],
                           "status": ["reached", "skipped", "not reached"]})  # fmt: skip
    assert list(compact_search(search)["d90 in"]) == ["(100, 300]", "-", "> 100,000"]
    # One whose every probe ended at or below the majority class brackets nothing.
    untrained = search.assign(status=["reached", "skipped", "nothing learned"])
    assert list(compact_search(untrained)["d90 in"]) == ["(100, 300]", "-", "nothing learned"]
    assert "best probe" not in compact_search(search)  # a table from before the columns
    # each search's best probe beside its target; a skipped one probed nothing
    scored = search.assign(best_score=[0.71, None, 0.6847], target=[0.7, None, 0.6936])
    scored["best_score_d"] = pd.array([300, None, 646], dtype="Int64")
    compact = compact_search(scored)
    assert list(compact["best probe"]) == ["0.7100 at 300", "-", "0.6847 at 646"]
    assert list(compact["target"]) == ["0.7000", "-", "0.6936"]


def test_what_ran_names_section5s_searches_and_seed_and_the_findings_carry_their_note():
    d90 = pd.DataFrame({"model": ["minilm"], "task": ["tweets"], "method": ["said"],
                        "D": [1000], "full_score": [0.85], "d90": [100], "d90_lo": [30]})  # fmt: skip
    searches = [["pt-m-step125", "tb", "said"], ["pt-m-step500", "tb", "said"],
                ["pt-m-step500", "tb", "did"]]  # fmt: skip
    run = {**RUN, "searches": searches, "pretraining_seed": 4}
    page = landing_page(run, d90, None, ["claim: **agrees** (one seed). numbers"], "Be careful.")
    assert "- **d90 searches (Section 5)**: 3: pt-m-step125, pt-m-step500 on tb (said, did)" in page
    assert "- **pre-training seed**: 4" in page
    assert "- claim: **agrees** (one seed). numbers\n\nBe careful.\n" in page
    # a run without Section 5 says nothing of it, and no note follows findings without one
    plain = landing_page({**RUN, "searches": [], "pretraining_seed": None}, d90, None, ["f"])
    assert "Section 5" not in plain and "pre-training seed" not in plain
    assert "- f\n" in plain
