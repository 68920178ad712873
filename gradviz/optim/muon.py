"""Muon: momentum orthogonalised by a Newton–Schulz iteration, for 2-D parameters
(torch.optim.Muon, step for step, bfloat16 rounding included)."""
import math

import numpy as np

from ..engine.backend import xp_of
from ..engine.tensor import Tensor
from ..errors import ArgumentError, GradvizError
from .optimizer import Optimizer, lerp_, new_state

# Keller Jordan's quintic coefficients and stabiliser, as torch/optim/_muon.py
EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5


def _bf16(a):
    """Round to the nearest bfloat16 (ties to even), kept as float32: torch runs the iteration
    in bfloat16 and NumPy has no such dtype; float32 arithmetic on bfloat16 values, rounded
    after each op, reproduces torch's CPU results."""
    xp = xp_of(a)
    bits = xp.asarray(a, dtype=xp.float32).view(xp.uint32).astype(xp.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(xp.uint32).view(xp.float32)


def zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """Approximately orthogonalise the matrix ``grad`` (``U·S'·Vᵀ``, ``S'`` near 1):
    ``X = G/‖G‖``, then ``k`` times ``A = X·Xᵀ; X = a·X + (b·A + c·A²)·X``, in
    bfloat16."""
    if ns_steps >= 100:
        raise ArgumentError("Number of steps must be less than 100 for computational "
                            "efficiency")
    if grad.ndim != 2:
        raise ArgumentError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ArgumentError("Coefficients must be a tuple of exactly 3 values")
    xp = xp_of(grad)
    a, b, c = (np.float32(k) for k in ns_coefficients)
    x = _bf16(grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:    # iterate on the wide orientation: the Gram matrix is the smaller one
        x = x.T
    norm = _bf16(xp.sqrt(xp.sum(x * x, dtype=xp.float32)))
    x = _bf16(x / _bf16(xp.maximum(norm, np.float32(eps))))
    for _ in range(ns_steps):
        gram = _bf16(x @ x.T)
        update = _bf16(b * gram + c * (gram @ gram))
        x = _bf16(a * x + update @ x)
    return x.T if tall else x


def adjust_lr(lr, adjust_lr_fn, shape):
    """Scale lr for a matrix ``A×B``: ``√max(1, A/B)`` ("original", the default) or
    ``0.2·√max(A, B)`` ("match_rms_adamw", Moonshot's)."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    """Muon: ``B = μ·B + (1-μ)·g`` (``momentum_buffer``); ``U = lerp(g, B, μ)`` if nesterov
    else ``B``; ``O = NS(U)``; ``w *= 1 - lr·λ``; ``w -= adjust_lr(lr)·O``.

    Only 2-D parameters (torch's check on the groups given at construction); others belong
    to a standard optimizer such as AdamW."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ArgumentError("Tensor lr must be 1-element")
        if not 0.0 <= float(lr):
            raise ArgumentError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ArgumentError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ArgumentError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ArgumentError(f"Adjust learning rate function {adjust_lr_fn} is not "
                                "supported")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=ns_coefficients,
                                      eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ArgumentError("Muon only supports 2D parameters whereas we found a "
                                        f"parameter with size: {p.size()}")

    def _update(self, p, w, g, group, state):
        if w.dtype.kind == "c":
            raise GradvizError("Muon does not support complex parameters")
        if g.ndim != 2:
            raise ArgumentError("Param gradient must be a 2D matrix")
        lr, momentum = group["lr"], group["momentum"]
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = new_state(g)
        buf = state["momentum_buffer"]._data
        lerp_(buf, g, 1 - momentum)
        if group["nesterov"]:
            update = g.copy()
            lerp_(update, buf, momentum)
        else:
            update = buf
        ortho = zeropower_via_newtonschulz(update, group["ns_coefficients"],
                                           group["ns_steps"], group["eps"])
        scaled_lr = adjust_lr(lr, group["adjust_lr_fn"], w.shape)
        w *= 1 - lr * group["weight_decay"]
        w -= scaled_lr * ortho.astype(w.dtype)
