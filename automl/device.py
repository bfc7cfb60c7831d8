"""Which device models run on: CUDA when torch sees a GPU, else the CPU."""
from __future__ import annotations

import os

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str) -> str:
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, not {device!r}.")
    if device != "auto":
        return device
    # Importing torch takes seconds; skip it on machines without an NVIDIA driver.
    if not os.path.exists("/proc/driver/nvidia") and not os.environ.get("CUDA_VISIBLE_DEVICES"):
        return "cpu"
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"
