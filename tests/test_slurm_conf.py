"""The SLURM test cluster's configuration and lock, without starting it (test_slurm.py starts
one)."""

import fcntl
import os
import subprocess
import sys

import pytest
from intdim.pipeline import slurm_cluster

# A second process that takes the cluster, says so, and lets it go when told (a line on stdin).
HOLDER = """
from intdim.pipeline import slurm_cluster
with slurm_cluster.held():
    print("held", flush=True)
    input()
"""


def test_stop_leaves_its_own_configuration_failing_fast_and_any_other_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(slurm_cluster, "CONF_DIR", tmp_path / "etc")
    monkeypatch.setattr(slurm_cluster, "STATE", tmp_path / "state")  # no pids.json: no daemons
    (tmp_path / "etc").mkdir()
    conf = tmp_path / "etc/slurm.conf"
    running = slurm_cluster._slurm_conf()
    assert "MessageTimeout" not in running  # a running cluster keeps SLURM's default
    conf.write_text(running)
    slurm_cluster.stop()
    assert conf.read_text().splitlines() == ["MessageTimeout=1", *running.splitlines()]
    site = "ClusterName=site\nSlurmctldHost=head\nStateSaveLocation=/var/spool/slurmctld\n"
    conf.write_text(site)
    slurm_cluster.stop()
    assert conf.read_text() == site


def _holder(state) -> subprocess.Popen:
    env = {**os.environ, "INTDIM_SLURM_STATE": str(state)}
    return subprocess.Popen([sys.executable, "-c", HOLDER], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip


def test_the_cluster_is_held_by_one_process_and_a_second_waits_for_it(tmp_path, monkeypatch):
    monkeypatch.setattr(slurm_cluster, "STATE", tmp_path)
    with slurm_cluster.held():
        # While held here, nobody else can take it...
        with open(tmp_path / "cluster.lock") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # ...and a second process waits, saying why, until this one lets go.
        second = _holder(tmp_path)
        lock = tmp_path / "cluster.lock"
        assert second.stderr.readline() == (
            f"waiting for the process holding {lock} to let the SLURM cluster go\n"
        )
    assert second.stdout.readline() == "held\n"
    second.communicate("\n", timeout=60)
    assert second.returncode == 0
    # Let go: free for the next.
    with open(tmp_path / "cluster.lock") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_a_holder_that_dies_lets_the_cluster_go(tmp_path, monkeypatch):
    monkeypatch.setattr(slurm_cluster, "STATE", tmp_path)
    first = _holder(tmp_path)
    assert first.stdout.readline() == "held\n"
    first.kill()
    first.wait()
    with open(tmp_path / "cluster.lock") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # no wait: the lock went with it
