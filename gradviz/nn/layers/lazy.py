"""Lazy modules (torch.nn.LazyLinear, LazyConv1d/2d/3d): the input size is read from the
first input. Until then the parameters are ``UninitializedParameter``s; the first call (or a
``load_state_dict``) materialises them in place — an optimizer made before keeps working —
initialises them as the ordinary module would, and the module becomes that module."""
from ...engine import creation
from ...errors import GradvizError
from ..module import Module
from ..parameter import Parameter
from .conv import Conv1d, Conv2d, Conv3d
from .linear import Linear


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (no values until ``materialize``)."""

    def __init__(self, requires_grad=True, device=None, dtype=None):
        super().__init__(creation.empty(0, dtype=dtype, device=device), requires_grad)

    def materialize(self, shape, device=None, dtype=None):
        """Become an ordinary Parameter of ``shape`` (uninitialised values)."""
        like = creation.empty(*shape, dtype=dtype or self.dtype, device=device or self.device)
        self._data = like._data
        self.__class__ = Parameter

    def __repr__(self):
        return "<UninitializedParameter>"


class LazyModuleMixin:
    """Reads the missing size from the first input, then turns into ``cls_to_become``."""

    cls_to_become = None

    def has_uninitialized_params(self):
        """True until the first call (or load_state_dict) fixed the shapes."""
        return any(isinstance(p, UninitializedParameter) for p in self._parameters.values())

    def __call__(self, *args, **kwargs):
        if self.has_uninitialized_params():
            if not args:
                raise GradvizError(f"{type(self).__name__}: the first call needs the input "
                                   "(its size sets the module's parameters)")
            self.initialize_parameters(*args)
        return Module.__call__(self, *args, **kwargs)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """As Module's; an uninitialised module takes its shapes from ``state_dict``."""
        weight = state_dict.get("weight") if hasattr(state_dict, "get") else None
        if self.has_uninitialized_params() and weight is not None:
            self._become(self._in_size_from_weight(tuple(weight.shape)))
        return Module.load_state_dict(self, state_dict, strict=strict, assign=assign)

    def _become(self, in_size):
        """Build the ordinary module for ``in_size`` (its own init: the same random draws),
        move its values into this module's parameter objects, and take its class."""
        real = self._ordinary(in_size)
        for name, p in list(self._parameters.items()):
            if isinstance(p, UninitializedParameter):
                src = real._parameters[name]   # in p's own dtype/device (.double() before)
                p.materialize(tuple(src.shape))
                p._data[...] = src.to(p.device)._data
        state = {k: v for k, v in real.__dict__.items() if k != "_parameters"}
        self.__dict__.update(state)
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

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        Module.__init__(self)
        self.in_channels, self.out_channels = 0, int(out_channels)
        self._kw = {"kernel_size": kernel_size, "stride": stride, "padding": padding,
                    "dilation": dilation, "groups": groups, "bias": bias,
                    "padding_mode": padding_mode, "device": device, "dtype": dtype}
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
