"""``python -m snakemake`` with the SLURM plugin's status checks at most 5 seconds apart.

snakemake-executor-plugin-slurm waits 10 s longer before each status check that finds no job
finished, up to 180 s (a constant, not a setting), which is kind to a real cluster's slurmctld
but, on the test's one-node cluster, adds up to a minute of idle waiting after each job a test
waits for. Only the waits between checks change: what a check does with what sacct says is the
plugin's own code.
"""

import snakemake_executor_plugin_slurm
from snakemake.cli import main

SECONDS_BETWEEN_CHECKS = 5

if __name__ == "__main__":  # run as a script only: importing it changes nothing
    Executor = snakemake_executor_plugin_slurm.Executor
    wait = Executor.next_seconds_between_status_checks
    Executor.next_seconds_between_status_checks = wait.setter(
        lambda executor, seconds: wait.fset(executor, min(seconds, SECONDS_BETWEEN_CHECKS))
    )
    main()
