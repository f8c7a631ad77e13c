"""The SLURM test cluster's configuration, without starting it (test_slurm.py starts one)."""

from intdim.pipeline import slurm_cluster


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
