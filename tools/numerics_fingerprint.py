"""Fingerprint the CPU arithmetic of one pre-training update of the workflow's RoBERTa sizes, and
compare it with another CPU's (``intdim.measure.numerics_fingerprint`` says what is digested).

    python tools/numerics_fingerprint.py --out here.json [--compare there.json] [--updates N]
        [--detail-at K ...]

Writes one fingerprint per size of the config's pre-training; with --compare, prints for each
size the first digests that differ from the other file's, in the order they were computed, and
exits 1 when any does. docs/measurements/cpu/ holds fingerprints of the CPUs measured. The
config is config/offline_full.yaml unless --config says otherwise: its sizes xs, s and m include
the default's, with the same shapes and recipe (a test checks it), and its longer pre-training
changes no digest, since a fingerprint's schedule is --updates long.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml
from intdim.measure.numerics_fingerprint import check_updates, differences, fingerprint
from intdim.method.pretraining import PretrainSettings

SHOWN = 8  # differences printed per size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=Path("config/offline_full.yaml"))
    parser.add_argument("--sizes", nargs="+", default=None, help="default: every size")
    parser.add_argument("--numerics", choices=("portable", "native"), default="portable")
    parser.add_argument("--updates", type=int, default=1,
                        help="the first in full, three digests of each after it")  # fmt: skip
    parser.add_argument("--detail-at", type=int, nargs="+", default=[], metavar="K",
                        help="updates (2 to --updates) digested in full as well")  # fmt: skip
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--compare", type=Path, default=None, help="another CPU's fingerprints")
    args = parser.parse_args(argv)
    section = yaml.safe_load(args.config.read_text())["pretraining"]
    shapes = section["sizes"]
    # The recipe keys a pre-training job reads (rules/common.smk's pretrain_settings).
    recipe = {k: section[k] for k in ("steps", "batch_size", "max_length", "learning_rate")}
    settings = PretrainSettings(**recipe, seed=section.get("seed", 0))
    sizes = args.sizes or list(shapes)
    unknown = [s for s in sizes if s not in shapes]
    if unknown:
        parser.error(f"no size {unknown[0]!r} in {args.config}; it has {', '.join(shapes)}")
    other = json.loads(args.compare.read_text()) if args.compare else None
    try:
        check_updates(args.updates, tuple(args.detail_at))
    except ValueError as error:
        parser.error(str(error))
    prints = {size: fingerprint(shapes[size], settings, section["vocab_size"], args.numerics,
                                args.updates, tuple(args.detail_at))
              for size in sizes}  # fmt: skip
    args.out.write_text(json.dumps(prints, indent=1) + "\n")
    print(f"wrote {len(prints)} fingerprints ({args.numerics} numerics) to {args.out}")
    if other is None:
        return 0
    differ = False
    for size, mine in prints.items():
        if size not in other:
            print(f"{size}: not in {args.compare}")
            continue
        found = differences(other[size], mine)
        differ |= bool(found)
        # Of the digests either has: two fingerprints of different --updates differ in keys.
        either = len(other[size]["digests"].keys() | mine["digests"].keys())
        print(f"{size}: {len(found)} of {either} digests differ "
              f"({other[size]['cpu']} / {mine['cpu']})")  # fmt: skip
        for key in found[:SHOWN]:
            print(f"  {key}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
