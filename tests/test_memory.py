"""The modelled step memory that the README's billion-parameter table comes from."""

from intdim.measure.memory import SCRATCH, full_finetune_bytes, subspace_bytes, table


def test_full_finetuning_holds_18_bytes_a_parameter_and_did_6_plus_scratch():
    D, largest = 10**9, 10**8
    assert sum(full_finetune_bytes(D).values()) == 18 * D
    assert sum(subspace_bytes(D, "did").values()) == 6 * D + SCRATCH
    assert sum(subspace_bytes(D, "did", largest_tensor=largest).values()) == (
        6 * D + 2 * largest + SCRATCH
    )
    assert sum(subspace_bytes(D, "said").values()) == 10 * D + SCRATCH
    assert sum(subspace_bytes(D, "did", theta0_bytes=4).values()) == 12 * D + SCRATCH
    assert sum(subspace_bytes(D, "did", autograd_split=True).values()) == 12 * D + SCRATCH
    # Projections that cannot read bf16 get a float32 copy of the gradient.
    reference = subspace_bytes(D, "did", backend="torch")
    assert reference["projection"] == 24 * D and reference["theta_grad_float32"] == 4 * D


def test_at_7b_did_fits_80_gb_and_full_finetuning_and_the_autograd_route_do_not():
    sizes = {"7B": (7 * 10**9, 5 * 10**8), "1.5B": (1.5e9, 2 * 10**8)}
    rows = {(r["model"], r["configuration"]): r for r in table(sizes)}
    assert not rows[("7B", "full FT (AdamW)")]["fits"]  # 126 GB
    assert not rows[("7B", "DID, autograd split")]["fits"]  # 84 GB
    assert rows[("7B", "DID, theta_0 bf16")]["fits"]  # 43 GB
    assert rows[("7B", "SAID, theta_0 bf16")]["fits"]  # 71 GB
    assert (
        rows[("1.5B", "full FT (AdamW)")]["fits"] and rows[("1.5B", "SAID, theta_0 bf16")]["fits"]
    )
