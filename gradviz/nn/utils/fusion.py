"""Folding an eval-mode BatchNorm into the conv or linear layer before it (torch.nn.utils's
``fuse_conv_bn_eval`` family): the new layer computes ``bn(layer(x))`` in one op."""
import copy

from ...engine.grad_mode import no_grad
from ...errors import GradvizError
from ..parameter import Parameter


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """(weight, bias) Parameters of a conv whose output is ``bn(conv(x))`` in eval mode:
    each output channel scaled by ``bn_w / sqrt(bn_rv + eps)``, the bias shifted to match."""
    from ...engine.creation import ones_like, zeros_like
    with no_grad():
        if conv_b is None:
            conv_b = zeros_like(bn_rm)
        if bn_w is None:
            bn_w = ones_like(bn_rm)
        if bn_b is None:
            bn_b = zeros_like(bn_rm)
        scale = bn_w * (bn_rv + bn_eps).rsqrt()
        shape = [1, -1] if transpose else [-1, 1]
        shape += [1] * (conv_w.ndim - 2)
        w = (conv_w * scale.reshape(shape)).to(conv_w.dtype)
        b = ((conv_b - bn_rm) * scale + bn_b).to(conv_w.dtype)
    return Parameter(w, conv_w.requires_grad), Parameter(b, conv_b.requires_grad)


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` with ``bn`` (both in eval mode) folded into its weight and bias."""
    if conv.training or bn.training:
        raise GradvizError("Fusion only for eval!")
    fused = copy.deepcopy(conv)
    if bn.running_mean is None or bn.running_var is None:
        raise GradvizError("fuse_conv_bn_eval needs a BatchNorm that tracks running stats")
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """(weight, bias) Parameters of a linear layer whose output is ``bn(linear(x))``."""
    return fuse_conv_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` with ``bn`` (both in eval mode) folded into it."""
    if linear.training or bn.training:
        raise GradvizError("Fusion only for eval!")
    if linear.out_features != bn.num_features:
        raise GradvizError("To fuse, linear.out_features must equal bn.num_features")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused
