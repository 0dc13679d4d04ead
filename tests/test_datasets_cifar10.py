"""The CIFAR-10 batch reader: exact parsing of tiny pickles and a clear error per defect."""

import pickle
from pathlib import Path

import numpy as np
import pytest

from minigrad.vision.sources import cifar10


def make_batch(count: int, first_label: int = 0) -> dict:
    data = (np.arange(count * 3072) % 251).astype(np.uint8).reshape(count, 3072)
    labels = [(first_label + i) % 10 for i in range(count)]
    return {b"batch_label": b"testing batch", b"labels": labels, b"data": data}


def write_batch(path: Path, batch: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(batch, protocol=2))
    return path


def write_all_batches(directory: Path, count: int) -> None:
    for split in ("train", "test"):
        for index, name in enumerate(cifar10.split_files(split)):
            write_batch(directory / name, make_batch(count, first_label=index))


def test_read_batch_gives_planar_rgb_images_and_int64_labels(tmp_path):
    batch = make_batch(3)
    images, labels = cifar10.read_batch(write_batch(tmp_path / "data_batch_1", batch))
    assert images.shape == (3, 3, 32, 32) and images.dtype == np.uint8
    row = batch[b"data"][1]
    np.testing.assert_array_equal(images[1, 0, 0], row[0:32])  # red plane, first row
    np.testing.assert_array_equal(images[1, 1, 2], row[1024 + 64 : 1024 + 96])  # green, row 2
    np.testing.assert_array_equal(images[1, 2, 31], row[3072 - 32 :])  # blue, last row
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [0, 1, 2])


def test_pickle_written_by_numpy_1_is_accepted(tmp_path):
    data = pickle.dumps(make_batch(2), protocol=2)
    old_global = b"cnumpy.core.multiarray\n_reconstruct\n"
    assert data.count(b"cnumpy._core.multiarray\n_reconstruct\n") == 1
    legacy = data.replace(b"cnumpy._core.multiarray\n_reconstruct\n", old_global)
    path = tmp_path / "legacy_batch"
    path.write_bytes(legacy)
    images, _ = cifar10.read_batch(path)
    assert images.shape == (2, 3, 32, 32)


def test_read_split_concatenates_the_five_training_batches_in_order(tmp_path):
    write_all_batches(tmp_path, count=2)
    images, labels = cifar10.read_split(tmp_path, "train")
    assert images.shape == (10, 3, 32, 32) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, [0, 1, 1, 2, 2, 3, 3, 4, 4, 5])
    np.testing.assert_array_equal(images[:2], make_batch(2)[b"data"].reshape(2, 3, 32, 32))
    test_images, _ = cifar10.read_split(tmp_path, "test")
    assert test_images.shape == (2, 3, 32, 32)


def test_corrupt_pickle_names_the_file(tmp_path):
    path = tmp_path / "data_batch_3"
    path.write_bytes(b"this is not a pickle")
    with pytest.raises(ValueError, match="data_batch_3: not a readable CIFAR-10 batch pickle"):
        cifar10.read_batch(path)


def test_truncated_pickle_names_the_file(tmp_path):
    data = pickle.dumps(make_batch(2), protocol=2)
    path = tmp_path / "test_batch"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="test_batch: not a readable CIFAR-10 batch pickle"):
        cifar10.read_batch(path)


def test_pickle_that_would_run_code_is_refused(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (print, ("should never run",))

    path = tmp_path / "evil_batch"
    path.write_bytes(pickle.dumps(Exploit(), protocol=2))
    with pytest.raises(ValueError, match=r"evil_batch: .*global \S*print is not allowed"):
        cifar10.read_batch(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda batch: batch.pop(b"data"), r"missing key b'data'"),
        (lambda batch: batch.pop(b"labels"), r"missing key b'labels'"),
        (
            lambda batch: batch.update({b"data": batch[b"data"][:, :100]}),
            "has rows of 100 bytes, expected 3072",
        ),
        (
            lambda batch: batch.update({b"data": batch[b"data"].astype(np.float32)}),
            r"must be a 2-D uint8 array, got float32 array of shape \(2, 3072\)",
        ),
        (lambda batch: batch.update({b"labels": [1]}), r"2 images but b'labels' is int64 array"),
        (
            lambda batch: batch.update({b"labels": [1, 10]}),
            r"labels must lie in 0..9, but 1 of 2 do not \(values 10; the first at item 1\)",
        ),
        (
            lambda batch: batch.update({b"labels": [-1, 12]}),
            r"labels must lie in 0..9, but 2 of 2 do not \(values -1, 12; the first at item 0\)",
        ),
    ],
)
def test_malformed_batch_names_file_and_defect(tmp_path, change, message):
    batch = make_batch(2)
    change(batch)
    path = write_batch(tmp_path / "data_batch_5", batch)
    with pytest.raises(ValueError, match=rf"data_batch_5: .*{message}"):
        cifar10.read_batch(path)


def test_pickle_of_a_list_is_not_a_batch(tmp_path):
    path = write_batch(tmp_path / "data_batch_2", [1, 2, 3])
    with pytest.raises(ValueError, match="data_batch_2: expected a pickled dict, got list"):
        cifar10.read_batch(path)
