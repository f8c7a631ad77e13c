"""A pre-training job of the workflow stopped (SIGKILL, Ctrl-C) and resumed in a folder of its
own, against one never stopped: the Section 5 miniature's pre-training, made long enough to
stop mid-way."""

import copy
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake_runs import (
    ROOT,
    STOPPED,
    start_as_from_a_terminal,
    stop_and_resume,
    wait_for,
    wait_while_running,
)

pytestmark = pytest.mark.slow


PRETRAINING = "results/pretrain/xs/history.json"


@pytest.fixture(scope="module")
def long_pretraining(section5_config, tmp_path_factory):
    """A pre-training long enough to stop mid-way (1,000 updates, its state saved at update
    100 and when asked to stop), its command line, and one run of it never stopped."""
    folder = tmp_path_factory.mktemp("long_pretraining")
    config = copy.deepcopy(section5_config)
    del config["pretraining"]["save_every"]
    config["pretraining"].update(steps=1000, save_at=[100])
    configfile = folder / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))

    def command(workdir: Path):
        return [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
                "--directory", str(workdir), "--configfile", str(configfile), "--cores", "1",
                PRETRAINING]  # fmt: skip

    once = subprocess.run(command(folder / "unstopped"), capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    assert once.returncode == 0, once.stderr[-3000:]
    return command, folder / "unstopped"


@pytest.mark.parametrize("stop", ["SIGKILL to the job", "Ctrl-C"])
def test_a_stopped_pretraining_job_resumes_and_ends_with_the_bits_of_one_never_stopped(
    long_pretraining, tmp_path, stop
):
    command, unstopped = long_pretraining
    stopped = tmp_path / "stopped"
    job = start_as_from_a_terminal(command(stopped))
    state = stopped / "results/pretrain/xs/resume/state.pt"
    wait_for(state.exists, job)
    script = f"{stopped}/.snakemake/scripts/.*pretrain.py"
    if stop == "Ctrl-C":  # the terminal's SIGINT reaches Snakemake and its job alike
        assert job.poll() is None, "the pre-training ended before its state appeared"
        os.killpg(job.pid, signal.SIGINT)
    else:  # as a lost node or an out-of-memory kill: the job gets no chance to save
        kill = subprocess.run(["pkill", "-9", "-f", script])
        assert kill.returncode == 0, "the pre-training job was not running when its state appeared"
    stderr = job.communicate(timeout=600)[1]
    wait_while_running(script)
    assert job.returncode != 0 and not (stopped / PRETRAINING).exists(), stderr[-3000:]
    log = (stopped / "logs/pretrain/xs.log").read_text()
    if stop == "Ctrl-C":  # the job saved the update under way, after the checkpoint's state
        stopped_by = STOPPED.search(log)
        assert stopped_by and stopped_by.group(1) == "SIGINT", log[-3000:]
        saved = int(stopped_by.group(2))
        assert 100 < saved < 1000
    else:
        saved = 100

    again = subprocess.run(command(stopped), capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    log = (stopped / "logs/pretrain/xs.log").read_text()
    assert f"resumed from the state saved after update {saved} in" in log
    # A stopped attempt's lines stay above the resumed one's; a killed one could keep none.
    expected = ("SIGINT", saved, saved) if stop == "Ctrl-C" else None
    assert stop_and_resume(log) == expected, log[-3000:]
    assert json.loads((stopped / PRETRAINING).read_text())["resumed_at"] == [saved]
    assert not state.parent.exists()
    compare = subprocess.run([sys.executable, str(ROOT / "tools/compare_runs.py"), str(stopped),
                              str(unstopped)], capture_output=True, text=True)  # fmt: skip
    assert compare.returncode == 0 and "pretrain/xs/history.json" in compare.stdout, compare.stdout
    for step in (0, 100, 1000):  # every checkpoint's files, to the sha256
        manifests = [(run / f"results/pretrain/xs/step{step}/manifest.json").read_text()
                     for run in (stopped, unstopped)]  # fmt: skip
        assert manifests[0] == manifests[1]
