"""gv.data: datasets, samplers and loaders in torch.utils.data's shapes; toy sets, digits,
MNIST, CIFAR-10."""
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset,
                      Subset, TensorDataset, random_split)
from .distributed import DistributedSampler
from .digits import Digits, digits
from .files import CIFAR10, MNIST, DatasetNotFoundError, read_idx
from .loader import DataLoader, default_collate, default_convert, get_worker_info
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
from .toy import TOY_SETS, circles, gaussians, moons, spiral, xor

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
           "default_collate", "default_convert", "get_worker_info", "IterableDataset",
           "ChainDataset", "StackDataset", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "DistributedSampler", "spiral", "circles",
           "moons", "xor", "gaussians", "TOY_SETS", "digits", "Digits", "MNIST",
           "CIFAR10", "DatasetNotFoundError", "read_idx"]
