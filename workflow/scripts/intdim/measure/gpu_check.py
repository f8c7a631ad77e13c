"""The stages of `make gpu-check` (tools/gpu_check.py is its command line): the kernel tests
compiled on the GPU and the integration DAG in bf16, the projection alone (multi-pass schemes
and Hadamard transforms, the fused path's stream parts, each kernel's time and counters), the
decoder rows, the training step recorded as CUDA graphs, and one table of what they found.

Every stage runs from this checkout (tests, tools and configs are read from ``ROOT``) and in
processes of its own where a peak memory or a crash must stay its own. ``check`` runs the two
correctness stages (kernel tests, integration DAG) side by side, then the timing stages one
after another, alone on the GPU, and saves the JSON after each, so a check stopped by a time
limit still leaves what it measured.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

# The checkout: workflow/scripts/intdim/measure/gpu_check.py is four folders below it.
ROOT = Path(__file__).resolve().parents[4]
SCRIPTS = ROOT / "workflow" / "scripts"
KERNEL_TESTS = ["tests/test_fastfood_kernels.py", "tests/test_stream_parts.py", "tests/test_gpu.py"]
DIMS = [1_000, 20_000, 1_000_000, 4_000_000]
# The stages after the kernel tests, which --skip names: the integration DAG, the projection
# alone (multi-pass schemes), the fused path's stream parts, the projection kernel by kernel
# (with ncu's counters where it is installed), the decoder rows, the step table.
STAGES = ("integration", "projection", "stream", "kernels", "decoders", "steps")
# What the integration step needs beyond torch and transformers (its model and task are made
# on the spot), and where `make gpu-wheelhouse` puts the wheels for a node that lacks some.
INTEGRATION_NEEDS = ["snakemake", "datasets", "pandas", "yaml", "matplotlib", "seaborn"]
WHEELHOUSE = ROOT / ".whl"


def versions() -> dict:
    found = {"python": sys.version.split()[0]}
    for name in ("torch", "transformers", "triton", "datasets", "snakemake", "pytest"):
        try:
            found[name] = importlib.import_module(name).__version__
        except ImportError:
            found[name] = None
    import torch

    found["cuda"] = torch.version.cuda
    found["gpu"] = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return found


def environment() -> dict:
    """This process's environment with this checkout's intdim first on PYTHONPATH (for the
    processes it starts; `make gpu-check` runs this one with it there already)."""
    rest = [
        p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(SCRIPTS)
    ]
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(SCRIPTS), *rest]),
            "PYTHONUNBUFFERED": "1"}  # fmt: skip


def run_tests(files: list[str], interpret: bool, log: Path | None = None) -> dict:
    """pytest on ``files``; its whole output goes to ``log`` (the summary keeps its tail)."""
    env = environment()
    if interpret:
        env["TRITON_INTERPRET"] = "1"
    extra = []
    if not interpret and importlib.util.find_spec("xdist") is not None:
        # Compiling the kernel variants dominates on a GPU; workers compile in parallel.
        extra += ["-n", str(min(8, os.cpu_count() or 1))]
    if importlib.util.find_spec("pytest_timeout") is not None:
        extra += ["--timeout", "300"]  # a hung kernel fails its test instead of the check
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra, *files],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(proc.stdout + proc.stderr)
    tail = (proc.stdout + proc.stderr).strip().splitlines()
    summary = next((line for line in reversed(tail) if re.search(r"\d+ (passed|failed)", line)), "")
    print("\n".join(tail[-15:]))
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|skipped|error)", summary)}
    return {"files": files, "returncode": proc.returncode, "summary": summary.strip("= "),
            **counts, "seconds": time.perf_counter() - started}  # fmt: skip


# The step benchmark's settings: every step recorded as a CUDA graph (full fine-tuning too),
# at two sequence lengths; the PyTorch reference's rows were measured without graphs before.
STEP_SEQS = [128, 512]
STEP_MODELS = ["roberta-base", "roberta-large"]
STEP_BACKENDS = ["triton"]


def run_benchmark(models: list[str], steps: int, deadline: float | None, on_row,
                  graphs: bool = True) -> list[dict]:  # fmt: skip
    from intdim.measure.benchmark import benchmark

    rows = []
    for seq in STEP_SEQS:
        args = SimpleNamespace(device="cuda", models=models, dims=DIMS, methods=["did", "said"],
                               backends=STEP_BACKENDS, batch=32, seq=seq, steps=steps,
                               warmup=1, in_process=True, deadline=deadline,
                               graphs=graphs)  # fmt: skip
        done = list(rows)
        rows = done + benchmark(args, on_row=lambda new, done=done: on_row(done + new))
    return rows


# The projection alone on the D of RoBERTa-base and -large: both multi-pass schemes with the
# work buffers that were fastest on an H200 (docs/performance.md), each with both ways of
# computing the Hadamard transform, and the fused path at two d with both.
MULTI_PASS_D = {"roberta-base": 124_646_402, "roberta-large": 355_359_746}
MULTI_PASS_DIMS = [1_000, 8_192, 20_000, 1_000_000, 4_000_000]
MULTI_PASS_WORK = [1 << 24]


# The fused path with its stream's parts removed in turn (RoBERTa-base D): whether the stream's
# share of the instructions is its share of the time (docs/performance.md).
STREAM_SIZES = {"roberta-base": MULTI_PASS_D["roberta-base"]}
STREAM_DIMS = [1_000, 8_192]


def run_tool(command: list[str], deadline: float | None):
    """``command`` from the checkout in a process of its own, within the time budget, the tail
    of its output printed: (the finished process, None), or (None, the row that says why it
    was skipped) when the budget is spent before it starts or while it runs."""
    left = None if deadline is None else deadline - time.monotonic()
    if left is not None and left < 30:
        return None, {"status": "skipped", "reason": "past the time budget"}
    try:
        proc = subprocess.run(command, cwd=ROOT, env=environment(), capture_output=True,
                              text=True, timeout=left)  # fmt: skip
    except subprocess.TimeoutExpired:
        return None, {"status": "skipped", "reason": "ran past the time budget"}
    print(proc.stdout[-4000:], proc.stderr[-2000:])
    return proc, None


def run_multi_pass(out_dir: Path, deadline: float | None, device: str = "cuda",
                   sizes: dict = MULTI_PASS_D, dims: list = MULTI_PASS_DIMS,
                   fused_max: int = 8192, work: list = MULTI_PASS_WORK,
                   hadamards: tuple | None = None, extra: tuple = (),
                   name: str = "multi_pass") -> dict:  # fmt: skip
    """tools/tune_fastfood_kernels.py for each D, in its own process: its JSON by model
    (``hadamards``: the ways of computing the transform, all by default; ``extra``: more of
    the tool's arguments; ``name``: the JSON files' prefix)."""
    from intdim.fastfood.kernels import HADAMARDS, MULTI_PASS_SCHEMES

    hadamards = hadamards or HADAMARDS
    results = {}
    for model, D in sizes.items():
        out = out_dir / f"{name}_{model}.json"
        command = [
            sys.executable, str(ROOT / "tools" / "tune_fastfood_kernels.py"), "--device", device,
            "--D", str(D), "--dims", *map(str, dims), "--fused-max", str(fused_max),
            "--tile-elements", "2048", "--work-elements", *map(str, work),
            "--multi-pass", *MULTI_PASS_SCHEMES, "--hadamard", *hadamards, "--out", str(out),
            *extra,
        ]  # fmt: skip
        proc, skipped = run_tool(command, deadline)
        if skipped:
            results[model] = skipped
            continue
        if not out.exists():
            results[model] = {"status": "failed", "returncode": proc.returncode,
                              "stderr": proc.stderr[-2000:]}  # fmt: skip
            continue
        results[model] = {"status": "ok" if proc.returncode == 0 else "disagrees",
                          **json.loads(out.read_text())}  # fmt: skip
    return results


def multi_pass_table(results: dict) -> str:
    lines = ["projection alone (forward + transpose):",
             f"{'model':<14}{'d':>10}  {'plan':<34}{'ms':>9}{'x floor':>9}"]  # fmt: skip
    for model, result in results.items():
        for r in result.get("rows", []):
            plan = str(tuple(r["plan"])) if r.get("removed") is None else f"- {r['removed']}"
            lines.append(
                f"{model:<14}{r['d']:>10}  {plan[:33]:<34}"
                f"{r['projection_s'] * 1e3:>9.2f}{r['projection_s'] / r['floor_s']:>9.1f}"
            )
        if "rows" not in result:
            lines.append(f"{model:<14}{result['status']}: {result.get('reason', '')}")
    return "\n".join(lines)


# The projection kernel by kernel (tools/profile_projection.py, torch.profiler) and, where
# Nsight Compute's ncu is on the PATH, the hardware counters of one forward + transpose at the
# multi-pass default: what each pass waits on (docs/performance.md).
KERNEL_DIMS = [1_000, 1_000_000]
NCU_SECTIONS = ["SpeedOfLight", "MemoryWorkloadAnalysis", "Occupancy", "WarpStateStats",
                "LaunchStats"]  # fmt: skip
NCU_LAUNCHES = 80  # more than one forward + transpose at d = 1e6 launches (the warm-up)
NCU_SHOWN = ["Duration", "Memory Throughput", "DRAM Throughput", "L2 Cache Throughput",
             "Compute (SM) Throughput", "Achieved Occupancy", "Registers Per Thread"]  # fmt: skip


def ncu_command(ncu: str, log: Path, D: int, d: int) -> list[str]:
    """Nsight Compute over the Triton kernels (their names start with "_") of one forward +
    transpose, clocks left alone, its report as CSV in ``log``."""
    from intdim.fastfood.kernels import MULTI_PASS_SCHEMES  # the default first

    sections = [arg for name in NCU_SECTIONS for arg in ("--section", name)]
    return [ncu, "--clock-control", "none", "--csv", "--page", "details", "--log-file",
            str(log), *sections, "-k", "regex:^_", "--launch-count", str(NCU_LAUNCHES),
            sys.executable, str(ROOT / "tools" / "profile_projection.py"), "--plain",
            "--D", str(D), "--dims", str(d), "--multi-pass", MULTI_PASS_SCHEMES[0],
            "--repeats", "1"]  # fmt: skip


def ncu_summary(text: str) -> dict:
    """Nsight Compute's details CSV as {kernel name: {"launches": n, metric: "value unit"}},
    the metrics of each kernel's first launch; {} where the text holds no such table."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines)
                  if '"Kernel Name"' in line and '"Metric Name"' in line), None)  # fmt: skip
    if start is None:
        return {}
    first: dict[str, str] = {}  # kernel name -> the ID of its first launch
    summary: dict[str, dict] = {}
    for row in csv.DictReader(lines[start:]):
        name, launch = row["Kernel Name"], row["ID"]
        first.setdefault(name, launch)
        entry = summary.setdefault(name, {"launches": set()})
        entry["launches"].add(launch)
        if launch == first[name]:
            entry[row["Metric Name"]] = f"{row['Metric Value']} {row['Metric Unit']}".strip()
    for entry in summary.values():
        entry["launches"] = len(entry["launches"])
    return summary


