"""gv.nn: Module, Parameter, containers, layers and losses with torch's names."""
from . import functional, init  # noqa: F401
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .layers import *  # noqa: F401,F403
from .layers import __all__ as _layers_all
from .module import Module
from .parameter import Buffer, Parameter

from .losses import *  # noqa: F401,F403
from .losses import __all__ as _losses_all

__all__ = ["Module", "Parameter", "Buffer", "Sequential", "ModuleList", "ModuleDict",
           "ParameterList", "ParameterDict", "functional", "init"] + list(_layers_all) \
    + _losses_all
