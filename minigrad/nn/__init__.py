"""Neural-network layers: Module and Parameter, containers, layers, losses, init and F."""

# ruff: noqa: F401 (the names imported here are the package's API)

from minigrad.nn import functional, init, parallel, utils
from minigrad.nn.activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from minigrad.nn.batchnorm import BatchNorm1d, BatchNorm2d
from minigrad.nn.containers import (
    Flatten,
    Identity,
    ModuleDict,
    ModuleList,
    ParameterList,
    Sequential,
)
from minigrad.nn.conv import Conv1d, Conv2d
from minigrad.nn.dropout import Dropout, Dropout2d
from minigrad.nn.linear import Linear
from minigrad.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from minigrad.nn.module import Module, Parameter
from minigrad.nn.normalization import GroupNorm, LayerNorm
from minigrad.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from minigrad.nn.sparse import Embedding
from minigrad.nn.syncbatchnorm import SyncBatchNorm
