"""``gv.nn.utils``: gradient clipping and parameter vectors, as ``torch.nn.utils``
(``gv.nn.utils.rnn``: padded and packed batches of sequences; ``parametrize`` and
``parametrizations``: computed parameters; the old ``weight_norm`` and ``spectral_norm``)."""
import math

from ...engine.grad_mode import no_grad
from ...engine.tensor import Tensor
from ...errors import GradvizError
from . import parametrizations, parametrize  # noqa: F401 - as torch.nn.utils's modules
from . import rnn  # noqa: F401 - gv.nn.utils.rnn, as torch.nn.utils.rnn
from .fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval,  # noqa: F401
                     fuse_linear_bn_weights)
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type`` norm of the norms of ``tensors`` (usually the gradients), a 0-d
    tensor; ``foreach`` is accepted and changes nothing (one implementation here)."""
    from ...engine.creation import tensor  # noqa: PLC0415
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not tensors:
        return tensor(0.0)
    norm_type = float(norm_type)
    with no_grad():
        norms = [t.norm(norm_type) for t in tensors]
        if len(norms) == 1:
            total = norms[0]
        else:
            from ...engine.functional import stack  # noqa: PLC0415
            total = stack([n.to(norms[0].device) for n in norms]).norm(norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise GradvizError(
                f"The total norm of order {norm_type} for gradients from `parameters` is "
                "non-finite, so it cannot be clipped. To disable this error and scale the "
                "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients in place by min(max_norm / (total_norm + 1e-6), 1), given their
    ``total_norm`` (from ``get_total_norm``); ``foreach`` changes nothing here."""
    grads = _grads(parameters)
    if not grads:
        return
    value = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    coef = min(float(max_norm) / (value + 1e-6), 1.0) if not math.isnan(value) \
        else float("nan")
    if coef < 1.0 or math.isnan(coef):    # a factor of 1 would change nothing
        with no_grad():
            for g in grads:
                g.mul_(coef)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale the gradients in place so that their joint ``norm_type`` norm is at most
    ``max_norm``; returns that norm as it was before clipping (a 0-d tensor).
    ``foreach`` is accepted and changes nothing (one implementation here)."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient into [-clip_value, clip_value], in place."""
    v = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-v, v)


def parameters_to_vector(parameters):
    """All parameters flattened into one 1-D tensor (in order)."""
    from ...engine.functional import cat  # noqa: PLC0415
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy the slices of the 1-D ``vec`` into ``parameters`` (their data, in order)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise GradvizError("vector_to_parameters: expected a 1-D tensor")
    parameters = list(parameters)
    need = sum(p.numel() for p in parameters)
    if vec.numel() != need:
        raise GradvizError(f"vector_to_parameters: the vector has {vec.numel()} elements, "
                           f"the parameters {need}")
    at = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.data = vec[at:at + n].detach().reshape(p.shape).to(p.dtype)
            at += n


from . import clip_grad, stateless  # noqa: E402,F401 - torch.nn.utils's modules
from .clip_grad import clip_grad_norm  # noqa: E402,F401 - deprecated, as torch's
from .init import skip_init  # noqa: E402,F401
