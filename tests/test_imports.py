"""The package's module-level imports form no circle, and no tool edits sys.path."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workflow" / "scripts" / "intdim"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """intdim modules imported when ``path`` is imported (not those imported inside functions,
    which run later), each with the packages it initialises on the way."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` blocks do not run
            continue
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            if target.split(".")[0] != "intdim":
                continue
            parts = target.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c initialises a and a.b first
                candidate = ".".join(parts[:i])
                if candidate in MODULES and candidate != name:
                    found.add(candidate)
    return found


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def test_intdim_has_no_import_circle():
    graph = {name: top_level_imports(path) for name, path in MODULES.items()}
    # a package's __init__ importing its own submodules is not a circle of modules
    for name in graph:
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt] if nxt in stack else [node, nxt]
                raise AssertionError(f"import circle: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])


def test_no_tool_or_test_edits_sys_path():
    # pyproject's pytest pythonpath and the editable install put every folder on the path.
    for tool in (ROOT / "tools").glob("*.py"):
        assert "sys.path" not in tool.read_text(), f"{tool.name} edits sys.path"
    edits = ("sys.path.insert", "sys.path.append", "sys.path[")
    for test in (ROOT / "tests").glob("*.py"):
        if test.name == "test_imports.py":  # this test names what it looks for
            continue
        assert not any(e in test.read_text() for e in edits), f"{test.name} edits sys.path"


def test_every_module_belongs_to_one_part():
    """The package's top level holds only its parts (method, analysis, pipeline, measure, the
    projections and Fastfood) and the argument checks they share."""
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "arguments.py"]
    parts = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert parts == ["analysis", "fastfood", "measure", "method", "pipeline", "projections"]
