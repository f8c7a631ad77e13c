"""Training's backward pass through one flat gradient buffer (``FlatGradient``) against the
autograd route through ``split`` that it replaces: the same numbers, without a D-sized copy."""

import pytest
import torch
from allocations import Allocations
from intdim.method.subspace import SubspaceModel, SubspaceSettings
from tiny_models import tiny_batch, tiny_classifier

LABELS = torch.tensor([0, 2, 1])


def _pair(family: str, method: str, dtype=torch.float32, backend: str = "auto"):
    """The same subspace model twice: flat gradient buffer, and autograd's split route."""
    nets = []
    for flat in (True, False):
        model = tiny_classifier(family, seed=0).to(dtype)
        settings = SubspaceSettings(60, method=method, seed=4, grouping="layer", backend=backend)
        net = SubspaceModel(model, settings, flat_gradient=flat).eval()  # no dropout
        with torch.no_grad():
            net.theta_d.normal_(0, 3.0, generator=torch.Generator().manual_seed(1))
            if net.lambdas is not None:
                net.lambdas.uniform_(0.5, 1.5, generator=torch.Generator().manual_seed(2))
        nets.append(net)
    return nets


def _grads(net) -> list[torch.Tensor]:
    return [p.grad.clone() for p in net.trainable_parameters()]


@pytest.mark.parametrize("family", ["bert", "t5", "gpt2", "qwen2"])
@pytest.mark.parametrize("method", ["did", "said"])
def test_the_flat_buffer_gives_autograds_gradients_bit_for_bit(family, method):
    flat, reference = _pair(family, method)
    losses = [net(**tiny_batch(), labels=LABELS).loss for net in (flat, reference)]
    for loss in losses:
        loss.backward()
    assert torch.equal(losses[0], losses[1])
    for a, b in zip(_grads(flat), _grads(reference), strict=True):
        assert torch.equal(a, b) and a.abs().sum() > 0
    assert flat.flat_grad is not None and reference.flat_grad is None


def test_backward_passes_accumulate_and_unused_parameters_get_zero_not_stale_gradients():
    flat, reference = _pair("bert", "said")
    for net in (flat, reference):
        net(**tiny_batch(), labels=LABELS).loss.backward()
        # The second backward reaches only the embeddings: every later parameter has no
        # gradient in it, so the buffer's slices from the first pass must not be reused.
        out = net(**tiny_batch(seed=1), output_hidden_states=True)
        out.hidden_states[0].pow(2).sum().backward()
    for a, b in zip(_grads(flat), _grads(reference), strict=True):
        assert torch.equal(a, b)
    head = flat.names.index("classifier.weight")
    offset, size = flat.offsets[head]
    assert torch.count_nonzero(flat.flat_grad[offset : offset + size]) == 0


def test_a_bf16_model_keeps_its_gradient_in_bf16_and_matches_the_autograd_route():
    flat, reference = _pair("bert", "did", dtype=torch.bfloat16)
    for net in (flat, reference):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = net(**tiny_batch(), labels=LABELS).loss
        loss.backward()
    assert flat.flat_grad.dtype == torch.bfloat16
    assert flat.theta_d.grad.dtype == torch.float32
    assert torch.equal(flat.theta_d.grad, reference.theta_d.grad)


def test_the_buffer_is_made_once_and_no_per_tensor_gradient_outlives_the_backward_pass():
    flat, _ = _pair("bert", "did")
    before = {"theta0_bytes": 4 * flat.D, "flat_gradient_bytes": 0,
              "projection_bytes": flat.projection.state_bytes(), "trainable_bytes": 4 * 60}  # fmt: skip
    assert flat.memory_report() == before and before["projection_bytes"] > 0
    pointers = []
    for seed in (0, 1):
        leaves = flat.gradient_leaves()
        out = torch.func.functional_call(
            flat.model, leaves, (), {**tiny_batch(seed=seed), "labels": LABELS}
        )
        out.loss.backward()
        assert all(leaf.grad is None for leaf in leaves.values())
        pointers.append(flat.flat_grad.data_ptr())
    assert pointers[0] == pointers[1]
    assert flat.memory_report() == {**before, "flat_gradient_bytes": 4 * flat.D}


def test_after_the_backward_pass_theta_and_px_are_released_and_a_second_pass_is_refused():
    flat, _ = _pair("bert", "said")
    leaves = flat.gradient_leaves()
    out = torch.func.functional_call(flat.model, leaves, (), {**tiny_batch(), "labels": LABELS})
    out.loss.backward(retain_graph=True)
    # The graph (alive while the loss is) still holds the leaves, but not theta's numbers.
    assert all(leaf.numel() == 0 for leaf in leaves.values())
    with pytest.raises(RuntimeError, match="can be backpropagated once"):
        out.loss.backward()


@pytest.mark.parametrize("method", ["did", "said"])
def test_no_d_sized_tensor_is_made_in_the_backward_pass(method):
    # The Numba projection's transpose makes only d-sized outputs, so on the flat route every
    # D-sized allocation of the old route (split's joined copy) is gone; the old route's own
    # count shows that the measurement sees it.
    flat, reference = _pair("bert", method, backend="numba")
    largest = {}
    for name, net in (("flat", flat), ("autograd", reference)):
        loss = net(**tiny_batch(), labels=LABELS).loss
        with Allocations() as watch:
            loss.backward()
        largest[name] = watch.largest
    assert largest["autograd"] >= flat.D
    assert largest["flat"] == max(flat.sizes)  # one parameter's gradient, then freed


@pytest.mark.parametrize("method", ["did", "said"])
def test_a_projection_that_reads_bf16_gets_the_bf16_buffer_itself(method, monkeypatch):
    # The Triton kernels (here under Triton's CPU interpreter) read a bf16 gradient as it is,
    # so the transpose gets the buffer itself: no D-sized float32 copy of it is made.
    pytest.importorskip("triton")
    flat, reference = _pair("bert", method, dtype=torch.bfloat16, backend="triton")
    assert flat.projection.reads_low_precision
    seen = []
    for name in ("gradient", "scaled_transpose", "segment_dots"):
        original = getattr(flat.projection, name)

        def spy(g, *args, original=original, **kwargs):
            seen.append((g.dtype, g.data_ptr()))
            return original(g, *args, **kwargs)

        monkeypatch.setattr(flat.projection, name, spy)
    leaves = flat.gradient_leaves()
    for net, params in ((flat, leaves), (reference, reference.current_parameters())):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            kwargs = {**tiny_batch(), "labels": LABELS}
            torch.func.functional_call(net.model, params, (), kwargs).loss.backward()
    buffer = (torch.bfloat16, flat.flat_grad.data_ptr())
    assert seen == [buffer] * (1 if method == "did" else 2)
    # the leaves are released as empty tensors of theta_0's dtype
    assert all(leaf.numel() == 0 and leaf.dtype == torch.bfloat16 for leaf in leaves.values())
    for a, b in zip(_grads(flat), _grads(reference), strict=True):
        assert torch.equal(a, b)
