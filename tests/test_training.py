"""intdim.method.training: a stopped or killed fine-tuning run resumes to the same bits; the
train accuracy at the eval sample's class balance."""

import json
import math
import signal
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from intdim.method import resume
from intdim.method.resume import Stopped
from intdim.method.subspace import SubspaceModel, SubspaceSettings
from intdim.method.training import (
    TrainSettings,
    accuracy_at_balance,
    f1,
    metrics,
    train_and_evaluate,
)
from interruptions import (
    Interrupted,
    TokenizerActingAt,
    interrupt,
    request_seen_at_look,
    send,
    stopped_after,
)
from tiny_models import TinyTokenizer, tiny_classifier

FRAME = pd.DataFrame({"text": [f"tweet {i}" for i in range(48)], "text_pair": "",
                      "label": [i % 3 for i in range(48)]})  # fmt: skip
# Ten updates over six batches of eight: the resumed run crosses an epoch's reshuffle.
SETTINGS = TrainSettings(learning_rate=1e-2, steps=10, batch_size=8, max_length=8, seed=0)
METHODS = ["full", "did", "said"]


def run(method, resume_dir, settings=SETTINGS, tokenizer=None, identity=None, device="cpu",
        **options):  # fmt: skip
    """One run of a fresh tiny BERT (the same weights and head each time): (result, trained)."""
    model = tiny_classifier("bert").to(device)
    net, trainable = model, list(model.parameters())
    if method != "full":
        net = SubspaceModel(model, SubspaceSettings(60, method=method, seed=0, grouping="layer"))
        trainable = net.trainable_parameters()
    result = train_and_evaluate(net, trainable, tokenizer or TinyTokenizer(), FRAME, FRAME,
                                settings, device, resume_dir=resume_dir,
                                identity=identity or {"method": method},
                                **options)  # fmt: skip
    return result, [p.detach().clone() for p in trainable]


def same_run(a, b) -> bool:
    """The same losses, metrics and trained tensors, to the bit (timings aside)."""
    (result, trained), (other, other_trained) = a, b
    outcome = lambda r: json.dumps({k: v for k, v in r.items() if "seconds" not in k  # noqa: E731
                                    and k != "resumed_at"})  # fmt: skip
    return outcome(result) == outcome(other) and all(
        torch.equal(x, y) for x, y in zip(trained, other_trained, strict=True)
    )


@pytest.fixture(scope="module", params=METHODS)
def unstopped(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param) / "resume"
    done = run(request.param, folder)
    assert done[0]["resumed_at"] == [] and not folder.exists()
    return request.param, done


def test_a_run_with_a_resume_folder_trains_as_one_without(unstopped):
    method, done = unstopped
    assert same_run(done, run(method, None))
    result, trained = done
    assert result["status"] == "ok" and len(set(result["loss_curve"])) == SETTINGS.steps
    untrained = run(method, None, settings=replace(SETTINGS, learning_rate=0))
    assert not any(
        torch.equal(x, y) for x, y in zip(trained, untrained[1], strict=True)
    )  # it trained


def test_a_killed_run_resumes_from_its_last_state_to_the_same_bits(unstopped, tmp_path):
    method, done = unstopped
    folder = tmp_path / "resume"
    # The state is saved after every update here; the kill comes as update 7 starts.
    with pytest.raises(Interrupted):
        run(method, folder, tokenizer=TokenizerActingAt(7, interrupt), save_state_every_s=0)
    assert (folder / "state.pt").is_file()
    lines = []
    again = run(method, folder, log=lines.append)
    assert again[0]["resumed_at"] == [6]
    assert lines == [f"resumed from the state saved after update 6 in {folder}"]
    assert same_run(again, done)
    assert not folder.exists()


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_stop_signal_saves_the_update_under_way_and_the_rerun_ends_the_same(unstopped,
                                                                              tmp_path, name):  # fmt: skip
    method, done = unstopped
    folder, number = tmp_path / "resume", getattr(signal, name)
    # What a terminal gives (a shell's background job, as CI may be, has SIGINT ignored).
    before = signal.signal(
        number, signal.default_int_handler if name == "SIGINT" else signal.SIG_DFL
    )
    try:
        # No state is saved on a timer here: the one there is, the signal saved.
        with pytest.raises(Stopped, match=rf"stopped by {name} after update 4; its state is"):
            run(method, folder, tokenizer=TokenizerActingAt(4, send(number)))
        assert signal.getsignal(number) in (signal.default_int_handler, signal.SIG_DFL)
    finally:
        signal.signal(number, before)
    again = run(method, folder)
    assert again[0]["resumed_at"] == [4]
    assert same_run(again, done)


