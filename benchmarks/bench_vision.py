"""Epoch time of minigrad.vision's per-sample transforms against train.py's batch path.

Each case iterates one shuffled epoch of batches (loading only, no model) three ways, timed in
alternation: torchvision-style data sets with per-sample transforms (minigrad.vision, which
applies them to whole batches), train.py's path (a TensorDataset of the float images with its
batch transform), and the same transforms applied image by image as torchvision does (timed
on a few batches and scaled to the epoch). MNIST is the real one when it is cached; CIFAR-10
uses random pixels in the real file format when it is not (the timing does not depend on them).
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import warnings
from functools import partial
from pathlib import Path

import numpy as np

import datasets as loaders
from benchmarks.common import interleaved, print_table
from minigrad.data import DataLoader, TensorDataset
from minigrad.utils.data import Dataset
from minigrad.vision import datasets, sources, transforms

MNIST_STATS = ((0.1307,), (0.3081,))
CIFAR_STATS = loaders.CHANNEL_STATS["cifar10"]


class OneByOne(Dataset):
    """A data set seen only through __getitem__, so that the loader transforms image by image."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        return self.dataset[index]


def epoch(loader: DataLoader, batches: int | None = None) -> None:
    for number, _ in enumerate(loader, 1):
        if number == batches:
            break


def mnist_root() -> Path:
    if not sources.fetch.is_present("mnist"):
        raise SystemExit("bench_vision needs MNIST: run `python -m minigrad.vision.sources mnist`")
    return sources.data_root()


def fake_cifar_root(directory: Path) -> Path:
    """CIFAR-10 batches of random pixels in the official file layout (unverified: it warns)."""
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for index, name in enumerate(sources.cifar10.split_files(split)):
            path = directory / "cifar10" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            data = rng.integers(0, 256, (10_000, 3072), dtype=np.uint8)
            labels = [(index + item) % 10 for item in range(10_000)]
            path.write_bytes(pickle.dumps({b"data": data, b"labels": labels}, protocol=2))
    return directory


def cases(cifar_root: Path, batch: int):
    """(name, vision loader, train.py-path loader, one-by-one loader) per case."""
    mnist = datasets.MNIST(
        mnist_root(),
        transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize(*MNIST_STATS)]),
    )
    images, labels = loaders.load("mnist", "train", download=False)
    normalized = loaders.transforms.normalize(images, *MNIST_STATS)
    yield (
        "MNIST ToTensor+Normalize",
        DataLoader(mnist, batch_size=batch, shuffle=True, seed=0),
        DataLoader(TensorDataset(normalized, labels), batch_size=batch, shuffle=True, seed=0),
        DataLoader(OneByOne(mnist), batch_size=batch, shuffle=True, seed=0),
    )
    augment = transforms.Compose(
        [
            transforms.RandomCrop(32, padding=4),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(*CIFAR_STATS),
        ]
    )
    cifar = datasets.CIFAR10(cifar_root, transform=augment)
    images, labels = loaders.load("cifar10", "train", root=cifar_root, download=False)
    batch_path = DataLoader(
        TensorDataset(images, labels),
        batch_size=batch,
        shuffle=True,
        seed=0,
        transform=loaders.REGISTRY["cifar10"].train_transform,
    )
    yield (
        "CIFAR-10 RandomCrop(4)+Flip+ToTensor+Normalize",
        DataLoader(cifar, batch_size=batch, shuffle=True, seed=0),
        batch_path,
        DataLoader(OneByOne(cifar), batch_size=batch, shuffle=True, seed=0),
    )


def measure(
    name: str, vision: DataLoader, batch_path: DataLoader, one_by_one: DataLoader, args
) -> tuple:
    """A table row: the epoch times and their ratio, and the image-by-image estimate."""
    timed = interleaved(
        {"vision": partial(epoch, vision), "batch path": partial(epoch, batch_path)},
        repeats=args.repeats,
    )
    few = args.one_by_one_batches
    per_image = interleaved({"one": partial(epoch, one_by_one, few)}, repeats=3)["one"]
    per_image *= len(one_by_one) / few  # len: batches per epoch
    return (
        name,
        f"{timed['vision'] * 1e3:.1f}",
        f"{timed['batch path'] * 1e3:.1f}",
        f"{timed['vision'] / timed['batch path']:.2f}x",
        f"{per_image * 1e3:.0f}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--one-by-one-batches", type=int, default=20, help="batches timed image by image"
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        if sources.fetch.is_present("cifar10"):
            cifar_root = sources.data_root()
        else:
            cifar_root = fake_cifar_root(Path(scratch))
            warnings.simplefilter("ignore", sources.UnverifiedDataWarning)
        for case in cases(cifar_root, args.batch_size):
            rows.append(measure(*case, args))
    print_table(
        f"ms per epoch of batches of {args.batch_size} (median of {args.repeats})",
        rows,
        ("case", "vision ms", "train.py path ms", "vision/path", "image by image ms"),
    )


if __name__ == "__main__":
    main()
