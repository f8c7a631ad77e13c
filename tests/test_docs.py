"""The project's Markdown pages: every relative link and image points at a file or folder in
this checkout, so moving a page never leaves the README or a guide pointing at nothing."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# [text](target) and ![alt](target); the target ends at whitespace or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def markdown_pages() -> list[Path]:
    pages = [ROOT / "README.md", ROOT / "config" / "README.md"]
    return pages + sorted((ROOT / "docs").rglob("*.md"))


def local_targets(text: str) -> list[str]:
    """The link targets of a page that name a path here: no web address, no bare #anchor."""
    targets = (match.group(1) for match in LINK.finditer(text))
    paths = (target.split("#")[0] for target in targets if "://" not in target)
    return [path for path in paths if path and not path.startswith("mailto:")]


def test_local_targets_reads_links_images_and_skips_the_web():
    text = (
        "See [the guide](docs/running.md#slurm), ![a figure](figures/f.png), "
        "[the paper](https://example.org/p.md), [above](#quick-start) and [x](../a/b.md)."
    )
    assert local_targets(text) == ["docs/running.md", "figures/f.png", "../a/b.md"]


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    missing = [
        target for target in local_targets(page.read_text()) if not (page.parent / target).exists()
    ]
    assert not missing, f"{page.relative_to(ROOT)} links to missing paths: {missing}"
