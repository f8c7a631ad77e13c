import pytest
import torch
from intdim.method.subspace import SubspaceModel, SubspaceSettings, parameter_groups
from intdim.projections.registry import PROJECTIONS, projection_class
from tiny_models import TINY_CONFIGS, tiny_batch, tiny_classifier
from transformers import AutoModel, BertConfig

FAMILIES = sorted(TINY_CONFIGS)


def _logits(model, batch):
    with torch.no_grad():
        return model(**batch).logits


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(
    "method,grouping", [("did", "tensor"), ("said", "tensor"), ("said", "layer")]
)
def test_exactly_d_numbers_train_and_zero_is_the_identity(family, method, grouping):
    batch = tiny_batch()
    reference = _logits(tiny_classifier(family), batch)
    model = tiny_classifier(family)
    D = sum(p.numel() for p in model.parameters())
    sub = SubspaceModel(
        model, SubspaceSettings(300, method=method, seed=1, grouping=grouping)
    ).eval()

    assert sub.D == D
    assert sub.num_trainable() == 300
    trainable = [p for p in sub.parameters() if p.requires_grad]
    assert sum(p.numel() for p in trainable) == 300
    expected_m = len(set(parameter_groups(sub.names, grouping))) if method == "said" else 0
    assert sub.m == expected_m and sub.theta_d.numel() == 300 - expected_m
    assert torch.equal(sub.theta_d, torch.zeros(300 - expected_m))
    if method == "said":
        assert torch.all(sub.lambdas != 0)
    # Bit-exact in float32: theta_0 + P(0) is theta_0.
    assert torch.equal(_logits(sub, batch), reference)


@pytest.mark.parametrize("family", FAMILIES)
def test_theta0_is_stored_once_and_the_head_is_inside_d(family):
    model = tiny_classifier(family)
    sub = SubspaceModel(model, SubspaceSettings(50))
    storage = sub.theta0.untyped_storage().data_ptr()
    for param in model.parameters():
        assert not param.requires_grad
        assert param.untyped_storage().data_ptr() == storage
    head = [
        n
        for n in sub.names
        if n.startswith(
            ("classifier", "classification_head", "sequence_summary", "logits_proj", "score")
        )
    ]
    assert head, "the classification head's parameters must be inside D"
    # the model's own parameters are views of theta_0: a state dict need not hold it twice
    assert "theta0" not in sub.state_dict() and "theta_d" in sub.state_dict()


def _flat_gradient(sub, batch, labels, params):
    """d loss / d theta_D at the given parameters, as one flat vector."""
    leaves = {n: t.detach().clone().requires_grad_(True) for n, t in params.items()}
    out = torch.func.functional_call(sub.model, leaves, (), {**batch, "labels": labels})
    out.loss.backward()
    return torch.cat([leaves[n].grad.reshape(-1) for n in sub.names]), out.loss


@pytest.mark.parametrize("family", ["bert", "bart", "t5", "gpt2", "llama", "phi"])
@pytest.mark.parametrize("method", ["did", "said"])
def test_gradients_match_the_materialised_projection(family, method):
    torch.manual_seed(0)
    batch = tiny_batch()
    labels = torch.tensor([0, 2, 1])
    sub = SubspaceModel(
        tiny_classifier(family), SubspaceSettings(60, method=method, seed=4, grouping="layer")
    ).eval()
    with torch.no_grad():
        sub.theta_d.normal_(0, 3.0)  # away from zero, so lambda's gradient is non-trivial
        if sub.lambdas is not None:
            sub.lambdas.uniform_(0.5, 1.5)
    out = sub(**batch, labels=labels)
    out.loss.backward()

    matrix = sub.projection.materialise()
    g, loss = _flat_gradient(sub, batch, labels, sub.current_parameters())
    torch.testing.assert_close(out.loss, loss)
    if method == "did":
        expected_theta = matrix.T @ g
    else:
        group = torch.repeat_interleave(torch.tensor(sub.group_of_param), torch.tensor(sub.sizes))
        scale = sub.lambdas.detach()[group]
        expected_theta = matrix.T @ (scale * g)
        delta = matrix @ sub.theta_d.detach()
        # In float64: each scale's sum cancels, so float32 in another order is no reference.
        by_group = torch.zeros(sub.m, dtype=torch.float64).index_add_(0, group, delta.double() * g)
        torch.testing.assert_close(sub.lambdas.grad.double(), by_group, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(sub.theta_d.grad, expected_theta, rtol=1e-4, atol=1e-6)


def test_gradients_accumulate_over_backward_passes_and_a_frozen_scale_gets_none():
    """Two backward passes without zero_grad add up (gradient accumulation), and a scale
    frozen by the user gets no gradient: only what trains is given one."""
    batch, labels = tiny_batch(), torch.tensor([0, 2, 1])
    sub = SubspaceModel(tiny_classifier("bert"), SubspaceSettings(60, method="said", seed=4))
    with torch.no_grad():
        sub.theta_d.normal_(0, 3.0)
    sub.eval()
    sub(**batch, labels=labels).loss.backward()
    once = sub.theta_d.grad.clone(), sub.lambdas.grad.clone()
    sub(**batch, labels=labels).loss.backward()
    assert torch.equal(sub.theta_d.grad, 2 * once[0]) and torch.equal(sub.lambdas.grad, 2 * once[1])
    sub.theta_d.grad = sub.lambdas.grad = None
    sub.lambdas.requires_grad_(False)
    sub(**batch, labels=labels).loss.backward()
    assert sub.lambdas.grad is None and torch.equal(sub.theta_d.grad, once[0])


def test_a_second_backward_through_one_training_forward_says_why_it_cannot():
    sub = SubspaceModel(tiny_classifier("bert"), SubspaceSettings(40, seed=0)).train()
    loss = sub(**tiny_batch(), labels=torch.tensor([0, 2, 1])).loss
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError) as error:
        loss.backward()
    assert str(error.value) == (
        "a subspace model's training forward can be backpropagated once (its theta is released "
        "after the first backward pass); run the forward again, or use "
        "SubspaceModel(..., flat_gradient=False) for retain_graph"
    )


