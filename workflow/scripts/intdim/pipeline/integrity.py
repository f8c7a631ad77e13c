"""Files that jobs hand to each other: manifests with sha256, and reads that name what broke.

A job that writes files another job reads records them in a manifest (a ``files`` entry of its
JSON output: relative path -> sha256 and size). Every reader checks the files against the
manifest before it uses them, so an edited, truncated or corrupted file stops the reader with
an error that names the file and the rule that wrote it, instead of a result computed from
damaged input or a bare parser error mid-run. JSON and parquet reads go through ``load_json``
and ``read_parquet`` for the same reason.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from pathlib import Path

# Which rule writes which results (for the error messages); the first match wins.
PRODUCERS = [
    ("results/data/*", "ingest_dataset"),
    ("results/models/*", "ingest_model"),
    ("results/full/*/baseline.json", "select_baseline"),
    ("results/full/*", "full_finetune"),
    ("results/subspace/*", "subspace_run"),
    ("results/search/*/result.json", "search_result"),
    ("results/search/*", "search_round"),
    ("results/bounds/*", "compression_bound"),
    ("results/pretrain/corpus/*", "build_corpus"),
    ("results/pretrain/tokenizer*", "train_tokenizer"),
    ("results/pretrain/*", "pretrain"),
    ("results/tables/runs.csv", "collect_runs"),
    ("results/tables/d90.csv", "compute_d90"),
    ("results/tables/table1.csv", "compute_d90"),
    ("results/tables/*", "section5_tables"),
]
CHUNK = 1 << 20
# The manifest a job writes into a folder it produces (tokenizer, checkpoints).
MANIFEST = "manifest.json"


class CorruptInput(RuntimeError):
    """An input file that is missing, unreadable or not what its producer wrote."""


def producer(path: str | Path) -> str:
    """The rule that writes ``path`` (a path under results/, as the workflow names them)."""
    text = Path(path).as_posix()
    at = text.find("results/")
    text = text[at:] if at >= 0 else text
    return next((rule for pattern, rule in PRODUCERS if fnmatch.fnmatch(text, pattern)), "?")


def _advice(path) -> str:
    rule = producer(path)
    return (f"it was written by rule {rule}; redo it with `snakemake --forcerun {rule}` "
            "(or delete the file) and run again")  # fmt: skip


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def manifest(root: str | Path, paths: list[str | Path] | None = None) -> dict:
    """relative path -> {sha256, bytes} for ``paths`` below ``root`` (every file if None)."""
    root = Path(root)
    files = sorted(root.rglob("*")) if paths is None else [Path(p) for p in paths]
    return {
        path.relative_to(root).as_posix(): {"sha256": sha256(path), "bytes": path.stat().st_size}
        for path in files
        if path.is_file() and path.name != MANIFEST
    }


def write_manifest(folder: str | Path) -> None:
    """A folder's own manifest (``manifest.json`` inside it) for readers of a directory output."""
    files = manifest(folder)
    (Path(folder) / MANIFEST).write_text(json.dumps(files, indent=1, sort_keys=True))


def verify_folder(folder: str | Path) -> None:
    """Check a folder against the manifest.json its producer wrote into it."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise CorruptInput(f"{folder} has no {MANIFEST}; {_advice(folder)}")
    verify(folder, load_json(path), path)


def verify(root: str | Path, files: dict, recorded_in: str | Path) -> None:
    """Check every file of a manifest below ``root``; raise CorruptInput naming the first bad
    one, the manifest and the rule that wrote it."""
    root = Path(root)
    for name, expected in files.items():
        path = root / name
        if not path.is_file():
            raise CorruptInput(f"{path} is missing (listed in {recorded_in}); {_advice(path)}")
        size = path.stat().st_size
        if size != expected["bytes"] or sha256(path) != expected["sha256"]:
            raise CorruptInput(
                f"{path} is not the file that was recorded in {recorded_in} ({size} bytes, "
                f"recorded {expected['bytes']}, sha256 differs): it was edited, truncated or "
                f"corrupted; {_advice(path)}"
            )


def load_json(path: str | Path):
    """JSON from a file another job wrote, or CorruptInput naming the file and its rule."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CorruptInput(f"{path}: cannot be read as JSON ({err}); {_advice(path)}") from err


def read_parquet(path: str | Path):
    """A parquet table another job wrote, or CorruptInput naming the file and its rule."""
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for damaged files
        raise CorruptInput(f"{path}: cannot be read as parquet ({err}); {_advice(path)}") from err


def verified_dir(meta_path: str | Path, key: str = "files") -> dict:
    """Load a JSON manifest (info.json, meta.json) and check the files it lists, which lie in
    its own folder, or for a model, in its snapshot folder; returns the loaded JSON."""
    meta = load_json(meta_path)
    root = Path(meta.get("snapshot") or Path(meta_path).parent)
    if key not in meta:
        raise CorruptInput(f"{meta_path} lists no files to check; {_advice(meta_path)}")
    verify(root, meta[key], meta_path)
    return meta