def run_kernels(out_dir: Path, deadline: float | None) -> dict:
    """tools/profile_projection.py on RoBERTa-base's D (both schemes, both transforms), then
    ncu on the default where it is installed; each in its own process, within the time
    budget."""
    D = MULTI_PASS_D["roberta-base"]
    profiled = out_dir / "kernels_roberta-base.json"
    proc, skipped = run_tool([sys.executable, str(ROOT / "tools" / "profile_projection.py"),
                              "--D", str(D), "--dims", *map(str, KERNEL_DIMS),
                              "--hadamard", "butterfly", "dot",
                              "--out", str(profiled)], deadline)  # fmt: skip
    result = {"profile": skipped or finished(proc)}
    if proc is not None and profiled.exists():
        result["profile"].update(json.loads(profiled.read_text()))
    ncu = shutil.which("ncu")
    if ncu is None:
        result["ncu"] = {"status": "skipped", "reason": "ncu is not on the PATH"}
        return result
    log = out_dir / "ncu_projection.csv"
    proc, skipped = run_tool(ncu_command(ncu, log, D, KERNEL_DIMS[-1]), deadline)
    if skipped:
        result["ncu"] = skipped
        return result
    text = log.read_text() if log.exists() else ""
    kernels = ncu_summary(text)
    if not kernels:  # the report went to stdout: keep it beside ncu's own lines
        text += proc.stdout
        log.write_text(text)
        kernels = ncu_summary(text)
    result["ncu"] = {**finished(proc), "kernels": kernels}
    return result


