"""What the Snakefile does to a config before the DAG: the schema, then the cross-field checks."""

from intdim.workflow_config import SCHEMA, check_config
from snakemake.utils import validate


def check(config: dict) -> None:
    validate(config, str(SCHEMA))
    check_config(config)
