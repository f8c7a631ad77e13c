"""A model and a task made on the spot, for running the workflow where nothing can be
downloaded and the offline packages (MiniLM, the tweets) are not installed: an air-gapped GPU
node that has torch and transformers.

The task has the SST-2 shape (``sentence``, ``label`` in CSV files), so the workflow reads it
as ``dataset: sst2`` with ``data_files``; the sentences are drawn from word lists with a
recorded seed and some labels flipped, so a model can learn it and not perfectly. The model is
a small BERT built from a config (random weights) with a WordPiece vocabulary trained on those
sentences: a local model directory like any other. Nothing here is a finding; it exercises
the DAG.
"""

from __future__ import annotations

import copy
import csv
import random
from pathlib import Path

POSITIVE = ["good", "great", "lovely", "fine", "superb", "happy", "bright", "warm", "kind"]
NEGATIVE = ["bad", "awful", "poor", "dull", "grim", "sad", "cold", "harsh", "broken"]
SUBJECTS = ["the film", "this meal", "our trip", "the service", "that song", "the room",
            "his talk", "the game", "her book", "the weather"]  # fmt: skip
FILLERS = ["was", "felt", "seemed", "looked", "turned out", "sounded", "is", "stays"]
ADVERBS = ["really", "quite", "rather", "very", "so", "a bit", "truly", ""]

MODEL_SHAPE = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                   intermediate_size=128, max_position_embeddings=64)  # fmt: skip


def sentiment_rows(n: int, seed: int, flip: float = 0.1) -> list[tuple[str, int]]:
    """n (sentence, label) pairs, label 1 for a positive word; a share ``flip`` of the labels
    is flipped, so the best possible accuracy is about 1 - flip."""
    if n < 1 or not 0 <= flip < 0.5:
        raise ValueError(f"need n >= 1 and 0 <= flip < 0.5, got n={n}, flip={flip}")
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        label = rng.randrange(2)
        word = rng.choice(POSITIVE if label else NEGATIVE)
        parts = [rng.choice(SUBJECTS), rng.choice(FILLERS), rng.choice(ADVERBS), word]
        sentence = " ".join(p for p in parts if p)
        rows.append((sentence, 1 - label if rng.random() < flip else label))
    return rows


def write_sentiment_task(directory: Path, n_train: int = 400, n_eval: int = 100,
                         seed: int = 0) -> dict[str, list[str]]:  # fmt: skip
    """train.csv and eval.csv in the SST-2 shape; returns them as a task's data_files."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for split, n, split_seed in (("train", n_train, seed), ("eval", n_eval, seed + 1)):
        path = directory / f"{split}.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["sentence", "label"])
            writer.writerows(sentiment_rows(n, split_seed))
        files[split] = [str(path)]
    return files


def write_model_from_config(directory: Path, texts: list[str], seed: int = 0,
                            shape: dict | None = None) -> Path:  # fmt: skip
    """A small BERT (random weights from ``seed``) and a WordPiece tokenizer trained on
    ``texts`` (every piece of text it must cover, once is enough), saved as a local model
    directory."""
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    wordpiece = BertWordPieceTokenizer(lowercase=True)
    wordpiece.train_from_iterator(texts, vocab_size=400, min_frequency=1, show_progress=False)
    tokenizer = BertTokenizerFast(tokenizer_object=wordpiece._tokenizer)
    tokenizer.save_pretrained(directory)
    config = BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                        **(shape or MODEL_SHAPE))  # fmt: skip
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(directory)
    return directory


def generated_config(base: dict, directory: Path, seed: int = 0) -> dict:
    """``base`` (a workflow config) with its models and tasks replaced by a generated model
    (``generated``) and task (``sentiment``, SST-2 shaped), both written under ``directory``."""
    data_files = write_sentiment_task(directory / "task", seed=seed)
    # Every word the task's sentences are made of, so the vocabulary covers them all.
    words = POSITIVE + NEGATIVE + SUBJECTS + FILLERS + [a for a in ADVERBS if a]
    model = write_model_from_config(directory / "model", words, seed=seed)
    config = copy.deepcopy(base)
    config["models"] = {"generated": str(model)}
    config["tasks"] = {"sentiment": {"dataset": "sst2", "data_files": data_files}}
    for key in ("sweep_models", "projection_study", "trajectories", "survey", "pretraining"):
        config.pop(key, None)
    return config