def finished(proc) -> dict:
    return {"status": "ok" if proc.returncode == 0 else "failed",
            "returncode": proc.returncode, "stderr": proc.stderr[-2000:]}  # fmt: skip


def kernels_table(result: dict) -> str:
    from intdim.measure.kernel_profile import kernel_table

    lines = ["the projection kernel by kernel (RoBERTa-base D, ms per forward + transpose):"]
    profile = result.get("profile", {})
    if "rows" in profile:
        lines.append(kernel_table(profile["rows"]))
    else:
        lines.append(f"profile {profile.get('status')}: {profile.get('reason', '')}")
    ncu = result.get("ncu", {})
    for name, metrics in ncu.get("kernels", {}).items():
        shown = ", ".join(f"{m} {metrics[m]}" for m in NCU_SHOWN if m in metrics)
        lines.append(f"ncu {name[:40]} ({metrics['launches']} launches): {shown}")
    if "kernels" not in ncu:
        lines.append(f"ncu {ncu.get('status')}: {ncu.get('reason', '')}")
    return "\n".join(lines)


DECODER_ROWS = [
    ("qwen2.5-0.5b", "full", None, "fp32"),
    ("qwen2.5-0.5b", "did", 1_000_000, "bf16"),
    ("qwen2.5-0.5b", "said", 1_000_000, "bf16"),
    ("qwen2.5-7b", "did", 1_000_000, "bf16"),
    ("qwen2.5-7b", "said", 1_000_000, "bf16"),
]


