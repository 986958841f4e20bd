# torch2trt: `make demo` and `make test` do all set-up on a fresh machine, then run.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
BUILD := build/release
JOBS ?= $(shell nproc)
SO = $(wildcard $(BUILD)/_C*.so)
# CUDA code is built for this machine's GPU; without one (CI), for Hopper only, which still catches every
# compile error at half the nvcc time. Override: make CUDA_ARCHS="80;90".
CUDA_ARCHS ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo native || echo 90)
SITE = $(shell $(VPY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

.PHONY: all demo test test-cpp test-python test-models docs build sysdeps venv clean wheel

all: build

# System packages: oneDNN (CPU kernels) and GoogleTest (C++ tests), from Debian.
sysdeps:
	@missing=""; for p in libdnnl-dev libgtest-dev; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.ready: requirements-dev.txt
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip >/dev/null
	$(VPY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.ready

build: sysdeps venv
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DT2T_BUILD_PYTHON=ON -DT2T_BUILD_TESTS=ON \
	  -DCMAKE_CUDA_ARCHITECTURES="$(CUDA_ARCHS)" \
	  -DPython_EXECUTABLE=$(CURDIR)/$(VPY) -DCMAKE_MAKE_PROGRAM=$(CURDIR)/$(VENV)/bin/ninja >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	cp -f $(BUILD)/_C*.so python/torch2trt/
	echo "$(CURDIR)/python" > $(SITE)/torch2trt-dev.pth

test: build test-cpp test-python

test-cpp:
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

test-python:
	$(VPY) -m pytest tests/python -q -m "not models and not gpu" -p no:cacheprovider

test-models: build
	$(VPY) -m pytest tests/python -q -m models -p no:cacheprovider

demo: build
	$(VPY) examples/demo.py

# Regenerates docs/operators.md (from the cross-backend harness) and docs/converters.md (from the registry).
docs: build
	T2T_OPERATORS_MD=$(CURDIR)/docs/operators.md $(BUILD)/t2t_tests >/dev/null
	$(VPY) tools/gen_converters_md.py docs/converters.md

# A wheel through scikit-build-core (pip install . does the same).
wheel: venv
	$(VPY) -m pip wheel --no-deps -w dist .

clean:
	rm -rf build dist python/torch2trt/_C*.so
