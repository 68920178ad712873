"""``gv.utils.data`` is ``gv.data`` under torch's name: ``from gradviz.utils.data import
DataLoader, TensorDataset`` works as ``from torch.utils.data import ...`` does, and so do
torch's submodule paths (``from torch.utils.data.distributed import DistributedSampler``)."""
import sys

from ..data import *  # noqa: F401,F403
from ..data import __all__  # noqa: F401
from ..data import dataset, distributed, loader, sampler

# torch's submodule names, registered so ``import gradviz.utils.data.sampler`` finds them
dataloader = loader
for _name, _module in (("dataset", dataset), ("sampler", sampler), ("dataloader", loader),
                       ("distributed", distributed)):
    sys.modules[f"{__name__}.{_name}"] = _module
del _name, _module