def test_training_moves_only_theta_d_and_lowers_the_loss():
    torch.manual_seed(0)
    model = tiny_classifier("bert")
    frozen = {n: p.detach().clone() for n, p in model.named_parameters()}
    sub = SubspaceModel(model, SubspaceSettings(40, seed=0)).train()
    batch, labels = tiny_batch(batch=6), torch.tensor([0, 1, 2, 0, 1, 2])
    opt = torch.optim.Adam(sub.trainable_parameters(), lr=0.2)
    losses = []
    for _ in range(40):
        loss = sub(**batch, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # Adam at this step size oscillates near the optimum: the best loss reached halves it.
    assert min(losses) < 0.5 * losses[0]
    for n, p in model.named_parameters():
        assert torch.equal(p, frozen[n])
    # No optimizer state of size D: only d-sized moments.
    sizes = [t.numel() for s in opt.state.values() for t in s.values() if t.dim() > 0]
    assert sizes and max(sizes) <= 40


def moved_said_model() -> SubspaceModel:
    """A SAID model in eval mode whose theta_d is far from zero."""
    sub = SubspaceModel(
        tiny_classifier("roberta"), SubspaceSettings(80, method="said", seed=2)
    ).eval()
    with torch.no_grad():
        sub.theta_d.normal_(0, 5.0)
    return sub


def test_merged_state_dict_reproduces_the_subspace_model():
    batch = tiny_batch()
    sub = moved_said_model()
    merged = tiny_classifier("roberta", seed=9)
    merged.load_state_dict(sub.merged_state_dict(), strict=False)
    assert torch.equal(_logits(merged, batch), _logits(sub, batch))


def test_fixed_parameters_project_once_and_give_the_same_outputs(monkeypatch):
    batch = tiny_batch()
    sub = moved_said_model()
    expected = [_logits(sub, batch), _logits(sub, batch)]
    calls = []
    original = sub.current_parameters
    monkeypatch.setattr(sub, "current_parameters", lambda: calls.append(1) or original())
    with sub.fixed_parameters():
        got = [_logits(sub, batch), _logits(sub, batch)]
    assert len(calls) == 1
    assert all(torch.equal(a, b) for a, b in zip(got, expected, strict=True))
    _logits(sub, batch)  # after the block, every forward projects again
    assert len(calls) == 2


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="unknown method 'lora'"):
        SubspaceModel(tiny_classifier("bert"), SubspaceSettings(10, method="lora"))
    with pytest.raises(ValueError, match="d=0"):
        SubspaceModel(tiny_classifier("bert"), SubspaceSettings(0))
    with pytest.raises(ValueError, match="m=41 scales, so it needs d > 41; got d=41"):
        SubspaceModel(tiny_classifier("bert"), SubspaceSettings(41, method="said"))
    with pytest.raises(ValueError, match="unknown SAID grouping 'block'"):
        SubspaceModel(
            tiny_classifier("bert"), SubspaceSettings(100, method="said", grouping="block")
        )
    D = sum(p.numel() for p in tiny_classifier("bert").parameters())
    for projection in ("dense", "fastfood"):  # stopped before anything d-sized is allocated
        for d in (D + 1, 10**9):
            with pytest.raises(ValueError) as error:
                SubspaceModel(tiny_classifier("bert"), SubspaceSettings(d, projection=projection))
            assert str(error.value) == (
                f"d={d} is larger than the model's parameter count D={D}: the subspace would be "
                "all of R^D (and its projection would allocate for d); use d <= D"
            )
    assert SubspaceModel(tiny_classifier("bert"), SubspaceSettings(D)).num_trainable() == D
    base = AutoModel.from_config(
        BertConfig(
            vocab_size=50,
            hidden_size=8,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=8,
        )
    )
    with pytest.raises(ValueError) as error:
        SubspaceModel(base, SubspaceSettings(10))
    assert str(error.value) == (
        "model BertModel has no sequence-classification head; load it with "
        "AutoModelForSequenceClassification"
    )


