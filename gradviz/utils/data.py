"""``gv.utils.data`` is ``gv.data`` under torch's name: ``from gradviz.utils.data import
DataLoader, TensorDataset`` works as ``from torch.utils.data import ...`` does."""
from ..data import *  # noqa: F401,F403
from ..data import __all__  # noqa: F401
