"""Resuming an interrupted long job from its last saved state, bit for bit.

A long job (pre-training runs for days at paper scale) keeps its whole training state in one
file, ``state.pt``, in a resume folder beside its outputs: the weights, the optimiser, the
schedule, the gradient scaler, every random stream and what the job has recorded so far. The
file is replaced atomically, so a kill at any moment leaves either the previous state or the
new one. A rerun of the same job (Snakemake's ``rerun-incomplete``, a SLURM retry) starts from
it, and because nothing that decides a later step is left out, the rerun ends with the same
bits as a job that was never interrupted.

A job asked to stop, with SIGTERM (what SLURM sends at a job's time limit, some seconds before
it kills it) or SIGINT (Ctrl-C in the terminal that runs Snakemake reaches its local jobs too),
saves its state after the update under way and then stops, so nothing is lost to the stop; a
kill without warning (SIGKILL, a lost node) loses what was done since the last save.

The state carries a fingerprint of everything that decides the run (settings, model shape,
data, software, device). A state with another fingerprint belongs to another run: it is
discarded, with a line in the log that says so, and the job starts from the beginning.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

STATE = "state.pt"
SAVE_STATE_EVERY_S = 600.0  # at most this much computing is lost to a kill without warning
# A stop request this soon after the start is most likely SLURM's signal for a time limit
# (profiles/slurm asks for it minutes ahead) that leaves no time to work: the message says so.
EARLY_STOP_S = 120.0


def fingerprint(device: str, **decides) -> str:
    """A digest of what decides a run: ``decides`` (any JSON-printable values; others print
    with str), the type of ``device`` and the torch and transformers versions."""
    import torch
    import transformers

    software = [torch.__version__, transformers.__version__]
    decides = {**decides, "device": torch.device(device).type, "software": software}
    text = json.dumps(decides, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def save_state(folder: Path, key: str, state: dict) -> None:
    """Write ``state`` (tensors, numbers, lists and dicts of them) under ``key``, atomically."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / (STATE + ".partial")
    torch.save({"fingerprint": key, **state}, partial)
    os.replace(partial, folder / STATE)  # a kill leaves the old state or the new, never half


def load_state(folder: Path, key: str, log=print) -> dict | None:
    """The state saved under ``key`` in ``folder``, or None when there is none to resume.

    A state of another run (its fingerprint differs) or one that cannot be read is reported
    through ``log`` and the folder is emptied, so that nothing of it mixes into a fresh start.
    """
    import torch

    path = folder / STATE
    if not path.is_file():
        if folder.exists():  # what a job killed before its first save left
            shutil.rmtree(folder)
        return None
    try:
        state = torch.load(path, weights_only=True)
    except Exception as error:  # noqa: BLE001 (any unreadable file means: start again)
        log(f"cannot resume: {path} is unreadable ({error!r}); starting from the beginning")
        shutil.rmtree(folder)
        return None
    if state.get("fingerprint") != key:
        log(
            f"cannot resume: {path} was saved by a run with other settings, data, software or "
            "device; starting from the beginning"
        )
        shutil.rmtree(folder)
        return None
    return state


def loop_state(device: str, **parts) -> dict:
    """A training loop's state: each part's ``state_dict()`` under its name (the model, the
    optimiser, schedule, gradient scaler, batch order) and every random stream."""
    return {**{name: part.state_dict() for name, part in parts.items()},
            "random": random_state(device)}  # fmt: skip


def restore_loop_state(state: dict, device: str, **parts) -> None:
    """Put back what ``loop_state`` saved, into the same parts."""
    for name, part in parts.items():
        part.load_state_dict(state[name])
    restore_random_state(state["random"], device)


def random_state(device: str) -> dict:
    """Every global random stream a training step may draw from: the CPU's and the device's."""
    import torch

    state = {"cpu": torch.get_rng_state()}
    if str(device).startswith("cuda"):
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_random_state(state: dict, device: str) -> None:
    import torch

    torch.set_rng_state(state["cpu"])
    if "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


class Stopped(RuntimeError):
    """The job stopped on request, its state saved for the next run to resume from."""


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequests:
    """SIGTERM and SIGINT turned into a request that the training loop honours between two
    updates, and the loop's saves of its state.

    Used as a context manager around a loop of ``last`` updates that saves its state in
    ``folder``, which calls ``after_update`` after each update; ``requested`` holds the signal's
    name once one came, and ``stopped`` gives the exception that ends the run once its state is
    saved. A signal the process was told to ignore (a
    shell's background job ignores SIGINT) stays ignored, and outside the main thread, where no
    handler can be installed, nothing is.
    """

    def __init__(self, folder: Path, last: int, save_every_s: float = SAVE_STATE_EVERY_S):
        self.folder, self.last, self.save_every_s = folder, last, save_every_s

    def __enter__(self):
        self.requested, self.previous = None, {}
        self.started, self.after_s = time.monotonic(), None
        self.saved_at = self.started
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                if signal.getsignal(number) is not signal.SIG_IGN:
                    self.previous[number] = signal.signal(number, self._request)
        return self

    def _request(self, signum, frame):
        self.requested = signal.Signals(signum).name
        self.after_s = time.monotonic() - self.started

    def after_update(self, update: int, save, due: bool = False) -> None:
        """Call ``save()`` after update ``update`` (of ``last``) when the state is ``due`` (the
        loop needs this update saved), when ``save_every_s`` has passed since the last save, or
        when a stop was requested; then, on a request with updates left, raise ``stopped``.

        The request is read once: a signal landing between two reads would otherwise stop the
        run without saving the update its message names.
        """
        stopping = self.requested
        if due or stopping or time.monotonic() - self.saved_at >= self.save_every_s:
            save()
            self.saved_at = time.monotonic()
        if stopping and update < self.last:
            raise self.stopped(update)

    def stopped(self, update: int) -> Stopped:
        """What ends the run after update ``update``, its state saved in ``folder``."""
        message = (
            f"stopped by {self.requested} after update {update}; its state is saved in "
            f"{self.folder}, and a rerun of this job resumes from it"
        )
        if self.after_s < EARLY_STOP_S:
            message += (
                f". The stop came {self.after_s:.0f} s after training started: if SLURM sent it "
                "for the job's time limit, that limit leaves almost no time to train; raise "
                "resources.runtime"
            )
        return Stopped(message)

    def __exit__(self, *exc):
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        return False
