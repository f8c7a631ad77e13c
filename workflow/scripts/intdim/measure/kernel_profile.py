"""Device time by kernel, from torch.profiler: what tools/profile_projection.py prints and
gpu-check's "kernels" stage reports."""

from __future__ import annotations


def kernel_times(averages, repeats: int) -> list[dict]:
    """The profiler's per-name averages (``key_averages()``) as rows of device time per
    forward + transpose, the slowest first; names with no device time are left out."""
    rows = [
        {
            "kernel": a.key,
            "launches": a.count / repeats,
            "ms": a.self_device_time_total / 1e3 / repeats,
        }  # fmt: skip
        for a in averages
        if a.self_device_time_total > 0
    ]
    total = sum(r["ms"] for r in rows)
    for r in rows:
        r["share"] = r["ms"] / total
    return sorted(rows, key=lambda r: -r["ms"])


def kernel_table(rows: list[dict]) -> str:
    """One line per kernel of each profiled (d, plan) row."""
    lines = [f"{'d':>9}  {'plan':<28}{'kernel':<34}{'launches':>9}{'ms':>9}{'share':>7}"]
    for r in rows:
        plan = str(tuple(r["plan"]))[:27]
        for k in r.get("kernels", []):
            lines.append(f"{r['d']:>9}  {plan:<28}{k['kernel'][:33]:<34}"
                         f"{k['launches']:>9.0f}{k['ms']:>9.3f}{k['share']:>7.0%}")  # fmt: skip
        if not r.get("kernels"):
            lines.append(f"{r['d']:>9}  {plan:<28}(no device time)")
    return "\n".join(lines)
