"""minigrad.utils.data under PyTorch's names: the DataLoader's signature and options, samplers,
generators, collate_fn, Subset, ConcatDataset and random_split (tests/test_data.py covers the
batching, collation, shuffling and device behaviour it had as minigrad.data)."""

import inspect
import warnings

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
import minigrad.data
from minigrad.utils import data
from minigrad.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
)

IMAGES = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
LABELS = np.arange(10, dtype=np.int64)


def make_dataset():
    return TensorDataset(IMAGES, LABELS)


class PerSample(Dataset):
    """A dataset without __getitems__: sample i is (row i, the int i)."""

    def __len__(self):
        return len(LABELS)

    def __getitem__(self, index):
        return IMAGES[index], int(LABELS[index])


class CountingTensorDataset(TensorDataset):
    """A TensorDataset that records the index arrays of its batch fetches."""

    def __init__(self, *tensors):
        super().__init__(*tensors)
        self.fetches = []

    def __getitems__(self, indices):
        self.fetches.append(np.asarray(indices).tolist())
        return super().__getitems__(indices)


class TorchLikeGenerator:
    """The part of torch.Generator that the data utilities read."""

    def __init__(self):
        self.seed = 67280421310721

    def manual_seed(self, seed):
        self.seed = seed
        return self

    def initial_seed(self):
        return self.seed


def labels_of(loader):
    return [labels.tolist() for _, labels in loader]


# --- the module and the DataLoader's signature ------------------------------------------------


def test_minigrad_data_is_an_alias_of_minigrad_utils_data():
    for name in data.__all__:
        assert getattr(minigrad.data, name) is getattr(data, name)
    assert minigrad.utils.data is data


