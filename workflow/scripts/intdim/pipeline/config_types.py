"""Numbers and booleans that ``snakemake --config`` hands over as strings, typed by the schema.

Snakemake reads a nested ``--config`` value with YAML's BaseLoader, so ``seeds=[0,1]`` arrives
as ``["0", "1"]`` and ``subspace={steps: 10}`` as ``{"steps": "10"}``, which the schema would
refuse. Where the schema asks for an integer, a number or a boolean and a string spells one,
the string becomes it; any other string is left as it is, for the schema to refuse by name.
"""

from __future__ import annotations

import math


def typed_by_schema(value, schema: dict):
    """``value`` (a config, or part of one) with the schema's numbers and booleans typed; a
    new object, ``value`` itself unchanged. ``schema`` is the whole schema (its definitions)."""
    return _typed(value, schema, schema)


def _typed(value, schema: dict, root: dict):
    schema = _resolved(schema, root)
    if isinstance(value, dict):
        return {key: _typed(item, _member(schema, key), root) for key, item in value.items()}
    if isinstance(value, list):
        items = schema.get("items", {})
        return [_typed(item, items, root) for item in value]
    if isinstance(value, str):
        return _parsed(value, schema.get("type"))
    return value


def _resolved(schema: dict, root: dict) -> dict:
    """The schema with its local ``$ref`` (``#/definitions/NAME`` of ``root``) followed."""
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/definitions/")
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**root["definitions"][name], **rest}
    return schema


def _member(schema: dict, key: str) -> dict:
    if key in schema.get("properties", {}):
        return schema["properties"][key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else {}


def _parsed(text: str, kind):
    """``text`` as the one type the schema names, when it spells one; else ``text``."""
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            number = _float(text)  # "1e6", as a d value is often written
            return int(number) if number is not None and number.is_integer() else text
    if kind == "number":
        number = _float(text)
        return number if number is not None and math.isfinite(number) else text
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
