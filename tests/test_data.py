"""Datasets and the DataLoader: batch shapes, collation, reproducible shuffling, transforms,
device moves."""

from collections import namedtuple

import numpy as np
import pytest
from conftest import DEVICES

import minigrad
from minigrad.data import DataLoader, Dataset, TensorDataset

IMAGES = np.arange(10 * 2 * 3, dtype=np.float32).reshape(10, 2, 3)
LABELS = np.arange(10, dtype=np.int64)


def make_dataset():
    return TensorDataset(IMAGES, LABELS)


class SquaresDataset(Dataset):
    """A generic dataset (no __getitems__): sample i is (a float32 row, the int i)."""

    def __len__(self):
        return 7

    def __getitem__(self, index):
        return np.full(3, index * index, dtype=np.float32), index


def epoch_labels(loader):
    return np.concatenate([labels.numpy() for _, labels in loader])


# --- TensorDataset ----------------------------------------------------------------------------


def test_tensor_dataset_indexes_samples_and_index_arrays():
    dataset = TensorDataset(minigrad.tensor(IMAGES), LABELS)
    assert len(dataset) == 10
    image, label = dataset[3]
    np.testing.assert_array_equal(image, IMAGES[3])
    assert label == 3
    images, labels = dataset[np.array([4, 1, 4])]
    np.testing.assert_array_equal(images, IMAGES[[4, 1, 4]])
    np.testing.assert_array_equal(labels, [4, 1, 4])
    assert dataset[[0, 2]][1].tolist() == [0, 2]


def test_tensor_dataset_size_mismatch_names_the_sizes():
    with pytest.raises(ValueError, match=r"same size along the first axis, got sizes \[10, 9\]"):
        TensorDataset(IMAGES, LABELS[:9])
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


# --- batching ---------------------------------------------------------------------------------


