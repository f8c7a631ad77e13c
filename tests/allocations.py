"""What the operations run inside a block allocate (for tests of memory, without a GPU)."""

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves


class Allocations(TorchDispatchMode):
    """Every tensor an operation allocates while this is active, as (elements, dtype); views
    and in-place results share an input's storage and allocate nothing."""

    def __init__(self):
        super().__init__()
        self.made: list[tuple[int, torch.dtype]] = []

    @property
    def largest(self) -> int:
        return max((n for n, _ in self.made), default=0)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        def storages(tree):
            return {t.untyped_storage().data_ptr() for t in tree_leaves(tree)
                    if isinstance(t, torch.Tensor)}  # fmt: skip

        before = storages((args, kwargs))
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor) and t.untyped_storage().data_ptr() not in before:
                self.made.append((t.numel(), t.dtype))
        return out
