"""Vision data under torchvision's names: ``datasets`` (MNIST, FashionMNIST, CIFAR10, fetched
and verified by ``sources``, so they work from any directory) and ``transforms`` (ToTensor,
Normalize, random crops and flips), whose transforms also run on whole batches at once."""

from minigrad.vision import datasets, sources, transforms

__all__ = ["datasets", "sources", "transforms"]
