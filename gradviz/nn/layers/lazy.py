"""Lazy modules (torch.nn.LazyLinear, LazyConv*d, LazyConvTranspose*d, LazyBatchNorm*d,
LazyInstanceNorm*d): the input size is read from the first input. Until then the parameters
(and the norms' running statistics) are ``UninitializedParameter``s (``UninitializedBuffer``s);
the first call (or a ``load_state_dict``) materialises them in place — an optimizer made
before keeps working — initialises them as the ordinary module would, and the module becomes
that module."""
from ...engine import creation, dtypes
from ...engine.tensor import Tensor
from ...errors import GradvizError, ShapeError
from .._pool_conv import ntuple
from ..module import Module
from ..parameter import Parameter
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .norm import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d,
                   InstanceNorm3d, _NormBase)


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (no values until ``materialize``)."""

    def __init__(self, requires_grad=True, device=None, dtype=None):
        super().__init__(creation.empty(0, dtype=dtype, device=device), requires_grad)

    def materialize(self, shape, device=None, dtype=None):
        """Become an ordinary Parameter of ``shape`` (uninitialised values)."""
        like = creation.empty(*shape, dtype=dtype or self.dtype, device=device or self.device)
        self._data = like._data
        self.__class__ = Parameter

    def detach(self):
        """Still uninitialised (so a lazy module's state_dict shows it as torch's does)."""
        return UninitializedParameter(self.requires_grad, self.device, self.dtype)

    def __repr__(self):
        return "<UninitializedParameter>"


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet (no values until ``materialize``); as in torch
    it is no ``Buffer``: register it with ``register_buffer`` or over a buffer's name."""

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        self._data = creation.empty(0, dtype=dtype, device=device)._data
        self.grad = self.grad_fn = self._node = self._name = self._hooks = None
        self._requires_grad = False
        self.persistent = persistent
        if requires_grad:
            self.requires_grad_(True)

    def materialize(self, shape, device=None, dtype=None):
        """Become an ordinary Tensor of ``shape`` (uninitialised values)."""
        like = creation.empty(*shape, dtype=dtype or self.dtype, device=device or self.device)
        self._data = like._data
        self.__class__ = Tensor

    def detach(self):
        """Still uninitialised (so a lazy module's state_dict shows it as torch's does)."""
        return UninitializedBuffer(False, self.device, self.dtype, self.persistent)

    def __repr__(self):
        return "<UninitializedBuffer>"


def _is_lazy(t):
    return isinstance(t, (UninitializedParameter, UninitializedBuffer))


class LazyModuleMixin:
    """Reads the missing size from the first input, then turns into ``cls_to_become``."""

    cls_to_become = None
    _size_attr = "in_features"   # the attribute the first input's size sets

    def has_uninitialized_params(self):
        """True until the first call (or load_state_dict) fixed the shapes."""
        return any(_is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def __call__(self, *args, **kwargs):
        if self.has_uninitialized_params():
            if not args:
                raise GradvizError(f"{type(self).__name__}: the first call needs the input "
                                   "(its size sets the module's parameters)")
            self.initialize_parameters(*args)
        elif type(self) is not self.cls_to_become:  # nothing lazy to make (torch: still turns)
            self.__class__ = self.cls_to_become
            self.__dict__.pop("_kw", None)
        return Module.__call__(self, *args, **kwargs)

    def _size_from_state(self, state_dict, prefix):
        """Take this module's shapes from its ``prefix``-ed entries of ``state_dict`` while
        it is uninitialised (Module.load_state_dict calls this on every submodule first)."""
        if not self.has_uninitialized_params() or not hasattr(state_dict, "items"):
            return
        own = {k[len(prefix):]: v for k, v in state_dict.items()
               if k.startswith(prefix) and not _is_lazy(v)}   # a lazy checkpoint stays lazy
        size = self._size_from_state_dict(own)
        if size is not None:
            self._become(size)

    def _size_from_state_dict(self, state_dict):
        weight = state_dict.get("weight")
        return None if weight is None else self._in_size_from_weight(tuple(weight.shape))

    def _become(self, in_size):
        """Build the ordinary module for ``in_size`` (its own init: the same random draws),
        move its values into this module's lazy parameters and buffers, and take its class.

        Only attributes this module lacks are taken from the built one: its mode (``eval()``
        before the first call), hooks, registries and any setting changed since stay."""
        real = self._ordinary(in_size)
        for store in ("_parameters", "_buffers"):
            for name, t in list(getattr(self, store).items()):
                if _is_lazy(t):
                    src = getattr(real, store)[name]   # in t's own dtype/device (.double())
                    t.materialize(tuple(src.shape))
                    t._data[...] = src.to(t.device)._data
        self.__dict__.update({k: v for k, v in real.__dict__.items() if k not in self.__dict__})
        setattr(self, self._size_attr, in_size)
        self.__class__ = self.cls_to_become
        self.__dict__.pop("_kw", None)


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear whose ``in_features`` is the last size of its first input."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        Module.__init__(self)
        self.in_features, self.out_features = 0, int(out_features)
        self._kw = {"bias": bias, "device": device, "dtype": dtype}
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self):
        """Nothing to initialise until the shapes are known (then Linear's)."""
        if not self.has_uninitialized_params():
            Linear.reset_parameters(self)

    def initialize_parameters(self, input, *args):
        """in_features from ``input``'s last size."""
        self._become(int(input.shape[-1]))

    def _in_size_from_weight(self, shape):
        return shape[1]

    def _ordinary(self, in_size):
        return Linear(in_size, self.out_features, **self._kw)


