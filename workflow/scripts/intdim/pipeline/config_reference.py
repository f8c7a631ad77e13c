"""config/README.md from the schema: every key, its type, default and description.

The schema is the single source; ``python -m intdim.pipeline.config_reference > config/README.md``
rewrites the page and a test checks that the committed page is what the schema gives.
"""

from __future__ import annotations

import yaml

from .workflow_config import SCHEMA

HEADER = """# Configuration

`config/config.yaml` is the offline default (MiniLM-L6 on tweets, CPU); `config/paper.yaml`
reproduces the paper on GPUs; `config/integration*.yaml` are the miniatures the tests run.
Give another with `snakemake --configfile my.yaml` (it replaces the default, it is not merged).
Several files are merged in order, so a file of changes goes after the config it changes:
`snakemake --configfile config/config.yaml seed1.yaml -- TARGETS` (the `--` ends the files).
`--config` changes single keys of whichever config runs: `snakemake --cores all --config
seeds=[0,1] 'subspace={steps: 40}'` (Snakemake passes the numbers inside lists and blocks as
text; the workflow reads them as the numbers the schema asks for). A block is merged key by key,
so `d_grid={values: [...]}` over a config whose grid has `min`, `max` and `points` is refused as
both forms at once: change the grid's form in a file.
The workflow validates a config against `workflow/schemas/config.schema.yaml` and the checks in
`intdim/pipeline/workflow_config.py` before it builds the DAG, and names the bad key;
`intdim/pipeline/plan.py` then resolves it once into the frozen plan the rules read.

This page is generated from the schema (`python -m intdim.pipeline.config_reference`); a test
keeps the two equal. `*` stands for a name you choose.

| key | type | default | meaning |
|---|---|---|---|
"""


def _resolve(node: dict, root: dict) -> dict:
    """A schema node with its $ref merged in (the node's own keys win)."""
    if "$ref" not in node:
        return node
    target = root
    for part in node["$ref"].lstrip("#/").split("/"):
        target = target[part]
    merged = {**_resolve(target, root), **node}
    del merged["$ref"]
    return merged


def _type(node: dict) -> str:
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    kind = node.get("type", "")
    if kind == "array" and "items" in node:
        return f"list of {node['items'].get('type') or 'values'}"
    return kind


def rows(node: dict, root: dict, path: str = ""):
    """(key path, resolved node) for every property below ``node``, depth first."""
    node = _resolve(node, root)
    for name, child in node.get("properties", {}).items():
        child = _resolve(child, root)
        key = f"{path}.{name}" if path else name
        yield key, child
        yield from rows(child, root, key)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        extra = _resolve(extra, root)
        if extra.get("properties"):
            yield from rows(extra, root, f"{path}.*")


def render(schema: dict) -> str:
    lines = [HEADER.rstrip("\n")]
    required = set(schema.get("required", []))
    for key, node in rows(schema, schema):
        default = f"`{node['default']}`" if "default" in node else ""
        if key in required:
            default = "required"
        text = " ".join(str(node.get("description", "")).split()).replace("|", "\\|")
        lines.append(f"| `{key}` | {_type(node)} | {default} | {text} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    print(render(yaml.safe_load(SCHEMA.read_text())), end="")


if __name__ == "__main__":
    main()