def test_batches_have_the_right_shapes_dtypes_and_order():
    loader = DataLoader(make_dataset(), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [images.shape for images, _ in batches] == [(4, 2, 3), (4, 2, 3), (2, 2, 3)]
    images, labels = batches[0]
    assert isinstance(images, minigrad.Tensor) and isinstance(labels, minigrad.Tensor)
    assert images.dtype == minigrad.float32 and labels.dtype == minigrad.int64
    assert not images.requires_grad
    np.testing.assert_array_equal(epoch_labels(loader), LABELS)


def test_drop_last_drops_the_short_batch():
    loader = DataLoader(make_dataset(), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [labels.shape for _, labels in loader] == [(4,), (4,)]
    assert len(DataLoader(make_dataset(), batch_size=11, drop_last=True)) == 0
    assert len(DataLoader(make_dataset(), batch_size=5)) == 2


def test_batches_do_not_share_memory_with_the_dataset():
    dataset = make_dataset()
    images, _ = next(iter(DataLoader(dataset, batch_size=4)))
    images.data[...] = -1.0
    np.testing.assert_array_equal(dataset.arrays[0], IMAGES)


def test_generic_datasets_are_read_per_sample_and_stacked():
    loader = DataLoader(SquaresDataset(), batch_size=3, shuffle=True, seed=1)
    batches = list(loader)
    assert [rows.shape for rows, _ in batches] == [(3, 3), (3, 3), (1, 3)]
    rows, indices = batches[0]
    assert rows.dtype == minigrad.float32 and indices.dtype == minigrad.int64
    np.testing.assert_array_equal(rows.numpy()[:, 0], indices.numpy() ** 2)
    assert sorted(np.concatenate([i.numpy() for _, i in batches]).tolist()) == list(range(7))


@pytest.mark.parametrize("batch_size", [0, -1, 2.0, True])
def test_invalid_batch_size_raises(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(make_dataset(), batch_size=batch_size)


# --- collation of structured samples ---------------------------------------------------------


class ListDataset(Dataset):
    """A generic dataset over a list of samples of any structure."""

    def __init__(self, samples):
        self.samples = samples

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        return self.samples[index]


def first_batch(samples, **loader_options):
    return next(iter(DataLoader(ListDataset(samples), batch_size=len(samples), **loader_options)))


def leaves(batch):
    """Every Tensor and str in a (nested) batch."""
    if isinstance(batch, dict):
        return [leaf for value in batch.values() for leaf in leaves(value)]
    if isinstance(batch, (tuple, list)):
        return [leaf for value in batch for leaf in leaves(value)]
    return [batch]


def assert_no_object_dtype(batch):
    for leaf in leaves(batch):
        assert isinstance(leaf, (minigrad.Tensor, str))
        if isinstance(leaf, minigrad.Tensor):
            assert leaf.dtype != object


def image_sample(index):
    return {"image": IMAGES[index], "label": int(LABELS[index]), "name": f"img{index}"}


def test_dict_samples_collate_to_a_dict_of_tensors_and_a_list_of_names():
    batch = first_batch([image_sample(index) for index in (3, 0, 7)])
    assert isinstance(batch, dict) and list(batch) == ["image", "label", "name"]
    assert batch["image"].dtype == minigrad.float32 and batch["image"].shape == (3, 2, 3)
    np.testing.assert_array_equal(batch["image"].numpy(), IMAGES[[3, 0, 7]])
    assert batch["label"].dtype == minigrad.int64 and batch["label"].shape == (3,)
    assert batch["label"].tolist() == [3, 0, 7]
    assert batch["name"] == ["img3", "img0", "img7"]
    assert_no_object_dtype(batch)


def test_tuple_samples_collate_field_by_field_with_pytorchs_dtypes():
    samples = [
        (IMAGES[index, 0], index / 2, index, np.float32(index), index % 2 == 0)
        for index in range(4)
    ]
    rows, halves, counts, scalars, evens = first_batch(samples)
    assert rows.dtype == minigrad.float32 and rows.shape == (4, 3)
    assert halves.dtype == minigrad.float64 and halves.tolist() == [0.0, 0.5, 1.0, 1.5]
    assert counts.dtype == minigrad.int64 and counts.tolist() == [0, 1, 2, 3]
    assert scalars.dtype == minigrad.float32 and scalars.shape == (4,)
    assert evens.dtype == minigrad.bool_ and evens.tolist() == [True, False, True, False]
    assert_no_object_dtype((rows, halves, counts, scalars, evens))


Labeled = namedtuple("Labeled", ["image", "label"])


def test_namedtuple_samples_keep_their_type():
    batch = first_batch([Labeled(minigrad.tensor(IMAGES[index]), index) for index in range(3)])
    assert isinstance(batch, Labeled)
    assert batch.image.dtype == minigrad.float32 and batch.image.shape == (3, 2, 3)
    assert batch.label.dtype == minigrad.int64 and batch.label.tolist() == [0, 1, 2]


def test_nested_dicts_and_lists_collate_recursively():
    samples = [
        {
            "image": IMAGES[index],
            "meta": {"size": (2, 3 + index), "source": "camera", "scale": 0.5 * index},
            "crops": [IMAGES[index, :, :2], IMAGES[index, :, 1:]],
        }
        for index in range(2)
    ]
    batch = first_batch(samples)
    heights, widths = batch["meta"]["size"]
    assert heights.dtype == widths.dtype == minigrad.int64
    assert heights.tolist() == [2, 2] and widths.tolist() == [3, 4]
    assert batch["meta"]["source"] == ["camera", "camera"]
    assert batch["meta"]["scale"].dtype == minigrad.float64
    assert isinstance(batch["crops"], list) and [crop.shape for crop in batch["crops"]] == [
        (2, 2, 2),
        (2, 2, 2),
    ]
    np.testing.assert_array_equal(batch["crops"][1].numpy(), IMAGES[:2, :, 1:])
    assert_no_object_dtype(batch)


class Metadata:
    """An arbitrary object, which collation cannot stack."""


@pytest.mark.parametrize(
    "samples, error, match",
    [
        (
            [{"image": np.zeros((2, 3))}, {"image": np.zeros((3, 3))}],
            ValueError,
            r"stack field 'image': shape \(2, 3\) in sample 0 but \(3, 3\) in sample 1",
        ),
        (
            [(np.zeros(2), 0), (np.zeros(3), 1)],
            ValueError,
            r"stack field '0': shape \(2,\) in sample 0 but \(3,\) in sample 1",
        ),
        (
            [{"meta": {"size": np.zeros(2)}}, {"meta": {"size": np.zeros(1)}}],
            ValueError,
            r"stack field 'meta.size': shape \(2,\) in sample 0 but \(1,\) in sample 1",
        ),
        (
            [{"image": np.zeros(2), "label": 0}, {"image": np.zeros(2), "y": 1}],
            ValueError,
            r"sample 1 misses keys \['label'\] and has extra keys \['y'\] compared with sample 0",
        ),
        ([(np.zeros(2), 0), (np.zeros(2),)], ValueError, "length 1 in sample 1 but 2 in sample 0"),
        ([{"meta": None}, {"meta": None}], TypeError, "field 'meta' of sample 0: type NoneType"),
        ([{"meta": Metadata()}] * 2, TypeError, "field 'meta' of sample 0: type Metadata"),
        (
            [(np.zeros(2), np.array([None, 1]))] * 2,
            TypeError,
            "field '1' of sample 0: type ndarray with dtype object",
        ),
        (
            [(np.zeros(2), 1), (np.zeros(2), np.ones(1))],
            TypeError,
            "collate field '1': type ndarray in sample 1 but int in sample 0",
        ),
    ],
    ids=[
        "shapes",
        "tuple-shapes",
        "nested-shapes",
        "keys",
        "lengths",
        "none",
        "object",
        "object-dtype",
        "mixed-types",
    ],
)
def test_samples_that_cannot_be_collated_raise_a_clear_error(samples, error, match):
    with pytest.raises(error, match=match):
        first_batch(samples)


def test_collation_errors_name_the_dataset_index_of_the_sample():
    samples = [(np.zeros(2), "fine")] * 3 + [(np.zeros(2), None)]
    loader = DataLoader(ListDataset(samples), batch_size=2)
    with pytest.raises(TypeError, match="field '1' of sample 3: type NoneType"):
        list(loader)


@pytest.mark.parametrize("device", DEVICES)
def test_dict_batches_are_transformed_as_arrays_then_moved_to_the_device(device):
    def brighten(batch, rng):
        assert isinstance(batch["image"], np.ndarray) and batch["name"] == ["img0", "img1"]
        return {**batch, "image": batch["image"] + 1}

    samples = [image_sample(index) for index in range(2)]
    batch = first_batch(samples, device=device, transform=brighten)
    expected = minigrad.backend.normalize_device(device)
    assert batch["image"].device == batch["label"].device == expected
    np.testing.assert_array_equal(batch["image"].numpy(), IMAGES[:2] + 1)
    assert batch["name"] == ["img0", "img1"]


# --- shuffling --------------------------------------------------------------------------------


def test_shuffled_epochs_visit_every_index_once():
    loader = DataLoader(make_dataset(), batch_size=3, shuffle=True, seed=0)
    for _ in range(3):
        labels = epoch_labels(loader)
        assert sorted(labels.tolist()) == list(range(10))


def test_same_seed_same_orders_and_epochs_differ():
    first = DataLoader(make_dataset(), batch_size=4, shuffle=True, seed=123)
    second = DataLoader(make_dataset(), batch_size=4, shuffle=True, seed=123)
    orders = [epoch_labels(first) for _ in range(3)]
    for order in orders:
        np.testing.assert_array_equal(order, epoch_labels(second))
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])
    other_seed = DataLoader(make_dataset(), batch_size=4, shuffle=True, seed=124)
    assert not np.array_equal(epoch_labels(other_seed), orders[0])


def test_set_epoch_reproduces_an_epoch_for_a_resumed_run():
    loader = DataLoader(make_dataset(), batch_size=4, shuffle=True, seed=7)
    orders = [epoch_labels(loader) for _ in range(3)]
    assert loader.epoch == 3
    resumed = DataLoader(make_dataset(), batch_size=4, shuffle=True, seed=7)
    resumed.set_epoch(2)
    np.testing.assert_array_equal(epoch_labels(resumed), orders[2])
    resumed.set_epoch(0)
    np.testing.assert_array_equal(epoch_labels(resumed), orders[0])
    np.testing.assert_array_equal(epoch_labels(resumed), orders[1])


def noisy(batch, rng):
    """A transform that uses its random generator, like augmentation does."""
    images, labels = batch
    return images + rng.random(images.shape, dtype=np.float32), labels


def test_start_batch_resumes_mid_epoch_with_the_same_batches_and_augmentation():
    def run(loader):
        return [(images.numpy(), labels.numpy()) for images, labels in loader]

    loader = DataLoader(make_dataset(), batch_size=3, shuffle=True, seed=4, transform=noisy)
    loader.set_epoch(1)
    full_epoch = run(loader)
    next_epoch = run(loader)
    resumed = DataLoader(make_dataset(), batch_size=3, shuffle=True, seed=4, transform=noisy)
    resumed.set_epoch(1, start_batch=2)
    resumed_epoch = run(resumed)
    assert len(resumed_epoch) == 2
    for (images, labels), (images_again, labels_again) in zip(full_epoch[2:], resumed_epoch):
        np.testing.assert_array_equal(images, images_again)
        np.testing.assert_array_equal(labels, labels_again)
    assert resumed.epoch == 2 and resumed.start_batch == 0
    for (images, _), (images_again, _) in zip(next_epoch, run(resumed)):
        np.testing.assert_array_equal(images, images_again)


def test_set_epoch_rejects_a_start_batch_outside_the_epoch():
    loader = DataLoader(make_dataset(), batch_size=4)
    with pytest.raises(ValueError, match=r"start_batch must lie in \[0, 3\], got 4"):
        loader.set_epoch(0, start_batch=4)
    with pytest.raises(ValueError, match="epoch must be >= 0"):
        loader.set_epoch(-1)


def test_the_epoch_is_taken_when_iter_is_called():
    loader = DataLoader(make_dataset(), batch_size=10, shuffle=True, seed=3)
    first, second = iter(loader), iter(loader)
    second_labels = next(second)[1].numpy()
    loader.set_epoch(1)
    np.testing.assert_array_equal(epoch_labels(loader), second_labels)
    loader.set_epoch(0)
    np.testing.assert_array_equal(next(first)[1].numpy(), epoch_labels(loader))


def test_without_a_seed_manual_seed_makes_shuffling_reproducible():
    minigrad.manual_seed(5)
    first = epoch_labels(DataLoader(make_dataset(), batch_size=4, shuffle=True))
    minigrad.manual_seed(5)
    second = epoch_labels(DataLoader(make_dataset(), batch_size=4, shuffle=True))
    np.testing.assert_array_equal(first, second)


# --- transform and device ---------------------------------------------------------------------


def test_transform_is_applied_to_each_host_batch_with_a_reproducible_rng():
    calls = []

    def add_noise(batch, rng):
        images, labels = batch
        assert isinstance(images, np.ndarray) and isinstance(rng, np.random.Generator)
        calls.append(len(labels))
        return images + rng.integers(1, 100, size=images.shape).astype(np.float32), labels

    def run(seed):
        loader = DataLoader(make_dataset(), batch_size=4, shuffle=True, seed=seed)
        loader.transform = add_noise
        return [(images.numpy(), labels.numpy()) for images, labels in loader]

    first, again = run(9), run(9)
    assert calls == [4, 4, 2, 4, 4, 2]
    for (images, labels), (images_again, _) in zip(first, again):
        assert images.dtype == np.float32
        assert np.all(images > IMAGES[labels])  # the noise was added
        np.testing.assert_array_equal(images, images_again)


def test_transform_does_not_change_the_shuffled_order():
    plain = DataLoader(make_dataset(), batch_size=4, shuffle=True, seed=2)
    with_transform = DataLoader(
        make_dataset(), batch_size=4, shuffle=True, seed=2, transform=lambda batch, rng: batch
    )
    np.testing.assert_array_equal(epoch_labels(plain), epoch_labels(with_transform))


@pytest.mark.parametrize("device", DEVICES)
def test_batches_are_moved_to_the_device(device):
    loader = DataLoader(make_dataset(), batch_size=4, device=device)
    images, labels = next(iter(loader))
    expected = minigrad.backend.normalize_device(device)
    assert images.device == expected and labels.device == expected
    assert images.dtype == minigrad.float32 and labels.dtype == minigrad.int64
    np.testing.assert_array_equal(images.numpy(), IMAGES[:4])


@pytest.mark.gpu
def test_a_dataset_on_the_gpu_is_batched_there():
    dataset = TensorDataset(minigrad.tensor(IMAGES, device="cuda"), minigrad.tensor(LABELS))
    images, labels = next(iter(DataLoader(dataset, batch_size=4, shuffle=True, seed=0)))
    assert images.device == "cuda:0" and labels.device == "cpu"
    np.testing.assert_array_equal(images.numpy(), IMAGES[labels.numpy()])
