"""gv.nn's layer modules (each a thin Module over its F.* twin)."""
from .activation import (ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU, ReLU6, Sigmoid, SiLU,
                         Softmax, Softplus, Tanh)
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .dropout import Dropout
from .embedding import Embedding
from .linear import Bilinear, Flatten, Identity, Linear, Unflatten
from .norm import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm
from .pool import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AvgPool1d,
                   AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d, SumPool1d, SumPool2d,
                   SumPool3d)
from .rnn import GRU, LSTM, RNN, RNNBase

__all__ = ["ELU", "GELU", "Hardtanh", "LeakyReLU", "LogSoftmax", "ReLU", "ReLU6", "Sigmoid",
           "SiLU", "Softmax", "Softplus", "Tanh", "Conv1d", "Conv2d", "Conv3d",
           "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Dropout", "Embedding",
           "Bilinear", "Flatten", "Identity", "Linear", "Unflatten", "BatchNorm1d",
           "BatchNorm2d", "BatchNorm3d", "LayerNorm", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveAvgPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "MaxPool1d", "MaxPool2d",
           "MaxPool3d", "SumPool1d", "SumPool2d", "SumPool3d", "GRU", "LSTM", "RNN", "RNNBase"]
