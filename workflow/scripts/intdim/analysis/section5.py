"""Tables of Section 5 from finished searches, baselines and bounds (plain dicts in, frames out)."""

from __future__ import annotations

import math
from statistics import fmean

import pandas as pd

from .d90 import beats, majority_p_value

SEARCH_COLUMNS = [
    "model", "task", "method", "d90", "lo", "hi", "d_max", "D", "status", "reason", "rounds",
    "probes_run", "training_runs", "non_monotone", "target", "full_score",
    "eval_majority_accuracy", "best_score", "best_score_d",
]  # fmt: skip


NOTHING_LEARNED = "nothing learned"


def search_status(result: dict) -> str:
    """The search's status, but "nothing learned" for one that reached nothing (accuracy)
    where no probe that scored beat the majority class: at the rates tried, no d trained, so
    its failure at d_max says that those rates failed, not that d90 lies above d_max. (Seed 4's
    default search after 125 updates ended at one class at every d up to 300,000 at rate
    0.06; at 0.2, d = 646 reached the threshold: docs/results/offline_default.md.)"""
    status = result["status"]
    if status != "not reached" or result.get("metric") != "accuracy":
        return status
    majority = result.get("eval_majority_accuracy")
    scores = [p["score"] for p in result["probes"] if p.get("score") is not None]
    if majority is None or not scores or any(beats(s, majority) for s in scores):
        return status
    return NOTHING_LEARNED


def best_probe(result: dict) -> tuple[float | None, int | None]:
    """The highest score any probe of a search reached, and the smallest d that reached it.

    Beside the target it says how far a search that reached nothing fell short, and where. A
    best score at the smallest d probed, with larger d scoring less, says more dimensions did
    not help at the rate tried: d90 above d_max then says as much about the rate as about d."""
    scored = [(p["score"], -p["d"]) for p in result.get("probes", []) if p.get("score") is not None]
    if not scored:
        return None, None
    score, minus_d = max(scored)
    return score, -minus_d


def search_table(results: list[dict]) -> pd.DataFrame:
    rows = []
    for r in results:
        score, d = best_probe(r)
        rows.append({**{k: r.get(k) for k in SEARCH_COLUMNS}, "status": search_status(r),
                     "best_score": score, "best_score_d": d})  # fmt: skip
    frame = pd.DataFrame(rows, columns=SEARCH_COLUMNS)
    frame["d90"] = frame["d90"].astype("Int64")
    frame["best_score_d"] = frame["best_score_d"].astype("Int64")
    return frame


def probe_table(results: list[dict]) -> pd.DataFrame:
    rows = [
        {"model": r["model"], "task": r["task"], "method": r["method"], "round": p["round"],
         "d": p["d"], "success": p["success"], "score": p.get("score"), "reason": p["reason"],
         "best_lr": (p.get("best_run") or {}).get("lr")}
        for r in results for p in r["probes"]
    ]  # fmt: skip
    columns = ["model", "task", "method", "round", "d", "success", "score", "reason", "best_lr"]
    return pd.DataFrame(rows, columns=columns)


# Full fine-tuning's accuracies that Figures 4 and 5 read, each a mean over seeds.
FULL_ACCURACIES = ("eval_accuracy", "train_accuracy", "train_accuracy_at_eval_balance")


def full_fine_tune(baseline: dict) -> dict:
    """Eval and train accuracy of full fine-tuning at the baseline's learning rate, each the mean
    over its seeds: the runs whose mean set the d90 threshold (``d90.select_baseline``), so a
    checkpoint's d90 and its accuracy come from the same fine-tunes. Every seed at that rate
    finished, or the baseline would have chosen another rate."""
    runs = [r for r in baseline["runs"] if r["lr"] == baseline["best_lr"]]
    older = [r for r in runs if r.get("train_accuracy_at_eval_balance") is None]
    if older:
        run = older[0]
        raise ValueError(
            f"full fine-tuning of {run['model']} on {run['task']} at lr {run['lr']:g} "
            f"(seed {run['seed']}) has no train_accuracy_at_eval_balance: its metrics.json "
            f"predates it; rerun those runs (snakemake --forcerun full_finetune)"
        )
    return {key: fmean(r[key] for r in runs) for key in FULL_ACCURACIES}


