import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The tests import the tiny-model helpers beside them and the workflow's shared package.
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "workflow" / "scripts"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
