"""The modelled step memory that the README's billion-parameter table comes from."""

from intdim.measure.memory import SCRATCH, full_finetune_bytes, subspace_bytes, table


def test_full_finetuning_holds_18_bytes_a_parameter_and_did_8_plus_scratch():
    D = 10**9
    assert sum(full_finetune_bytes(D).values()) == 18 * D
    assert sum(subspace_bytes(D, "did").values()) == 12 * D + SCRATCH
    assert sum(subspace_bytes(D, "said").values()) == 16 * D + SCRATCH
    assert sum(subspace_bytes(D, "did", theta0_bytes=4).values()) == 16 * D + SCRATCH
    assert subspace_bytes(D, "did", backend="torch")["projection"] == 24 * D


def test_at_7b_neither_fits_80_gb_and_1_5b_fits_both():
    rows = {(r["model"], r["configuration"]): r for r in table({"7B": 7 * 10**9, "1.5B": 1.5e9})}
    assert not rows[("7B", "full FT (AdamW)")]["fits"]  # 126 GB
    assert not rows[("7B", "DID, theta_0 bf16")]["fits"]  # 84 GB: the backward's gradients
    assert (
        rows[("1.5B", "full FT (AdamW)")]["fits"] and rows[("1.5B", "SAID, theta_0 bf16")]["fits"]
    )