def relative_gap(train_accuracy: float, eval_accuracy: float) -> float:
    """(acc_train - acc_eval) / (1 - acc_eval), the paper's relative generalization gap; the
    workflow passes the train accuracy at the eval sample's class balance
    (``intdim.method.training.accuracy_at_balance``)."""
    if eval_accuracy >= 1.0:
        return math.nan
    return (train_accuracy - eval_accuracy) / (1.0 - eval_accuracy)


def lower_end(result: dict):
    """The bracket's lower end: the largest d that failed, or None where no probe failed (a
    search that reached the threshold at d_min, or one that never ran): d90 may be anything
    down to 0 there, and d_min, the search's starting lo, is not a d that failed."""
    return result["lo"] if result.get("lo_verified", True) else None


def failed_above(result: dict) -> int:
    """How many of a search's probes failed at a d above the d90 it found (0 where it found
    none). The search assumes that reaching the threshold is monotone in d; each such probe
    contradicts it, and the bracket's lower end then holds only for the probes run."""
    if result["d90"] is None:
        return 0
    return sum(not p["success"] and p["d"] > result["d90"] for p in result["probes"])


def d90_majority_p(result: dict) -> float | None:
    """The one-sided binomial p-value against the majority class (``d90.majority_p_value``) of
    the probe that set d90. Where 90% of full fine-tuning lies below the majority share, a
    probe succeeds by beating the majority at all, and a p-value at or above
    ``d90.MAJORITY_ALPHA`` says it did not beyond chance. None without a d90, for a metric
    other than accuracy, or for a search state from before it kept its eval size."""
    if result["d90"] is None or result.get("metric") != "accuracy" or "eval_size" not in result:
        return None
    scores = [p.get("score") for p in result["probes"] if p["d"] == result["d90"] and p["success"]]
    if not scores or scores[0] is None:
        return None
    return majority_p_value(scores[0], result["eval_majority_accuracy"], result["eval_size"])


TRAJECTORY_COLUMNS = (
    "trajectory", "step", "model", "task", "method", "d90", "d90_lo", "d90_hi", "search_status",
    "failed_above", "d90_majority_p", "beats_majority", "eval_accuracy", "train_accuracy",
    "train_accuracy_at_eval_balance", "relative_gap", "eval_majority_accuracy",
    "majority_p_value", "seeds",
)  # fmt: skip
SURVEY_COLUMNS = (
    "model", "task", "method", "parameters", "reference", "d90", "d90_lo", "d90_hi",
    "searched_up_to", "search_status", "failed_above", "d90_majority_p", "seeds",
)  # fmt: skip


def trajectory_table(trajectories: dict, specs: dict, results: dict,
                     baselines: dict) -> pd.DataFrame:  # fmt: skip
    """One row per (trajectory, checkpoint, task): d90 and the full fine-tune it is measured by.

    ``trajectories`` maps a name to {step: model}; ``specs`` a name to its tasks and method
    (the validated config's, where the schema fills the method in).
    """
    rows = []
    for name, checkpoints in trajectories.items():
        method = specs[name]["method"]
        for step, model in sorted(checkpoints.items(), key=lambda kv: int(kv[0])):
            for task in specs[name]["tasks"]:
                base = baselines[(model, task)]
                full = full_fine_tune(base)
                result = results[(model, task, method)]
                rows.append({
                    "trajectory": name, "step": int(step), "model": model, "task": task,
                    "method": result["method"], "d90": result["d90"],
                    # d90 lies in (d90_lo, d90_hi], the bracket the search narrowed it to
                    "d90_lo": lower_end(result), "d90_hi": result["hi"],
                    "search_status": search_status(result),
                    "failed_above": failed_above(result),
                    "d90_majority_p": d90_majority_p(result),
                    "beats_majority": base["beats_majority"],
                    "eval_accuracy": full["eval_accuracy"],
                    "train_accuracy": full["train_accuracy"],
                    "train_accuracy_at_eval_balance": full["train_accuracy_at_eval_balance"],
                    "relative_gap": relative_gap(full["train_accuracy_at_eval_balance"],
                                                 full["eval_accuracy"]),
                    "eval_majority_accuracy": base["eval_majority_accuracy"],
                    "majority_p_value": base["majority_p_value"],
                    "seeds": len(result["seeds"]),  # the seeds each probe's score averages
                })  # fmt: skip
    return _whole_d90s(pd.DataFrame(rows, columns=TRAJECTORY_COLUMNS))


