"""Layer reprs are PyTorch's: each expected string below is what PyTorch 2.13 prints for the
same constructor call (checked once by hand against torch.nn)."""

import pytest

import minigrad.nn as nn

PYTORCH_REPRS = [
    (lambda: nn.Linear(4, 3), "Linear(in_features=4, out_features=3, bias=True)"),
    (lambda: nn.Linear(4, 3, bias=False), "Linear(in_features=4, out_features=3, bias=False)"),
    (lambda: nn.Conv2d(1, 32, 3, 1), "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))"),
    (
        lambda: nn.Conv2d(3, 8, (3, 5), stride=2, padding=1, bias=False),
        "Conv2d(3, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), bias=False)",
    ),
    (
        lambda: nn.Conv2d(4, 8, 3, dilation=2, groups=2, padding=2),
        "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=(2, 2), dilation=(2, 2), "
        "groups=2)",
    ),
    (lambda: nn.Conv1d(2, 4, 3), "Conv1d(2, 4, kernel_size=(3,), stride=(1,))"),
    (
        lambda: nn.BatchNorm1d(10),
        "BatchNorm1d(10, eps=1e-05, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=True)",
    ),
    (
        lambda: nn.BatchNorm2d(16, momentum=None, affine=False),
        "BatchNorm2d(16, eps=1e-05, momentum=None, affine=False, bias=False, "
        "track_running_stats=True)",
    ),
    (
        lambda: nn.BatchNorm2d(16, eps=1e-3, track_running_stats=False),
        "BatchNorm2d(16, eps=0.001, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=False)",
    ),
    (lambda: nn.ReLU(), "ReLU()"),
    (lambda: nn.ReLU(inplace=True), "ReLU(inplace=True)"),
    (
        lambda: nn.MaxPool2d(2),
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
    ),
    (
        lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True)",
    ),
    (lambda: nn.AvgPool2d(2), "AvgPool2d(kernel_size=2, stride=2, padding=0)"),
    (lambda: nn.Dropout(), "Dropout(p=0.5, inplace=False)"),
    (lambda: nn.Dropout(0.25), "Dropout(p=0.25, inplace=False)"),
    (lambda: nn.Dropout2d(), "Dropout2d(p=0.5, inplace=False)"),
    (lambda: nn.Dropout2d(0.1, inplace=True), "Dropout2d(p=0.1, inplace=True)"),
    (lambda: nn.LayerNorm(10), "LayerNorm((10,), eps=1e-05, elementwise_affine=True, bias=True)"),
    (
        lambda: nn.LayerNorm((4, 5), elementwise_affine=False),
        "LayerNorm((4, 5), eps=1e-05, elementwise_affine=False, bias=False)",
    ),
    (
        lambda: nn.LayerNorm(8, bias=False),
        "LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=False)",
    ),
    (lambda: nn.GroupNorm(2, 4), "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"),
    (lambda: nn.Embedding(10, 3), "Embedding(10, 3)"),
    (lambda: nn.Flatten(), "Flatten(start_dim=1, end_dim=-1)"),
    (lambda: nn.GELU(), "GELU(approximate='none')"),
    (lambda: nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
    (lambda: nn.AdaptiveAvgPool2d(1), "AdaptiveAvgPool2d(output_size=1)"),
    (
        lambda: nn.Sequential(
            nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2)
        ),
        "Sequential(\n"
        "  (0): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))\n"
        "  (1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=True)\n"
        "  (2): ReLU()\n"
        "  (3): Flatten(start_dim=1, end_dim=-1)\n"
        "  (4): Linear(in_features=8, out_features=2, bias=True)\n"
        ")",
    ),
]


@pytest.mark.parametrize(
    ("make", "expected"),
    PYTORCH_REPRS,
    ids=[expected.split("\n")[0] for _, expected in PYTORCH_REPRS],
)
def test_layer_repr_is_pytorchs(make, expected):
    assert repr(make()) == expected


def test_max_pool2d_takes_pytorchs_arguments_in_its_order():
    pool = nn.MaxPool2d(3, 2, 1, 1, False, True)  # kernel, stride, padding, dilation, ..., ceil
    assert (pool.kernel_size, pool.stride, pool.padding, pool.ceil_mode) == (3, 2, 1, True)


@pytest.mark.parametrize("options", [{"dilation": 2}, {"return_indices": True}])
def test_max_pool2d_options_it_cannot_honour_raise_naming_them(options):
    with pytest.raises(ValueError, match=f"{next(iter(options))}={next(iter(options.values()))}"):
        nn.MaxPool2d(2, **options)