def run_decoders(steps: int, deadline: float | None, on_row) -> dict:
    """The decoder rows, each in a fresh process (its peak memory is its own), and the
    modelled memory of full fine-tuning for every decoder size."""
    import torch

    from intdim.measure.benchmark import DECODER_SIZES, run_isolated, run_specs
    from intdim.measure.memory import full_finetune_bytes

    base = dict(device="cuda", batch=8, seq=256, steps=steps, warmup=1, bf16=True,
                projection="fastfood", legacy_gradient=False)  # fmt: skip
    specs = [{**base, "model": model, "method": method, "d": d, "weights": weights,
              "backend": None if method == "full" else "triton"}
             for model, method, d, weights in DECODER_ROWS]  # fmt: skip
    rows = run_specs(specs, run_isolated, deadline, on_row)
    gpu_bytes = torch.cuda.get_device_properties(0).total_memory
    modelled = {}
    for model in DECODER_SIZES:
        D = next((r["D"] for r in rows if r["model"] == model and "D" in r), None)
        if D is not None:
            need = sum(full_finetune_bytes(D).values())
            modelled[model] = {"D": D, "full_finetune_bytes": need, "fits": need < gpu_bytes}
    return {"rows": rows, "full_finetune_modelled": modelled, "gpu_bytes": gpu_bytes}


def decoder_table(decoders: dict) -> str:
    lines = [f"{'decoder':<14}{'method':<7}{'d':>9}{'step s':>9}{'peak GiB':>10}{'B/param':>9}"]
    for r in decoders["rows"]:
        d = "-" if r["d"] is None else f"{r['d']:.0e}"
        if r["status"] != "ok":
            lines.append(f"{r['model']:<14}{r['method']:<7}{d:>9}  {r['status']}: "
                         f"{r.get('reason', '')[:60]}")  # fmt: skip
            continue
        peak = r["peak_bytes"] / 2**30
        lines.append(f"{r['model']:<14}{r['method']:<7}{d:>9}{r['step_s']:>9.3f}{peak:>10.1f}"
                     f"{r['peak_bytes_per_parameter']:>9.1f}")  # fmt: skip
    for model, m in decoders["full_finetune_modelled"].items():
        verdict = "fits" if m["fits"] else "does not fit"
        need, gpu = m["full_finetune_bytes"] / 2**30, decoders["gpu_bytes"] / 2**30
        lines.append(f"{model:<14}full FT modelled: {need:.1f} GiB before activations, "
                     f"{verdict} {gpu:.0f} GiB")  # fmt: skip
    return "\n".join(lines)


