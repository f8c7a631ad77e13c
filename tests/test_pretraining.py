"""Pre-training from scratch: the offline corpus, the tokenizer, MLM training and checkpoints."""

import json

import pytest
import torch
from intdim import pretraining as pt
from intdim.models import load_classifier

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
    assert float(pt.mlm_loss(model, batch)) == pytest.approx(float(model(**batch).loss), rel=1e-5)


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


def test_same_seed_same_weights(corpus, tokenizer, tmp_path, pretrained):
    out, _ = pretrained
    train, valid = pt.split_corpus(corpus, 0.1, seed=0)
    pt.pretrain(SHAPE, tokenizer, train, valid, settings(), tmp_path, log=lambda _: None)
    first = load_classifier(str(out / "step12"), 2, 0).state_dict()
    again = load_classifier(str(tmp_path / "step12"), 2, 0).state_dict()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not torch.equal(
        first["roberta.embeddings.word_embeddings.weight"],
        load_classifier(str(out / "step0"), 2, 0).state_dict()[
            "roberta.embeddings.word_embeddings.weight"
        ],
    )
