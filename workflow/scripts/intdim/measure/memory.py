"""Modelled memory of one training step beyond the activations (the same for every method), in
bytes, for D parameters trained in bf16 autocast.

Full fine-tuning with AdamW keeps float32 weights, their gradient and two moments (16 D), plus
autocast's bf16 copy of the weights during the step (2 D). A subspace step keeps theta_0 (in
the model's dtype, or float32), theta in the model's dtype for the forward pass, and during the
backward pass theta's gradient in one flat buffer of the model's dtype (``FlatGradient``) beside
at most one per-tensor gradient (the largest tensor's, the embedding matrix in a decoder). The
Triton transpose reads a bf16 gradient as it is; the other projections read a float32 copy.
SAID adds the saved P x (float32). The projection adds no state on the Triton backend (128 MiB of
multi-pass scratch up to d = 2**24, two blocks' worth above) and 24 bytes per coordinate on the
PyTorch reference. theta_d, the
SAID scales and their AdamW state are d-sized, so nothing here grows with d.

``autograd_split=True`` models the route through autograd's ``split`` instead
(``SubspaceModel(flat_gradient=False)``): every per-tensor gradient, their joined copy and the
float32 copy for the transpose, 12 bytes a parameter in bf16.
"""

from __future__ import annotations

# The default multi-pass scheme's two work buffers (kernels.WORK_ELEMENTS each, float32).
SCRATCH = 2 * (1 << 24) * 4
REFERENCE_STATE = 24  # bytes per coordinate: B, G (float32), Pi and its inverse (int64)


def full_finetune_bytes(D: int) -> dict[str, int]:
    return {"weights": 4 * D, "gradients": 4 * D, "adam_moments": 8 * D, "bf16_weights": 2 * D}


def subspace_bytes(
    D: int,
    method: str,
    theta0_bytes: int = 2,
    backend: str = "triton",
    largest_tensor: int = 0,
    autograd_split: bool = False,
) -> dict:
    """theta0_bytes: 2 for theta_0 in bf16, 4 in float32 (then theta is float32 too);
    largest_tensor: the parameter count of the model's largest tensor."""
    low_precision = theta0_bytes != 4
    parts = {"theta0": theta0_bytes * D, "theta": theta0_bytes * D}
    if autograd_split:
        parts["theta_grad_per_tensor"] = theta0_bytes * D
        parts["theta_grad_joined"] = theta0_bytes * D
        parts["theta_grad_float32"] = 4 * D if low_precision else 0
    else:
        parts["theta_grad"] = theta0_bytes * D
        parts["largest_tensor_grad"] = theta0_bytes * largest_tensor
        parts["theta_grad_float32"] = 4 * D if low_precision and backend != "triton" else 0
    parts["said_px"] = 4 * D if method == "said" else 0
    parts["projection"] = SCRATCH if backend == "triton" else REFERENCE_STATE * D
    return parts


def table(sizes: dict[str, tuple[int, int]], gpu_bytes: int = 80 * 10**9) -> list[dict]:
    """One row per model size (name -> (D, largest tensor)): GB of each configuration, and
    whether it fits the GPU (before activations)."""
    rows = []
    for name, (D, largest) in sizes.items():
        configs = {
            "full FT (AdamW)": full_finetune_bytes(D),
            "DID, theta_0 bf16": subspace_bytes(D, "did", largest_tensor=largest),
            "SAID, theta_0 bf16": subspace_bytes(D, "said", largest_tensor=largest),
            "DID, theta_0 fp32": subspace_bytes(D, "did", 4, largest_tensor=largest),
            "DID, autograd split": subspace_bytes(D, "did", autograd_split=True),
            "DID, PyTorch reference": subspace_bytes(
                D, "did", backend="torch", largest_tensor=largest
            ),  # fmt: skip
        }
        for config, parts in configs.items():
            total = sum(parts.values())
            rows.append({"model": name, "D": D, "configuration": config, "bytes": total,
                         "GB": total / 1e9, "fits": total < gpu_bytes})  # fmt: skip
    return rows
