"""Stopping a pre-training run mid-way, as a kill would, at a chosen checkpoint."""

import json


class Interrupted(Exception):
    pass


def stop_at(step):
    """A log that stops the run when checkpoint ``step`` is recorded."""

    def log(line):
        if line.startswith("{") and json.loads(line)["global_step"] == step:
            raise Interrupted

    return log
