# Sparrow: two commands do everything on a fresh machine — `make demo` and `make test`.
# Both install what is missing (Debian packages, a project-local Python venv for reference checks).

SWIFT      ?= swift
VENV       := .venv
PYTHON     := $(VENV)/bin/python
RELEASE    := .build/release/sparrow
ZOO        := build/zoo
APT_PKGS   := libopenblas-dev liblapacke-dev pkg-config
PIP_PKGS   := numpy onnx onnxruntime scikit-learn

.PHONY: all deps apt venv build release demo test test-swift check-ort check-sparse check-qdq zoo bench \
	bench-report bench-kernels clean

all: release

deps: apt venv

# System libraries through pkg-config; installed only when missing.
apt:
	@if ! pkg-config --exists openblas lapacke 2>/dev/null; then \
		echo "installing $(APT_PKGS)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_PKGS); \
	fi

# Python is for reference outputs and ONNX Runtime comparisons only; Sparrow itself never needs it.
venv: $(VENV)/.installed

$(VENV)/.installed:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check $(PIP_PKGS)
	touch $@

build: apt
	$(SWIFT) build

release: apt
	$(SWIFT) build -c release --product sparrow

# Convert the shipped digits CNN, run it on held-out test images, and show the per-layer table.
demo: apt release
	@mkdir -p build
	$(RELEASE) convert models/digits_cnn.onnx -o build/digits_cnn.sparrow
	$(RELEASE) run build/digits_cnn.sparrow --input models/digits_test_images.npy --labels models/digits_test_labels.npy
	$(RELEASE) inspect build/digits_cnn.sparrow --input-shape image=1x1x8x8

test: deps test-swift check-ort check-sparse check-qdq

test-swift: apt
	$(SWIFT) build
	$(SWIFT) test

zoo: venv
	$(PYTHON) scripts/make_zoo.py --out $(ZOO)

# Every zoo model through ONNX Runtime and `sparrow run`, compared within 1e-4 of the output's max magnitude.
check-ort: venv release zoo
	$(PYTHON) scripts/check_onnxruntime.py --zoo $(ZOO) --sparrow $(RELEASE)

# Every zoo model pruned to 50/70/90/95%: sparse kernels (CSR, and `auto` at 70%) against the dense kernels on the
# same pruned weights and against ONNX Runtime on the masked ONNX model, within 1e-4 (docs/SPARSE.md).
check-sparse: venv release zoo
	$(PYTHON) scripts/check_sparse_onnxruntime.py --zoo $(ZOO) --sparrow $(RELEASE) --sparsities 0.5,0.7,0.9,0.95

# QDQ models from ONNX Runtime's quantize_static (zoo models and the trained digits CNN) imported and run by
# Sparrow, in units of the output's quantization step against ONNX Runtime (docs/QUANTIZATION.md).
check-qdq: venv release zoo
	$(PYTHON) scripts/check_qdq_onnxruntime.py --zoo $(ZOO) --sparrow $(RELEASE)

# Side-by-side latency against ONNX Runtime (1 thread, alternating blocks, medians).
bench: venv release zoo
	$(PYTHON) scripts/bench_vs_onnxruntime.py $(ZOO)/mobilenet_v2.onnx $(ZOO)/resnet50.onnx \
		--threads 1 --runs 30 --blocks 5 --warmup 5 --sparrow $(RELEASE)

# `sparrow bench --sweep` and the ONNX Runtime comparison of every variant, for MobileNetV2 and ResNet-50 (1 thread):
# build/bench-report/<model>/report.{json,md,svg} (+ report.png when rsvg-convert is installed), the variants'
# .sparrow files, and onnxruntime.md/.json. Rounds and runs are chosen so that the whole target, fresh clone
# included, stays within 20 minutes on the 2-core machine.
BENCH_REPORT  := build/bench-report
BENCH_MODELS  := mobilenet_v2 resnet50
SWEEP_ARGS    := --threads 1 --sparsities 0.5,0.7,0.9,0.95 --prune-channels 0.3 --rounds 5 --runs 10 --warmup 2
COMPARE_ARGS  := --threads 1 --blocks 5 --runs 10 --warmup 2 --masked --ort-int8

bench-report: $(BENCH_MODELS:%=bench-report-%)
	@echo "reports: $(BENCH_MODELS:%=$(BENCH_REPORT)/%/)"

bench-report-%: venv release $(ZOO)/%.onnx
	@mkdir -p $(BENCH_REPORT)/$*
	$(RELEASE) bench --sweep $(ZOO)/$*.onnx --input $(ZOO)/$*.input.npy --out $(BENCH_REPORT)/$* $(SWEEP_ARGS)
	$(PYTHON) scripts/compare_onnxruntime.py $(ZOO)/$*.onnx --variants $(BENCH_REPORT)/$* $(COMPARE_ARGS) \
		--sparrow $(RELEASE) --out $(BENCH_REPORT)/$*/onnxruntime.md --json $(BENCH_REPORT)/$*/onnxruntime.json
	@if command -v rsvg-convert >/dev/null; then rsvg-convert -o $(BENCH_REPORT)/$*/report.png \
		$(BENCH_REPORT)/$*/report.svg && echo "rendered $(BENCH_REPORT)/$*/report.png"; \
	else echo "no rsvg-convert (apt-get install librsvg2-bin): report.svg not rendered to PNG"; fi

# One zoo model, when `make zoo` has not made them all.
$(ZOO)/%.onnx: | venv
	$(PYTHON) scripts/make_zoo.py --out $(ZOO) --models $*

.PRECIOUS: $(ZOO)/%.onnx

# Kernel micro-benchmarks (nested package, ordo-one/benchmark): conv/depthwise/gemm layers of MobileNetV2 and
# ResNet-50 through Session, with GFLOP/s and malloc counts. First build takes several minutes.
# Single-core fp32 FMA peak of this machine, measured by CKernels/bench/fma_peak.c (BENCHMARKS.md); gflops.py prints
# % of it (scaled by the thread count; int8 rows are compared with the same number). Override: make bench-kernels
# BENCH_PEAK_GFLOPS=...
BENCH_PEAK_GFLOPS ?= 102
bench-kernels: apt
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark --no-progress | tee ../build/bench-kernels.txt
	python3 Benchmarks/gflops.py build/bench-kernels.txt --peak $(BENCH_PEAK_GFLOPS)

clean:
	rm -rf .build build
