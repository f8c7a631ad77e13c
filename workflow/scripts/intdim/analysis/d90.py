"""From run metrics to d90: the smallest d whose eval metric reaches threshold x full FT."""

from __future__ import annotations

import bisect
import math

import pandas as pd

from ..pipeline.integrity import load_json

RUN_COLUMNS = [
    "model", "task", "method", "d", "D", "lr", "effective_lr", "seed", "status", "reason",
    "steps_done", "eval_accuracy", "eval_f1", "train_accuracy", "train_f1",
    "train_accuracy_at_eval_balance", "final_loss",
    "wall_seconds", "train_seconds", "eval_majority_accuracy", "collapsed",
]  # fmt: skip

# Scores are means of fractions k / n and the threshold is 0.9 x such a mean, so in exact
# arithmetic a score can equal the threshold (with two seeds of 400 eval examples the threshold
# is itself such a mean whenever the full runs' right answers add up to a multiple of 10), or a
# mean of seeds the majority class's share. There float rounding would decide: 0.9 x
# mean(0.8325, 0.8675) is 0.7650000000000001, above a run's 306 / 400 = 0.765. Differences this
# small are rounding, not measurement: an accuracy on n examples moves in steps of 1 / n, and
# every metric here (accuracy, F1) lies in [0, 1], so one absolute allowance fits them all.
ROUNDING = 1e-9


def reaches(score, target):
    """score >= target, a score within float rounding below it included (scalars or Series)."""
    return score >= target - ROUNDING


def beats(score: float, majority: float) -> bool:
    """score > majority by more than float rounding."""
    return score > majority + ROUNDING


# A full fine-tune's d90 is measured against it only when its eval accuracy is above the
# majority class's share beyond chance: a one-sided exact binomial test at this level, the
# "accuracy > no-information rate" test of classifier reports (caret's confusionMatrix). On a
# few hundred eval examples a fine-tune one or two points above the majority share has not
# shown that it learned the task, and 90% of its score is below the majority share.
MAJORITY_ALPHA = 0.05


def majority_p_value(score: float, majority: float, eval_size: int) -> float:
    """P(X >= k) for X ~ Binomial(eval_size, majority): how often a model whose accuracy is the
    majority share scores at least k of eval_size, k the right answers ``score`` stands for.

    ``score`` may be a mean over seeds scored on the same examples, so k is its count rounded
    down (the seeds are not independent samples; a half answer is not evidence).
    """
    from scipy import stats

    if eval_size < 1:
        raise ValueError(f"eval_size must be a positive number of examples, got {eval_size!r}")
    k = math.floor(score * eval_size + ROUNDING * eval_size)
    return float(stats.binom.sf(k - 1, eval_size, majority))


def majority_needed(majority: float, eval_size: int) -> int:
    """The fewest right answers of ``eval_size`` that beat a model right ``majority`` of the
    time beyond chance (``majority_p_value`` below ``MAJORITY_ALPHA``): what an eval set of
    this size can resolve; ``eval_size + 1`` when not even every answer right would."""

    def passes(k: int) -> bool:
        return majority_p_value(k / eval_size, majority, eval_size) < MAJORITY_ALPHA

    # The p-value falls as k grows, so the k that pass follow those that do not: bisect for
    # the first, asking the test itself (ties at exactly alpha included), not an inverse tail.
    return bisect.bisect_left(range(eval_size + 1), True, key=passes)


def select_baseline(runs: list[dict], metric: str, threshold: float, eval_size: int) -> dict:
    """The best full fine-tuning learning rate by its mean over seeds (``seed_means``), and
    whether its accuracy beats the majority class beyond chance on the ``eval_size`` examples
    every run scored (``majority_p_value``; always true for another metric)."""
    frame = pd.DataFrame(runs)
    if not (frame["status"] == "ok").any():
        raise ValueError(f"every full fine-tuning run failed: {unfinished(frame)}")
    per_lr = seed_means(frame, ["lr"], metric)
    if per_lr.isna().all():
        raise ValueError(f"no full fine-tuning rate finished for every seed: {unfinished(frame)}")
    best_lr = float(per_lr.idxmax())
    score = float(per_lr.max())
    majority = float(frame["eval_majority_accuracy"].iloc[0])
    p_value = majority_p_value(score, majority, eval_size) if metric == "accuracy" else None
    return {
        "metric": metric,
        "best_lr": best_lr,
        "full_score": score,
        "threshold": threshold,
        "threshold_score": threshold * score,
        "beats_majority": bool(p_value is None or p_value < MAJORITY_ALPHA),
        "eval_majority_accuracy": majority,
        "eval_size": int(eval_size),
        "majority_p_value": p_value,
        "runs": [{k: r.get(k) for k in RUN_COLUMNS} for r in runs],
    }


