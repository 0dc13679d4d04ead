"""Train a Sequential CNN with batch normalization on MNIST (Adam, a cosine learning-rate
schedule, random-crop augmentation), saving a checkpoint after every epoch and resuming from
it with --resume (minigrad.save / minigrad.load), in PyTorch's idioms.

From the checkout's root: ``python -m examples.bn_cnn_checkpoint --epochs 4``, interrupt it,
then add ``--resume`` to continue after the last epoch saved.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.optim.lr_scheduler import CosineAnnealingLR
from minigrad.utils.data import DataLoader
from minigrad.vision import datasets, transforms

MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)


def make_model() -> nn.Sequential:
    """conv-BN-ReLU-pool twice (28 -> 14 -> 7 pixels a side), then one linear classifier.
    The convolutions have no bias: the batch norm's shift takes its place."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, bias=False),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 10),
    )


def train_one_epoch(
    model: nn.Module,
    loader: DataLoader,
    optimizer: optim.Optimizer,
    device: str,
    epoch: int,
    dry_run: bool,
) -> None:
    model.train()
    for batch_idx, (images, labels) in enumerate(loader):
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        if batch_idx % 50 == 0 or dry_run:
            print(f"epoch {epoch} batch {batch_idx}/{len(loader)}  loss {loss.item():.4f}")
        if dry_run:
            break


def evaluate(model: nn.Module, loader: DataLoader, device: str) -> float:
    """The accuracy on `loader`, with the batch norms on their running statistics."""
    model.eval()
    correct = 0
    with minigrad.no_grad():
        for images, labels in loader:
            logits = model(images.to(device))
            correct += (logits.argmax(dim=1) == labels.to(device)).sum().item()
    return correct / len(loader.dataset)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="minigrad BatchNorm CNN with checkpoints")
    parser.add_argument("--batch-size", type=int, default=128, help="training batch size")
    parser.add_argument("--epochs", type=int, default=4, help="total number of epochs")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's initial learning rate")
    parser.add_argument("--seed", type=int, default=0, help="random seed (init and shuffling)")
    parser.add_argument("--data", default=None, help="data root (default: minigrad's cache)")
    parser.add_argument("--checkpoint", default="bn_cnn.ckpt.npz", help="checkpoint file")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--no-cuda", action="store_true", help="train on the CPU")
    parser.add_argument("--dry-run", action="store_true", help="one training batch per epoch")
    args = parser.parse_args(argv)

    minigrad.manual_seed(args.seed)
    device = "cuda" if not args.no_cuda and minigrad.cuda_is_available() else "cpu"
    normalize = transforms.Normalize(MNIST_MEAN, MNIST_STD)
    augment = transforms.Compose(
        [transforms.RandomCrop(28, padding=2), transforms.ToTensor(), normalize]
    )
    plain = transforms.Compose([transforms.ToTensor(), normalize])
    train_set = datasets.MNIST(args.data, train=True, download=True, transform=augment)
    test_set = datasets.MNIST(args.data, train=False, transform=plain)
    # The order of each epoch follows from (generator, epoch), so a resumed run that sets the
    # loader's epoch sees the batches in the order an uninterrupted run would.
    train_loader = DataLoader(
        train_set, batch_size=args.batch_size, shuffle=True, generator=args.seed
    )
    test_loader = DataLoader(test_set, batch_size=1000)

    model = make_model().to(device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = CosineAnnealingLR(optimizer, T_max=args.epochs)
    first_epoch = 1
    if args.resume:
        checkpoint = minigrad.load(args.checkpoint)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        first_epoch = checkpoint["epoch"] + 1
        print(f"resumed from {args.checkpoint} after epoch {checkpoint['epoch']}")

    for epoch in range(first_epoch, args.epochs + 1):
        train_loader.set_epoch(epoch - 1)
        train_one_epoch(model, train_loader, optimizer, device, epoch, args.dry_run)
        accuracy = evaluate(model, test_loader, device)
        scheduler.step()
        print(
            f"epoch {epoch}: test accuracy {accuracy:.4f}, next lr {scheduler.get_last_lr()[0]:.6f}"
        )
        checkpoint = {
            "epoch": epoch,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "accuracy": accuracy,
        }
        minigrad.save(checkpoint, args.checkpoint)


if __name__ == "__main__":
    main()
