"""Helpers shared by the optimizer parity tests (gv.optim against torch.optim)."""
import torch

import gradviz as gv


def to_gv(v):
    """A torch state dict with gv tensors in it (what a user converting a checkpoint does)."""
    if isinstance(v, torch.Tensor):
        return gv.tensor(v.detach().numpy())
    if isinstance(v, dict):
        return {k: to_gv(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_gv(x) for x in v]
    return v
