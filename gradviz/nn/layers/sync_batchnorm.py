"""SyncBatchNorm: batch norm whose statistics torch averages over the processes of a
distributed group. gradviz runs in one process (no ``torch.distributed``), which is the case
in which torch's SyncBatchNorm is plain batch norm over any (N, C, ...) input, so this is
that; ``convert_sync_batchnorm`` swaps it in for a model's BatchNorm*d as torch does."""
from ...errors import ShapeError
from .norm import _BatchNorm


class _AnyFrom2:
    """The input ranks SyncBatchNorm takes: 2 and more."""

    def __contains__(self, ndim):
        return ndim >= 2


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation of (N, C, ...) inputs; ``process_group`` is kept for torch's API
    (in one process there is nothing to synchronise, as in torch without a process group)."""

    _dims = _AnyFrom2()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None, *,
                 bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)
        self.process_group = process_group

    def forward(self, input):
        """Normalise with batch statistics (training) or running ones (eval)."""
        if input.ndim < 2:
            raise ShapeError(f"expected at least 2D input (got {input.ndim}D input)")
        if input.shape[1] == 0:
            raise ShapeError("SyncBatchNorm number of input channels should be non-zero")
        return super().forward(input)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm*d in it (itself included) replaced by a
        SyncBatchNorm that shares its parameters and buffers and keeps its mode."""
        out = module
        if isinstance(module, _BatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group,
                      bias=module.bias is not None)
            if module.affine:
                out.weight, out.bias = module.weight, module.bias
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                out._buffers[name] = module._buffers.get(name)
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
