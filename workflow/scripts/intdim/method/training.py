"""One training run (full fine-tuning or subspace) and its evaluation, with a recorded seed.

AdamW with a linear warm-up and a linear decay to zero, the usual fine-tuning schedule, for both
full fine-tuning and subspace training.

A run never raises for a numerical failure: a non-finite loss ends it with status "diverged"
and the reason, so a sweep records what happened instead of losing the result.

Given a resume folder, an interrupted run continues where it stopped (``intdim.method.resume``),
to the same bits as a run never stopped: what a SLURM retry of a job stopped at its time limit
needs.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from . import resume
from .optimisation import BatchOrder, adamw_with_warmup
from .precision import autocast, check_precision, grad_scaler


@dataclass(frozen=True)
class TrainSettings:
    learning_rate: float
    steps: int
    batch_size: int
    max_length: int
    seed: int
    eval_batch_size: int = 128
    weight_decay: float = 0.0
    # Linear warm-up over this fraction of the steps, then linear decay to zero.
    warmup_fraction: float = 0.1
    # Training accuracy is measured on this many training examples (the generalization gap).
    train_eval_size: int = 1000
    # fp32, or autocast to bf16 / fp16 with float32 masters (intdim.method.precision).
    precision: str = "fp32"
    # SAID's scales' rate (None: learning_rate). The workflow scales a subspace run's rate with
    # d so that an update of theta_d moves theta_D by the same amount at every d; a scale moves
    # theta_D in proportion to itself whatever d is, so it keeps the unscaled rate.
    scale_learning_rate: float | None = None

    def __post_init__(self):
        check_precision(self.precision)


def encode(tokenizer, frame: pd.DataFrame, max_length: int) -> list[dict]:
    """Tokenise once; examples keep their own length and are padded per batch."""
    pairs = frame["text_pair"].tolist() if (frame["text_pair"] != "").any() else None
    enc = tokenizer(
        frame["text"].tolist(), pairs, truncation=True, max_length=max_length, padding=False
    )
    keys = [k for k in enc.keys() if k in ("input_ids", "attention_mask", "token_type_ids")]
    labels = frame["label"].tolist()
    return [{**{k: enc[k][i] for k in keys}, "labels": labels[i]} for i in range(len(frame))]


def collate(tokenizer, examples: list[dict], device) -> dict[str, torch.Tensor]:
    batch = tokenizer.pad(examples, return_tensors="pt")
    return {k: v.to(device) for k, v in batch.items()}


def f1(labels: np.ndarray, predictions: np.ndarray, num_labels: int) -> float:
    """scikit-learn's f1_score with zero_division=0: class 1's F1 for two classes, else the
    mean F1 of the classes in either array ("macro"). Not sklearn.metrics itself: importing it
    (and scipy.stats with it) took 0.85 s of every job; a test checks these bits against it."""
    classes = [1] if num_labels == 2 else np.union1d(labels, predictions)
    scores = []
    for c in classes:
        right = np.count_nonzero((labels == c) & (predictions == c))
        total = np.count_nonzero(labels == c) + np.count_nonzero(predictions == c)
        scores.append(2.0 * right / total if total else 0.0)
    return float(np.mean(scores))


def metrics(labels: np.ndarray, predictions: np.ndarray, num_labels: int) -> dict[str, float]:
    return {
        "accuracy": float(np.mean(labels == predictions)),
        "f1": f1(labels, predictions, num_labels),
        # 1 when the model predicts one class for everything: a collapsed run (runs.csv
        # marks it, so a bad learning rate shows as such, not only as a low score).
        "predicted_classes": int(len(np.unique(predictions))),
        # Each class's examples and right answers: accuracy_at_balance reweights them.
        "class_counts": np.bincount(labels, minlength=num_labels).tolist(),
        "class_correct": np.bincount(labels[labels == predictions], minlength=num_labels).tolist(),
    }


def accuracy_at_balance(counts: list[int], correct: list[int], shares: list[float]) -> float:
    """The accuracy a sample with these per-class ``counts`` and ``correct`` answers would have
    had with its classes in the proportions ``shares``: sum_c shares_c * correct_c / counts_c.

    The generalization gap compares train with eval accuracy. Two samples of a task seldom
    share their class balance, and a model near the majority class then scores each sample's
    majority share, so the plain gap measures the balance. Taken at the eval sample's balance,
    a model that predicts one class scores the same on both samples and its gap is 0. NaN when
    a class that has a share has no example to measure it on.
    """
    if any(share > 0 and n == 0 for share, n in zip(shares, counts, strict=True)):
        return math.nan
    terms = zip(shares, correct, counts, strict=True)
    return float(sum(share * k / n for share, k, n in terms if share > 0))


@torch.no_grad()
def evaluate(
    net, tokenizer, examples: list[dict], batch_size: int, device, precision: str = "fp32"
) -> dict[str, float]:
    net.eval()
    predictions, labels = [], []
    # A subspace model's weights are fixed while it is evaluated: project them once.
    fixed = getattr(net, "fixed_parameters", contextlib.nullcontext)
    with fixed():
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            batch = collate(tokenizer, chunk, device)
            gold = batch.pop("labels")
            with autocast(device, precision):
                logits = net(**batch).logits
            predictions.append(logits.argmax(-1).cpu())
            labels.append(gold.cpu())
    labels_arr, preds_arr = torch.cat(labels).numpy(), torch.cat(predictions).numpy()
    num_labels = int(getattr(getattr(net, "config", None), "num_labels", 0) or logits.shape[-1])
    return metrics(labels_arr, preds_arr, num_labels)


def optimiser_groups(net, trainable: list, settings: TrainSettings) -> list:
    """AdamW's parameter groups: SAID's scales at ``scale_learning_rate`` when it is set."""
    lambdas = getattr(net, "lambdas", None)
    if lambdas is None or settings.scale_learning_rate is None:
        return trainable
    rest = [p for p in trainable if p is not lambdas]
    return [{"params": rest}, {"params": [lambdas], "lr": settings.scale_learning_rate}]


def train_and_evaluate(
    net,
    trainable: list[torch.nn.Parameter],
    tokenizer,
    train: pd.DataFrame,
    evaluation: pd.DataFrame,
    settings: TrainSettings,
    device: str = "cpu",
    resume_dir: Path | None = None,
    identity: dict | None = None,
    save_state_every_s: float = resume.SAVE_STATE_EVERY_S,
    log=print,
) -> dict:
    """Train ``trainable`` and report metrics and a loss curve.

    With ``resume_dir``, the training state (the trained tensors, the optimiser, schedule,
    gradient scaler, batch order, random streams and the loss curve so far) is saved there at
    least every ``save_state_every_s`` seconds, and SIGTERM or SIGINT saves it after the update
    under way and raises ``resume.Stopped``. A rerun with the same ``identity`` (what else
    decides the run: the model, the method), settings, data, software and device continues from
    it; the folder is removed once training ends. Everything not trained (theta_0, the
    projection) is rebuilt from the seed, so a subspace run's state is a few d-sized tensors.
    """
    if settings.steps < 1 or settings.batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {settings}")
    started = time.perf_counter()
    gen = torch.Generator().manual_seed(settings.seed)
    torch.manual_seed(settings.seed)  # dropout masks
    train_examples = encode(tokenizer, train, settings.max_length)
    eval_examples = encode(tokenizer, evaluation, settings.max_length)
    encoded = time.perf_counter()
    optimizer, scheduler = adamw_with_warmup(
        optimiser_groups(net, trainable, settings), settings.learning_rate,
        settings.weight_decay, settings.warmup_fraction, settings.steps,
    )  # fmt: skip
    batches = BatchOrder(len(train_examples), settings.batch_size, gen)
    scaler = grad_scaler(device, settings.precision)
    losses, status, reason, resumed_at = [], "ok", None, []

    loop = dict(optimizer=optimizer, scheduler=scheduler, scaler=scaler, batches=batches)
    if resume_dir is not None:
        run_key = resume.fingerprint(
            device, identity=identity, settings=asdict(settings),
            trainable=[[str(p.dtype), *p.shape] for p in trainable],
            data=[frame_digest(train), frame_digest(evaluation)],
        )  # fmt: skip
        state = resume.load_state(resume_dir, run_key, log)
        if state is not None:
            with torch.no_grad():
                for param, saved in zip(trainable, state["trainable"], strict=True):
                    param.copy_(saved)
            resume.restore_loop_state(state, device, **loop)
            losses = state["losses"]
            resumed_at = [*state["resumed_at"], len(losses)]
            log(f"resumed from the state saved after update {len(losses)} in {resume_dir}")

    def save_training_state():
        resume.save_state(resume_dir, run_key, {
            "losses": losses, "resumed_at": resumed_at,
            "trainable": [p.detach() for p in trainable], **resume.loop_state(device, **loop),
        })  # fmt: skip

    stops = (resume.StopRequests(resume_dir, settings.steps, save_state_every_s)
             if resume_dir is not None else contextlib.nullcontext())  # fmt: skip
    net.train()
    with stops as stop:
        progress = tqdm(range(len(losses), settings.steps), desc="training", mininterval=5.0)
        for step in progress:
            batch = collate(tokenizer, [train_examples[i] for i in batches.next()], device)
            with autocast(device, settings.precision):
                loss = net(**batch).loss
            if not torch.isfinite(loss):
                status, reason = "diverged", f"non-finite loss {loss.item()} at step {step}"
                break
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)  # fp16: skipped when the scaled gradients overflowed
            scaler.update()
            scheduler.step()
            losses.append(float(loss.item()))
            if resume_dir is not None:
                stop.after_update(len(losses), save_training_state)
    if resume_dir is not None and resume_dir.exists():
        shutil.rmtree(resume_dir)  # training is over: what is left is deterministic
    trained = time.perf_counter()

    result = {
        "status": status,
        "reason": reason,
        "steps_done": len(losses),
        "loss_curve": losses,
        "final_loss": losses[-1] if losses else math.nan,
        # Where the time went: tokenising, the training loop, the two evaluations.
        "encode_seconds": encoded - started,
        "train_seconds": trained - encoded,
        "settings": asdict(settings),
        # The updates after which this run was resumed (train_seconds is the last part's).
        "resumed_at": resumed_at,
    }
    if status == "ok":
        subset = subsample_examples(train_examples, settings.train_eval_size, settings.seed)
        scores = lambda examples: evaluate(  # noqa: E731
            net, tokenizer, examples, settings.eval_batch_size, device, settings.precision
        )
        train_scores, eval_scores = scores(subset), scores(eval_examples)
    else:
        train_scores = eval_scores = {"accuracy": math.nan, "f1": math.nan,
                                      "predicted_classes": 0, "class_counts": [],
                                      "class_correct": []}  # fmt: skip
    result.update({f"train_{k}": v for k, v in train_scores.items()})
    result.update({f"eval_{k}": v for k, v in eval_scores.items()})
    eval_size = sum(eval_scores["class_counts"])
    result["train_accuracy_at_eval_balance"] = (
        accuracy_at_balance(train_scores["class_counts"], train_scores["class_correct"],
                            [n / eval_size for n in eval_scores["class_counts"]])
        if eval_size else math.nan
    )  # fmt: skip
    result["collapsed"] = status == "ok" and eval_scores["predicted_classes"] == 1
    result["eval_seconds"] = time.perf_counter() - trained
    result["wall_seconds"] = time.perf_counter() - started
    return result


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 of a data frame's rows and index: what a resumed run must train on again."""
    rows = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    return hashlib.sha256(rows.tobytes()).hexdigest()


def subsample_examples(examples: list[dict], limit: int, seed: int) -> list[dict]:
    if len(examples) <= limit:
        return examples
    idx = torch.randperm(len(examples), generator=torch.Generator().manual_seed(seed + 1))
    return [examples[i] for i in idx[:limit].tolist()]
