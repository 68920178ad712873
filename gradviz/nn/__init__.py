"""gv.nn: Module, Parameter, containers, layers and losses with torch's names."""
from . import functional, init, parallel, utils
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .deprecated import Container, NLLLoss2d
from .layers import *
from .layers import __all__ as _layers_all
from .losses import *
from .losses import __all__ as _losses_all
from .module import Module
from .parallel import DataParallel
from .parameter import Buffer, Parameter

__all__ = ["Buffer", "Module", "ModuleDict", "ModuleList", "Parameter",  # noqa: PLE0604
           "ParameterDict", "ParameterList", "Sequential", "functional", "init", "utils",
           "parallel", "DataParallel",
           "Container", "NLLLoss2d", *_layers_all, *_losses_all]
