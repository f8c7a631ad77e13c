"""Stopping a training run mid-way, at a chosen pre-training checkpoint or fine-tuning update: as
a kill would (an exception that leaves no chance to save) or with a signal, as SLURM asks a job
to stop at its time limit."""

import json
import os

from snakemake_runs import STOPPED
from tiny_models import TinyTokenizer


class Interrupted(Exception):
    pass


def interrupt():
    """An action that stops the run as a kill would: no chance to save."""
    raise Interrupted


def send(number):
    """An action that sends this process the signal ``number``."""
    return lambda: os.kill(os.getpid(), number)


def _at(step, act):
    def log(line):
        if line.startswith("{") and json.loads(line)["global_step"] == step:
            act()

    return log


def stop_at(step):
    """A log that stops the run when checkpoint ``step`` is recorded."""
    return _at(step, interrupt)


def signal_at(step, number):
    """A log that sends this process the signal ``number`` when checkpoint ``step`` is recorded."""
    return _at(step, send(number))


class TokenizerActingAt(TinyTokenizer):
    """Calls ``act`` when fine-tuning update ``update`` pads its batch (one pad an update)."""

    def __init__(self, update, act):
        self.calls, self.update, self.act = 0, update, act

    def pad(self, examples, return_tensors):
        self.calls += 1
        if self.calls == self.update:
            self.act()
        return super().pad(examples, return_tensors)


def request_seen_at_look(look):
    """A factory for ``resume.StopRequests`` whose SIGTERM turns up at the ``look``-th read of
    ``requested``: a real signal may land between any two reads within one update."""
    from intdim.method.resume import StopRequests

    class RequestSeenAtLook(StopRequests):
        looks = 0

        @property
        def requested(self):
            self.looks += 1
            if self.looks < look:
                return None
            if self.after_s is None:
                self.after_s = 0.0
            return "SIGTERM"

        @requested.setter
        def requested(self, value):  # __enter__ clears it; the request comes by the count alone
            pass

    return RequestSeenAtLook


def stopped_after(error) -> int:
    """The update a ``resume.Stopped`` message names (as a job's log reads it, ``STOPPED``)."""
    return int(STOPPED.search(str(error)).group(2))
