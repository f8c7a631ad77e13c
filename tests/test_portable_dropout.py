"""Portable dropout masks (intdim.pipeline.portable_dropout): splitmix64 by its reference
output, ones with probability p, every mask decided by torch's generator, the same bits on a
generic x86-64, and torch's bernoulli_ replaced only where it takes a probability."""

import subprocess
import sys

import numpy as np
import pytest
from generic_cpu import here_and_generic
from intdim.pipeline.portable_dropout import _fill, bernoulli_mask

# splitmix64's reference implementation (Vigna's splitmix64.c), seeded with 1234567: its first
# two outputs.
SEED, FIRST, SECOND = 1234567, 6457827717110365317, 3203168211198807973


def test_the_mask_compares_splitmix64s_outputs_with_the_bound():
    out = np.empty(2, np.float32)
    for below, want in ((FIRST, [0, 1]), (FIRST + 1, [1, 1]), (SECOND, [0, 0])):
        _fill(np.uint64(SEED), np.uint64(below), out)
        assert out.tolist() == want, below  # one below when strictly less than the bound


def test_ones_come_with_probability_p():
    for p in (0.1, 0.5, 0.9):
        n = 1_000_000
        ones = bernoulli_mask(7, p, n).sum(dtype=np.float64)
        assert abs(ones - p * n) < 5 * np.sqrt(n * p * (1 - p)), p
    assert not bernoulli_mask(7, 0.0, 1000).any() and bernoulli_mask(7, 1.0, 1000).all()
    # Neighbouring seeds give unrelated masks: they agree where two independent ones would.
    a, b = bernoulli_mask(7, 0.5, 100_000), bernoulli_mask(8, 0.5, 100_000)
    assert abs(np.mean(a == b) - 0.5) < 5 * 0.5 / np.sqrt(100_000)


def test_a_probability_outside_zero_to_one_is_named():
    for p in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=f"got p={p}"):
            bernoulli_mask(0, p, 3)


DIGEST = """
import hashlib
from intdim.pipeline.portable_dropout import bernoulli_mask
print(hashlib.sha256(bernoulli_mask(123, 0.9, 100_003).tobytes()).hexdigest())
"""


def test_the_bits_do_not_depend_on_the_cpus_instructions(tmp_path):
    here, generic = here_and_generic(DIGEST, tmp_path)
    assert generic == here


# In a process of its own: the replacement lasts as long as the process. Dropout is ATen's
# own (a mask by bernoulli_(1 - p), divided by 1 - p, times the input); the mask is ours, its
# seed the generator's next draw.
REPLACED = """
import torch
from intdim.pipeline.portable_dropout import bernoulli_mask, replace_torch_bernoulli
x = torch.randn(4, 50, 3)
probabilities = torch.rand(6)
torch.manual_seed(0)
seeds = [int(torch.empty((), dtype=torch.int64).random_()) for _ in range(2)]
torch.manual_seed(0)
atens = torch.bernoulli(probabilities)
replace_torch_bernoulli()
torch.manual_seed(0)
first = torch.nn.functional.dropout(x, 0.25, training=True)
second = torch.nn.functional.dropout(x, 0.25, training=True)
masks = [torch.from_numpy(bernoulli_mask(s, 0.75, x.numel())).view(x.shape) for s in seeds]
doubles = torch.empty(5, dtype=torch.float64).bernoulli_(0.5, generator=torch.Generator().manual_seed(3))
seed = int(torch.empty((), dtype=torch.int64).random_(generator=torch.Generator().manual_seed(3)))
torch.manual_seed(0)
print(torch.equal(first, x * masks[0].div_(0.75)), torch.equal(second, x * masks[1].div_(0.75)),
      not torch.equal(masks[0], masks[1]),
      torch.equal(doubles, torch.from_numpy(bernoulli_mask(seed, 0.5, 5)).double()),
      torch.equal(torch.bernoulli(probabilities), atens))
"""


def test_dropout_takes_the_portable_mask_seeded_by_torchs_generator():
    out = subprocess.run([sys.executable, "-c", REPLACED], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.split() == ["True"] * 5
