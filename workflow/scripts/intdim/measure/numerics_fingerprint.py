"""A fingerprint of the CPU arithmetic of one pre-training update, to find the first operation
whose bits differ between two CPUs.

For one of the workflow's RoBERTa shapes, on a fixed random batch: the digest of every initial
parameter, of every module's output in a training forward, of the loss, of every parameter's
gradient, of the parameters after one AdamW update, and of the loss of an evaluation forward
(no dropout, which takes other attention kernels). Two CPUs' fingerprints, compared in order,
name the first module or gradient that differs: where portable numerics stopped giving equal
bits (an AMD EPYC against an Intel Xeon, docs/methods.md).

The numerics are chosen before the first tensor operation, so a fingerprint is taken in a
process of its own (``tools/numerics_fingerprint.py``).
"""

from __future__ import annotations

import hashlib

from ..method.pretraining import mlm_loss, roberta_config
from ..pipeline.numerics import this_cpu, use_numerics

VOCAB, LENGTH, BATCH = 2048, 64, 32  # the default config's pre-training
LEARNING_RATE, WEIGHT_DECAY = 3.0e-3, 0.01


def digest(value) -> str | None:
    """The first 16 hex digits of the sha256 of a tensor's bytes, or of the first tensor in a
    module's output (a tuple or a ModelOutput); None where there is none."""
    import torch

    if isinstance(value, torch.Tensor):
        data = value.detach().contiguous().numpy().tobytes()
        return hashlib.sha256(data).hexdigest()[:16]
    items = value.values() if hasattr(value, "values") else value
    if isinstance(value, (tuple, list)) or hasattr(value, "values"):
        for item in items:
            found = digest(item)
            if found is not None:
                return found
    return None


def _batch(seed: int) -> dict:
    """Token ids with padding at the end of some rows and 15% of the real tokens masked."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, VOCAB, (BATCH, LENGTH), generator=generator)
    lengths = torch.randint(LENGTH // 4, LENGTH + 1, (BATCH,), generator=generator)
    real = torch.arange(LENGTH)[None, :] < lengths[:, None]
    masked = real & (torch.rand(BATCH, LENGTH, generator=generator) < 0.15)
    labels = torch.where(masked, ids, -100)
    ids = torch.where(masked, 4, torch.where(real, ids, 1))  # 4: a mask id, 1: the padding id
    return {"input_ids": ids, "attention_mask": real.long(), "labels": labels}


def fingerprint(shape: dict, numerics: str = "portable", seed: int = 0) -> dict:
    """Digests of one update of a RoBERTa of ``shape``, in the order they were computed."""
    import torch
    from transformers import RobertaForMaskedLM

    use_numerics(numerics)  # before this process's first tensor operation
    torch.set_num_threads(1)  # as the workflow's pre-training jobs run
    torch.manual_seed(seed)
    model = RobertaForMaskedLM(roberta_config(shape, VOCAB, LENGTH))
    batch = _batch(seed)
    # The initialisation first: its random draws have vectorised kernels of their own.
    digests = {f"initial {name}": digest(param) for name, param in model.named_parameters()}
    phase = ["train"]

    def record(name):
        def hook(_module, _inputs, output):
            found = digest(output)
            if found is not None:
                digests[f"{phase[0]} forward {name or 'model'}"] = found

        return hook

    for name, module in model.named_modules():
        module.register_forward_hook(record(name))
    model.train()
    loss = mlm_loss(model, batch)
    digests["train loss"] = digest(loss)
    loss.backward()
    for name, param in model.named_parameters():
        if param.grad is not None:
            digests[f"gradient {name}"] = digest(param.grad)
    torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY).step()
    for name, param in model.named_parameters():
        digests[f"updated {name}"] = digest(param)
    phase[0] = "eval"
    model.eval()
    with torch.no_grad():
        digests["eval loss"] = digest(mlm_loss(model, batch))
    return {
        "shape": shape,
        "numerics": numerics,
        "cpu": this_cpu(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
        "digests": digests,
    }


def differences(first: dict, second: dict) -> list[str]:
    """The digests, in the first fingerprint's order, that differ or that only one has."""
    a, b = first["digests"], second["digests"]
    return [key for key in [*a, *(k for k in b if k not in a)] if a.get(key) != b.get(key)]
