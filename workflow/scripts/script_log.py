"""What every rule script does first: send its stdout and stderr (progress bars included) to
its Snakemake log, check that it runs this checkout's intdim, and (for tests only) fail on
request."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

# Test-only fault switch: "<rule>:<marker file>" makes the first job of that rule that finds
# no marker create it and fail, so a test can watch Snakemake (or SLURM) retry the job.
FAULT_VARIABLE = "INTDIM_TEST_FAULT_ONCE"


def check_checkout(snakemake) -> None:
    """Stop if the intdim a job imported is not the one beside its script (another checkout's
    editable install, say): its numbers would come from other code than the Snakefile's."""
    module = sys.modules.get("intdim")
    scriptdir = getattr(snakemake, "scriptdir", None)
    if module is None or not scriptdir:
        return
    imported = Path(module.__file__).resolve().parent
    expected = (Path(scriptdir) / "intdim").resolve()
    if imported != expected:
        raise RuntimeError(
            f"rule {snakemake.rule} imported intdim from {imported}, not from this checkout's "
            f"{expected}; put {expected.parent} first on PYTHONPATH"
        )


def injected_fault(snakemake) -> None:
    spec = os.environ.get(FAULT_VARIABLE, "")
    rule, _, marker = spec.partition(":")
    if not marker or rule != snakemake.rule:
        return
    try:  # O_EXCL: of several jobs of the rule, exactly one fails
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    raise RuntimeError(f"injected test fault ({FAULT_VARIABLE}={spec}): this attempt fails")


def start(snakemake) -> None:
    check_checkout(snakemake)
    injected_fault(snakemake)


@contextlib.contextmanager
def logged(snakemake):
    path = snakemake.log[0] if snakemake.log else None
    if path is None:
        start(snakemake)
        yield
        return
    with open(path, "w", buffering=1) as handle:
        with contextlib.redirect_stdout(handle), contextlib.redirect_stderr(handle):
            try:
                start(snakemake)
                yield
            except Exception:
                import traceback

                traceback.print_exc(file=handle)
                raise
    sys.stdout.flush()
