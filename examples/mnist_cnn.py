"""Train a small CNN on MNIST with Adadelta and a StepLR schedule, written as a PyTorch user
would write it (minigrad.vision for torchvision, minigrad.utils.data for torch.utils.data).

From the checkout's root: ``python -m examples.mnist_cnn --epochs 3`` (``--dry-run`` for one
batch per epoch). MNIST is read from --data (default: minigrad's cache) and fetched there by
the checkout's verified routes when missing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.optim.lr_scheduler import StepLR
from minigrad.utils.data import DataLoader
from minigrad.vision import datasets, transforms

MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)


class Net(nn.Module):
    """Two 3x3 convolutions, each followed by ReLU and 2x2 max pooling, then two linear
    layers with dropout between; the output is log-probabilities of the 10 digits."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3)  # 28 x 28 -> 26 x 26, pooled to 13 x 13
        self.conv2 = nn.Conv2d(16, 32, 3)  # 13 x 13 -> 11 x 11, pooled to 5 x 5
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 5 * 5, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout(minigrad.flatten(x, 1))
        x = self.dropout(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


def train(
    args: argparse.Namespace,
    model: nn.Module,
    device: str,
    loader: DataLoader,
    optimizer: optim.Optimizer,
    epoch: int,
) -> None:
    model.train()
    for batch_idx, (data, target) in enumerate(loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            seen = batch_idx * loader.batch_size + len(data)
            print(
                f"Train epoch {epoch} [{seen}/{len(loader.dataset)}] "
                f"lr {optimizer.param_groups[0]['lr']:.4f}  loss {loss.item():.4f}"
            )
        if args.dry_run:
            break


def test(model: nn.Module, device: str, loader: DataLoader) -> float:
    """Print and return the accuracy on `loader`'s data set."""
    model.eval()
    total_loss, correct = 0.0, 0
    with minigrad.no_grad():
        for data, target in loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            total_loss += F.nll_loss(output, target, reduction="sum").item()
            correct += (output.argmax(dim=1) == target).sum().item()
    count = len(loader.dataset)
    print(f"Test set: average loss {total_loss / count:.4f}, accuracy {correct}/{count}")
    return correct / count


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="minigrad MNIST CNN example")
    parser.add_argument("--batch-size", type=int, default=64, help="training batch size")
    parser.add_argument("--test-batch-size", type=int, default=1000, help="test batch size")
    parser.add_argument("--epochs", type=int, default=3, help="number of epochs")
    parser.add_argument("--lr", type=float, default=1.0, help="Adadelta learning rate")
    parser.add_argument("--gamma", type=float, default=0.7, help="StepLR's factor per epoch")
    parser.add_argument("--no-cuda", action="store_true", help="train on the CPU")
    parser.add_argument("--dry-run", action="store_true", help="one training batch per epoch")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--log-interval", type=int, default=10, help="batches between logs")
    parser.add_argument("--data", default=None, help="data root (default: minigrad's cache)")
    parser.add_argument("--save-model", action="store_true", help="write mnist_cnn.npz")
    args = parser.parse_args(argv)

    minigrad.manual_seed(args.seed)
    device = "cuda" if not args.no_cuda and minigrad.cuda_is_available() else "cpu"
    transform = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize(MNIST_MEAN, MNIST_STD)]
    )
    train_set = datasets.MNIST(args.data, train=True, download=True, transform=transform)
    test_set = datasets.MNIST(args.data, train=False, transform=transform)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=args.test_batch_size)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(model, device, test_loader)
        scheduler.step()
    if args.save_model:
        minigrad.save(model.state_dict(), "mnist_cnn.npz")


if __name__ == "__main__":
    main()
