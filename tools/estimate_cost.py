"""GPU-hours per stage of a config, before it is submitted: the config's DAG (a dry run) and
the step benchmark's timings (``intdim.measure.cost`` says how the two are combined).

    python tools/estimate_cost.py --configfile config/paper.yaml
    python tools/estimate_cost.py --configfile config/llm.yaml --benchmark my_step_cuda.json

Prints a Markdown table and writes it with the fitted step model as JSON (--out).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml
from intdim.measure.cost import StepModel, estimate, markdown, parse_dry_run

ROOT = Path(__file__).resolve().parents[1]
# The step table of `make gpu-check` on an H200, every step recorded as a CUDA graph.
MEASURED = [ROOT / "docs/measurements/h200/gpu_check_steps.json"]


def load_rows(paths: list[Path]) -> list[dict]:
    """The rows of step benchmark JSON: benchmark_step.py's ("rows") or gpu-check's
    ("benchmark")."""
    rows = []
    for path in paths:
        data = json.loads(path.read_text())
        found = data.get("rows", data.get("benchmark"))
        if found is None:
            sys.exit(f"{path}: no step rows (neither 'rows' nor 'benchmark')")
        rows += [{**row, "_file": path.name} for row in found]
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", type=Path, required=True)
    parser.add_argument("--benchmark", type=Path, nargs="+", default=MEASURED,
                        help="step benchmark JSON (benchmark_step.py --device cuda, "
                             "or gpu-check's)")  # fmt: skip
    parser.add_argument("--parameters", nargs="*", default=[], metavar="MODEL=N",
                        help="parameter counts of models the estimate does not know")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    from intdim.pipeline.plan import make_plan
    from intdim.pipeline.workflow_config import SCHEMA
    from snakemake.utils import validate

    config = yaml.safe_load(args.configfile.read_text())
    validate(config, str(SCHEMA))  # fills the schema's defaults, as the workflow does
    dry = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--configfile", str(args.configfile.resolve())],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if dry.returncode != 0:
        sys.exit(f"the dry run failed:\n{dry.stderr[-3000:]}")
    jobs = parse_dry_run(dry.stdout)
    step = StepModel.fit(load_rows(args.benchmark))
    given = dict(p.split("=", 1) for p in args.parameters)
    rows = estimate(make_plan(config), jobs, step, given)
    print(
        f"{args.configfile}: {len(jobs)} jobs in the dry run; step model c0 = {step.c0:.4f} s, "
        f"c1 = {step.c1:.3g} s per parameter-token, DID x{step.ratios['did']:.2f}, "
        f"SAID x{step.ratios['said']:.2f} ({', '.join(p.name for p in args.benchmark)})"
    )
    print(markdown(rows))
    if args.out:
        args.out.write_text(json.dumps({"config": str(args.configfile), "step_model": vars(step),
                                        "rows": rows}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
