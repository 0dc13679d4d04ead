"""Every optimizer with most of its options, three steps against PyTorch 2.13's own values
(torch.optim on CPU in float64, written down here: the tests do not need PyTorch)."""

import numpy as np
import pytest

import minigrad
from minigrad.optim import SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop

P0 = [1.0, -2.0, 3.0]
GRADS = [[0.5, -1.0, 2.0], [0.1, 0.3, -0.4], [-0.7, 0.2, 0.05]]

PYTORCH_STEPS = {
    "SGD": (
        lambda params: SGD(
            params, lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.01, maximize=True
        ),
        [
            [1.049, -2.098, 3.197],
            [1.0975755, -2.1701509999999997, 3.3527015000000002],
            [1.10574466225, -2.2240018244999997, 3.49365649925],
        ],
    ),
    "Adam": (
        lambda params: Adam(
            params, lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True, maximize=True
        ),
        [
            [1.00999999975, -2.009999999875, 3.0099999999411766],
            [1.0161070989176895, -2.011170485465886, 3.0128697350041325],
            [1.0119118806376146, -2.0091146076303392, 3.013928303872357],
        ],
    ),
    "AdamW": (
        lambda params: AdamW(params, lr=0.01, betas=(0.8, 0.9), amsgrad=True),
        [
            [0.9899000002, -1.9898000001, 2.98970000005],
            [0.9821432055488187, -1.9857721177216316, 2.984806347164298],
            [0.9844615770749138, -1.9842241899064044, 2.981100756227813],
        ],
    ),
    "Adadelta": (
        lambda params: Adadelta(params, lr=0.5, rho=0.8, eps=1e-3, weight_decay=0.1),
        [
            [0.9648876558411609, -1.964705882352941, 2.9646613576778775],
            [0.9478855423737119, -1.96949205860641, 2.9671725037504655],
            [0.986125429151019, -1.9696423466473187, 2.958395425967847],
        ],
    ),
    "RMSprop": (
        lambda params: RMSprop(
            params, lr=0.01, alpha=0.9, eps=1e-4, weight_decay=0.1, momentum=0.8, centered=True
        ),
        [
            [0.9666851749028318, -1.9666759233546236, 2.9666714968845094],
            [0.9288409187463977, -1.9429848252838415, 2.9415689401002174],
            [0.9215911666736114, -1.924203819635107, 2.9160228803050128],
        ],
    ),
    "Adagrad": (
        lambda params: Adagrad(
            params,
            lr=0.1,
            lr_decay=0.5,
            weight_decay=0.1,
            initial_accumulator_value=0.2,
            eps=1e-3,
        ),
        [
            [0.9199286272988214, -1.906368856506383, 2.9018802685323695],
            [0.9033825385593579, -1.9120370157440982, 2.9049999533396376],
            [0.9343251634372617, -1.9123789339523654, 2.897820140902495],
        ],
    ),
}


@pytest.mark.parametrize("name", PYTORCH_STEPS)
def test_three_steps_match_pytorch(name):
    make_optimizer, expected = PYTORCH_STEPS[name]
    param = minigrad.tensor(P0, dtype=minigrad.float64, requires_grad=True)
    optimizer = make_optimizer([param])
    for grad, expected_values in zip(GRADS, expected):
        param.grad = minigrad.tensor(grad, dtype=minigrad.float64)
        optimizer.step()
        np.testing.assert_allclose(param.numpy(), expected_values, rtol=1e-14)
