"""minigrad.vision.sources.checksums (the digest index of cached files) under this package's
old path."""

from minigrad.vision.sources.checksums import (
    INDEX_NAME,
    ChecksumIndex,
    DataFile,
    DatasetIntegrityError,
    UnverifiedDataWarning,
    digest_of,
    verify,
)

__all__ = [
    "INDEX_NAME",
    "ChecksumIndex",
    "DataFile",
    "DatasetIntegrityError",
    "UnverifiedDataWarning",
    "digest_of",
    "verify",
]
