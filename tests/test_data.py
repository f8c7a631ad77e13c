import json

import pandas as pd
import pytest
from intdim.method.data import (
    HUB_TASKS,
    dataset_info,
    label_names,
    load_hub_task,
    load_tweets,
    split_frame,
    subsample,
    tweet_texts,
)


def test_tweet_corpus_binary_and_three_class():
    binary = load_tweets("tweet_sentiment")
    three = load_tweets("tweet_sentiment_3")
    assert set(binary["label"]) == {0, 1} and set(three["label"]) == {0, 1, 2}
    assert len(three) > len(binary) > 15_000
    assert binary["text"].is_unique and (binary["text_pair"] == "").all()
    # negative tweets outnumber positive ones in this corpus (about 16k vs 7k rows)
    counts = binary["label"].value_counts()
    assert counts[0] > counts[1] > 5_000


def test_tweet_texts_keep_every_sentiment_once_in_the_file_order(tmp_path):
    path = tmp_path / "corpus.csv"
    path.write_text(
        "sentiment,text\nneutral,b tweet\npositive,a tweet\nnegative, b tweet \n"
        "negative,  \nworry,c tweet\n",
        encoding="latin-1",
    )
    assert tweet_texts(path) == ["b tweet", "a tweet", "c tweet"]
    assert load_tweets("tweet_sentiment", path)["text"].tolist() == ["a tweet", "b tweet"]


def test_split_and_subsample_are_seeded_and_disjoint():
    frame = load_tweets("tweet_sentiment")
    train, evaluation = split_frame(frame, 0.1, seed=3)
    again, _ = split_frame(frame, 0.1, seed=3)
    assert train.equals(again)
    assert not set(train["text"]) & set(evaluation["text"])
    assert len(evaluation) == round(0.1 * len(frame))
    assert (
        subsample(train, 50, 1).equals(subsample(train, 50, 1))
        and len(subsample(train, 50, 1)) == 50
    )


def test_balanced_subsample_gives_every_label_the_same_count():
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(100)], "text_pair": "",
                          "label": [0] * 70 + [1] * 25 + [2] * 5})  # fmt: skip
    # Without a limit, every label down to the rarest label's count.
    balanced = subsample(frame, None, seed=1, num_labels=3)
    assert balanced["label"].value_counts().to_dict() == {0: 5, 1: 5, 2: 5}
    assert balanced["text"].is_unique and set(balanced["text"]) <= set(frame["text"])
    # A limit divided among the labels caps each when it is below the rarest count: the
    # boundary is limit // labels, so 14 rows give 4 a label and 15 give all 5.
    assert subsample(frame, 14, seed=1, num_labels=3)["label"].value_counts().to_dict() == {
        0: 4, 1: 4, 2: 4,
    }  # fmt: skip
    assert len(subsample(frame, 15, seed=1, num_labels=3)) == 15
    assert len(subsample(frame, 1_000, seed=1, num_labels=3)) == 15
    # Seeded: the same rows in the same order, and another seed picks others.
    assert balanced.equals(subsample(frame, None, seed=1, num_labels=3))
    assert not balanced.equals(subsample(frame, None, seed=2, num_labels=3))
    # Shuffled, not grouped by label.
    assert balanced["label"].tolist() != sorted(balanced["label"])


def test_balancing_names_the_label_that_has_no_rows():
    frame = pd.DataFrame({"text": ["a", "b"], "text_pair": "", "label": [0, 0]})
    with pytest.raises(ValueError, match=r"cannot balance 2 labels: label counts \{0: 2, 1: 0\}; "):
        subsample(frame, None, seed=0, num_labels=2)
    with pytest.raises(ValueError, match="at most 1 rows"):
        subsample(pd.DataFrame({"text": ["a", "b"], "text_pair": "", "label": [0, 1]}), 1, 0, 2)


