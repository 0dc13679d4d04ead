"""The functional API (`import minigrad.nn.functional as F`): stateless layer math on Tensors.

Each name is the op that implements it; the layers in minigrad.nn call these.
"""

# ruff: noqa: F401 (the names imported here are this module's API)

from minigrad.ops.conv import conv2d
from minigrad.ops.dropout import dropout
from minigrad.ops.elementwise import relu, sigmoid, tanh
from minigrad.ops.linalg import linear
from minigrad.ops.loss import cross_entropy, mse_loss, nll_loss
from minigrad.ops.norm import batch_norm
from minigrad.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from minigrad.ops.reduce import log_softmax, softmax
