"""A fingerprint of the CPU arithmetic of one pre-training update, to find the first operation
whose bits differ between two CPUs.

For one of the workflow's RoBERTa shapes, on a fixed random batch: the digest of every initial
parameter, of every module's output in a training forward, of the loss, of every parameter's
gradient, of the parameters after one AdamW update, and of every module's output and the loss
of an evaluation forward (no dropout, which takes other attention kernels). Two CPUs'
fingerprints, compared in order, name the first module or gradient that differs: where portable
numerics stopped giving equal bits (an AMD EPYC against an Intel Xeon, docs/methods.md).

Bits may part only later, once the weights reach values where two CPUs' kernels disagree. With
``updates`` above 1, each further update (a new random batch of its own) adds three digests:
its training loss, all weights after it and its evaluation loss. The first of them that differs
says at which update, and in which of the three, the bits parted; ``detail_at`` then digests
that update in full on both CPUs, to name its first operation that differs.

The numerics are chosen before the first tensor operation, so a fingerprint is taken in a
process of its own (``tools/numerics_fingerprint.py``).
"""

from __future__ import annotations

import hashlib

from ..method.pretraining import PretrainSettings, mlm_loss, roberta_config
from ..pipeline.numerics import this_cpu, use_numerics


def digest(value) -> str | None:
    """The first 16 hex digits of the sha256 of a tensor's bytes, or of the first tensor in a
    module's output (a tuple or a ModelOutput); None where there is none."""
    import torch

    if isinstance(value, torch.Tensor):
        return _digest_all([value])
    items = value.values() if isinstance(value, dict) else value  # a ModelOutput is a dict
    if isinstance(value, (dict, tuple, list)):
        for item in items:
            found = digest(item)
            if found is not None:
                return found
    return None


def _digest_all(tensors) -> str:
    """One digest of several tensors' bytes, in order."""
    h = hashlib.sha256()
    for tensor in tensors:
        h.update(tensor.detach().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _batch(settings: PretrainSettings, vocab_size: int, update: int = 1) -> dict:
    """Token ids with padding at the end of some rows and mlm_probability of the real tokens
    masked; each update's batch from a seed of its own."""
    import torch

    batch, length = settings.batch_size, settings.max_length
    generator = torch.Generator().manual_seed(settings.seed + update - 1)
    ids = torch.randint(3, vocab_size, (batch, length), generator=generator)
    lengths = torch.randint(length // 4, length + 1, (batch,), generator=generator)
    real = torch.arange(length)[None, :] < lengths[:, None]
    masked = real & (torch.rand(batch, length, generator=generator) < settings.mlm_probability)
    labels = torch.where(masked, ids, -100)
    ids = torch.where(masked, 4, torch.where(real, ids, 1))  # 4: a mask id, 1: the padding id
    return {"input_ids": ids, "attention_mask": real.long(), "labels": labels}


def check_updates(updates: int, detail_at: tuple[int, ...] = ()) -> None:
    """Raise ValueError, naming the tool's flag, for a number of updates or an update to
    digest in full that ``fingerprint`` cannot take."""
    if updates < 1:
        raise ValueError(f"--updates must be 1 or more, not {updates}")
    outside = [k for k in detail_at if not 2 <= k <= updates]
    if outside:
        raise ValueError(f"--detail-at {outside[0]} is not an update from 2 to --updates "
                         f"({updates}); the first update is always in full")  # fmt: skip


def fingerprint(shape: dict, settings: PretrainSettings, vocab_size: int,
                numerics: str = "portable", updates: int = 1,
                detail_at: tuple[int, ...] = ()) -> dict:  # fmt: skip
    """Digests of ``updates`` updates of a RoBERTa of ``shape`` with the batch size, sequence
    length, optimiser settings and seed of ``settings``, in the order they were computed: all
    of the first update's, three of each one after it, and all of each update in ``detail_at``
    as well (its keys begin "update K "), to name the operation where bits that part only at
    update K part."""
    check_updates(updates, detail_at)
    import torch
    from transformers import RobertaForMaskedLM

    use_numerics(numerics)  # before this process's first tensor operation
    torch.set_num_threads(1)  # as the workflow's pre-training jobs run
    torch.manual_seed(settings.seed)
    model = RobertaForMaskedLM(roberta_config(shape, vocab_size, settings.max_length))
    # The initialisation first: its random draws have vectorised kernels of their own.
    digests = {f"initial {name}": digest(param) for name, param in model.named_parameters()}
    phase = [None]  # the prefix of the modules' outputs to record, None for none

    def record(name):
        def hook(_module, _inputs, output):
            if phase[0] is None:
                return
            found = digest(output)
            if found is not None:
                digests[f"{phase[0]} forward {name or 'model'}"] = found

        return hook

    for name, module in model.named_modules():
        module.register_forward_hook(record(name))
    # The workflow's AdamW for these numerics at the full rate: with no warm-up the schedule's
    # first rate is the rate itself (a warm-up's first is 0, which would update nothing), and
    # the schedule is never stepped.
    from ..method.optimisation import adamw_with_warmup

    optimizer, _ = adamw_with_warmup(
        model.parameters(), settings.learning_rate, settings.weight_decay, 0.0, updates
    )
    for update in range(1, updates + 1):
        batch = _batch(settings, vocab_size, update)
        prefix = "" if update == 1 else f"update {update} "
        _update(model, optimizer, batch, digests, phase, prefix,
                detailed=update == 1 or update in detail_at)  # fmt: skip
    return {
        "shape": shape,
        "numerics": numerics,
        "cpu": this_cpu(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
        "digests": digests,
    }


def _update(model, optimizer, batch, digests, phase, prefix, detailed):
    """One update, digesting its training loss, its evaluation loss and, after the first
    update, all weights after it; ``detailed`` also every module's output of both forwards,
    every gradient and every updated parameter."""
    import torch

    model.train()
    optimizer.zero_grad()
    phase[0] = f"{prefix}train" if detailed else None
    loss = mlm_loss(model, batch)
    digests[f"{prefix}train loss"] = digest(loss)
    loss.backward()
    if detailed:
        for name, param in model.named_parameters():
            if param.grad is not None:
                digests[f"{prefix}gradient {name}"] = digest(param.grad)
    optimizer.step()
    if detailed:
        for name, param in model.named_parameters():
            digests[f"{prefix}updated {name}"] = digest(param)
    if prefix:  # the first update's weights are digested one by one above
        digests[f"{prefix}weights"] = _digest_all(model.parameters())
    phase[0] = f"{prefix}eval" if detailed else None
    model.eval()
    with torch.no_grad():
        digests[f"{prefix}eval loss"] = digest(mlm_loss(model, batch))
    phase[0] = None


def differences(first: dict, second: dict) -> list[str]:
    """The digests, in the first fingerprint's order, that differ or that only one has."""
    a, b = first["digests"], second["digests"]
    return [key for key in [*a, *(k for k in b if k not in a)] if a.get(key) != b.get(key)]
