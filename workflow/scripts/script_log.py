"""Send a rule script's stdout and stderr (progress bars included) to its Snakemake log."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def logged(snakemake):
    path = snakemake.log[0] if snakemake.log else None
    if path is None:
        yield
        return
    with open(path, "w", buffering=1) as handle:
        with contextlib.redirect_stdout(handle), contextlib.redirect_stderr(handle):
            try:
                yield
            except Exception:
                import traceback

                traceback.print_exc(file=handle)
                raise
    sys.stdout.flush()
