"""Ops split along the batch over minigrad's threads give the unsplit results (see the
`threads` fixture in conftest.py, which also runs the conv and pooling tests split)."""

import numpy as np
import pytest

import minigrad
import models
from minigrad.nn import functional as F


def random(*shape):
    return minigrad.randn(*shape, dtype=minigrad.float64, requires_grad=True)


def test_relu_split_matches_by_hand_and_gradchecks(threads):
    x = minigrad.tensor([[-1.0, 2.0], [0.0, 3.0], [4.0, -5.0]], requires_grad=True)
    out = F.relu(x)
    np.testing.assert_array_equal(out.numpy(), [[0, 2], [0, 3], [4, 0]])
    out.backward(minigrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 2], [0, 4], [5, 0]])
    assert minigrad.gradcheck(F.relu, random(5, 3, 2) + 0.1)


def test_relu_of_a_0d_tensor_with_threads(threads):
    x = minigrad.tensor(-2.0, requires_grad=True)
    F.relu(x).backward()
    assert F.relu(x).item() == 0.0 and x.grad.item() == 0.0


def test_linear_split_matches_the_product_and_gradchecks(threads):
    x, weight, bias = random(5, 4), random(3, 4), random(3)
    out = F.linear(x, weight, bias)
    expected = x.numpy() @ weight.numpy().T + bias.numpy()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-13)
    assert minigrad.gradcheck(F.linear, x, weight, bias)


@pytest.mark.parametrize("bn", [False, True], ids=["plain", "bn"])
def test_cnn_step_gives_the_same_loss_and_gradients_split_or_not(bn, split_ops):
    rng = np.random.default_rng(0)
    images = minigrad.tensor(rng.random((5, 1, 28, 28)))
    labels = minigrad.tensor(rng.integers(0, 10, 5))
    results = []
    for count in (1, 2):
        minigrad.set_num_threads(count)
        minigrad.manual_seed(0)
        model = models.build("cnn", (1, 28, 28), 10, bn=bn).to(minigrad.float64)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        results.append((loss.item(), [p.grad.numpy() for p in model.parameters()]))
    (loss_1, grads_1), (loss_2, grads_2) = results
    assert loss_1 == pytest.approx(loss_2, rel=1e-13)
    for one, two in zip(grads_1, grads_2):
        np.testing.assert_allclose(one, two, rtol=1e-10, atol=1e-13)