def test_settings_round_trip_through_a_task_header_and_reject_bad_values():
    settings = SubspaceSettings(77, method="said", projection="dense", seed=9, grouping="layer")
    header = settings.header()
    assert header == {"d": 77, "method": "said", "projection": "dense", "projection_seed": 9,
                      "grouping": "layer"}  # fmt: skip
    assert SubspaceSettings.from_header(header) == settings
    with pytest.raises(ValueError, match="unknown projection backend 'cuda'"):
        SubspaceSettings(10, backend="cuda")
    with pytest.raises(ValueError) as error:
        SubspaceSettings(10, projection="lsh")
    assert str(error.value) == f"unknown projection 'lsh'; choose one of {', '.join(PROJECTIONS)}"
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*64\), got -2"):
        SubspaceSettings(10, seed=-2)
    with pytest.raises(TypeError, match="settings must be a SubspaceSettings"):
        SubspaceModel(tiny_classifier("bert"), 10)


@pytest.mark.parametrize("family", FAMILIES)
def test_layer_grouping_finds_every_numbered_block_of_each_family(family):
    """SAID's 'layer' groups mean transformer layer for every family (GPT-2's blocks are
    transformer.h.N; decoders' model.layers.N): one group per block, none swallowing two."""
    from tiny_models import layer_count

    model = tiny_classifier(family)
    keys = set(parameter_groups([n for n, _ in model.named_parameters()], "layer"))
    numbered = {k for k in keys if k.rsplit(".", 1)[-1].isdigit()}
    assert len(numbered) == layer_count(model.config), sorted(keys)


def test_layer_grouping_keys_each_name_by_its_block_or_first_two_module_names():
    names = ["bert.embeddings.word_embeddings.weight", "bert.embeddings.LayerNorm.bias",
             "bert.encoder.layer.0.attention.self.query.weight",
             "bert.encoder.layer.11.output.dense.bias", "bert.pooler.dense.weight",
             "classifier.weight", "classifier.bias", "lm_head.dense.weight",
             "logit_scale"]  # fmt: skip
    assert parameter_groups(names, "layer") == [
        "bert.embeddings", "bert.embeddings", "bert.encoder.layer.0", "bert.encoder.layer.11",
        "bert.pooler", "classifier", "classifier", "lm_head.dense", "logit_scale",
    ]  # fmt: skip
    assert parameter_groups(names, "tensor") == names
    with pytest.raises(ValueError) as error:
        parameter_groups(names, "block")
    assert str(error.value) == "unknown SAID grouping 'block'; choose one of tensor, layer"


def test_said_scales_keep_the_unscaled_rate_and_theta_d_the_scaled_one():
    from intdim.method.training import TrainSettings, optimiser_groups

    net = SubspaceModel(tiny_classifier("bert"), SubspaceSettings(60, method="said", seed=0))
    settings = TrainSettings(learning_rate=0.05, steps=1, batch_size=1, max_length=4, seed=0,
                             scale_learning_rate=0.2)  # fmt: skip
    groups = optimiser_groups(net, net.trainable_parameters(), settings)
    optimizer = torch.optim.AdamW(groups, lr=settings.learning_rate)
    rates = {id(p): g["lr"] for g in optimizer.param_groups for p in g["params"]}
    assert rates == {id(net.theta_d): 0.05, id(net.lambdas): 0.2}
    # DID, or no scale rate: one group at the learning rate
    did = SubspaceModel(tiny_classifier("bert"), SubspaceSettings(60, method="did", seed=0))
    assert optimiser_groups(did, did.trainable_parameters(), settings) == [did.theta_d]
    plain = TrainSettings(learning_rate=0.05, steps=1, batch_size=1, max_length=4, seed=0)
    assert optimiser_groups(net, net.trainable_parameters(), plain) == net.trainable_parameters()


@pytest.mark.parametrize("backend", ["torch", "numba", "triton"])
def test_the_projection_runs_on_the_backend_the_settings_ask_for(backend):
    pytest.importorskip(backend)
    sub = SubspaceModel(tiny_classifier("bert"), SubspaceSettings(40, backend=backend))
    assert type(sub.projection) is projection_class("fastfood", backend)
    assert sub.settings == SubspaceSettings(40, backend=backend)


def test_a_header_keeps_the_legacy_gradient_and_takes_the_backend_asked_for():
    legacy = SubspaceSettings(
        12, projection="fastfood_per_tensor", legacy_gradient=True, seed=4, backend="torch"
    )
    header = legacy.header()
    assert header["legacy_gradient"] is True and "backend" not in header
    back = SubspaceSettings.from_header(header, backend="torch")
    assert back == legacy and back.backend == "torch"
    assert SubspaceSettings.from_header(header).backend == "auto"
