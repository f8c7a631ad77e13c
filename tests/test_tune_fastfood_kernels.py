"""The kernel-tuning benchmark, run on a tiny problem (under Triton's interpreter without a GPU):
it visits each distinct plan once, the default first, checks them against it, writes JSON."""

import json

import pytest

pytest.importorskip("triton")

import tune_fastfood_kernels as tune  # noqa: E402


def test_plans_are_distinct_and_start_with_the_defaults():
    grid = {"fused_max": [32, 64], "tile_elements": [128, 256], "work_elements": [64, 1024],
            "multi_pass": ["factored", "gather"]}  # fmt: skip
    chosen = tune.plans(40, 600, grid)  # LL = 64 (a grid of 8 x 8), 10 blocks
    assert [c["plan"][:-1] for c in chosen] == [
        ("fused", 32),  # the defaults: a tile of 2,048 elements is 32 blocks
        ("factored", 8, 8, 1),
        ("gather", 32, 1),
        ("factored", 8, 8, 10),  # a group never holds more blocks than there are
        ("gather", 32, 10),
        ("fused", 2),
        ("fused", 4),
    ]
    assert {c["plan"][-1] for c in chosen} == {"butterfly"}  # the default transform


def test_the_benchmark_times_every_plan_and_checks_it(tmp_path, capsys):
    out = tmp_path / "kernels.json"
    tune.main(["--device", "cpu", "--D", "600", "--dims", "40", "--fused-max", "32", "64",
               "--tile-elements", "128", "--work-elements", "1024", "--multi-pass", "gather",
               "--steps", "1", "--out", str(out)])  # fmt: skip
    result = json.loads(out.read_text())
    rows = result["rows"]
    # Each plan with both ways of computing the Hadamard transform, butterflies first.
    assert [tuple(r["plan"]) for r in rows] == [
        ("fused", 32, "butterfly"),
        ("gather", 32, 10, "butterfly"), ("gather", 32, 10, "dot"),
        ("fused", 2, "butterfly"), ("fused", 2, "dot"),
    ]  # fmt: skip
    assert rows[1]["work_bytes"] == rows[2]["work_bytes"] == 2 * 10 * 64 * 4
    assert rows[0]["work_bytes"] == 0
    for r in rows[1:]:
        assert r["forward_error"] < tune.TOLERANCE and r["transpose_error"] < tune.TOLERANCE
    for r in rows:
        assert r["projection_s"] == r["forward_s"] + r["transpose_s"] > 0
        assert r["floor_s"] == 8 * 600 / result["meta"]["bandwidth_Bps"]
    table = capsys.readouterr().out
    assert "x floor" in table and f"wrote {out}" in table
