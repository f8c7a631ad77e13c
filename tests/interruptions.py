"""Stopping a pre-training run mid-way at a chosen checkpoint: as a kill would (an exception
that leaves no chance to save) or with a signal, as SLURM asks a job to stop at its time limit."""

import json
import os


class Interrupted(Exception):
    pass


def _at(step, act):
    def log(line):
        if line.startswith("{") and json.loads(line)["global_step"] == step:
            act()

    return log


def stop_at(step):
    """A log that stops the run when checkpoint ``step`` is recorded."""

    def interrupt():
        raise Interrupted

    return _at(step, interrupt)


def signal_at(step, number):
    """A log that sends this process the signal ``number`` when checkpoint ``step`` is recorded."""
    return _at(step, lambda: os.kill(os.getpid(), number))
