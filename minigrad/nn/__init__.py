"""Neural-network layers: Module and Parameter, containers, layers, losses, init and F."""

# ruff: noqa: F401 (the names imported here are the package's API)

from minigrad.nn import functional, init
from minigrad.nn.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from minigrad.nn.batchnorm import BatchNorm1d, BatchNorm2d
from minigrad.nn.containers import Flatten, Identity, ModuleList, Sequential
from minigrad.nn.conv import Conv2d
from minigrad.nn.dropout import Dropout
from minigrad.nn.linear import Linear
from minigrad.nn.loss import CrossEntropyLoss, MSELoss, NLLLoss
from minigrad.nn.module import Module, Parameter
from minigrad.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
