"""The Fastfood kernels build for a real GPU (sm_90: H100/H200), checked without one.

Triton compiles each kernel variant to PTX and its bundled ptxas assembles it, so a kernel
that only the CPU interpreter accepts, or one that would not fit the hardware, fails here.
The script runs in its own process: Triton decides between compiling and interpreting when
the kernels are defined, and the interpreter tests want the other choice.
"""

import itertools
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("triton")

from intdim.measure.stream_parts import STREAM_PARTS  # noqa: E402

# sm_90 limits: 227 KB of shared memory per block (opt-in), 65,536 registers per SM.
MAX_SHARED_BYTES = 227 * 1024
REGISTERS_PER_SM = 65_536


@pytest.mark.slow
def test_every_kernel_variant_compiles_for_sm90_and_fits(repo_root, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["TRITON_CACHE_DIR"] = str(tmp_path / "cache")  # really compile, never reuse
    env["PYTHONPATH"] = str(repo_root / "workflow" / "scripts")  # this checkout's intdim

    def compiled(name: str, *args: str) -> dict:
        out = tmp_path / f"{name}.json"
        proc = subprocess.run(
            [sys.executable, "tools/compile_fastfood_kernels.py", "--arch", "90", *args,
             "--out", str(out)],
            cwd=repo_root, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        print(proc.stdout)
        return json.loads(out.read_text())

    # The default transform at small blocks (radix-8 digits), a mid-size block, the largest
    # fused block, and both multi-pass schemes at the paper's largest d (gather: 2**9 rows of
    # 2**13; factored: a grid of 2**11 x 2**11); the tensor-core transform, a knob, at the
    # smallest and the largest fused block (its radix-8 digits and its largest tile).
    # The stream's breakdown at the largest fused block only: it builds each kernel five times.
    report = compiled("butterfly", "--hadamard", "butterfly",
                      "--dims", "8", "1000", "8192", "4000000", "--breakdown", "8192")  # fmt: skip
    dot = compiled("dot", "--hadamard", "dot", "--dims", "8", "8192")["rows"]
    assert {r["hadamard"] for r in report["rows"]} == {"butterfly"}
    assert {r["hadamard"] for r in dot} == {"dot"} and len(dot) == 2 * 5
    rows = report["rows"] + dot
    kernels = {(r["d"], r["kernel"]) for r in report["rows"]}
    assert (8_192, "transpose_fused_said") in kernels
    assert (4_000_000, "columns_stage3") in kernels and (4_000_000, "rows_stage1") in kernels
    assert (4_000_000, "columns_stage3_accumulate") in kernels
    assert (4_000_000, "factored_columns_stage12") in kernels
    assert (4_000_000, "factored_rows_stage5_said") in kernels
    # Three fused sizes with four variants each, one multi-pass size with eleven (gather) and
    # thirteen (factored), and the segment-dot kernel once for each size.
    assert len(report["rows"]) == 3 * 4 + 11 + 13 + 4
    for r in rows:
        assert (r["arithmetic_per_element"] is None) == (r["kernel"] == "chunk_dots"), r
        # every kernel transforms or hashes what it holds, except the block sum, which adds
        least = 1 if r["kernel"] == "factored_block_sums" else 10
        assert r["arithmetic_per_element"] is None or r["arithmetic_per_element"] > least, r
        # SASS holds the arithmetic and the loads, stores and moves around it
        assert (r["sass_per_element"] is None) == (r["arithmetic_per_element"] is None), r
        assert r["sass_per_element"] is None or r["sass_per_element"] > least, r
        assert r["shared_bytes"] <= MAX_SHARED_BYTES, r
        assert 0 < r["registers"] * r["num_warps"] * 32 <= REGISTERS_PER_SM, r
    check_stream_breakdown(report)


def check_stream_breakdown(report: dict) -> None:
    """Each part of the stream costs the fused kernels instructions, and the breakdown's build
    with the whole stream is the ordinary build."""
    plain = {
        (r["d"], r["kernel"]): r["sass_per_element"]
        for r in report["rows"]
        if r["hadamard"] == "butterfly"
    }  # the default, which the breakdown builds
    steps = {}
    for r in report["stream_breakdown"]:
        steps.setdefault((r["d"], r["kernel"]), []).append(r)
    assert set(steps) == {(8192, k) for k in ("forward_fused", "transpose_fused")}
    for key, rows in steps.items():
        assert [r["removed"] for r in rows] == [None] + [part for part, _ in STREAM_PARTS]
        counts = [r["sass_per_element"] for r in rows]
        assert counts[0] == plain[key], key
        assert all(a > b for a, b in itertools.pairwise(counts)), (key, counts)
        assert counts[-1] > 0