def majority_reason(baseline: dict) -> str:
    """Why a search whose full fine-tune does not beat the majority class is skipped, with
    the accuracy it would have needed on these eval examples (``majority_needed``)."""
    size = baseline["eval_size"]
    needed = majority_needed(baseline["eval_majority_accuracy"], size)
    return (f"full fine-tuning does not beat the majority class beyond chance "
            f"({baseline['full_score']:.4f} against a majority share of "
            f"{baseline['eval_majority_accuracy']:.4f} on {size} eval examples: "
            f"one-sided binomial p = {baseline['majority_p_value']:.3g}, not below "
            f"{MAJORITY_ALPHA:g}; it would need {needed} of {size} right, "
            f"{needed / size:.4f})")  # fmt: skip


def seed_means(runs: pd.DataFrame, by: list[str], metric: str) -> pd.Series:
    """The mean eval score over seeds for each group of ``by`` (a learning rate, or d and rate).

    A group counts only when every run in it finished: one diverged or failed seed makes its
    mean NaN (not reached), so the seeds that survived a rate cannot speak for it.
    """
    scores = runs[f"eval_{metric}"].where(runs["status"] == "ok")
    grouped = scores.groupby([runs[key] for key in by])
    return grouped.mean().where(grouped.count() == grouped.size())


def unfinished(runs: pd.DataFrame) -> str:
    """Each run that did not finish, as 'status at lr (seed s): reason'."""
    bad = runs[runs["status"] != "ok"]
    return "; ".join(f"{r.status} at lr {float(r.lr):g} (seed {r.seed}): {r.reason}"
                     for r in bad.itertuples())  # fmt: skip


def collect_runs(metric_files: list[str], baseline_files: list[str]) -> pd.DataFrame:
    """One tidy table: every subspace run and every full run, with its baseline attached."""
    rows = [load_json(p) for p in metric_files]
    rows = [{k: r.get(k) for k in RUN_COLUMNS} for r in rows]
    baselines = {}
    for path in baseline_files:
        base = load_json(path)
        rows.extend(base["runs"])
        key = (base["runs"][0]["model"], base["runs"][0]["task"])
        baselines[key] = base
    frame = pd.DataFrame(rows, columns=RUN_COLUMNS)
    frame["full_score"] = [
        baselines[(m, t)]["full_score"] for m, t in zip(frame.model, frame.task, strict=True)
    ]
    frame["threshold_score"] = [
        baselines[(m, t)]["threshold_score"] for m, t in zip(frame.model, frame.task, strict=True)
    ]
    return frame.sort_values(["model", "task", "method", "d", "lr", "seed"]).reset_index(drop=True)


def best_per_d(group: pd.DataFrame, metric: str) -> pd.Series:
    """Mean over seeds for each (d, lr), then the best learning rate for each d.

    A failed or diverged run counts as not reaching the threshold: its rate has no score at
    that d (``seed_means``).
    """
    scores = seed_means(group, ["d", "lr"], metric)
    return scores.groupby("d").max().sort_index()


def interpolate_crossing(scores: pd.Series, target: float) -> float:
    """d where the score first crosses ``target``, linear in log d between grid points."""
    values = list(scores.items())
    for i, (d, s) in enumerate(values):
        if reaches(s, target):
            if i == 0:
                return float(d)
            d0, s0 = values[i - 1]
            if not math.isfinite(s0) or s <= target:  # at target, up to rounding
                return float(d)
            frac = (target - s0) / (s - s0)
            return float(math.exp(math.log(d0) + frac * (math.log(d) - math.log(d0))))
    return math.nan


