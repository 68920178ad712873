"""gradviz: a PyTorch-shaped autograd engine whose every op and gradient you can watch.

``import gradviz as gv`` and use it as you would use torch; ``gv.trace.record()``
captures the events, ``gv.viz.draw(loss)`` draws the graph, ``gradviz serve``
shows it live in the browser.
"""
__version__ = "0.1.0"

import math as _math

from .engine.backend import quiet_numpy as _quiet_numpy
from .engine import (Size, Tensor, channels_last, channels_last_3d,  # noqa: F401
                      contiguous_format, device, memory_format, preserve_format,
                      strided)
from .engine.dtypes import complex64, complex128
from .engine.dtypes import (bfloat16, bool_ as bool, can_cast, dtype, finfo,  # noqa: A001
                            float16, float32, float64, get_default_dtype, iinfo, int8,
                            int16, int32, int64, promote_types, set_default_dtype, uint8)
from .engine.dtypes import tensor_result_type as result_type
from .engine.creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full,
                              full_like, linspace, logspace, normal, ones, ones_like, rand,
                              rand_like, randint, randn, randn_like, randperm, tensor,
                              tril_indices, triu_indices, zeros, zeros_like)
from .engine.creation import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,
                              HalfTensor, IntTensor, LongTensor, ShortTensor)
from .engine.tensor import set_printoptions
from .engine.functional import *  # noqa: F401,F403
from .engine.foreach import FUNCTIONS as _FOREACH  # torch._foreach_add_ ...
from .engine.grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                               set_grad_enabled)
from .engine.random import (Generator, default_generator, get_rng_state, initial_seed,
                            manual_seed, seed, set_rng_state)
from .errors import GradvizError
from .runtime import (are_deterministic_algorithms_enabled, get_default_device,  # noqa: F401
                      get_deterministic_debug_mode, get_num_interop_threads, get_num_threads,
                      is_anomaly_enabled, is_deterministic_algorithms_warn_only_enabled,
                      is_warn_always_enabled, set_anomaly_enabled, set_default_device,
                      set_deterministic_debug_mode, set_flush_denormal,
                      set_num_interop_threads, set_num_threads, set_warn_always, typename,
                      use_deterministic_algorithms)
from . import autograd, backends, cuda, jit, random, trace  # noqa: E402
from .fft import istft, stft  # noqa: E402  (binds gv.fft too, as torch.fft)
from .backends import (compile, get_float32_matmul_precision,  # noqa: A004
                       set_float32_matmul_precision)

globals().update(_FOREACH)
_quiet_numpy()  # torch does not warn about inf/nan; the importing thread does not either

float = float32  # noqa: A001
double = float64
half = float16
cfloat = complex64
cdouble = complex128
long = int64
int = int32  # noqa: A001
inf = _math.inf
nan = _math.nan
pi = _math.pi
e = _math.e
newaxis = None

__all__ = ["Tensor", "Size", "tensor", "device", "autograd", "trace", "no_grad", "enable_grad",
           "manual_seed", "GradvizError", "__version__"]


def __getattr__(name):
    # heavy or optional parts load on first use: gv.nn, gv.optim, gv.data, gv.viz, gv.attach,
    # gv.linalg, gv.distributions, gv.special, gv.func, gv.amp
    import importlib
    if name in ("nn", "optim", "data", "viz", "debug", "utils", "linalg", "distributions",
                "special", "func", "amp", "testing"):
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".serialization", __name__), name)
    if name == "vmap":   # torch.vmap
        return importlib.import_module(".func", __name__).vmap
    if name in ("autocast", "is_autocast_enabled"):   # torch.autocast: in gv.amp
        return getattr(importlib.import_module(".amp", __name__), name)
    if name == "attach":
        return importlib.import_module(".remote", __name__).attach
    if name in _F_NAMES:   # torch.conv2d, torch.dropout ...: F's (the same arguments)
        return getattr(importlib.import_module(".nn.functional", __name__), name)
    if name in _METHOD_NAMES:   # torch.exp_(t), torch.detach(t) ...: the Tensor method
        return _method_function(name)
    raise AttributeError(f"module 'gradviz' has no attribute {name!r}")


_F_NAMES = frozenset((
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "alpha_dropout", "avg_pool1d", "bilinear",
    "celu", "celu_", "channel_shuffle", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
    "conv_transpose2d", "conv_transpose3d", "cosine_similarity", "dropout",
    "feature_alpha_dropout", "group_norm", "hardshrink", "layer_norm", "max_pool1d",
    "max_pool1d_with_indices", "max_pool2d", "max_pool3d", "pairwise_distance", "pdist",
    "pixel_shuffle", "pixel_unshuffle", "prelu", "relu_", "rms_norm", "rrelu", "rrelu_", "selu",
    "selu_", "threshold", "threshold_"))
_METHOD_NAMES = frozenset((
    "abs_", "acos_", "addmv_", "arccos_", "arcsin_", "arctan_", "asin_", "atan_", "ceil_",
    "clamp_", "clamp_max_", "clamp_min_", "clip_", "conj_physical", "cos_", "cosh_", "detach",
    "detach_", "erf_", "exp2_", "exp_", "expm1_", "fill_", "floor_", "frac_",
    "is_floating_point", "is_inference", "log10_", "log1p_", "log2_", "log_", "logit_",
    "nan_to_num_", "neg_", "negative_", "reciprocal_", "resize_as_", "round_", "rsqrt_",
    "sigmoid_", "sin_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_",
    "zero_"))


def _method_function(name):
    def f(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``input.{name}(...)`` as a function (torch.{name})."
    return f
