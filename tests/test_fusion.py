"""gv.nn.utils.fuse_conv_bn_eval / fuse_linear_bn_eval against torch: the fused layer gives
bn(layer(x)) of the eval-mode pair, with torch's weights."""
import numpy as np
import pytest
import torch

import gradviz as gv
from nn_twin import load_from_torch

R = np.random.default_rng(0)


def _pair(make, bn_make, shape, lib_kw=None):
    torch.manual_seed(0)
    tl, tb = make(torch).double(), bn_make(torch).double()
    tb.running_mean.uniform_(-1, 1)
    tb.running_var.uniform_(0.5, 2)
    tb.weight.data.uniform_(0.5, 1.5)
    tb.bias.data.uniform_(-1, 1)
    gl, gb = make(gv).double(), bn_make(gv).double()
    load_from_torch(gl, tl)
    load_from_torch(gb, tb)
    return (gl.eval(), gb.eval()), (tl.eval(), tb.eval()), R.standard_normal(shape)


@pytest.mark.parametrize("kind", ["conv2d", "conv2d no bias", "conv_transpose2d", "linear"])
def test_fused_layer_matches_torch_and_the_pair(kind):
    makes = {
        "conv2d": (lambda L: L.nn.Conv2d(2, 3, 3), lambda L: L.nn.BatchNorm2d(3), (1, 2, 5, 5)),
        "conv2d no bias": (lambda L: L.nn.Conv2d(2, 3, 3, bias=False),
                           lambda L: L.nn.BatchNorm2d(3), (1, 2, 5, 5)),
        "conv_transpose2d": (lambda L: L.nn.ConvTranspose2d(2, 3, 3),
                             lambda L: L.nn.BatchNorm2d(3), (1, 2, 4, 4)),
        "linear": (lambda L: L.nn.Linear(4, 3), lambda L: L.nn.BatchNorm1d(3), (5, 4)),
    }
    make, bn_make, shape = makes[kind]
    (gl, gb), (tl, tb), x = _pair(make, bn_make, shape)
    if kind == "linear":
        gf, tf = (gv.nn.utils.fuse_linear_bn_eval(gl, gb),
                  torch.nn.utils.fuse_linear_bn_eval(tl, tb))
    else:
        t = kind == "conv_transpose2d"
        gf = gv.nn.utils.fuse_conv_bn_eval(gl, gb, transpose=t)
        tf = torch.nn.utils.fuse_conv_bn_eval(tl, tb, transpose=t)
    for name, p in tf.named_parameters():
        np.testing.assert_allclose(dict(gf.named_parameters())[name].detach().numpy(),
                                   p.detach().numpy(), rtol=1e-12, err_msg=name)
    got = gf(gv.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, gb(gl(gv.tensor(x))).detach().numpy(), rtol=1e-10)
    assert gl.weight is not gf.weight                     # a copy: the original is untouched
    gl.train()
    with pytest.raises(RuntimeError, match="Fusion only for eval"):
        (gv.nn.utils.fuse_linear_bn_eval if kind == "linear" else
         gv.nn.utils.fuse_conv_bn_eval)(gl, gb)
