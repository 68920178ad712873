"""torch's deprecated nn names, kept so old code runs: ``Container`` (a Module holding the
modules given as keywords) and ``NLLLoss2d`` (NLLLoss). Each warns as torch does when made."""
import warnings

from .losses import NLLLoss
from .module import Module


class Container(Module):
    """Deprecated: a Module with the keyword arguments' modules as children (use Module)."""

    def __init__(self, **kwargs):
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now "
                      "implemented in `nn.Module`. Subclass that instead.", FutureWarning,
                      stacklevel=2)
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)


class NLLLoss2d(NLLLoss):
    """Deprecated: NLLLoss (which takes (N, C, H, W) input and (N, H, W) targets itself)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a "
                      "drop-in replacement and see https://pytorch.org/docs/main/nn.html"
                      "#torch.nn.NLLLoss for more details.", FutureWarning, stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
