"""Function classes of gv.nn's ops (one class per op, as in the engine)."""
from .activation import Elu, Gelu, Hardtanh, LeakyRelu, Silu, Softplus
from .conv import Conv, ConvTranspose
from .linear import Bilinear, Linear
from .misc import Dropout, Embedding, Pad
from .norm import BatchNorm, LayerNorm
from .pool import AdaptiveAvgPool, AvgPool, MaxPool, MaxUnpool, SumPool
from .rnn import GRUScan, LSTMScan, RNNScan
from .unfold import Fold, Unfold

__all__ = [
           "AdaptiveAvgPool",
           "AvgPool",
           "BatchNorm",
           "Bilinear",
           "Conv",
           "ConvTranspose",
           "Fold",
           "Dropout",
           "Elu",
           "Embedding",
           "GRUScan",
           "Gelu",
           "Hardtanh",
           "LSTMScan",
           "LayerNorm",
           "LeakyRelu",
           "Linear",
           "MaxPool",
           "MaxUnpool",
           "Pad",
           "RNNScan",
           "Silu",
           "Softplus",
           "SumPool",
           "Unfold",
]
