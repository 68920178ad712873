"""state_dict / load_state_dict for Module, under torch's key names."""
import collections

import numpy as np

from ..engine.backend import move
from ..engine.tensor import Tensor
from ..errors import GradvizError
from ..trace.hooks import HOOKS

_LAZY_INTO_READY = (
    "Can't access the shape of an uninitialized parameter or buffer. This error usually "
    "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
    "initialized one. Call `forward` to initialize the parameters before accessing their "
    "attributes.")


def _uninitialized(t):
    """A lazy module's parameter or buffer before its first call (torch's message names it)."""
    from .layers.lazy import _is_lazy
    return _is_lazy(t)


class _IncompatibleKeys(collections.namedtuple("IncompatibleKeys",
                                               ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns: the keys missing and unexpected (torch's repr)."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _version(module):
    """torch's per-module state_dict version: 2 for the norm layers (since their buffer
    ``num_batches_tracked`` was added), 1 for the rest."""
    return 2 if "num_batches_tracked" in module._buffers else 1


def _optional_keys(module, prefix, state_dict):
    """Keys that may be absent without being missing. torch's norm layers take a state_dict
    older than version 2 (a plain dict has no version) without ``num_batches_tracked`` and
    keep their own count, so only a current-format state_dict reports it missing."""
    if module._buffers.get("num_batches_tracked") is None:
        return ()
    metadata = getattr(state_dict, "_metadata", None)
    version = None if metadata is None else metadata.get(prefix[:-1], {}).get("version")
    return (prefix + "num_batches_tracked",) if version is None or version < 2 else ()


class StateDictMixin:
    """Saving and loading a module's parameters and persistent buffers."""

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict of parameters and persistent buffers under torch's key names."""
        if destination is None:
            destination = collections.OrderedDict()
            destination._metadata = collections.OrderedDict()
        metadata = getattr(destination, "_metadata", None)
        if metadata is not None:  # torch's format versions, read back by load_state_dict
            metadata[prefix[:-1]] = {"version": _version(self)}
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
        optional = set()
        for path, m in list(self.named_modules(remove_duplicate=False)):
            if hasattr(m, "_size_from_state"):   # lazy modules: shapes from the checkpoint
                m._size_from_state(state_dict, path + "." if path else "")
        for path, m in self.named_modules(remove_duplicate=False):
            pre = path + "." if path else ""
            optional.update(_optional_keys(m, pre, state_dict))
            for name, p in m._parameters.items():
                if p is not None:
                    own[pre + name] = (m, name, p)
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent_buffers_set:
                    own[pre + name] = (m, name, b)
        for key, (m, name, t) in own.items():
            if key not in state_dict:
                if key not in optional:
                    missing.append(key)
                continue
            value = state_dict[key]
            if _uninitialized(value):   # a lazy module's checkpoint, before its first call
                if _uninitialized(t):
                    continue
                raise GradvizError(_LAZY_INTO_READY)
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
