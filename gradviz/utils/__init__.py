"""``gv.utils``: where torch keeps ``torch.utils.data`` (so ``import gradviz as torch`` ports)."""
from . import checkpoint, data

__all__ = ["checkpoint", "data"]
