"""The Snakemake controller as a cluster user runs it: no torch, exact profiles, this checkout."""

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from snakemake_runs import ROOT, snakemake_cmd

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


@pytest.mark.parametrize("configfile", [None, "config/paper.yaml", "config/llm.yaml"])
def test_dry_run_builds_the_dag_without_torch_or_transformers(tmp_path, configfile):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": blocked_path(tmp_path), "HOME": str(tmp_path)}
    probe = subprocess.run([sys.executable, "-c", "import torch"], env=env, capture_output=True)
    assert probe.returncode != 0  # the block works
    extra = ["--configfile", configfile] if configfile else []
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "subspace_run" in proc.stdout
    if configfile == "config/paper.yaml":  # pre-training asks for the training jobs' GPUs
        assert "pretrain" in proc.stdout
    if configfile == "config/llm.yaml":  # 5 models x 3 tasks x 9 d x 3 rates x 2 methods
        assert re.search(r"^subspace_run\s+810$", proc.stdout, re.MULTILINE), proc.stdout[-2000:]
        assert re.search(r"^search_round\s+5$", proc.stdout, re.MULTILINE)


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
    sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
    import intdim  # noqa: F401  (what a job has imported when it starts)
    from script_log import check_checkout

    class Job:
        rule = "subspace_run"
        scriptdir = str(tmp_path)  # a checkout whose intdim is not the one imported

    with pytest.raises(RuntimeError, match="rule subspace_run imported intdim from .* not from"):
        check_checkout(Job())
    Job.scriptdir = str(ROOT / "workflow" / "scripts")
    check_checkout(Job())  # this checkout's scripts: fine
