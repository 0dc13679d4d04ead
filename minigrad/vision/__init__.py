"""Vision data under torchvision's names: ``datasets`` (MNIST, FashionMNIST, CIFAR10 from the
checkout's verified loaders) and ``transforms`` (ToTensor, Normalize, random crops and flips),
whose transforms also run on whole batches at once."""

from minigrad.vision import datasets, transforms

__all__ = ["datasets", "transforms"]