def d90_table(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """d90 per (model, task, method) from a tidy runs table."""
    rows = []
    subspace = runs[runs["method"].isin(["did", "said"])]
    for (model, task, method), group in subspace.groupby(["model", "task", "method"]):
        target = float(group["threshold_score"].iloc[0])
        scores = best_per_d(group, metric)
        d90 = first_reaching(scores, target)
        # On a grid d90 is known to lie in (the grid point below it, d90].
        below = [d for d in scores.index if d90 is not None and d < d90]
        # Grid points above d90 that fall short: reaching it is not monotone in d there.
        short_above = [d for d, s in scores.items() if d90 is not None and d > d90
                       and not reaches(s, target)]  # fmt: skip
        per_seed = {
            int(seed): first_reaching(best_per_d(runs_of_seed, metric), target)
            for seed, runs_of_seed in group.groupby("seed")
        }
        if d90 is None:
            status = "not reached"
        elif d90 == scores.index.min():
            status = "at or below the smallest d"
        else:
            status = "reached"
        rows.append(
            {
                "model": model,
                "task": task,
                "method": method,
                "D": int(group["D"].iloc[0]),
                "full_score": float(group["full_score"].iloc[0]),
                "threshold_score": target,
                "d90": d90,
                "d90_lo": int(max(below)) if below else None,
                "failed_above": len(short_above),
                "d90_interpolated": interpolate_crossing(scores, target),
                # Each seed's own d90 (its runs alone, best learning rate), and their spread.
                "seeds": len(per_seed),
                "d90_by_seed": "; ".join(
                    f"{s}: {'-' if v is None else v}" for s, v in sorted(per_seed.items())
                ),
                "d90_seed_min": min((v for v in per_seed.values() if v is not None), default=None),
                "d90_seed_max": max((v for v in per_seed.values() if v is not None), default=None),
                "seeds_reaching": sum(v is not None for v in per_seed.values()),
                "best_score_at_d90": float(scores.loc[d90]) if d90 is not None else math.nan,
                "d_min": int(scores.index.min()),
                "d_max": int(scores.index.max()),
                "status": status,
            }
        )
    frame = pd.DataFrame(rows)
    if not frame.empty:  # integer d's, or empty when not reached
        for column in ("d90", "d90_lo", "d90_seed_min", "d90_seed_max"):
            frame[column] = frame[column].astype("Int64")
    return frame


def first_reaching(scores: pd.Series, target: float) -> int | None:
    """The smallest d whose score reaches ``target`` (scores indexed by d), or None."""
    reached = scores[reaches(scores, target)]
    return int(reached.index.min()) if len(reached) else None


def table1(d90: pd.DataFrame) -> pd.DataFrame:
    """The paper's Table 1 layout: one row per model, a d90 column per task and method."""
    # pivot, not pivot_table: a method that never reaches the threshold keeps its empty column.
    table = d90.pivot(index=["model", "D"], columns=["task", "method"], values="d90")
    table.columns = [f"{task} {method.upper()}" for task, method in table.columns]
    return table.reset_index()


def probe_outcome(runs: list[dict], metric: str, target: float, majority: float) -> dict:
    """Whether a probed d reaches the target, with the runs (learning rates x seeds) behind it.

    Scores are averaged over seeds per learning rate and the best learning rate counts, as in
    ``best_per_d`` (a rate with an unfinished seed has no score). A d whose every run failed,
    or none of whose rates finished for every seed, or whose best score does not beat the
    majority class, or stays below the target, is a failure, and the reason says which.
    """
    frame = pd.DataFrame(runs)
    ok = frame[frame["status"] == "ok"]
    outcome = {"runs": len(frame), "score": None, "best_run": None}
    if ok.empty:
        return {**outcome, "success": False, "reason": f"no run finished ({unfinished(frame)})"}
    per_lr = seed_means(frame, ["lr"], metric)
    if per_lr.isna().all():
        return {**outcome, "success": False,
                "reason": f"no rate finished for every seed ({unfinished(frame)})"}  # fmt: skip
    best_lr = per_lr.idxmax()
    best = ok[ok["lr"] == best_lr].sort_values(f"eval_{metric}", ascending=False).iloc[0]
    score = float(per_lr.max())
    outcome.update(score=score, best_run={"lr": format(float(best_lr), "g"),
                                          "seed": int(best["seed"])})  # fmt: skip
    if metric == "accuracy" and not beats(score, majority):
        return {
            **outcome,
            "success": False,
            "reason": f"does not beat the majority class ({score:.4f} <= {majority:.4f})",
        }
    if not reaches(score, target):
        return {**outcome, "success": False,
                "reason": f"below the threshold ({score:.4f} < {target:.4f})"}  # fmt: skip
    return {**outcome, "success": True, "reason": f"reaches the threshold ({score:.4f} >= "
            f"{target:.4f})"}  # fmt: skip
