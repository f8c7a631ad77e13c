"""The numerics fingerprint (intdim.measure.numerics_fingerprint, tools/numerics_fingerprint.py):
a process repeats its own, the comparison names what differs in order, and kernels of another
instruction set show up."""

import json
import subprocess
import sys

import pytest
import torch
import yaml
from intdim.measure.numerics_fingerprint import differences, digest


def fingerprints(repo_root, tmp_path, name, *args):
    out = tmp_path / f"{name}.json"
    proc = subprocess.run(
        [sys.executable, "tools/numerics_fingerprint.py", "--sizes", "xs", "--out", str(out),
         *args],
        cwd=repo_root, capture_output=True, text=True,
    )  # fmt: skip
    return proc, out


def test_digest_takes_the_first_tensor_of_an_output():
    a, b = torch.arange(4.0), torch.ones(2)
    assert digest((None, a, b)) == digest(a) != digest(b)
    assert digest({"loss": None, "logits": b}) == digest(b)
    assert digest((None, "text")) is None
    assert digest(torch.tensor([0.0])) != digest(torch.tensor([-0.0]))  # bits, not values


def test_differences_are_listed_in_the_order_computed():
    first = {"digests": {"a": "1", "b": "2", "c": "3"}}
    second = {"digests": {"a": "1", "c": "9", "b": "2", "d": "4"}}
    assert differences(first, second) == ["c", "d"]
    assert differences(first, first) == []


def test_the_tools_config_holds_the_defaults_sizes_with_their_recipe(repo_root):
    """The fingerprints take their sizes from config/offline_full.yaml: the default's
    pre-training must be there as it is, so that the records describe the default's jobs."""
    read = lambda name: yaml.safe_load((repo_root / "config" / name).read_text())["pretraining"]  # noqa: E731
    default, tools = read("config.yaml"), read("offline_full.yaml")
    for key in ("vocab_size", "batch_size", "max_length", "learning_rate", "seed"):
        assert default.get(key) == tools.get(key), key
    for size, shape in default["sizes"].items():
        assert tools["sizes"][size] == shape, size


@pytest.fixture(scope="module")
def portable(repo_root, tmp_path_factory):
    """The xs size's portable fingerprint, taken once for the tests that compare with it."""
    proc, out = fingerprints(repo_root, tmp_path_factory.mktemp("fingerprint"), "portable")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def test_a_second_process_repeats_the_fingerprint(repo_root, tmp_path, portable):
    once = portable
    proc, _ = fingerprints(repo_root, tmp_path, "again", "--compare", str(once))
    assert proc.returncode == 0, proc.stderr[-2000:]
    digests = json.loads(once.read_text())["xs"]["digests"]
    assert f"xs: 0 of {len(digests)} digests differ" in proc.stdout
    kinds = {key.split()[0] for key in digests}
    assert kinds == {"initial", "train", "gradient", "updated", "eval"}


def test_native_kernels_of_this_cpu_differ_from_portable_ones(repo_root, tmp_path, portable):
    if torch.backends.cpu.get_cpu_capability() == "DEFAULT":
        pytest.skip("this CPU's native kernels are the portable ones")
    proc, _ = fingerprints(repo_root, tmp_path, "native", "--numerics", "native",
                           "--compare", str(portable))  # fmt: skip
    assert proc.returncode == 1
    assert "  initial roberta.embeddings.word_embeddings.weight" in proc.stdout


@pytest.fixture(scope="module")
def three_updates(repo_root, tmp_path_factory, portable):
    """The xs size's fingerprint of three updates, compared with the one-update fingerprint."""
    proc, out = fingerprints(repo_root, tmp_path_factory.mktemp("three"), "three",
                             "--updates", "3", "--compare", str(portable))  # fmt: skip
    return proc, out


def test_later_updates_add_three_digests_each_and_leave_the_first_as_it_was(
    repo_root, tmp_path, three_updates
):
    proc, out = three_updates
    assert proc.returncode == 1, proc.stderr[-2000:]
    later = [
        f"update {u} {what}" for u in (2, 3) for what in ("train loss", "weights", "eval loss")
    ]
    assert proc.stdout.splitlines()[-6:] == [f"  {key}" for key in later]
    digests = json.loads(out.read_text())["xs"]["digests"]
    assert list(digests)[-6:] == later and len({digests[key] for key in later}) == 6
    # One update against three: counted out of the digests either has, not the fewer.
    proc, _ = fingerprints(repo_root, tmp_path, "one", "--compare", str(out))
    assert f"xs: 6 of {len(digests)} digests differ" in proc.stdout
    proc, _ = fingerprints(repo_root, tmp_path, "none", "--updates", "0")
    assert proc.returncode == 2 and "--updates must be 1 or more, not 0" in proc.stderr


def test_an_update_in_detail_has_every_digest_of_the_first_and_changes_no_bits(
    repo_root, tmp_path, three_updates
):
    _, brief_file = three_updates
    proc, out = fingerprints(repo_root, tmp_path, "detail", "--updates", "3",
                             "--detail-at", "3")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    brief = json.loads(brief_file.read_text())["xs"]["digests"]
    detailed = json.loads(out.read_text())["xs"]["digests"]
    # Digesting update 3 in full changes none of the digests a brief fingerprint has.
    assert {key: detailed[key] for key in brief} == brief
    first = [key for key in brief if not key.startswith(("initial ", "update "))]
    extra = [key for key in detailed if key not in brief]
    # Update 3's own digests, named as the first update's: all of them but its three brief ones.
    assert extra == [f"update 3 {key}" for key in first
                     if key not in ("train loss", "eval loss")]  # fmt: skip
    assert detailed["update 3 updated lm_head.bias"] != brief["updated lm_head.bias"]
    proc, _ = fingerprints(repo_root, tmp_path, "bad", "--updates", "3", "--detail-at", "1")
    assert proc.returncode == 2 and "--detail-at 1 is not an update from 2" in proc.stderr


def test_an_unknown_size_is_named(repo_root, tmp_path):
    proc, _ = fingerprints(repo_root, tmp_path, "bad", "--sizes", "xl")
    assert proc.returncode == 2 and "no size 'xl'" in proc.stderr
