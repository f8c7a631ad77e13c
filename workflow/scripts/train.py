"""Snakemake script: one training run, full fine-tuning or subspace (DID/SAID), and its metrics."""

import time

STARTED = time.perf_counter()  # before the imports: the job's set-up time includes them

import json  # noqa: E402
from pathlib import Path  # noqa: E402

from intdim.method import resume  # noqa: E402
from intdim.method.export import save_task  # noqa: E402
from intdim.method.models import load_classifier, parameter_count, prepare_padding  # noqa: E402
from intdim.method.precision import job_device  # noqa: E402
from intdim.method.subspace import SubspaceModel, SubspaceSettings  # noqa: E402
from intdim.method.training import TrainSettings, train_and_evaluate  # noqa: E402
from intdim.pipeline.integrity import manifest, read_parquet, verified_dir  # noqa: E402
from intdim.pipeline.numerics import use_numerics  # noqa: E402
from intdim.pipeline.provenance import run_environment  # noqa: E402
from script_log import logged  # noqa: E402


def record_infeasible(snakemake, method, D, settings, info, reason):
    print(f"infeasible: {reason}")
    result = {
        "status": "infeasible", "reason": reason, "steps_done": 0, "loss_curve": [],
        "model": snakemake.wildcards.model, "task": snakemake.wildcards.task, "method": method,
        "d": snakemake.params.subspace["d"], "D": D, "lr": float(snakemake.wildcards.lr),
        "effective_lr": settings.learning_rate,  # the rate it would have trained at
        "seed": settings.seed,
        "eval_majority_accuracy": info["eval_majority_accuracy"],
    }  # fmt: skip
    Path(snakemake.output.metrics).write_text(json.dumps(result, indent=2))
    Path(snakemake.output.task_file).write_bytes(b"")  # no solution exists for this d


def main(snakemake, resume_dir):
    import torch
    from transformers import AutoTokenizer

    use_numerics(snakemake.params.numerics)  # before the job's first tensor operation
    torch.set_num_threads(snakemake.threads)
    # Both manifests are checked before anything is read: a damaged input stops the job here.
    info = verified_dir(snakemake.input.data)
    meta = verified_dir(snakemake.input.model)
    train = read_parquet(snakemake.input.train)
    evaluation = read_parquet(snakemake.input.eval)
    settings = TrainSettings(**snakemake.params.settings)
    method = snakemake.params.method
    device = job_device(
        int(snakemake.resources.get("gpu", 0)), snakemake.rule, snakemake.params.allow_cpu_fallback
    )

    # The head initialisation and the projection both come from the run's seed.
    model = load_classifier(meta["snapshot"], info["num_labels"], init_seed=settings.seed)
    model.to(device)
    tokenizer = AutoTokenizer.from_pretrained(meta["snapshot"])
    prepare_padding(tokenizer, model)
    D = parameter_count(model)
    if method == "full":
        net, trainable = model, list(model.parameters())
    else:
        try:
            net = SubspaceModel(
                model, SubspaceSettings(**snakemake.params.subspace, seed=settings.seed)
            )
        except ValueError as err:  # e.g. SAID with d <= m: record why, keep the sweep going
            return record_infeasible(snakemake, method, D, settings, info, str(err))
        trainable = net.trainable_parameters()
        print("memory:", json.dumps(net.memory_report()))
    print(f"{method}: D={D}, trainable={sum(p.numel() for p in trainable)}, device={device}")

    environment = run_environment(device, snakemake.params.numerics)
    setup_seconds = time.perf_counter() - STARTED  # imports, loading, the projection's state
    # A stopped job (SIGTERM before a SLURM time limit, Ctrl-C) saves its state here, and its
    # rerun continues from it; a state of other inputs or settings is not used.
    identity = {
        "wildcards": dict(snakemake.wildcards.items()),
        "params": {k: v for k, v in snakemake.params.items() if k != "allow_cpu_fallback"},
        "data": info["files"],
        "model": meta["files"],
    }
    result = train_and_evaluate(
        net, trainable, tokenizer, train, evaluation, settings, device,
        resume_dir=resume_dir, identity=identity,
    )  # fmt: skip
    result.update(
        {
            "setup_seconds": setup_seconds,
            "model": snakemake.wildcards.model,
            "task": snakemake.wildcards.task,
            "method": method,
            "d": snakemake.params.subspace["d"] if method != "full" else D,
            "D": D,
            "num_trainable": sum(p.numel() for p in trainable),
            "lr": float(snakemake.wildcards.lr),  # the searched value (before any d scaling)
            "effective_lr": settings.learning_rate,
            "seed": settings.seed,
            "device": environment["device"],
            "precision": settings.precision,
            "environment": environment,
            "eval_majority_accuracy": info["eval_majority_accuracy"],
        }
    )
    if method != "full":
        result["said_m"] = net.m
        # The Triton kernels and the PyTorch reference compute the same projection.
        result["projection_backend"] = type(net.projection).__name__
        save_task(
            snakemake.output.task_file,
            net,
            base_model=meta["snapshot"],
            init_seed=settings.seed,
            extra={"task": snakemake.wildcards.task, "reference": meta["reference"]},
        )
        # The compression bound reads the task file back: it checks it against this.
        task_file = Path(snakemake.output.task_file)
        result["files"] = manifest(task_file.parent, [task_file])
    print(json.dumps({k: v for k, v in result.items() if k != "loss_curve"}, indent=2))
    Path(snakemake.output.metrics).write_text(json.dumps(result, indent=2))


RESUME_DIR = Path(snakemake.output.metrics).parent / "resume"  # noqa: F821
with logged(snakemake, RESUME_DIR / resume.STATE):  # noqa: F821
    main(snakemake, RESUME_DIR)  # noqa: F821
