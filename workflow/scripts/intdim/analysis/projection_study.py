"""The projection study's table: each compared model (a sweep model and its projection
variants, ``Plan.variants``) with its d90 from the sweep and the search,
the learning rate that reached it, and the measured time per training step."""

from __future__ import annotations

import pandas as pd

from ..pipeline.variants import base_model, variant_name
from .d90 import seed_means

COLUMNS = [
    "model", "variant", "projection", "legacy_gradient", "task", "method", "full_score",
    "d90_lo", "d90", "d90_by_seed", "best_lr_at_d90", "search_lo", "search_d90",
    "search_status", "runs", "diverged", "step_seconds",
]  # fmt: skip


def best_lr(runs: pd.DataFrame, d: int, metric: str) -> float | None:
    """The learning rate with the best mean score over seeds at d (``seed_means``)."""
    at_d = runs[runs["d"] == d]
    if at_d.empty:
        return None
    scores = seed_means(at_d, ["lr"], metric)
    return float(scores.idxmax()) if scores.notna().any() else None


def study_table(
    runs: pd.DataFrame,
    d90: pd.DataFrame,
    search: pd.DataFrame | None,
    models: list[str],
    options: dict[str, dict],
    metric: str,
) -> pd.DataFrame:
    """One row per (compared model, task, method). ``options`` gives each model's projection
    settings (``Plan.subspace_options``)."""
    rows = []
    subspace = runs[runs["method"].isin(["did", "said"])]
    for model in models:
        for r in d90[d90["model"] == model].itertuples():
            mine = subspace[(subspace["model"] == model) & (subspace["task"] == r.task)
                            & (subspace["method"] == r.method)]  # fmt: skip
            ok = mine[mine["status"] == "ok"]
            per_step = (ok["train_seconds"] / ok["steps_done"]).median() if len(ok) else None
            row = {
                "model": base_model(model), "variant": variant_name(model),
                "projection": options[model]["projection"],
                "legacy_gradient": options[model]["legacy_gradient"],
                "task": r.task, "method": r.method, "full_score": r.full_score,
                "d90_lo": r.d90_lo, "d90": r.d90,
                "d90_by_seed": getattr(r, "d90_by_seed", None),
                "best_lr_at_d90": best_lr(mine, int(r.d90), metric) if pd.notna(r.d90) else None,
                "runs": len(mine), "diverged": int((mine["status"] == "diverged").sum()),
                "step_seconds": per_step,
            }  # fmt: skip
            if search is not None:
                found = search[(search["model"] == model) & (search["task"] == r.task)
                               & (search["method"] == r.method)]  # fmt: skip
                if len(found):
                    s = found.iloc[0]
                    row.update(search_lo=s["lo"], search_d90=s["d90"], search_status=s["status"])
            rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("d90_lo", "d90", "search_lo", "search_d90"):
        frame[column] = frame[column].astype("Int64")
    return frame
