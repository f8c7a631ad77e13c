"""What the Snakefile does to a config before the DAG: the schema, then the cross-field checks
and the run's plan."""

from intdim.pipeline.plan import Plan, make_plan
from intdim.pipeline.workflow_config import SCHEMA
from snakemake.utils import validate


def check(config: dict) -> Plan:
    validate(config, str(SCHEMA))
    return make_plan(config)
