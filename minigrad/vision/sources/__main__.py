"""``python -m minigrad.vision.sources NAME [--root DIR]``: fetch a data set into the cache and
list its verified files (fetch.main)."""

import sys

from minigrad.vision.sources.fetch import main

if __name__ == "__main__":
    sys.exit(main())
