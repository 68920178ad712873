"""state_dict / load_state_dict for Module, under torch's key names."""
import collections

import numpy as np

from ..engine.backend import move
from ..engine.tensor import Tensor
from ..errors import GradvizError
from ..trace.hooks import HOOKS

_IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class StateDictMixin:
    """Saving and loading a module's parameters and persistent buffers."""

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict of parameters and persistent buffers under torch's key names."""
        if destination is None:
            destination = collections.OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values from ``state_dict`` into parameters and buffers (torch's keys)."""
        missing, unexpected, errors = [], [], []
        own = collections.OrderedDict()
        for path, m in self.named_modules(remove_duplicate=False):
            pre = path + "." if path else ""
            for name, p in m._parameters.items():
                if p is not None:
                    own[pre + name] = (m, name, p)
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent_buffers_set:
                    own[pre + name] = (m, name, b)
        for key, (m, name, t) in own.items():
            if key not in state_dict:
                missing.append(key)
                continue
            value = state_dict[key]
            arr = value._data if isinstance(value, Tensor) else np.asarray(value)
            if tuple(arr.shape) != tuple(t.shape):
                errors.append(f'size mismatch for {key}: copying a param with shape '
                              f'{tuple(arr.shape)} from checkpoint, the shape in current '
                              f'model is {tuple(t.shape)}.')
                continue
            if HOOKS.listening:
                HOOKS.tracer.protect([t._data])
            t._data[...] = move(arr, t.device).astype(t._data.dtype, copy=False)
        for key in state_dict:
            if key not in own:
                unexpected.append(key)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise GradvizError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        return _IncompatibleKeys(missing, unexpected)