# Looks 6 and 7 are the two reads of update 3 in a loop that reads the request twice an update.
@pytest.mark.parametrize("look", [6, 7])
def test_a_stop_saves_the_update_it_names_wherever_in_the_update_the_signal_lands(
    unstopped, tmp_path, monkeypatch, look
):
    method, done = unstopped
    folder = tmp_path / "resume"
    monkeypatch.setattr(resume, "StopRequests", request_seen_at_look(look))
    with pytest.raises(Stopped) as stopped:
        run(method, folder)
    monkeypatch.undo()
    again = run(method, folder)
    assert again[0]["resumed_at"] == [stopped_after(stopped.value)]
    assert same_run(again, done)


@pytest.mark.parametrize("change", ["settings", "identity"])
def test_a_state_saved_by_another_run_is_not_resumed(tmp_path, change):
    folder = tmp_path / "resume"
    with pytest.raises(Interrupted):
        run("did", folder, tokenizer=TokenizerActingAt(7, interrupt), save_state_every_s=0)
    settings = replace(SETTINGS, learning_rate=2e-2) if change == "settings" else SETTINGS
    identity = {"method": "did", "model": "another"} if change == "identity" else None
    lines = []
    again = run("did", folder, settings=settings, identity=identity, log=lines.append)
    assert again[0]["resumed_at"] == []
    assert len(lines) == 1 and "was saved by a run with other settings" in lines[0]
    assert same_run(again, run("did", None, settings=settings))


@pytest.mark.parametrize("num_labels", [2, 3, 4])
def test_accuracy_and_f1_are_scikit_learns_to_the_bit(num_labels):
    from sklearn.metrics import accuracy_score, f1_score

    average = "binary" if num_labels == 2 else "macro"
    rng = np.random.default_rng(num_labels)
    cases = [rng.integers(0, num_labels, (2, n)) for n in (1, 7, 500, 1501)]
    cases += [
        np.stack([rng.integers(0, num_labels, 50), np.zeros(50, int)]),  # collapsed
        np.stack([np.zeros(9, int), np.zeros(9, int)]),  # class 1 nowhere
        np.stack([rng.integers(1, num_labels, 40), rng.integers(0, num_labels, 40)]),
    ]
    for labels, predictions in cases:
        mine = metrics(labels, predictions, num_labels)
        assert mine["accuracy"] == accuracy_score(labels, predictions)
        assert mine["f1"] == f1_score(labels, predictions, average=average, zero_division=0)
    # macro F1 averages the classes either array has, not every class of the task
    assert f1(np.array([0, 0, 2]), np.array([0, 2, 2]), 3) == (2 / 3 + 2 / 3) / 2


def test_a_model_that_predicts_one_class_has_no_gap_at_the_eval_balance():
    # 70% of the training sample and 60% of the eval sample are class 0, the class it predicts
    train, evaluation = np.array([0] * 7 + [1] * 3), np.array([0] * 6 + [1] * 4)
    on_train, on_eval = metrics(train, 0 * train, 2), metrics(evaluation, 0 * evaluation, 2)
    assert (on_train["accuracy"], on_eval["accuracy"]) == (0.7, 0.6)
    assert (on_train["class_counts"], on_train["class_correct"]) == ([7, 3], [7, 0])
    shares = [n / 10 for n in on_eval["class_counts"]]
    at_balance = accuracy_at_balance(on_train["class_counts"], on_train["class_correct"], shares)
    assert at_balance == on_eval["accuracy"]  # exactly: the plain gap would be (0.7 - 0.6) / 0.4


def test_the_accuracy_at_a_balance_weights_each_classs_accuracy_by_its_share():
    # class 0: 5 of 10 right, class 1: 30 of 30; plain accuracy 35 / 40
    assert accuracy_at_balance([10, 30], [5, 30], [0.5, 0.5]) == 0.75
    assert accuracy_at_balance([10, 30], [5, 30], [0.25, 0.75]) == pytest.approx(0.875)
    # a class the eval sample lacks needs no training example; one it has does
    assert accuracy_at_balance([10, 0, 30], [5, 0, 30], [0.5, 0.0, 0.5]) == 0.75
    assert math.isnan(accuracy_at_balance([10, 0, 30], [5, 0, 30], [0.4, 0.2, 0.4]))
    with pytest.raises(ValueError):  # a share for every class, no more, no fewer
        accuracy_at_balance([10, 30], [5, 30], [1.0])


def test_a_run_records_each_classs_answers_and_the_train_accuracy_at_the_eval_balance(unstopped):
    result = unstopped[1][0]
    # FRAME is both samples here, and every one of its 48 examples is scored on each
    assert result["eval_class_counts"] == result["train_class_counts"] == [16, 16, 16]
    assert sum(result["train_class_correct"]) == round(48 * result["train_accuracy"])
    assert result["train_accuracy_at_eval_balance"] == pytest.approx(result["train_accuracy"])
