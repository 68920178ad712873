"""``gv.utils``: where torch keeps ``torch.utils.data`` (so ``import gradviz as torch`` ports)."""
from . import data

__all__ = ["data"]
