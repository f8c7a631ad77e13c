"""Fine-tuning a classifier in a random d-dimensional subspace: theta_D = theta_0 + P(theta_d).

Two methods (Aghajanyan et al. 2021):

* DID, direct intrinsic dimension: one global projection, d trainable numbers.
* SAID, structure-aware: m parameter groups each get a learned scale lambda_i applied to their
  slice of the projection, theta_i = theta_0,i + lambda_i * P(theta_{d-m})_i. The m scales are
  paid out of the budget, so d - m projection coordinates + m scales = d trainable numbers.

Every parameter of the wrapped model is inside D, the randomly initialised classification head
included. The frozen theta_0 is held once, as one flat buffer that the model's own parameters
are views of; the forward pass calls the model functionally with theta_0 + P(theta_d), so no
D-sized optimizer state or second copy of the weights exists.

Training holds theta's gradient once too (``FlatGradient``): theta is computed without autograd
and handed to the model as leaf tensors that are views of it; as the backward pass finishes
each leaf's gradient, a hook copies it into one flat buffer in the model's dtype and frees it,
and once the whole backward pass is done the buffer goes through the projection's transpose.
With a bf16 theta_0 that is 6 bytes a parameter (theta_0, theta, the gradient) where the
autograd route through ``split`` holds 12 (every per-tensor gradient, their joined copy and
its float32 copy).
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections import OrderedDict
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.func import functional_call

from ..arguments import check_dimension, check_seed
from ..projections.base import Projection, Segments, shift, shift_gradients
from ..projections.registry import BACKENDS, PROJECTIONS, check_options, make_projection

METHODS = ("did", "said")
GROUPINGS = ("tensor", "layer")

# Numbered blocks of the transformer families we support (BERT "layer.3", BART "layers.3",
# T5 "block.3", XLNet "layer.3", ALBERT "albert_layer_groups.0", GPT-2 "transformer.h.3",
# Llama, Qwen2, Mistral, Phi, Gemma, GPT-NeoX "layers.3"): the layer-grouping key.
_LAYER_PATTERN = re.compile(r"^(.*?\b(?:layer|layers|block|h|albert_layer_groups)\.\d+)\.")

# SAID scales start at 1: with lambda = 0 and theta_d = 0 both gradients would vanish.
SAID_LAMBDA_INIT = 1.0


@dataclass(frozen=True)
class SubspaceSettings:
    """Everything that decides a subspace model's numbers, given theta_0: d, the method, the
    projection and its seed, and SAID's grouping. ``backend`` only picks where Fastfood runs
    (every backend computes the same products), so a task file does not record it.

    ``save_task`` writes ``header()`` into a task file and ``load_task`` rebuilds the settings
    with ``from_header``.
    """

    d: int
    method: str = "did"
    projection: str = "fastfood"
    seed: int = 0
    grouping: str = "tensor"
    backend: str = "auto"
    # fastfood_per_tensor only: the released code's 1/LL-scaled gradient instead of P^T g.
    legacy_gradient: bool = False

    def __post_init__(self):
        check_dimension(self.d)
        check_seed(self.seed)
        for name, value, allowed in (
            ("method", self.method, METHODS),
            ("projection", self.projection, PROJECTIONS),
            ("SAID grouping", self.grouping, GROUPINGS),
            ("projection backend", self.backend, BACKENDS),
        ):
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")
        check_options(self.projection, {"legacy_gradient": self.legacy_gradient})

    def header(self) -> dict:
        """The settings as a task file records them (the projection's seed as projection_seed)."""
        fields = asdict(self)
        del fields["backend"]
        fields["projection_seed"] = fields.pop("seed")
        if not self.legacy_gradient:  # the key only where it matters: older files lack it
            del fields["legacy_gradient"]
        return fields

    @classmethod
    def from_header(cls, header: dict, backend: str = "auto") -> SubspaceSettings:
        return cls(
            d=header["d"],
            method=header["method"],
            projection=header["projection"],
            seed=header["projection_seed"],
            grouping=header["grouping"],
            backend=backend,
            legacy_gradient=header.get("legacy_gradient", False),
        )


def parameter_groups(names: list[str], grouping: str) -> list[str]:
    """The SAID group key of each parameter name.

    ``tensor``: every parameter tensor is its own group (as the public SAID code does).
    ``layer``: parameters inside one numbered transformer block share a group; every other
    parameter is grouped by the first two components of its module path (for BERT:
    ``bert.embeddings``, ``bert.pooler``, ``classifier``).
    """
    if grouping not in GROUPINGS:
        raise ValueError(
            f"unknown SAID grouping {grouping!r}; choose one of {', '.join(GROUPINGS)}"
        )
    if grouping == "tensor":
        return list(names)
    keys = []
    for name in names:
        match = _LAYER_PATTERN.match(name)
        if match:
            keys.append(match.group(1))
        else:
            module = name.rsplit(".", 1)[0] if "." in name else name
            keys.append(".".join(module.split(".")[:2]))
    return keys


def is_sequence_classifier(model: nn.Module) -> bool:
    return type(model).__name__.endswith("ForSequenceClassification")


class FlatGradient:
    """One training forward's backward pass, gathered into one flat gradient buffer.

    Made by ``SubspaceModel.gradient_leaves``: each leaf's post-accumulate hook copies its
    gradient into ``buffer`` and drops it (so at most one per-tensor gradient exists beside the
    buffer); the first hook queues ``finish`` to run when the backward pass ends, which zeroes
    the slices of parameters that got no gradient, runs the transpose and adds the result to
    theta_d.grad (and the scales' .grad), as autograd would have. Then it lets go of theta and
    P x: the graph's leaf nodes outlive the backward pass (as long as the loss does), and would
    otherwise keep theta's D numbers alive into the next step's forward.
    """

    def __init__(self, net: SubspaceModel, px: torch.Tensor | None, seg_scale):
        self.net, self.px, self.seg_scale = net, px, seg_scale
        self.leaves: list[torch.Tensor] = []
        self.filled: set[int] = set()
        self.queued = self.done = False

    def hook(self, index: int, offset: int, size: int):
        def collect(leaf: torch.Tensor) -> None:
            if self.done:
                raise RuntimeError(
                    "a subspace model's training forward can be backpropagated once (its "
                    "theta is released after the first backward pass); run the forward again, "
                    "or use SubspaceModel(..., flat_gradient=False) for retain_graph"
                )
            if not self.queued:  # ends the backward pass that is running now
                torch.autograd.Variable._execution_engine.queue_callback(self.finish)
                self.queued = True
            self.net.flat_grad[offset : offset + size].copy_(leaf.grad.reshape(-1))
            leaf.grad = None
            self.filled.add(index)

        return collect

    def finish(self) -> None:
        net = self.net
        buffer = net.flat_grad
        for index, (offset, size) in enumerate(net.offsets):
            if index not in self.filled:  # unused by this forward: its gradient is zero
                buffer[offset : offset + size].zero_()
        if buffer.dtype != torch.float32 and not net.projection.reads_low_precision:
            buffer = buffer.float()
        said = net.lambdas is not None
        grad_x, grad_lambdas = shift_gradients(
            net.projection, buffer, net.segments, self.seg_scale, self.px, net.m,
            net.theta_d.requires_grad, said and net.lambdas.requires_grad,
        )  # fmt: skip
        for param, grad in ((net.theta_d, grad_x), (net.lambdas, grad_lambdas)):
            if grad is not None:
                param.grad = grad if param.grad is None else param.grad + grad
        released = torch.empty(0, dtype=net.theta0.dtype, device=net.theta0.device)
        for leaf in self.leaves:
            leaf.data = released
        self.leaves, self.px, self.seg_scale = [], None, None
        self.done = True


class SubspaceModel(nn.Module):
    """Wraps a ``transformers`` sequence classifier so that exactly d numbers train."""

    def __init__(self, model: nn.Module, settings: SubspaceSettings, flat_gradient: bool = True):
        """flat_gradient: gather theta's gradient in one buffer (``FlatGradient``); False runs
        the backward pass through autograd's ``split`` instead (the same numbers, more memory:
        kept as the reference the tests compare with)."""
        super().__init__()
        if not isinstance(settings, SubspaceSettings):
            raise TypeError(f"settings must be a SubspaceSettings, got {settings!r}")
        if not is_sequence_classifier(model):
            raise ValueError(
                f"model {type(model).__name__} has no sequence-classification head; load it with "
                "AutoModelForSequenceClassification"
            )
        self.model = model
        self.settings = settings
        d, method, seed, grouping = settings.d, settings.method, settings.seed, settings.grouping
        self.d, self.method, self.seed, self.grouping = d, method, seed, grouping

        named = list(model.named_parameters())  # tied weights appear once
        self.names = [n for n, _ in named]
        self.shapes = [p.shape for _, p in named]
        self.sizes = [p.numel() for _, p in named]
        starts = list(itertools.accumulate(self.sizes, initial=0))[:-1]
        # (start, size) of each parameter in the flat theta_0, theta and gradient
        self.offsets = list(zip(starts, self.sizes, strict=True))
        self.D = sum(self.sizes)
        self.flat_gradient = flat_gradient
        self.flat_grad: torch.Tensor | None = None  # allocated by the first training forward
        if d > self.D:  # checked before anything D- or d-sized is allocated
            raise ValueError(
                f"d={d} is larger than the model's parameter count D={self.D}: the subspace "
                "would be all of R^D (and its projection would allocate for d); use d <= D"
            )
        dtype = named[0][1].dtype
        device = named[0][1].device

        # theta_0 stored once: the model's parameters become frozen views of this flat buffer.
        flat = torch.empty(self.D, dtype=dtype, device=device)
        for (_, param), (offset, size) in zip(named, self.offsets, strict=True):
            flat[offset : offset + size].copy_(param.detach().reshape(-1))
            param.data = flat[offset : offset + size].view(param.shape)
            param.requires_grad_(False)
        self.register_buffer("theta0", flat, persistent=False)

        if method == "said":
            keys = parameter_groups(self.names, grouping)
            self.group_keys = list(OrderedDict.fromkeys(keys))
            index = {k: i for i, k in enumerate(self.group_keys)}
            self.group_of_param = [index[k] for k in keys]
            m = len(self.group_keys)
            if d <= m:
                raise ValueError(
                    f"SAID with grouping {grouping!r} has m={m} scales, so it needs d > {m}; "
                    f"got d={d}"
                )
            self.m = m
            self.lambdas = nn.Parameter(torch.full((m,), SAID_LAMBDA_INIT, device=device))
            self.segments = Segments.from_sizes(self.sizes, self.group_of_param, device)
        else:
            self.group_keys, self.group_of_param, self.m = [], [], 0
            self.lambdas, self.segments = None, None
        self.projection: Projection = make_projection(
            settings.projection, d - self.m, self.D, seed, device=device, backend=settings.backend,
            sizes=self.sizes, legacy_gradient=settings.legacy_gradient,
        )  # fmt: skip
        # The trained numbers are float32 whatever the model's dtype: theta_0 may be bf16
        # (2 bytes a parameter for a billion-parameter model), theta_d and the scales are not.
        self.theta_d = nn.Parameter(torch.zeros(d - self.m, dtype=torch.float32, device=device))

    # -- parameters -------------------------------------------------------------------------

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in (self.theta_d, self.lambdas) if p is not None]

    def num_trainable(self) -> int:
        return sum(p.numel() for p in self.trainable_parameters())

    def current_parameters(self) -> dict[str, torch.Tensor]:
        """theta_D = theta_0 + P(theta_d) (SAID: scaled per group), as named tensors."""
        flat = shift(self.projection, self.theta_d, self.theta0, self.lambdas, self.segments)
        if flat.dtype != self.theta0.dtype:  # a bf16 model: theta in its own dtype
            flat = flat.to(self.theta0.dtype)
        return OrderedDict(
            (n, t.view(s))
            for n, t, s in zip(self.names, flat.split(self.sizes), self.shapes, strict=True)
        )

    @torch.no_grad()
    def merged_state_dict(self) -> dict[str, torch.Tensor]:
        """The fine-tuned weights as an ordinary state dict of the wrapped model."""
        return {n: t.detach().clone() for n, t in self.current_parameters().items()}

    # -- forward ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def fixed_parameters(self):
        """Inside, every forward uses theta_D computed once on entry, without autograd: for
        evaluation, where theta_d does not change, so the projection runs once instead of
        once a batch. The outputs are the same as without it."""
        with torch.no_grad():
            self._fixed = self.current_parameters()
        try:
            yield self
        finally:
            self._fixed = None

    def gradient_leaves(self) -> dict[str, torch.Tensor]:
        """theta_D as leaf tensors (views of one flat theta) whose gradients a ``FlatGradient``
        gathers; the training forward's parameters when ``flat_gradient`` is set."""
        said = self.lambdas is not None
        with torch.no_grad():
            seg_scale = self.lambdas[self.segments.groups] if said else None
            flat, px = self.projection.shifted_forward(
                self.theta_d, self.theta0, self.segments, seg_scale, keep_px=said
            )
            flat = flat.to(self.theta0.dtype)
        if self.flat_grad is None:
            self.flat_grad = torch.empty_like(self.theta0)
        gather = FlatGradient(self, px, seg_scale)
        leaves = OrderedDict()
        for index, (name, shape, (offset, size)) in enumerate(
            zip(self.names, self.shapes, self.offsets, strict=True)
        ):
            leaf = flat[offset : offset + size].view(shape).detach().requires_grad_(True)
            leaf.register_post_accumulate_grad_hook(gather.hook(index, offset, size))
            leaves[name] = leaf
        gather.leaves = list(leaves.values())
        return leaves

    def forward(self, *args, **kwargs):
        fixed = getattr(self, "_fixed", None)
        if fixed is not None:
            params = fixed
        elif (
            self.flat_gradient
            and torch.is_grad_enabled()
            and any(p.requires_grad for p in self.trainable_parameters())
        ):
            params = self.gradient_leaves()
        else:
            params = self.current_parameters()
        return functional_call(self.model, params, args, kwargs)

    def memory_report(self) -> dict[str, int]:
        """Bytes held by each part (theta_0 once, the projection's state, the trainables, and
        the flat gradient once training has made it)."""
        return {
            "theta0_bytes": self.theta0.numel() * self.theta0.element_size(),
            "flat_gradient_bytes": 0
            if self.flat_grad is None
            else self.flat_grad.numel() * self.flat_grad.element_size(),
            "projection_bytes": self.projection.state_bytes(),
            "trainable_bytes": sum(
                p.numel() * p.element_size() for p in self.trainable_parameters()
            ),
        }
