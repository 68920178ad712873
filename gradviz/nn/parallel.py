"""gv.nn.parallel: DataParallel for scripts written for torch's. gradviz computes on one
device, so the wrapper only forwards its calls (as torch's does without CUDA) and keeps
torch's ``module.`` prefix in state dicts."""
from ..engine.backend import cuda_available, device
from ..engine.tensor import Tensor
from ..errors import GradvizError
from .module import Module

__all__ = ["DataParallel"]


def _device_index(d):
    """An int or a cuda device → its index (torch's ``_get_device_index``)."""
    if isinstance(d, int):
        return d
    d = d if isinstance(d, device) else device(d)
    if d.type != "cuda":
        raise GradvizError(f"Expected a cuda device, but got: {d}")
    return d.index


def _to(obj, dev):
    """Tensors inside tuples, lists and dicts moved to ``dev`` (torch's scatter to one
    device)."""
    if isinstance(obj, Tensor):
        return obj.to(dev)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to(x, dev) for x in obj)
    if isinstance(obj, dict):
        return {k: _to(v, dev) for k, v in obj.items()}
    return obj


class DataParallel(Module):
    """Wraps ``module`` (its state dict keys gain a ``module.`` prefix) and calls it.

    Without a GPU ``device_ids`` is ``[]`` and calls pass straight through, as torch's. With
    one, the module moves to ``cuda:device_ids[0]`` and inputs follow it; gradviz has no
    replicas, so more than one device id is refused."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not cuda_available():
            self.module = module
            self.device_ids = []
            return
        device_ids = [0] if device_ids is None else [_device_index(d) for d in device_ids]
        if len(device_ids) != 1:
            raise GradvizError(f"gradviz computes on one device: DataParallel takes one "
                               f"device id, got {device_ids}")
        self.dim = dim
        self.module = module
        self.device_ids = device_ids
        self.output_device = _device_index(device_ids[0] if output_device is None
                                           else output_device)
        self.src_device_obj = device("cuda", device_ids[0])
        self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        """``module(*inputs, **kwargs)``, inputs moved to the module's device first."""
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for t in (*self.module.parameters(), *self.module.buffers()):
            if t.device != self.src_device_obj:
                raise GradvizError("module must have its parameters and buffers on device "
                                   f"{self.src_device_obj} (device_ids[0]) but found one "
                                   f"of them on device: {t.device}")
        return self.module(*_to(inputs, self.src_device_obj),
                           **_to(kwargs, self.src_device_obj))
