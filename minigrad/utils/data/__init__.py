"""Datasets, samplers and the DataLoader under PyTorch's path (``torch.utils.data``).

dataset: Dataset, TensorDataset, Subset, ConcatDataset, random_split; sampler: the Sampler
family; distributed: DistributedSampler; dataloader: DataLoader; collate: default_collate;
generator: what ``generator=`` accepts.
"""

from minigrad.utils.data.collate import default_collate
from minigrad.utils.data.dataloader import DataLoader
from minigrad.utils.data.dataset import (
    ConcatDataset,
    Dataset,
    Subset,
    TensorDataset,
    random_split,
)
from minigrad.utils.data.distributed import DistributedSampler
from minigrad.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "default_collate",
    "random_split",
]
