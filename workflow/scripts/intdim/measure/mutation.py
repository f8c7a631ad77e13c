"""mutmut's results per module: killed, survived and the rest, from the ``.meta`` files that
``mutmut run`` leaves under ``mutants/`` (``tools/mutation_table.py`` prints the table)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

# mutmut's exit-code convention (mutmut.stats.status_by_exit_code): a failing test run kills.
KILLED = {1, 3}
SURVIVED = {0}
TIMEOUT = {24, -24, 36, 152, 255}


def status(exit_code: int | None) -> str:
    if exit_code is None:
        return "not checked"
    if exit_code in KILLED:
        return "killed"
    if exit_code in SURVIVED:
        return "survived"
    if exit_code in TIMEOUT:
        return "timeout"  # a mutant that hangs the tests is caught too
    return "other"


def tally(mutants: Path) -> dict[str, Counter]:
    """Module path (relative to ``mutants/``) -> counts of each status."""
    table: dict[str, Counter] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        module = str(meta.relative_to(mutants))[: -len(".meta")]
        table[module] = Counter(status(code) for code in codes.values())
    return table


def survivors(mutants: Path) -> dict[str, list[str]]:
    """Module -> the names of its surviving mutants (for ``mutmut show NAME``)."""
    found = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        names = sorted(name for name, code in codes.items() if status(code) == "survived")
        if names:
            found[str(meta.relative_to(mutants))[: -len(".meta")]] = names
    return found


def markdown(table: dict[str, Counter]) -> str:
    """A table: mutants, killed (timeouts included), survived, killed share of those checked."""
    lines = ["| module | mutants | killed | survived | not checked | killed % |",
             "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for module, counts in table.items():
        killed = counts["killed"] + counts["timeout"]
        checked = killed + counts["survived"]
        share = f"{100 * killed / checked:.0f}" if checked else "-"
        lines.append(f"| {module} | {sum(counts.values())} | {killed} | {counts['survived']} | "
                     f"{counts['not checked'] + counts['other']} | {share} |")  # fmt: skip
    return "\n".join(lines)
