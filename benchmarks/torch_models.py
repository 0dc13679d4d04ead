"""The benchmarked models written in PyTorch, layer for layer as models/ builds them in minigrad
(this module imports torch only, so a PyTorch-only process can use it)."""

from __future__ import annotations

from typing import Any


def torch_model(torch: Any, name: str, bn: bool) -> Any:
    """ "bnpaper" (784-100-100-100-10, sigmoid) or "cnn" (two conv blocks and a 128-unit head),
    with or without batch norm, as models.build makes them."""
    nn = torch.nn
    if name == "bnpaper":
        layers = [nn.Flatten()]
        width = 784
        for _ in range(3):
            layers.append(nn.Linear(width, 100, bias=not bn))
            layers += [nn.BatchNorm1d(100)] if bn else []
            layers.append(nn.Sigmoid())
            width = 100
        model = nn.Sequential(*layers, nn.Linear(100, 10))
        for module in model.modules():  # the paper's init, as models/mlp.py draws it
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0.0, 0.1)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        return model

    def block(cin: int, cout: int) -> list:
        bn_layer = [nn.BatchNorm2d(cout)] if bn else []
        return [
            nn.Conv2d(cin, cout, 3, padding=1, bias=not bn),
            *bn_layer,
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]

    head_bn = [nn.BatchNorm1d(128)] if bn else []
    return nn.Sequential(
        *block(1, 32),
        *block(32, 64),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128, bias=not bn),
        *head_bn,
        nn.ReLU(),
        nn.Linear(128, 10),
    )
