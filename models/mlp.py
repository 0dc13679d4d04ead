"""Multi-layer perceptrons: the batch-norm paper's MNIST net and a general MLP."""

from __future__ import annotations

import math

from minigrad import nn
from models import register

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


class MLP(nn.Sequential):
    """Flatten, then for each hidden width: Linear, [BatchNorm1d], activation, [Dropout]; then
    a Linear. Weights from N(0, init_std^2) with zero biases, or PyTorch's default init when
    init_std is None.

    With batch norm the hidden Linear layers have no bias: BN's beta takes its place (it would
    cancel the bias anyway, since BN subtracts the batch mean)."""

    def __init__(
        self,
        in_features: int,
        widths: list[int],
        num_classes: int,
        activation: str = "relu",
        bn: bool = False,
        init_std: float | None = None,
        dropout: float = 0.0,
    ):
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; expected one of {list(ACTIVATIONS)}"
            )
        layers: list[nn.Module] = [nn.Flatten()]
        previous = in_features
        for width in widths:
            layers.append(nn.Linear(previous, width, bias=not bn))
            if bn:
                layers.append(nn.BatchNorm1d(width))
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout))
            previous = width
        layers.append(nn.Linear(previous, num_classes))
        super().__init__(*layers)
        if init_std is not None:
            for module in self.modules():
                if isinstance(module, nn.Linear):
                    nn.init.normal_(module.weight, 0.0, init_std)
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)


def init_std(init: float | str) -> float | None:
    """train.py's --init as MLP's init_std: a standard deviation, or None for "pytorch"."""
    return None if init == "pytorch" else float(init)


@register(
    "bnpaper",
    "Ioffe & Szegedy (2015) sec. 4.1: 784-100-100-100-10, sigmoid, Gaussian init",
    lr=0.5,
    batch_size=60,
    steps=10_000,
    optimizer="sgd",
    threads=1,
    init=0.1,
)
def bn_paper_net(
    input_shape: tuple, num_classes: int, bn: bool, init: float | str = 0.1, dropout: float = 0.0
) -> MLP:
    """The paper's MNIST network: three sigmoid layers of 100 units; weights drawn from
    N(0, 0.1^2), biases zero (the paper says "small random Gaussian values")."""
    widths = [100, 100, 100]
    return MLP(math.prod(input_shape), widths, num_classes, "sigmoid", bn, init_std(init), dropout)


@register(
    "mlp",
    "ReLU MLP 512-256 with PyTorch's default init",
    lr=0.1,
    batch_size=128,
    epochs=5,
    optimizer="sgd",
    momentum=0.9,
    threads=1,
    init="pytorch",
)
def general_mlp(
    input_shape: tuple,
    num_classes: int,
    bn: bool,
    init: float | str = "pytorch",
    dropout: float = 0.0,
) -> MLP:
    widths = [512, 256]
    return MLP(math.prod(input_shape), widths, num_classes, "relu", bn, init_std(init), dropout)
