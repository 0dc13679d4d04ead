"""minigrad's thread count and what it does to BLAS: the default from the cores the process may
use, $MINIGRAD_NUM_THREADS over it, set_num_threads over both; OpenBLAS held to one thread
whatever the count, the hold taken again by set_num_threads after BLAS was changed, and BLAS's
own counts restorable (seen through threadpoolctl, as a user would check)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import minigrad
from minigrad.backend import threads

ROOT = Path(__file__).resolve().parent.parent


def blas_threads() -> list[int]:
    return [
        library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"
    ]


def fresh_process(code: str, **environment: str) -> dict:
    """What `code` prints as JSON, run in a new Python that imports minigrad itself; the
    environment without MINIGRAD_NUM_THREADS unless given."""
    env = {key: value for key, value in os.environ.items() if key != "MINIGRAD_NUM_THREADS"}
    env.update(environment, PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


BEFORE_AND_AFTER_IMPORT = """
import json, os
import numpy
from threadpoolctl import threadpool_info, threadpool_limits
threadpool_limits(3, user_api="blas")  # an OpenBLAS count of its own, even on one core
blas = lambda: [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
before = blas()
import minigrad
from minigrad.backend import threads
imported = blas()
threads.over_parts(lambda part: None, (numpy.zeros((4, 1 << 20)),))  # an op that splits
print(json.dumps({"threads": minigrad.get_num_threads(), "before": before, "imported": imported,
                  "split": blas(), "cores": len(os.sched_getaffinity(0))}))
"""


def test_default_thread_count_is_the_cores_this_process_may_use(monkeypatch):
    monkeypatch.delenv("MINIGRAD_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 2, 5})
    assert threads.default_num_threads() == 3


def test_environment_variable_overrides_the_default(monkeypatch):
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", "5")
    assert threads.default_num_threads() == 5
    for bad in ("0", "-1", "two", ""):
        monkeypatch.setenv("MINIGRAD_NUM_THREADS", bad)
        with pytest.warns(UserWarning, match=f"MINIGRAD_NUM_THREADS={bad!r} is not a positive"):
            assert threads.default_num_threads() == 2


def test_import_takes_every_allowed_core_and_holds_blas_to_one_thread():
    seen = fresh_process(BEFORE_AND_AFTER_IMPORT)
    assert seen["threads"] == seen["cores"]
    if seen["before"] and seen["cores"] > 1:
        assert seen["imported"] == seen["split"] == [1] * len(seen["before"])


def test_import_with_the_environment_variable_and_one_thread_holds_blas_too():
    held = fresh_process(BEFORE_AND_AFTER_IMPORT, MINIGRAD_NUM_THREADS="3")
    assert held["threads"] == 3
    assert held["imported"] == held["split"] == [1] * len(held["before"])
    one = fresh_process(BEFORE_AND_AFTER_IMPORT, MINIGRAD_NUM_THREADS="1")
    assert one["threads"] == 1
    assert one["imported"] == [1] * len(one["before"])  # one thread in all, as in PyTorch


def test_blas_limits_are_restored_to_what_they_were_before_minigrad():
    seen = fresh_process(
        BEFORE_AND_AFTER_IMPORT.replace(
            "print(", "threads._release_blas(); split = blas(); print(", 1
        ).replace('"split": blas()', '"split": split'),
        MINIGRAD_NUM_THREADS="2",
    )
    assert seen["imported"] == [1] * len(seen["before"])
    assert seen["split"] == seen["before"]  # threadpoolctl's record of them, given back


def test_set_num_threads_restores_the_hold_after_blas_was_changed():
    if not blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can see")
    minigrad.set_num_threads(2)
    assert set(blas_threads()) == {1}
    threadpool_limits(3, user_api="blas")  # changed behind minigrad's back
    assert set(blas_threads()) == {3}
    assert minigrad.set_num_threads(1) is True
    assert minigrad.get_num_threads() == 1
    assert set(blas_threads()) == {1}


def test_small_matrix_products_stay_whole_large_ones_split(monkeypatch):
    import numpy as np

    minigrad.set_num_threads(2)
    papers_layer = np.zeros((60, 784), np.float32), np.zeros((784, 100), np.float32)
    cnn_head = np.zeros((128, 3136), np.float32), np.zeros((3136, 128), np.float32)
    calls = []
    monkeypatch.setattr(threads, "parallel_map", lambda function, parts: calls.append(parts))
    threads.parallel_matmul(*papers_layer)
    assert calls == []
    threads.parallel_matmul(*cnn_head)
    assert calls == [[slice(0, 64), slice(64, 128)]]