def _whole_d90s(frame: pd.DataFrame) -> pd.DataFrame:
    """d90 and d90_lo as whole numbers, with gaps where there is none. A table without rows
    keeps its columns, so its CSV has a header that reads back as an empty table."""
    if not frame.empty:
        frame[["d90", "d90_lo"]] = frame[["d90", "d90_lo"]].astype("Int64")
    return frame


def has_counted_d90(table: pd.DataFrame) -> pd.Series:
    """Which rows of a ``trajectory_table`` have a d90 that counts: their search reached the
    threshold and their full fine-tune beats the majority class beyond chance (the points of
    Figures 2, 4 and 5 and of their findings)."""
    return table["beats_majority"].astype(bool) & table["d90"].notna()


def reached_nothing(table: pd.DataFrame) -> pd.Series:
    """Which rows of a ``trajectory_table`` are checkpoints whose full fine-tune beats the
    majority class but whose search failed every probe up to d_max: their d90 lies above d90_hi
    (d_max, probed and failed)."""
    return table["beats_majority"].astype(bool) & (table["search_status"] == "not reached")


def learned_nothing(table: pd.DataFrame) -> pd.Series:
    """Which rows of a ``trajectory_table`` are checkpoints whose full fine-tune beats the
    majority class but whose search learned nothing (``search_status``): no bracket, so no
    point of Figures 2, 4 and 5 or of their findings."""
    return table["beats_majority"].astype(bool) & (table["search_status"] == NOTHING_LEARNED)


def survey_table(models: list[str], tasks: list[str], method: str, results: dict,
                 metas: dict) -> pd.DataFrame:  # fmt: skip
    rows = [
        {"model": m, "task": t, "method": method, "parameters": metas[m]["base_parameters"],
         "reference": metas[m]["reference"], "d90": results[(m, t, method)]["d90"],
         "d90_lo": lower_end(results[(m, t, method)]), "d90_hi": results[(m, t, method)]["hi"],
         "searched_up_to": results[(m, t, method)]["hi"],
         "search_status": search_status(results[(m, t, method)]),
         "failed_above": failed_above(results[(m, t, method)]),
         "d90_majority_p": d90_majority_p(results[(m, t, method)]),
         "seeds": len(results[(m, t, method)]["seeds"])}
        for m in models for t in tasks
    ]  # fmt: skip
    return _whole_d90s(pd.DataFrame(rows, columns=SURVEY_COLUMNS))


def survey_parts(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A ``survey_table``'s rows as Figure 3 draws them: those with a d90; those whose search
    failed every probe up to d_max (d90 above it); and the rest, which have no d to draw: never
    searched (skipped: the full fine-tune does not beat the majority class) or whose search
    learned nothing (``search_status``)."""
    found = rows["d90"].notna()
    beyond = ~found & (rows["search_status"] == "not reached")
    return rows[found], rows[beyond], rows[~found & ~beyond]


def bound_table(bounds: list[dict]) -> pd.DataFrame:
    columns = [
        "model", "task", "method", "d", "D", "m", "bits_per_number", "description_bits",
        "configurations", "confidence", "train_error_quantised", "eval_error_quantised",
        "eval_accuracy_quantised", "eval_accuracy", "bound",
    ]  # fmt: skip
    return pd.DataFrame([b for b in bounds if b.get("d90") is not None], columns=columns)
