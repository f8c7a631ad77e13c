"""What full fine-tuning, subspace training and pre-training share: AdamW with a linear warm-up
and decay, and a seeded epoch-shuffling batch order."""

from __future__ import annotations

import torch

from ..pipeline.numerics import adamw_options


def adamw_with_warmup(
    parameters, learning_rate: float, weight_decay: float, warmup_fraction: float, steps: int
):
    """(AdamW, its schedule): linear warm-up over ``warmup_fraction`` of the steps, then linear
    decay to zero at ``steps``. Under portable numerics AdamW is the fused kernel
    (``adamw_options``)."""
    from transformers import get_linear_schedule_with_warmup

    optimizer = torch.optim.AdamW(
        parameters, lr=learning_rate, weight_decay=weight_decay, **adamw_options()
    )
    scheduler = get_linear_schedule_with_warmup(optimizer, round(warmup_fraction * steps), steps)
    return optimizer, scheduler


class BatchOrder:
    """Batches of example indices: a seeded shuffle per epoch, each batch whole.

    The tail of an epoch too short for a batch is skipped and a fresh shuffle starts, so every
    batch has exactly ``batch_size`` examples (all of them, freshly shuffled, when there are
    fewer). The generator is this order's alone: the same seed gives the same batches whatever
    else draws random numbers.
    """

    def __init__(self, size: int, batch_size: int, generator: torch.Generator):
        self.size, self.batch_size, self.generator = size, batch_size, generator
        self.order, self.cursor = torch.randperm(size, generator=generator), 0

    def next(self) -> list[int]:
        if self.cursor + self.batch_size > len(self.order):
            self.order, self.cursor = torch.randperm(self.size, generator=self.generator), 0
        batch = self.order[self.cursor : self.cursor + self.batch_size].tolist()
        self.cursor += self.batch_size
        return batch

    def state_dict(self) -> dict:
        """Where the order stands: its generator, this epoch's shuffle, the next batch's start."""
        return {"generator": self.generator.get_state(), "order": self.order, "cursor": self.cursor}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.order, self.cursor = state["order"], int(state["cursor"])
