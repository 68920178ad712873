"""``gv.nn.utils.init``: ``skip_init``, as torch's."""
import inspect

from ...errors import GradvizError

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` whose parameter values nothing may rely on (torch
    leaves them uninitialized; gradviz has no meta device, so the module's own
    initialization runs: the same contract, none of the saving)."""
    from ..module import Module
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise GradvizError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise GradvizError("Module must support a 'device' arg to skip initialization")
    return module_cls(*args, **kwargs)
