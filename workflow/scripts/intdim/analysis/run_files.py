"""Which files under a run directory's results/ belong to that run. Other runs can live inside
it, each in a folder with a results/ of its own (``make offline-full`` writes
results/offline_full/results/..., ``make section5-seeds`` results/section5_seed1/results/...);
their jobs are theirs, not this run's."""

from __future__ import annotations

from pathlib import Path


def own_files(results: Path, name: str) -> list[Path]:
    """Every file called ``name`` under ``results``, sorted, but for those of a run kept inside
    it (a path below ``results`` that passes through another results/ folder)."""
    return sorted(p for p in results.rglob(name) if "results" not in p.relative_to(results).parts)
