"""What every rule script does first: send its stdout and stderr (progress bars included) to
its Snakemake log, check that it runs this checkout's intdim, and (for tests only) fail on
request."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

# Test-only fault switch: "<rule>:<marker file>" makes the first job of that rule that finds
# no marker create it and fail, so a test can watch Snakemake (or SLURM) retry the job.
FAULT_VARIABLE = "INTDIM_TEST_FAULT_ONCE"
# Beside a saved training state: the log of the attempts that saved it.
EARLIER_ATTEMPTS = "earlier-attempts.log"


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
def logged(snakemake, state_file: Path | None = None):
    """Run the block with stdout and stderr in the job's log; an exception's traceback lands
    there too.

    Snakemake deletes a job's log before each attempt. A job that can resume, from the training
    state it saves in ``state_file``, and ends with that state saved (stopped, or failed after a
    save) leaves a copy of its log beside it, and the attempt that resumes starts its log with
    that copy: the log then still says why the job stopped and after which update. A kill
    leaves no copy.
    """
    path = snakemake.log[0] if snakemake.log else None
    if path is None:
        start(snakemake)
        yield
        return

    def state_saved() -> bool:
        return state_file is not None and state_file.is_file()

    earlier = state_file.with_name(EARLIER_ATTEMPTS) if state_file is not None else None
    # w+: the copy below reads the log back through this handle, not by its path. Under SLURM
    # the job shows TIMEOUT while the stopped attempt still saves, and Snakemake may delete the
    # log for the retry before the attempt has written its last lines.
    with open(path, "w+", buffering=1) as handle:
        if state_saved() and earlier.is_file():
            handle.write(earlier.read_text())
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
            print(f"\n==== {when}: this job again; {state_file.parent} holds a state saved by the "
                  "attempt logged above ====\n", file=handle)  # fmt: skip
        try:
            with contextlib.redirect_stdout(handle), contextlib.redirect_stderr(handle):
                try:
                    start(snakemake)
                    yield
                except Exception:
                    import traceback

                    traceback.print_exc(file=handle)
                    raise
        finally:
            sys.stdout.flush()
            if state_saved():  # the next attempt resumes from it
                handle.flush()
                handle.seek(0)
                partial = earlier.with_name(EARLIER_ATTEMPTS + ".partial")
                partial.write_text(handle.read())
                os.replace(partial, earlier)  # a retry reads all of it or none
