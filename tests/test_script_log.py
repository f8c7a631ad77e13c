"""A rule script's log: started afresh for each job, and kept across attempts when a job
resumes a state that an earlier attempt saved."""

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from intdim.method.resume import STATE
from script_log import EARLIER_ATTEMPTS, logged
from snakemake_runs import stop_and_resume


def job(tmp_path):
    return SimpleNamespace(log=[str(tmp_path / "job.log")], rule="subspace_run", scriptdir=None)


def attempt(snakemake, resume_dir, line, saves=False, fails=False):
    """One attempt of the job, as Snakemake starts it (it deletes the log first): prints
    ``line``, then saves a training state and fails, as a stopped job does, where asked."""
    Path(snakemake.log[0]).unlink(missing_ok=True)
    with logged(snakemake, resume_dir / STATE if resume_dir else None):
        print(line)
        if saves:
            resume_dir.mkdir(exist_ok=True)
            (resume_dir / STATE).write_bytes(b"")
        if fails:
            raise RuntimeError(line.replace("training", "stopped by SIGTERM after"))


def test_a_job_starts_its_log_afresh(tmp_path):
    snakemake, resume_dir = job(tmp_path), tmp_path / "resume"
    log = tmp_path / "job.log"
    with pytest.raises(RuntimeError):
        attempt(snakemake, resume_dir, "training update 5", fails=True)  # failed, saved nothing
    attempt(snakemake, resume_dir, "second")
    assert log.read_text() == "second\n" and not resume_dir.exists()
    log.write_text("a log of another rule\n")
    attempt(snakemake, None, "third")  # a rule without a resume folder
    assert log.read_text() == "third\n"


def test_a_job_that_resumes_keeps_the_log_of_the_attempts_that_saved_its_state(tmp_path):
    snakemake, resume_dir = job(tmp_path), tmp_path / "resume"
    log = tmp_path / "job.log"
    with pytest.raises(RuntimeError, match="stopped by SIGTERM after update 5"):
        attempt(snakemake, resume_dir, "training update 5", saves=True, fails=True)
    assert (resume_dir / EARLIER_ATTEMPTS).read_text() == log.read_text()
    attempt(snakemake, resume_dir, "resumed from the state saved after update 5 in resume")
    first, second = log.read_text().split("====\n", 1)
    assert first.startswith("training update 5\nTraceback")
    assert f"this job again; {resume_dir} holds a state saved by the attempt logged above" in first
    assert second == "\nresumed from the state saved after update 5 in resume\n"
    assert stop_and_resume(log.read_text()) == ("SIGTERM", 5, 5)

    shutil.rmtree(resume_dir)  # what training does once it ends
    attempt(snakemake, resume_dir, "a forced rerun")
    assert log.read_text() == "a forced rerun\n"


def test_an_attempt_that_ends_with_a_state_leaves_the_next_its_log(tmp_path):
    """Stopped, or failed after a periodic save: the state is there when the attempt ends."""
    snakemake, resume_dir = job(tmp_path), tmp_path / "resume"
    log = tmp_path / "job.log"
    with pytest.raises(RuntimeError):
        attempt(snakemake, resume_dir, "training update 3", saves=True, fails=True)
    with pytest.raises(RuntimeError):
        attempt(snakemake, resume_dir, "training update 8", fails=True)
    attempt(snakemake, resume_dir, "resumed from the state saved after update 8 in resume")
    text = log.read_text()
    assert text.count("this job again") == 2
    assert text.index("update 3") < text.index("update 8") < text.index("resumed")
    assert stop_and_resume(text) == ("SIGTERM", 3, 8)  # the first stop, the first resume after it


def test_stop_and_resume_reads_a_kill_as_no_stop_and_one_attempt_as_nothing():
    again = "\n==== 2026-01-01 00:00:00: this job again; r holds a state saved by the attempt "
    again += "logged above ====\n\n"
    resumed = "resumed from the state saved after update 100 in r\n"
    assert stop_and_resume("training update 7\n" + again + resumed) == (None, None, 100)
    assert stop_and_resume(resumed) is None
    assert stop_and_resume("stopped by SIGINT after update 7; saved\n" + again) is None


def test_the_log_is_kept_when_snakemake_deletes_it_before_the_attempt_ends(tmp_path):
    """Under SLURM the job reads TIMEOUT while the stopped attempt still saves, and Snakemake
    deletes the log for the retry: the attempt's lines must reach the next attempt anyway."""
    snakemake, resume_dir = job(tmp_path), tmp_path / "resume"
    log = tmp_path / "job.log"
    with pytest.raises(RuntimeError, match="stopped by SIGTERM after update 7"):
        with logged(snakemake, resume_dir / STATE):
            print("training update 7")
            resume_dir.mkdir()
            (resume_dir / STATE).write_bytes(b"")
            log.unlink()  # the retry's clean-up, while this attempt still runs
            raise RuntimeError("stopped by SIGTERM after update 7")
    kept = (resume_dir / EARLIER_ATTEMPTS).read_text()
    assert kept.startswith("training update 7\nTraceback") and kept.endswith("update 7\n")
    assert not list(resume_dir.glob("*.partial"))
    attempt(snakemake, resume_dir, "resumed from the state saved after update 7 in resume")
    assert stop_and_resume(log.read_text()) == ("SIGTERM", 7, 7)
