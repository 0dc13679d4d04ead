"""Multi-layer perceptrons: the batch-norm paper's MNIST net and a general MLP."""

from __future__ import annotations

import math

from minigrad import nn
from models import register

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


class MLP(nn.Sequential):
    """Flatten, then for each hidden width: Linear, [BatchNorm1d], activation; then a Linear.

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
            previous = width
        layers.append(nn.Linear(previous, num_classes))
        super().__init__(*layers)
        if init_std is not None:
            for module in self.modules():
                if isinstance(module, nn.Linear):
                    nn.init.normal_(module.weight, 0.0, init_std)
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)


@register(
    "bnpaper",
    "Ioffe & Szegedy (2015) sec. 4.1: 784-100-100-100-10, sigmoid, Gaussian init",
    lr=0.5,
    batch_size=60,
    steps=10_000,
    optimizer="sgd",
    threads=1,
)
def bn_paper_net(input_shape: tuple, num_classes: int, bn: bool) -> MLP:
    """The paper's MNIST network: three sigmoid layers of 100 units; weights drawn from
    N(0, 0.1^2), biases zero (the paper says "small random Gaussian values")."""
    return MLP(math.prod(input_shape), [100, 100, 100], num_classes, "sigmoid", bn, init_std=0.1)


@register(
    "mlp",
    "ReLU MLP 512-256 with PyTorch's default init",
    lr=0.1,
    batch_size=128,
    epochs=5,
    optimizer="sgd",
    momentum=0.9,
    threads=1,
)
def general_mlp(input_shape: tuple, num_classes: int, bn: bool) -> MLP:
    return MLP(math.prod(input_shape), [512, 256], num_classes, "relu", bn)