def test_dataloader_takes_pytorchs_arguments_in_pytorchs_order_with_its_defaults():
    parameters = inspect.signature(DataLoader).parameters
    positional = [name for name, p in parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == [
        "dataset",
        "batch_size",
        "shuffle",
        "sampler",
        "batch_sampler",
        "num_workers",
        "collate_fn",
        "pin_memory",
        "drop_last",
        "timeout",
        "worker_init_fn",
        "multiprocessing_context",
        "generator",
    ]
    defaults = {name: p.default for name, p in parameters.items() if name != "dataset"}
    assert defaults == {
        "batch_size": 1,
        "shuffle": None,
        "sampler": None,
        "batch_sampler": None,
        "num_workers": 0,
        "collate_fn": None,
        "pin_memory": False,
        "drop_last": False,
        "timeout": 0,
        "worker_init_fn": None,
        "multiprocessing_context": None,
        "generator": None,
        "prefetch_factor": None,
        "persistent_workers": False,
        "pin_memory_device": "",
        "in_order": True,
        "seed": None,
        "device": None,
        "transform": None,
    }
    keyword_only = [name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY]
    assert keyword_only[:4] == [
        "prefetch_factor",
        "persistent_workers",
        "pin_memory_device",
        "in_order",
    ]


# --- worker options: checked, then ignored ----------------------------------------------------


@pytest.mark.parametrize(
    "options, match",
    [
        ({"num_workers": -1}, "num_workers option should be non-negative"),
        ({"timeout": -1}, "timeout option should be non-negative"),
        ({"prefetch_factor": 2}, "prefetch_factor option could only be specified in multi"),
        ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
        ({"num_workers": 2, "prefetch_factor": -1}, "prefetch_factor option should be non-neg"),
    ],
    ids=["workers", "timeout", "prefetch", "persistent", "negative-prefetch"],
)
def test_worker_options_are_checked_as_pytorch_checks_them(options, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(make_dataset(), **options)


def test_worker_options_are_accepted_and_batches_are_made_in_process_in_order():
    def never_called(worker_id):
        raise AssertionError("worker_init_fn ran, but no worker process exists")

    with_workers = DataLoader(
        make_dataset(),
        batch_size=3,
        shuffle=True,
        seed=3,
        num_workers=4,
        pin_memory=True,
        timeout=5.0,
        worker_init_fn=never_called,
        multiprocessing_context="spawn",
        persistent_workers=True,
        pin_memory_device="cuda",
        in_order=False,
    )
    plain = DataLoader(make_dataset(), batch_size=3, shuffle=True, seed=3)
    assert labels_of(with_workers) == labels_of(plain)
    assert with_workers.num_workers == 4 and with_workers.prefetch_factor == 2
    assert DataLoader(make_dataset(), num_workers=1, prefetch_factor=8).prefetch_factor == 8


# --- generator --------------------------------------------------------------------------------


def test_an_int_generator_is_the_shuffling_seed():
    by_generator = DataLoader(make_dataset(), batch_size=4, shuffle=True, generator=11)
    by_seed = DataLoader(make_dataset(), batch_size=4, shuffle=True, seed=11)
    assert [labels_of(by_generator) for _ in range(3)] == [labels_of(by_seed) for _ in range(3)]


def test_a_torch_like_generator_gives_its_initial_seed():
    generator = TorchLikeGenerator().manual_seed(5)
    loader = DataLoader(make_dataset(), batch_size=4, shuffle=True, generator=generator)
    assert loader.seed == 5
    assert labels_of(loader) == labels_of(DataLoader(make_dataset(), 4, True, generator=5))


def test_a_numpy_generator_makes_shuffling_reproducible():
    def orders(generator):
        loader = DataLoader(make_dataset(), batch_size=4, shuffle=True, generator=generator)
        return [labels_of(loader) for _ in range(2)]

    first = orders(np.random.default_rng(1))
    assert first == orders(np.random.default_rng(1))
    assert first[0] != first[1]


def test_seed_and_generator_together_or_a_bad_generator_are_refused():
    with pytest.raises(ValueError, match="seed= or as generator=, not both"):
        DataLoader(make_dataset(), shuffle=True, seed=1, generator=1)
    with pytest.raises(TypeError, match="generator must be an int seed, a numpy.random.Gen"):
        DataLoader(make_dataset(), shuffle=True, generator="42")
    with pytest.raises(ValueError, match="non-negative integer, got -1"):
        DataLoader(make_dataset(), shuffle=True, generator=-1)


# --- samplers ---------------------------------------------------------------------------------


def test_sampler_gives_the_order_of_the_samples():
    order = [9, 0, 8, 1, 7, 2, 6, 3, 5, 4]
    loader = DataLoader(make_dataset(), batch_size=4, sampler=order)
    assert len(loader) == 3
    assert labels_of(loader) == [[9, 0, 8, 1], [7, 2, 6, 3], [5, 4]]
    assert labels_of(DataLoader(PerSample(), batch_size=4, sampler=order))[0] == [9, 0, 8, 1]
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(make_dataset(), sampler=order, shuffle=True)


def test_sequential_and_random_samplers():
    dataset = make_dataset()
    assert (
        list(SequentialSampler(dataset)) == list(range(10))
        and len(SequentialSampler(dataset)) == 10
    )
    sampler = RandomSampler(dataset, generator=3)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(10)) and first != second
    again = RandomSampler(dataset, generator=3)
    assert [list(again), list(again)] == [first, second]
    longer = list(RandomSampler(dataset, num_samples=25, generator=0))
    assert len(longer) == 25 and sorted(longer[:20]) == sorted(list(range(10)) * 2)
    drawn = list(RandomSampler(dataset, replacement=True, num_samples=50, generator=0))
    assert len(drawn) == 50 and len(set(drawn[:10])) < 10 and all(0 <= i < 10 for i in drawn)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(dataset, num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(dataset, replacement=1)


def test_random_sampler_without_a_generator_follows_manual_seed():
    minigrad.manual_seed(4)
    first = list(RandomSampler(make_dataset()))
    minigrad.manual_seed(4)
    assert list(RandomSampler(make_dataset())) == first


def test_subset_random_sampler_permutes_the_given_indices():
    sampler = SubsetRandomSampler([2, 4, 6], generator=0)
    assert sorted(sampler) == [2, 4, 6] and len(sampler) == 3


def test_batch_sampler_groups_indices_and_drives_the_loader():
    sampler = BatchSampler(SequentialSampler(range(10)), batch_size=4, drop_last=False)
    assert list(sampler) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(sampler) == 3
    assert len(BatchSampler(range(10), 4, drop_last=True)) == 2
    dataset = CountingTensorDataset(IMAGES, LABELS)
    loader = DataLoader(dataset, batch_sampler=[[3, 1], [0, 2, 9]])
    assert len(loader) == 2 and loader.batch_size is None
    assert labels_of(loader) == [[3, 1], [0, 2, 9]]
    assert dataset.fetches == [[3, 1], [0, 2, 9]]
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(dataset, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)


def test_batch_size_none_gives_the_samples_one_by_one_as_tensors():
    loader = DataLoader(PerSample(), batch_size=None, sampler=[4, 2])
    samples = list(loader)
    assert len(loader) == 2 and len(samples) == 2
    row, label = samples[0]
    assert isinstance(row, minigrad.Tensor) and row.shape == (3,) and label == 4
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching"):
        DataLoader(PerSample(), batch_size=None, drop_last=True)


# --- collate_fn -------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_collate_fn_gets_the_samples_and_its_tensors_move_to_the_device(device):
    seen = []

    def collate_pairs(samples):
        seen.append(samples)
        images, labels = default_collate(samples)
        return {"images": images, "count": len(samples), "labels": labels}

    dataset = CountingTensorDataset(IMAGES, LABELS)
    loader = DataLoader(dataset, batch_size=4, collate_fn=collate_pairs, device=device)
    batch = next(iter(loader))
    assert dataset.fetches == []  # read sample by sample: __getitems__ batches come collated
    assert len(seen[0]) == 4 and isinstance(seen[0][0], tuple)
    assert batch["count"] == 4
    assert batch["images"].device == minigrad.backend.normalize_device(device)
    np.testing.assert_array_equal(batch["images"].numpy(), IMAGES[:4])


def test_default_collate_stacks_samples_into_tensors():
    images, labels = default_collate([(IMAGES[0], 0), (IMAGES[1], 1)])
    assert isinstance(images, minigrad.Tensor) and images.shape == (2, 3)
    assert labels.dtype == minigrad.int64 and labels.tolist() == [0, 1]


# --- Subset, ConcatDataset, random_split ------------------------------------------------------


def test_subset_reads_through_the_parent_and_fetches_each_batch_once():
    parent = CountingTensorDataset(IMAGES, LABELS)
    subset = Subset(parent, [7, 3, 5])
    assert len(subset) == 3 and subset[1][1] == 3
    assert subset[[0, 2]][1].tolist() == [7, 5]
    assert labels_of(DataLoader(subset, batch_size=2)) == [[7, 3], [5]]
    assert parent.fetches == [[7, 5], [7, 3], [5]]
    per_sample = Subset(PerSample(), [7, 3, 5])
    assert labels_of(DataLoader(per_sample, batch_size=2)) == [[7, 3], [5]]
    subset.indices = [0, 1]
    assert labels_of(DataLoader(subset, batch_size=2)) == [[0, 1]]


def test_concat_dataset_indexes_across_its_parts():
    first, second = make_dataset(), TensorDataset(IMAGES[:4] + 100, LABELS[:4] + 100)
    combined = ConcatDataset([first, second])
    assert len(combined) == 14 and combined.cumulative_sizes == [10, 14]
    assert combined[9][1] == 9 and combined[10][1] == 100 and combined[-1][1] == 103
    assert len(first + second) == 14
    loader = DataLoader(combined, batch_size=5)
    assert labels_of(loader)[-1] == [100, 101, 102, 103]
    with pytest.raises(ValueError, match="absolute value of index should not exceed"):
        combined[-15]
    with pytest.raises(ValueError, match="datasets should not be an empty iterable"):
        ConcatDataset([])


def test_random_split_by_lengths_is_a_reproducible_partition():
    parts = random_split(make_dataset(), [3, 7], generator=42)
    assert [len(part) for part in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    assert [part.indices for part in random_split(make_dataset(), [3, 7], generator=42)] == [
        part.indices for part in parts
    ]
    generator = TorchLikeGenerator().manual_seed(42)
    assert random_split(make_dataset(), [3, 7], generator=generator)[0].indices == parts[0].indices
    with pytest.raises(ValueError, match=r"Sum of input lengths \(9\) does not equal"):
        random_split(make_dataset(), [3, 6])


def test_random_split_by_fractions_uses_pytorchs_rounding():
    assert [len(p) for p in random_split(range(10), [0.33, 0.33, 0.34], generator=0)] == [4, 3, 3]
    assert [len(p) for p in random_split(range(11), [0.5, 0.5], generator=0)] == [6, 5]
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        lengths = [len(p) for p in random_split(range(5), [0.9, 0.1], generator=0)]
    assert lengths == [5, 0]
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(range(5), [1.5, -0.5])


def test_random_split_without_a_generator_follows_manual_seed():
    minigrad.manual_seed(8)
    first = [part.indices for part in random_split(range(20), [0.5, 0.5])]
    minigrad.manual_seed(8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [part.indices for part in random_split(range(20), [0.5, 0.5])] == first


def test_tensor_dataset_tensors_share_its_arrays():
    dataset = make_dataset()
    images, labels = dataset.tensors
    assert isinstance(images, minigrad.Tensor) and images.data is dataset.arrays[0]
