"""Conv1d/2d/3d and ConvTranspose1d/2d/3d modules (torch's parameter shapes and init)."""
import math

from ...engine import creation
from ...errors import GradvizError
from .. import functional as F
from .. import init
from .._pool_conv import ntuple
from ..module import Module
from ..parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared set-up of convolutions: checks, parameters, torch's default init and repr."""

    _n = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None, output_padding=0):
        super().__init__()
        n = self._n
        if groups <= 0:
            raise GradvizError("groups must be a positive integer")
        if in_channels % groups:
            raise GradvizError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise GradvizError("out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise GradvizError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                               f"padding_mode={padding_mode!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = ntuple(kernel_size, n, "kernel_size")
        self.stride = ntuple(stride, n, "stride")
        self.dilation = ntuple(dilation, n, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise GradvizError(f"Invalid padding string {padding!r}, should be one of "
                                   "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise GradvizError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = ntuple(padding, n, "padding")
        self.output_padding = ntuple(output_padding, n, "output_padding")
        self.groups, self.padding_mode = int(groups), padding_mode
        if self.transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(creation.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """torch's default: kaiming_uniform(a=sqrt(5)) weight, U(±1/sqrt(fan_in)) bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self._n:
            s += f", padding={self.padding}"  # torch prints a string padding unquoted
        if self.dilation != (1,) * self._n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _conv_forward(self, input, fn):
        """torch's order: a non-zeros ``padding_mode`` pads with F.pad first, then convolves
        with no padding."""
        if self.padding_mode == "zeros":
            return fn(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)
        pads = []
        for i in reversed(range(self._n)):  # F.pad's order: last axis first
            if self.padding == "same":
                total = self.dilation[i] * (self.kernel_size[i] - 1)
                pads += [total // 2, total - total // 2]
            elif self.padding == "valid":
                pads += [0, 0]
            else:
                pads += [self.padding[i]] * 2
        return fn(F.pad(input, pads, mode=self.padding_mode), self.weight, self.bias,
                  self.stride, 0, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L)."""

    _n = 1

    def forward(self, input):
        """Convolve."""
        return self._conv_forward(input, F.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W)."""

    _n = 2

    def forward(self, input):
        """Convolve."""
        return self._conv_forward(input, F.conv2d)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C, D, H, W)."""

    _n = 3

    def forward(self, input):
        """Convolve."""
        return self._conv_forward(input, F.conv3d)


class _ConvTransposeNd(_ConvNd):
    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if isinstance(padding, str):
            raise GradvizError(f"{type(self).__name__} does not support string padding")
        if padding_mode != "zeros":
            raise GradvizError(f'Only "zeros" padding mode is supported for '
                               f"{type(self).__name__}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, output_padding)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        n = self._n
        output_size = tuple(output_size)[-n:]
        out = []
        for i in range(n):
            base = (input.shape[input.ndim - n + i] - 1) * self.stride[i] \
                - 2 * self.padding[i] + self.dilation[i] * (self.kernel_size[i] - 1) + 1
            extra = output_size[i] - base
            if not 0 <= extra < max(self.stride[i], self.dilation[i]):
                raise GradvizError(f"requested an output size of {list(output_size)}, but "
                                   "valid sizes differ from it")
            out.append(extra)
        return tuple(out)

    def forward(self, input, output_size=None):
        """Transposed convolution (``output_size`` picks the output padding)."""
        fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self._n - 1]
        return fn(input, self.weight, self.bias, self.stride, self.padding,
                  self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution."""

    _n = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution ("deconvolution")."""

    _n = 2


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution."""

    _n = 3