class _LazyConvNd(LazyModuleMixin):
    """A convolution whose ``in_channels`` is the channel size of its first input."""

    _size_attr = "in_channels"

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        Module.__init__(self)
        self.in_channels, self.out_channels = 0, int(out_channels)
        self._kw = {"kernel_size": kernel_size, "stride": stride, "padding": padding,
                    "dilation": dilation, "groups": groups, "bias": bias,
                    "padding_mode": padding_mode, "device": device, "dtype": dtype}
        n = self._n   # the settings the ordinary module shows in its repr, known already
        self.kernel_size = ntuple(kernel_size, n, "kernel_size")
        self.stride, self.dilation = ntuple(stride, n, "stride"), ntuple(dilation, n, "dilation")
        self.padding = padding if isinstance(padding, str) else ntuple(padding, n, "padding")
        self.output_padding = (0,) * n
        self.groups, self.padding_mode = int(groups), padding_mode
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self):
        """Nothing to initialise until the shapes are known."""

    def initialize_parameters(self, input, *args):
        """in_channels from ``input``: dim 1 of a batch, dim 0 of one unbatched sample."""
        n = self.cls_to_become._n
        self._become(int(input.shape[0 if input.ndim == n + 1 else 1]))

    def _in_size_from_weight(self, shape):
        return shape[1] * self._kw["groups"]

    def _ordinary(self, in_size):
        return self.cls_to_become(in_size, self.out_channels, **self._kw)


class LazyConv1d(_LazyConvNd, Conv1d):
    """Conv1d with in_channels from the first input."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvNd, Conv2d):
    """Conv2d with in_channels from the first input."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConvNd, Conv3d):
    """Conv3d with in_channels from the first input."""

    cls_to_become = Conv3d


class _LazyConvTransposeNd(_LazyConvNd):
    """A transposed convolution whose ``in_channels`` is the channel size of its first input."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        if padding_mode != "zeros":  # torch refuses it when built, not at the first call
            raise GradvizError(f'Only "zeros" padding mode is supported for '
                               f"{type(self).__name__}")
        super().__init__(out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)
        self._kw["output_padding"] = output_padding
        self.output_padding = ntuple(output_padding, self._n, "output_padding")

    def _in_size_from_weight(self, shape):
        return shape[0]   # (in_channels, out_channels / groups, *kernel)


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d):
    """ConvTranspose1d with in_channels from the first input."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d):
    """ConvTranspose2d with in_channels from the first input."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d):
    """ConvTranspose3d with in_channels from the first input."""

    cls_to_become = ConvTranspose3d


class _LazyNorm(LazyModuleMixin):
    """A batch or instance norm whose ``num_features`` is dim 1 of its first input (torch
    reads dim 1 for an unbatched instance-norm input too)."""

    _size_attr = "num_features"

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        # no affine, no statistics: nothing made only to be replaced (as torch)
        _NormBase.__init__(self, 0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine, self.track_running_stats = affine, track_running_stats
        self._kw = {"device": device, "dtype": dtype, "bias": bias}
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = creation.zeros((), dtype=dtypes.int64, device=device)

    def reset_parameters(self):
        """Nothing to initialise until the shapes are known (then the norm's)."""
        if not self.has_uninitialized_params() and self.num_features != 0:
            _NormBase.reset_parameters(self)

    def initialize_parameters(self, input, *args):
        """num_features from ``input``'s dim 1."""
        if input.ndim < 2:
            raise ShapeError(f"{type(self).__name__} reads num_features from dim 1 of its "
                             f"first input, which has {input.ndim} dim(s)")
        self._become(int(input.shape[1]))

    def _size_from_state_dict(self, state_dict):
        for name in ("weight", "bias", "running_mean", "running_var"):
            if state_dict.get(name) is not None:
                return int(state_dict[name].shape[0])
        return None

    def _ordinary(self, in_size):
        kw = dict(self._kw)
        bias = kw.pop("bias")
        return self.cls_to_become(in_size, self.eps, self.momentum, self.affine,
                                  self.track_running_stats, bias=bias, **kw)


class LazyBatchNorm1d(_LazyNorm, BatchNorm1d):
    """BatchNorm1d with num_features from the first input."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNorm, BatchNorm2d):
    """BatchNorm2d with num_features from the first input."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNorm, BatchNorm3d):
    """BatchNorm3d with num_features from the first input."""

    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNorm, InstanceNorm1d):
    """InstanceNorm1d with num_features from the first input (affine and tracking running
    statistics by default, as torch's lazy one)."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNorm, InstanceNorm2d):
    """InstanceNorm2d with num_features from the first input (affine and tracking running
    statistics by default, as torch's lazy one)."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNorm, InstanceNorm3d):
    """InstanceNorm3d with num_features from the first input (affine and tracking running
    statistics by default, as torch's lazy one)."""

    cls_to_become = InstanceNorm3d