def install_wheelhouse(workdir: Path) -> Path | None:
    """Where Snakemake is missing and the checkout carries a wheelhouse (.whl/, made by `make
    gpu-wheelhouse`), install it into a scratch folder (no index, no network); returns the
    folder (for the PYTHONPATH of the processes the check starts), or None."""
    if importlib.util.find_spec("snakemake") is not None or not any(WHEELHOUSE.glob("*.whl")):
        return None
    site = workdir / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
         "--no-cache-dir", "--target", str(site), *map(str, sorted(WHEELHOUSE.glob("*.whl")))],
        check=True,
    )  # fmt: skip
    return site


def dependency_conflicts(env: dict) -> list[str]:
    """`pip check`'s complaints in a Python process with ``env``: the wheelhouse installs
    without its dependencies (the node is meant to have them), so a requirement the node lacks
    or has at another version shows here, beside the integration run it may explain."""
    proc = subprocess.run([sys.executable, "-m", "pip", "check"], env=env, capture_output=True,
                          text=True)  # fmt: skip
    return [line for line in proc.stdout.splitlines() if line and "No broken" not in line]


def missing_modules(names: list[str], env: dict) -> list[str]:
    """Which of ``names`` a Python process with ``env`` cannot import."""
    probe = "import importlib.util, sys; print(*[n for n in sys.argv[1:] " \
            "if importlib.util.find_spec(n) is None])"  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", probe, *names], env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    return proc.stdout.split()


def run_integration(workdir: Path, timeout: float | None = None) -> dict:
    """The integration DAG in bf16 on the GPU, with a model built from a config and a generated
    task (intdim.pipeline.generated_inputs), so that it needs no download and no offline model
    or data package; the notebook is left out where papermill is not installed. A run that
    outlasts ``timeout`` seconds fails, saying so."""
    site = install_wheelhouse(workdir)
    env = environment()
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(site), env["PYTHONPATH"]])
    missing = missing_modules(INTEGRATION_NEEDS, env)
    if missing:
        return {"status": "skipped", "reason": f"not installed here: {', '.join(missing)} "
                "(make gpu-wheelhouse carries them)"}  # fmt: skip
    import yaml

    from intdim.pipeline.generated_inputs import generated_config

    config = generated_config(
        yaml.safe_load((ROOT / "config/integration.yaml").read_text()), workdir / "inputs"
    )
    config["precision"] = "bf16"
    config["resources"]["gpu"] = 1
    configfile = workdir / "integration_gpu.yaml"
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    notebook = not missing_modules(["papermill", "nbconvert"], env)
    omit = [] if notebook else ["--omit-from", "analysis_notebook"]
    started = time.perf_counter()
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
               "--directory", str(workdir / "run"), "--configfile", str(configfile),
               "--cores", str(os.cpu_count() or 1), "--resources", "gpu=1", *omit]  # fmt: skip
    try:
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        proc = SimpleNamespace(returncode=None, stderr=_text(err.stderr) +
                               f"\nran past its {timeout:.0f} s")  # fmt: skip
    result = {"status": "ok" if proc.returncode == 0 else "failed",
              "seconds": time.perf_counter() - started, "wheelhouse": site is not None,
              "notebook": notebook, "dependency_conflicts": dependency_conflicts(env)}  # fmt: skip
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["?"]
        # The last line says that it failed; the lines before it say which job and why.
        result.update(reason=lines[-1], log_tail=lines[-40:])
        return result
    runs = workdir / "run/results/tables/runs.csv"
    import pandas as pd

    frame = pd.read_csv(runs)
    result.update(runs=len(frame), ok_runs=int((frame["status"] == "ok").sum()))
    devices = {json.loads(p.read_text()).get("device")
               for p in (workdir / "run/results").rglob("metrics.json")}  # fmt: skip
    result["devices"] = sorted(d for d in devices if d)
    return result


