"""The old ``gv.nn.utils.spectral_norm``: a ``<name>_orig`` parameter, ``<name>_u`` and
``<name>_v`` buffers and a forward pre-hook that sets ``<name> = <name>_orig / sigma``, as
``torch.nn.utils.spectral_norm`` (``parametrizations.spectral_norm`` is the newer form)."""
from ...engine.grad_mode import no_grad
from ...engine.tensor import Tensor
from ...errors import ArgumentError, GradvizError
from .. import functional as F
from ..parameter import Parameter


class SpectralNorm:
    """The forward pre-hook: one power-iteration step per forward in training mode
    (``v = W^T u / ||W^T u||``, then ``u = W v / ||W v||``, in place), none in eval;
    ``sigma = u · W v`` with u, v held constant for the gradient."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ArgumentError("Expected n_power_iterations to be positive, but got "
                                f"n_power_iterations={n_power_iterations}")
        self.name, self.dim, self.eps = name, dim, eps
        self.n_power_iterations = n_power_iterations

    def reshape_weight_to_matrix(self, weight):
        """``weight`` with ``dim`` moved first, flattened to (size(dim), -1)."""
        if self.dim != 0:
            weight = weight.permute(self.dim,
                                    *(d for d in range(weight.ndim) if d != self.dim))
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        """``<name>_orig / sigma``, after the power iteration when asked."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                w = weight_mat.detach()
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(w.mT.mv(u), dim=0, eps=self.eps))
                    u.copy_(F.normalize(w.mv(v), dim=0, eps=self.eps))
            # clones: the graph must not see the next in-place power-iteration update
            u, v = u.clone(), v.clone()
        sigma = u.dot(weight_mat.mv(v))
        return weight / sigma

    def remove(self, module):
        """Fold ``<name>_orig / sigma`` back into one ``<name>`` parameter."""
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        for suffix in ("_u", "_v"):
            del module._buffers[self.name + suffix]
        del module._parameters[self.name + "_orig"]
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        """Split ``module.<name>`` into ``_orig``, ``_u``, ``_v`` and register the hook."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise GradvizError(f"Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if not isinstance(weight, Tensor):
            raise ArgumentError(f"`SpectralNorm` cannot be applied as parameter `{name}` is "
                                "None" if name in module._parameters else
                                f"Module '{type(module).__name__}' has no parameter {name!r}")
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            u = F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)
        del module._parameters[name]
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Normalise ``module.<name>`` by its spectral norm (power iteration) before each
    forward, keeping ``<name>_orig``, ``<name>_u``, ``<name>_v``; ``dim`` defaults to 1 for
    ConvTranspose, else 0. Returns module."""
    if dim is None:
        from .. import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: PLC0415
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) \
            else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm`` on ``module.<name>``; returns module."""
    for k, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ArgumentError(f"spectral_norm of '{name}' not found in {module}")
