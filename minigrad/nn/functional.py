"""The functional API (`import minigrad.nn.functional as F`): stateless layer math on Tensors.

Each name is a thin re-export of the op that implements it; layers in minigrad.nn call these.
"""

# ruff: noqa: F401 (re-exports; conv and batchnorm append their import lines here)

from minigrad.ops.conv import adaptive_avg_pool2d, avg_pool2d, conv2d, max_pool2d
from minigrad.ops.dropout import dropout
from minigrad.ops.elementwise import relu, sigmoid, tanh
from minigrad.ops.linear import linear
from minigrad.ops.loss import cross_entropy, mse_loss, nll_loss
from minigrad.ops.norm import batch_norm
from minigrad.ops.reduce import log_softmax, softmax