def _text(output: bytes | str | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def check(
    out: Path,
    tests: list[str] = KERNEL_TESTS,
    models: list[str] = STEP_MODELS,
    steps: int = 10,
    graphs: bool = True,
    skip: frozenset[str] = frozenset(),
    budget_s: float | None = None,
) -> tuple[dict, bool]:
    """Every stage in order but those in ``skip`` (names from STAGES; the kernel tests alone,
    under Triton's interpreter, without a CUDA device), the report written to ``out`` after
    each; returns the report and whether it passed (the kernel tests pass and the integration
    run did not fail)."""
    unknown = set(skip) - set(STAGES)
    if unknown:
        raise ValueError(f"unknown stage(s) {sorted(unknown)}; the stages are {', '.join(STAGES)}")
    started = time.perf_counter()
    deadline = None if budget_s is None else time.monotonic() + budget_s
    found = versions()
    print("versions:", json.dumps(found))
    report = {"versions": found}

    def save(**stage) -> None:
        """The JSON so far, after every stage and benchmark row: a check stopped by a time
        limit still leaves what it measured."""
        report.update(stage, seconds=time.perf_counter() - started)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2))

    tests_log = out.with_name(out.stem + "_tests.log")
    if found["gpu"] is None:
        print("no CUDA device: smoke mode, the kernel tests under Triton's CPU interpreter only")
        report["mode"] = "smoke"
        report["tests"] = run_tests(tests, interpret=True, log=tests_log)
        ok = report["tests"]["returncode"] == 0
    else:
        print(f"GPU: {found['gpu']}")
        report["mode"] = "gpu"
        with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(1) as pool:
            # The two correctness stages side by side (the integration DAG is mostly CPU work
            # on a small model); every timing stage after both, alone on the GPU.
            timeout = None if budget_s is None else budget_s / 2
            integration = "integration" not in skip
            pending = pool.submit(run_integration, Path(tmp), timeout) if integration else None
            save(tests=run_tests(tests, interpret=False, log=tests_log))
            skipped = {"status": "skipped", "reason": "--skip integration"}
            save(integration=pending.result() if pending else skipped)
        if "projection" not in skip:
            save(multi_pass=run_multi_pass(out.parent, deadline))
        if "stream" not in skip:
            from intdim.fastfood.kernels import HADAMARDS  # the default first

            save(
                stream_breakdown=run_multi_pass(
                    out.parent,
                    deadline,
                    sizes=STREAM_SIZES,
                    dims=STREAM_DIMS,
                    work=MULTI_PASS_WORK[:1],
                    hadamards=HADAMARDS[:1],
                    extra=("--stream-breakdown",),
                    name="stream_breakdown",
                )
            )
        if "kernels" not in skip:
            save(kernels=run_kernels(out.parent, deadline))
        if "decoders" not in skip:  # before the long step benchmark, which a budget cuts first
            progress = lambda rows: save(decoders={"rows": rows})  # noqa: E731
            save(decoders=run_decoders(steps, deadline, progress))
        if "steps" not in skip:
            rows = run_benchmark(models, steps, deadline, lambda rows: save(benchmark=rows),
                                 graphs=graphs)  # fmt: skip
            save(benchmark=rows)
        ok = report["tests"]["returncode"] == 0 and report["integration"]["status"] != "failed"
    save()
    return report, ok


def summary_table(report: dict) -> str:
    tests = report["tests"]
    lines = [
        f"gpu-check ({report['mode']}): {report['versions']['gpu'] or 'no GPU'}, "
        f"torch {report['versions']['torch']}, triton {report['versions']['triton']}, "
        f"transformers {report['versions']['transformers']}",
        f"kernel tests: {tests['summary'] or 'no summary'} ({tests['seconds']:.0f} s)",
    ]
    if "multi_pass" in report:
        lines.append(multi_pass_table(report["multi_pass"]))
    if "stream_breakdown" in report:
        lines.append(multi_pass_table(report["stream_breakdown"]))
    if "kernels" in report:
        lines.append(kernels_table(report["kernels"]))
    if "benchmark" in report:
        from intdim.measure.benchmark import format_table

        lines.append(format_table(report["benchmark"]))
    if "full_finetune_modelled" in report.get("decoders", {}):
        lines.append(decoder_table(report["decoders"]))
    if "integration" in report:
        lines.append(f"integration (bf16, gpu 1): {json.dumps(report['integration'])}")
    lines.append(f"total {report['seconds']:.0f} s")
    return "\n".join(lines)
