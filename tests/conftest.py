import os
import shutil
from pathlib import Path

import pytest
import torch

# Without a GPU the Triton kernels run under Triton's CPU interpreter. Triton reads this when
# a kernel is defined, so it is set before any test module imports one.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

ROOT = Path(__file__).resolve().parents[1]


# `make test` runs the files in pytest-xdist workers (--dist loadfile), one per core and one
# more for the SLURM tests, which mostly wait for the cluster's clock (a time limit, a signal
# sent ahead of it, the executor's status checks). A file stays on one worker, so its module
# fixtures (one SLURM cluster, one SLURM run) are made once. The two files that read and
# change the session's integration run go to one worker together and start first, being the
# longest; the SLURM file starts at the same time on another (with --no-loadscope-reorder:
# in collection order). Tests of the workflow that need no integration run are in other files.
INTEGRATION_RUN_FILES = ("test_section5_workflow.py", "test_workflow.py")
SLURM_FILE = "test_slurm.py"


def pytest_collection_modifyitems(config, items):
    first = (*INTEGRATION_RUN_FILES, SLURM_FILE)
    items.sort(key=lambda item: first.index(item.path.name) if item.path.name in first else 3)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """-n auto: one worker per core, and one for the SLURM tests unless slow tests are left
    out (-m "not slow"), as in the quick tier."""
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere, every core
    cores = len(affinity(0)) if affinity else os.cpu_count() or 1
    return cores if "not slow" in (config.option.markexpr or "") else cores + 1


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile with the integration-run files as one unit. (xdist's loadgroup marks do
    not group under pytest 9, whose node ids xdist 3.8 can no longer rename.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FilesScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::")[0]
            return "integration run" if Path(file).name in INTEGRATION_RUN_FILES else file

    return FilesScheduling(config, log)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def config(repo_root) -> dict:
    """The offline default config, fresh for each test (tests break it in one place)."""
    import yaml

    return yaml.safe_load((repo_root / "config" / "config.yaml").read_text())


@pytest.fixture
def survey_config(config) -> dict:
    """The offline default with a second size and a survey of both, as config/offline_full.yaml
    has them (the default pre-trains one size and has no survey): every block a config can
    have, for the checks of blocks and of the names between them."""
    config["pretraining"]["sizes"]["s"] = {
        "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}  # fmt: skip
    config["survey"] = {"models": ["pretrained:s", "pretrained:m"], "tasks": ["tweets_balanced"],
                        "method": "said"}  # fmt: skip
    return config


@pytest.fixture(scope="module")
def section5_config(repo_root) -> dict:
    """The integration config with its Section 5 miniature merged on top, as the run has it."""
    import yaml

    merged = yaml.safe_load((repo_root / "config/integration.yaml").read_text())
    extra = yaml.safe_load((repo_root / "config/integration_section5.yaml").read_text())
    merged["tasks"].update(extra.pop("tasks"))
    return {**merged, **extra}


@pytest.fixture
def run(integration_run) -> Path:
    """The integration run's folder (the name the workflow tests read best with)."""
    return integration_run


def _integration_run(tmp_path_factory) -> tuple[Path, Path]:
    """(the run's folder, a copy of its tables made as it finished): one real run of the
    workflow (sweep and Section 5 miniatures) with its report, made by whichever worker asks
    first; a worker that asks while it is under way waits for it."""
    from filelock import FileLock
    from snakemake_runs import snakemake

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the folder every worker's own temporary folder is in
    workdir, tables = shared / "workflow", shared / "workflow_tables"
    with FileLock(shared / "workflow.lock"):
        if not tables.is_dir():
            proc = snakemake(workdir)
            assert proc.returncode == 0, proc.stderr[-4000:]
            report = snakemake(workdir, "--report", str(workdir / "report.html"))
            assert report.returncode == 0, report.stderr[-4000:]
            shutil.copytree(workdir / "results" / "tables", tables)
    return workdir, tables


@pytest.fixture(scope="session")
def integration_run(tmp_path_factory) -> Path:
    """The integration run's folder, for the tests that read it and for those (on the same
    worker) that change it."""
    return _integration_run(tmp_path_factory)[0]


@pytest.fixture(scope="session")
def integration_tables(tmp_path_factory) -> Path:
    """The integration run's tables as it finished, for a test on another worker, where the
    run's own may be under change."""
    return _integration_run(tmp_path_factory)[1]


@pytest.fixture
def hub_offline(monkeypatch):
    """The Hugging Face libraries in offline mode, as HF_HUB_OFFLINE=1 gives a fresh process.
    They read the variable once, at import, so the already-imported constants are set too;
    the variable alone would leave them trying the network (retrying for about 20 s)."""
    import datasets
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