def test_balanced_tweets_score_one_half_for_one_class_and_stay_disjoint():
    train, evaluation = split_frame(load_tweets("tweet_sentiment"), 0.12, seed=0)
    train = subsample(train, 4000, 0, num_labels=2)
    evaluation = subsample(evaluation, 1500, 0, num_labels=2)
    assert train["label"].value_counts().to_dict() == {0: 2000, 1: 2000}
    # The eval split holds about 810 positive tweets, so 1,500 is reached.
    assert evaluation["label"].value_counts().to_dict() == {0: 750, 1: 750}
    assert not set(train["text"]) & set(evaluation["text"])
    info = dataset_info(train, evaluation, ("negative", "positive"))
    assert info["eval_majority_accuracy"] == 0.5


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_mrpc_loader_on_local_files_with_the_glue_schema(tmp_path):
    header = "sentence1,sentence2,label,idx\n"
    (tmp_path / "train.csv").write_text(
        header + '"A cat sat.","A cat was sitting.",1,0\n"Up","Down",0,1\n'
    )
    (tmp_path / "dev.csv").write_text(header + '"x","y",0,0\n')
    train, evaluation = load_hub_task(
        "mrpc", {"train": [str(tmp_path / "train.csv")], "eval": [str(tmp_path / "dev.csv")]}
    )
    assert list(train.columns) == ["text", "text_pair", "label"]
    assert train.iloc[0].tolist() == ["A cat sat.", "A cat was sitting.", 1]
    assert len(evaluation) == 1


def test_anli_rounds_are_concatenated_and_unlabelled_rows_dropped(tmp_path):
    def rows(r):
        return [
            {
                "uid": f"{r}{i}",
                "premise": f"p{r}{i}",
                "hypothesis": "h",
                "label": i % 3,
                "reason": "",
            }
            for i in range(4)
        ]  # noqa: E731

    files = [_write_jsonl(tmp_path / f"train_r{r}.jsonl", rows(r)) for r in (1, 2, 3)]
    dev = _write_jsonl(
        tmp_path / "dev.jsonl",
        rows(9) + [{"uid": "t", "premise": "q", "hypothesis": "h", "label": -1, "reason": ""}],
    )
    train, evaluation = load_hub_task("anli", {"train": files, "eval": [dev]})
    assert len(train) == 12 and set(train["text"].str[:2]) == {"p1", "p2", "p3"}
    assert len(evaluation) == 4 and (evaluation["label"] >= 0).all()
    info = dataset_info(train, evaluation, label_names("anli"))
    assert info["num_labels"] == 3 and info["has_text_pair"]


def test_wrong_columns_are_named(tmp_path):
    (tmp_path / "t.csv").write_text("text,label\nhello,1\n")
    with pytest.raises(ValueError, match=r"columns \['question1', 'question2'\] missing"):
        load_hub_task(
            "qqp", {"train": [str(tmp_path / "t.csv")], "eval": [str(tmp_path / "t.csv")]}
        )


def test_hub_without_network_fails_with_a_clear_message(hub_offline):
    with pytest.raises(RuntimeError, match="could not load dataset 'sst2'.*data_files"):
        load_hub_task("sst2")


def test_every_paper_task_has_a_loader():
    assert set(HUB_TASKS) == {"mrpc", "qqp", "sst2", "mnli", "yelp_polarity", "anli"}
    assert HUB_TASKS["anli"].train_splits == ("train_r1", "train_r2", "train_r3")
    assert HUB_TASKS["mnli"].eval_splits == ("validation_matched",)
    with pytest.raises(ValueError, match="unknown dataset 'cola'"):
        label_names("cola")


def test_dataset_info_reports_balance_and_majority():
    train = pd.DataFrame({"text": list("abcd"), "text_pair": "", "label": [0, 0, 0, 1]})
    info = dataset_info(train, train, ("neg", "pos"))
    assert info["train_balance"] == {"neg": 3, "pos": 1}
    assert info["eval_majority_accuracy"] == 0.75
