"""The functional API (`import minigrad.nn.functional as F`): stateless layer math on Tensors.

Each name is the op that implements it; the layers in minigrad.nn call these.
"""

# ruff: noqa: F401 (the names imported here are this module's API)

from minigrad.ops.activation import elu, gelu, leaky_relu, silu
from minigrad.ops.conv import conv1d, conv2d
from minigrad.ops.dropout import dropout, dropout2d
from minigrad.ops.elementwise import relu, sigmoid, tanh
from minigrad.ops.embedding import embedding, one_hot, pad
from minigrad.ops.linalg import linear
from minigrad.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from minigrad.ops.norm import batch_norm, group_norm, layer_norm
from minigrad.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from minigrad.ops.reduce import log_softmax, softmax
