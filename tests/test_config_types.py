import subprocess
import sys

import pytest
import yaml
from intdim.pipeline.config_types import typed_by_schema
from intdim.pipeline.workflow_config import SCHEMA
from snakemake_runs import planned_jobs

# A schema of every kind of place a string can sit: a property, an array's item, an open
# object's member, and a local $ref.
SCHEMA_OF_EVERY_PLACE = {
    "definitions": {"rates": {"type": "array", "items": {"type": "number"}}},
    "type": "object",
    "properties": {
        "seeds": {"type": "array", "items": {"type": "integer"}},
        "rates": {"$ref": "#/definitions/rates"},
        "flag": {"type": "boolean"},
        "name": {"type": "string"},
        "models": {"type": "object", "additionalProperties": {"type": "string"}},
        "sizes": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "hidden": {"type": "integer"}}}},
    },
}  # fmt: skip


def typed(value: dict) -> dict:
    return typed_by_schema(value, SCHEMA_OF_EVERY_PLACE)


def test_numbers_and_booleans_spelt_as_strings_take_the_schemas_type():
    config = {"seeds": ["0", "12"], "rates": ["0.2", "2.0e-4", "1e-3"], "flag": "True",
              "sizes": {"m": {"hidden": "128"}}}  # fmt: skip
    assert typed(config) == {"seeds": [0, 12], "rates": [0.2, 2e-4, 1e-3], "flag": True,
                             "sizes": {"m": {"hidden": 128}}}  # fmt: skip
    assert type(typed({"seeds": ["3"]})["seeds"][0]) is int
    assert typed({"flag": "false"})["flag"] is False
    assert typed({"flag": "yes"}) == {"flag": "yes"}  # only true and false, as JSON spells them


def test_an_integer_written_as_a_power_of_ten_is_an_integer_and_a_fraction_is_not():
    assert typed({"seeds": ["1e6", "4E6"]})["seeds"] == [1_000_000, 4_000_000]
    assert typed({"seeds": ["1.5", "1e-1"]})["seeds"] == ["1.5", "1e-1"]


@pytest.mark.parametrize("text", ["x", "nan", "inf", "", "0x10"])
def test_strings_that_spell_no_number_stay_strings_for_the_schema_to_refuse(text):
    assert typed({"seeds": [text], "rates": [text]}) == {"seeds": [text], "rates": [text]}


def test_strings_where_the_schema_asks_for_strings_or_says_nothing_stay_strings():
    config = {"name": "12", "models": {"m": "3"}, "unknown": "7"}
    assert typed(config) == config


def test_a_schema_without_definitions_or_an_array_without_items_types_what_it_can():
    schema = {"properties": {"n": {"type": "integer"}, "tags": {"type": "array"}}}
    assert typed_by_schema({"n": "3", "tags": ["1"]}, schema) == {"n": 3, "tags": ["1"]}


def test_values_already_typed_and_the_config_given_are_left_alone():
    config = {"seeds": [0, "1"], "rates": [0.5], "flag": False}
    assert typed(config) == {"seeds": [0, 1], "rates": [0.5], "flag": False}
    assert config == {"seeds": [0, "1"], "rates": [0.5], "flag": False}


def test_the_workflow_schema_types_the_nested_values_snakemake_config_gives_as_strings(config):
    schema = yaml.safe_load(SCHEMA.read_text())
    edited = {**config, "seeds": ["0", "1"], "subspace": {**config["subspace"], "steps": "10"},
              "d_grid": {"values": ["1e2", "300"]}}  # fmt: skip
    result = typed_by_schema(edited, schema)
    assert result["seeds"] == [0, 1] and result["subspace"]["steps"] == 10
    assert result["d_grid"] == {"values": [100, 300]}


def dry_run(repo_root, tmp_path, *extra: str) -> subprocess.CompletedProcess:
    """`snakemake -n` of the checkout's default, as a user types it."""
    cmd = [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--directory",
           str(tmp_path / "run"), *extra]  # fmt: skip
    return subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=600)


def test_config_on_the_command_line_changes_the_default_config_and_is_typed(repo_root, tmp_path):
    default = dry_run(repo_root, tmp_path)
    assert default.returncode == 0, default.stderr[-3000:]
    two_seeds = dry_run(repo_root, tmp_path, "--config", "seeds=[0,1]")
    assert two_seeds.returncode == 0, two_seeds.stderr[-3000:]
    runs = planned_jobs(default.stdout)["subspace_run"]
    assert planned_jobs(two_seeds.stdout)["subspace_run"] == 2 * runs
    bad = dry_run(repo_root, tmp_path, "--config", "seeds=[0,x]")
    assert bad.returncode != 0 and "'x' is not of type 'integer'" in bad.stdout + bad.stderr
    assert "On instance['seeds'][1]" in bad.stdout + bad.stderr
