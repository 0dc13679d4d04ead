"""Custom autograd Functions in PyTorch's idiom: a Linear and a ReLU written as
minigrad.autograd.Function subclasses, checked with gradcheck, then trained as a small MLP.

From the checkout's root: ``python -m examples.custom_function --steps 200`` (``--dry-run``
for one step). The task is synthetic (which of two interleaved spirals a 2-d point lies on),
so nothing is downloaded.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

import minigrad as torch
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.autograd import Function, gradcheck


class LinearFunction(Function):
    """y = x W^T + b; dx = dy W, dW = dy^T x, db = the sum of dy over the batch."""

    @staticmethod
    def forward(ctx, input, weight, bias):
        ctx.save_for_backward(input, weight)
        return input.mm(weight.t()) + bias

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class MyReLU(Function):
    """y = max(x, 0); dx = dy where x > 0, else 0."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class MyLinear(nn.Module):
    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        bound = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return LinearFunction.apply(x, self.weight, self.bias)


class Net(nn.Module):
    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.fc1 = MyLinear(2, hidden)
        self.fc2 = MyLinear(hidden, hidden)
        self.fc3 = MyLinear(hidden, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = MyReLU.apply(self.fc1(x))
        x = MyReLU.apply(self.fc2(x))
        return self.fc3(x)


def spirals(count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` points of each of two interleaved spirals, with a little noise, and their labels."""
    radius = torch.linspace(0.2, 1.0, count)
    angle = radius * 3 * math.pi
    points, labels = [], []
    for label, shift in enumerate((0.0, math.pi)):
        xs = radius * (angle + shift).cos() + torch.randn(count) * 0.02
        ys = radius * (angle + shift).sin() + torch.randn(count) * 0.02
        points.append(torch.stack([xs, ys], dim=1))
        labels.append(torch.full((count,), label, dtype=torch.long))
    return torch.cat(points), torch.cat(labels)


def main(argv: Sequence[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="full-batch Adam steps")
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=50)
    parser.add_argument("--dry-run", action="store_true", help="one step, to check it runs")
    parser.add_argument("--no-cuda", action="store_true", help="train on the CPU")
    args = parser.parse_args(argv)
    if args.dry_run:
        args.steps = 1
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() and not args.no_cuda else "cpu"

    checks = (
        torch.randn(4, 3, dtype=torch.double, requires_grad=True),
        torch.randn(5, 3, dtype=torch.double, requires_grad=True),
        torch.randn(5, dtype=torch.double, requires_grad=True),
    )
    away_from_the_kink = (torch.rand(6, dtype=torch.double) + 0.1) * torch.tensor([1.0, -1.0] * 3)
    print("gradcheck LinearFunction:", gradcheck(LinearFunction.apply, checks))
    print("gradcheck MyReLU:", gradcheck(MyReLU.apply, (away_from_the_kink.requires_grad_(),)))

    points, labels = spirals(100)
    points, labels = points.to(device), labels.to(device)
    model = Net().to(device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    for step in range(args.steps + 1):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(points), labels)
        if step % args.log_interval == 0 or step == args.steps:
            accuracy = (model(points).argmax(dim=1) == labels).float().mean().item()
            print(f"step {step}: loss {loss.item():.4f}, accuracy {accuracy:.3f}")
        if step == args.steps:
            return loss.item()
        loss.backward()
        optimizer.step()
    return loss.item()


if __name__ == "__main__":
    main()
