"""A small convnet for 28x28 (MNIST, Fashion-MNIST) and 32x32 (CIFAR-10) images."""

from __future__ import annotations

from minigrad import nn
from models import register


def conv_block(in_channels: int, out_channels: int, bn: bool) -> nn.Sequential:
    """3x3 conv (same padding), [BatchNorm2d], ReLU, 2x2 max-pool: halves height and width."""
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(out_channels))
    layers += [nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*layers)


class SmallCNN(nn.Sequential):
    """conv(32)-pool, conv(64)-pool, then Linear(64*H/4*W/4, 128)-[BN]-ReLU-Linear(classes)."""

    def __init__(self, in_channels: int, image_size: int, num_classes: int, bn: bool = False):
        side = image_size // 4
        head: list[nn.Module] = [nn.Flatten(), nn.Linear(64 * side * side, 128, bias=not bn)]
        if bn:
            head.append(nn.BatchNorm1d(128))
        head += [nn.ReLU(), nn.Linear(128, num_classes)]
        super().__init__(conv_block(in_channels, 32, bn), conv_block(32, 64, bn), *head)


@register(
    "cnn",
    "2 conv blocks (32, 64 filters) + 128-unit head; 1 or 3 input channels",
    lr=0.05,
    batch_size=128,
    epochs=2,
    optimizer="sgd",
    momentum=0.9,
)
def small_cnn(input_shape: tuple, num_classes: int, bn: bool) -> SmallCNN:
    channels, height, width = input_shape
    if height != width or height % 4:
        raise ValueError(
            f"cnn: expects square images with a side divisible by 4, got {height}x{width}"
        )
    return SmallCNN(channels, height, num_classes, bn)
