"""``gv.nn.utils.clip_grad``: the gradient clipping functions, where torch keeps them."""
import warnings

from . import clip_grad_norm_, clip_grad_value_  # noqa: F401 - re-exported, as torch

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_"]


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    """Deprecated ``clip_grad_norm_`` (torch warns the same)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
