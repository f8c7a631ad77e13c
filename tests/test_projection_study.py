"""The projection study's table from a runs table: d90, the rate that reached it, step time."""

import pandas as pd
import pytest
from intdim.analysis.d90 import d90_table
from intdim.analysis.projection_study import study_table


def runs_table() -> pd.DataFrame:
    rows = []
    # base reaches 0.8 (threshold 0.72) at d = 1000 with lr 0.5; the variant only at 10000 with
    # lr 0.005, and diverges at lr 0.5; its steps take 4 s instead of 1 s.
    for model, seconds in (("m", 1.0), ("m+released", 4.0)):
        for d in (100, 1000, 10000):
            for lr in (0.005, 0.5):
                if model == "m":
                    score = 0.8 if (d >= 1000 and lr == 0.5) else 0.6
                else:
                    score = 0.8 if (d >= 10000 and lr == 0.005) else 0.6
                diverged = model != "m" and lr == 0.5
                rows.append({"model": model, "task": "t", "method": "did", "d": d, "D": 10**6,
                             "lr": lr, "seed": 0, "status": "diverged" if diverged else "ok",
                             "eval_accuracy": float("nan") if diverged else score,
                             "steps_done": 10, "train_seconds": 10 * seconds,
                             "full_score": 0.8, "threshold_score": 0.72})  # fmt: skip
    return pd.DataFrame(rows)


def test_the_study_table_gives_each_projection_its_d90_rate_and_step_time():
    runs = runs_table()
    d90 = d90_table(runs, "accuracy")
    search = pd.DataFrame([{"model": "m+released", "task": "t", "method": "did", "lo": 5000,
                            "d90": 8000, "status": "found"}])  # fmt: skip
    options = {"m": {"projection": "fastfood", "legacy_gradient": False},
               "m+released": {"projection": "fastfood_per_tensor", "legacy_gradient": True}}  # fmt: skip
    table = study_table(runs, d90, search, ["m", "m+released"], options, "accuracy")
    base, released = table.iloc[0], table.iloc[1]
    assert (base["variant"], base["d90_lo"], base["d90"], base["best_lr_at_d90"]) == (
        "base", 100, 1000, 0.5)  # fmt: skip
    assert (released["variant"], released["d90_lo"], released["d90"]) == ("released", 1000, 10000)
    assert released["best_lr_at_d90"] == 0.005 and released["legacy_gradient"]
    assert released["diverged"] == 3 and released["runs"] == 6
    assert base["step_seconds"] == pytest.approx(1.0)
    assert released["step_seconds"] == pytest.approx(4.0)
    assert (released["search_lo"], released["search_d90"]) == (5000, 8000)
    assert pd.isna(base["search_d90"])
