"""The in-turn benchmark of portable GELU and dropout masks (tools/benchmark_portable_ops.py):
taking them out really brings ATen's kernels back, and putting them in restores ours."""

import json
import subprocess
import sys

TOGGLED = """
import torch
from intdim.pipeline.numerics import use_numerics
use_numerics("portable")
from intdim.measure.portable_ops_benchmark import use_portable_ops
x, noise = torch.randn(300) * 3, torch.empty(300)
def both():
    torch.manual_seed(0)
    return torch.nn.functional.gelu(x), noise.bernoulli_(0.5).clone()
ours = both()
use_portable_ops(False)
atens = both()
baseline = torch.ops.aten.gelu.out(x, out=torch.empty_like(x))  # never replaced
use_portable_ops(True)
again = both()
print(torch.equal(atens[0], baseline), not torch.equal(ours[0], atens[0]),
      not torch.equal(ours[1], atens[1]), torch.equal(ours[0], again[0]),
      torch.equal(ours[1], again[1]))
"""


def test_taking_the_portable_ops_out_runs_atens_and_putting_them_back_restores_ours():
    out = subprocess.run([sys.executable, "-c", TOGGLED], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.split() == ["True"] * 5


def test_the_tool_records_each_op_in_turn(repo_root, tmp_path):
    out = tmp_path / "ops.json"
    subprocess.run([sys.executable, "tools/benchmark_portable_ops.py", "--rounds", "1",
                    "--out", str(out)], cwd=repo_root, check=True, capture_output=True)  # fmt: skip
    rows = json.loads(out.read_text())["ops"]
    assert [r["op"] for r in rows] == ["gelu", "gelu_backward", "dropout_mask"]
    assert all(r["ms_portable"] > 0 and r["ms_aten"] > 0 for r in rows)
