"""The IDX reader (MNIST, Fashion-MNIST): exact parsing of tiny files, a clear error per defect."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from minigrad.vision.sources import idx

IMAGES = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4) * 10
LABELS = np.array([7, 2], dtype=np.uint8)


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write(path: Path, data: bytes, gzipped: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


def write_split(directory: Path, images: np.ndarray, labels: np.ndarray, split: str) -> None:
    images_name, labels_name = idx.split_files(split)
    write(directory / images_name, idx_bytes(idx.IMAGES_MAGIC, images))
    write(directory / labels_name, idx_bytes(idx.LABELS_MAGIC, labels))


@pytest.mark.parametrize("gzipped", [False, True])
def test_read_images_and_labels_exactly(tmp_path, gzipped):
    images = write(tmp_path / "images", idx_bytes(idx.IMAGES_MAGIC, IMAGES), gzipped)
    labels = write(tmp_path / "labels", idx_bytes(idx.LABELS_MAGIC, LABELS), gzipped)
    np.testing.assert_array_equal(idx.read_idx_images(images), IMAGES)
    np.testing.assert_array_equal(idx.read_idx_labels(labels), LABELS)


def test_read_split_gives_the_stored_uint8_nchw_and_int64_labels(tmp_path):
    write_split(tmp_path, IMAGES, LABELS, "test")
    images, labels = idx.read_split(tmp_path, "test", num_classes=10)
    assert images.dtype == np.uint8 and images.shape == (2, 1, 3, 4)
    np.testing.assert_array_equal(images[:, 0], IMAGES)
    assert images.flags.writeable and labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [7, 2])


def test_split_file_names_follow_the_official_ones():
    assert idx.split_files("train") == ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    assert idx.split_files("test") == ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def test_label_file_given_as_images_reports_bad_magic(tmp_path):
    path = write(tmp_path / "train-images-idx3-ubyte", idx_bytes(idx.LABELS_MAGIC, LABELS))
    message = "bad magic number 0x00000801, expected 0x00000803 (an IDX image file)"
    with pytest.raises(ValueError, match="train-images-idx3-ubyte") as error:
        idx.read_idx_images(path)
    assert message in str(error.value)


@pytest.mark.parametrize("gzipped", [False, True])
def test_truncated_data_names_file_and_sizes(tmp_path, gzipped):
    data = idx_bytes(idx.IMAGES_MAGIC, IMAGES)[:-5]
    path = write(tmp_path / "cut-images", data, gzipped)
    with pytest.raises(ValueError, match=r"cut-images: truncated: .* 24 data bytes .* only 19"):
        idx.read_idx_images(path)


def test_file_shorter_than_header_is_reported(tmp_path):
    path = write(tmp_path / "stub-labels", b"\x00\x00\x08")
    with pytest.raises(ValueError, match="stub-labels: only 3 bytes, shorter than the 8-byte"):
        idx.read_idx_labels(path)


def test_extra_bytes_after_data_are_reported(tmp_path):
    path = write(tmp_path / "long-labels", idx_bytes(idx.LABELS_MAGIC, LABELS) + b"\x00")
    with pytest.raises(ValueError, match="long-labels: 1 unexpected bytes"):
        idx.read_idx_labels(path)


def test_zero_sized_images_are_reported(tmp_path):
    path = write(tmp_path / "flat-images", idx_bytes(idx.IMAGES_MAGIC, np.zeros((2, 0, 4))))
    with pytest.raises(ValueError, match=r"flat-images: header gives an empty item shape \(0, 4\)"):
        idx.read_idx_images(path)


def test_corrupt_gzip_stream_is_reported(tmp_path):
    data = gzip.compress(idx_bytes(idx.LABELS_MAGIC, LABELS))
    path = write(tmp_path / "broken.gz", data[:-12])
    with pytest.raises(ValueError, match="broken.gz: corrupt gzip stream"):
        idx.read_idx_labels(path)


def test_image_and_label_count_mismatch_names_both_files(tmp_path):
    write_split(tmp_path, IMAGES, np.array([1, 2, 3], dtype=np.uint8), "train")
    pattern = r"train-images-idx3-ubyte holds 2 images but .*train-labels-idx1-ubyte holds 3"
    with pytest.raises(ValueError, match=pattern):
        idx.read_split(tmp_path, "train", num_classes=10)


@pytest.mark.parametrize("bad_label", [10, 255])
def test_label_outside_the_classes_names_the_file_and_value(tmp_path, bad_label):
    images = np.zeros((3, 2, 2), dtype=np.uint8)
    write_split(tmp_path, images, np.array([1, bad_label, 9], dtype=np.uint8), "test")
    pattern = (
        rf"t10k-labels-idx1-ubyte: labels must lie in 0..9, but 1 of 3 do not "
        rf"\(values {bad_label}; the first at item 1\)"
    )
    with pytest.raises(ValueError, match=pattern):
        idx.read_split(tmp_path, "test", num_classes=10)


def test_many_bad_labels_are_summarized(tmp_path):
    labels = np.array([0, 10, 11, 12, 13, 14, 15, 200, 10], dtype=np.uint8)
    write_split(tmp_path, np.zeros((9, 1, 1), dtype=np.uint8), labels, "train")
    pattern = r"8 of 9 do not \(values 10, 11, 12, 13, 14 and 2 more; the first at item 1\)"
    with pytest.raises(ValueError, match=pattern):
        idx.read_split(tmp_path, "train", num_classes=10)


def test_class_count_is_the_data_sets(tmp_path):
    write_split(tmp_path, IMAGES, LABELS, "test")  # labels 7 and 2
    with pytest.raises(ValueError, match=r"labels must lie in 0..4, .*values 7;"):
        idx.read_split(tmp_path, "test", num_classes=5)
