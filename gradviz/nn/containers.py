"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict (torch's containers)."""
import collections
import operator

from ..errors import GradvizError
from .module import Module, _addindent
from .parameter import Parameter


class Sequential(Module):
    """Calls its children in order, each on the previous one's output."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], collections.OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, input):
        """Run every child in order."""
        for m in self._modules.values():
            input = m(input)
        return input

    def _index(self, idx):
        n = len(self._modules)
        idx = operator.index(idx)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return idx % n

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(collections.OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx, module):
        key = list(self._modules.keys())[self._index(idx)]
        self.add_module(key, module)

    def __delitem__(self, idx):
        keys = list(self._modules.keys())
        for k in (keys[idx] if isinstance(idx, slice) else [keys[self._index(idx)]]):
            del self._modules[k]
        items = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add a module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append each module; returns self."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Insert a module before ``index``; returns self."""
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)
        return self


class ModuleList(Module):
    """A list of modules, registered so that their parameters are found."""

    _gv_container = True   # its children are called by its owner (op paths)

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __repr__(self):
        """torch's layout: runs of identical children print once as ``(i-j): n x child``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs = []   # [start, end, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [_addindent(f"({i}): {r}" if i == j else f"({i}-{j}): {j - i + 1} x {r}", 2)
                 for i, j, r in runs]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def _index(self, idx):
        n = len(self._modules)
        idx = operator.index(idx)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return idx % n

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[str(self._index(idx))]

    def __setitem__(self, idx, module):
        self.add_module(str(self._index(idx)), module)

    def __delitem__(self, idx):
        items = list(self._modules.values())
        del items[idx]
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        """A new ModuleList of this one's modules, then ``other``'s (as torch)."""
        return ModuleList([*self, *other])

    def append(self, module):
        """Add a module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append each module; returns self."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Insert a module before ``index``."""
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward; iterate over it instead")


class ModuleDict(Module):
    """A dict of modules, registered under their keys."""

    _gv_container = True   # its children are called by its owner (op paths)

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        """The keys, in insertion order."""
        return self._modules.keys()

    def items(self):
        """(key, module) pairs."""
        return self._modules.items()

    def values(self):
        """The modules."""
        return self._modules.values()

    def pop(self, key):
        """Remove and return the module under ``key``."""
        m = self[key]
        del self[key]
        return m

    def clear(self):
        """Remove every module."""
        self._modules.clear()

    def update(self, modules):
        """Add modules from a mapping or (key, module) pairs."""
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self[k] = m

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward; index it instead")


class ParameterList(Module):
    """A list of parameters, registered under '0', '1', ..."""

    def __init__(self, values=None):
        super().__init__()
        for v in values or ():
            self.append(v)

    def __getitem__(self, idx):
        n = len(self._parameters)
        return self._parameters[str(operator.index(idx) % n if n else idx)]

    def __setitem__(self, idx, param):
        self.register_parameter(str(operator.index(idx) % len(self)), _as_param(param))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value):
        """Add a parameter at the end; returns self."""
        self.register_parameter(str(len(self)), _as_param(value))
        return self

    def extend(self, values):
        """Append each value; returns self."""
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        """One line per parameter, as torch prints them."""
        return _parameter_lines(enumerate(self), "dtype")


class ParameterDict(Module):
    """A dict of parameters, registered under their keys."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            items = parameters.items() if hasattr(parameters, "items") else parameters
            for k, v in items:
                self[k] = v

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_param(value))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        """The keys."""
        return self._parameters.keys()

    def items(self):
        """(key, parameter) pairs."""
        return self._parameters.items()

    def values(self):
        """The parameters."""
        return self._parameters.values()

    def extra_repr(self):
        """One line per parameter, as torch prints them (with the legacy type name)."""
        return _parameter_lines(self.items(), "typename")


def _parameter_lines(pairs, kind):
    from ..engine.tensor import Tensor
    from ..runtime import typename
    lines = []
    for k, p in pairs:
        if not isinstance(p, Tensor):
            lines.append(f"  ({k}): Object of type: {type(p).__name__}")
            continue
        size = "x".join(str(n) for n in p.shape)
        device = f" ({p.device})" if p.device.type == "cuda" else ""
        what = "Parameter" if isinstance(p, Parameter) else "Tensor"
        name = p.dtype if kind == "dtype" else typename(p)
        lines.append(f"  ({k}): {what} containing: [{name} of size {size}{device}]")
    return "\n".join(lines)


def _as_param(value):
    if isinstance(value, Parameter) or value is None:
        return value
    from ..engine.tensor import Tensor
    if isinstance(value, Tensor):
        return Parameter(value)
    raise GradvizError(f"expected a Parameter or Tensor, got {type(value).__name__}")
