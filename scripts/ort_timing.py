"""Timing ONNX Runtime and Sparrow side by side: the pieces `bench_vs_onnxruntime.py` and
`compare_onnxruntime.py` share.

Both alternate blocks of ORT runs and Sparrow runs on one machine, so that both see the same machine state (these
hosts are shared; absolute times drift, ratios measured block against adjacent block do not).
  ORT block:     `warmup` untimed + `runs` timed runs of one InferenceSession made once per process, with ORT's
                 best CPU settings: graph optimizations ORT_ENABLE_ALL, intra_op_num_threads = threads,
                 inter_op_num_threads = 1, sequential execution.
  Sparrow block: one `sparrow run --timing-json` or `sparrow bench --json -` process.
A ratio Sparrow/ORT is the median of the per-block ratios of medians; min-max over blocks is its spread.
"""
import json
import re
import shlex
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import onnxruntime as ort


def cpu_name():
    """`lscpu`'s model name (the same string as /proc/cpuinfo's), or "unknown"."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"^Model name:\s*(.+)$", out, re.M)
        return m.group(1).strip() if m else "unknown"
    except OSError:
        return "unknown"


def ort_session(onnx_path, threads):
    """An InferenceSession with ORT's best CPU settings for `threads` threads."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])


def model_input(onnx_path, sess, tmp):
    """The zoo's input next to the model (X.input.npy beside X.onnx), else a seeded random input with symbolic
    dims set to 1, saved in `tmp`. Returns (path, array)."""
    zoo_input = onnx_path.with_name(onnx_path.name[:-len(".onnx")] + ".input.npy")
    if zoo_input.exists():
        return zoo_input, np.load(zoo_input)
    meta = sess.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in meta.shape]
    x = np.random.default_rng(zlib.crc32(onnx_path.name.encode())).standard_normal(shape).astype(np.float32)
    path = Path(tmp) / f"{onnx_path.stem}.input.npy"
    np.save(path, x)
    return path, x


def input_shape_flags(sess, x):
    """`--input-shape NAME=DIMS` for every input with a symbolic dimension, pinned to the benchmark input."""
    flags = []
    for meta in sess.get_inputs():
        if any(not isinstance(d, int) for d in meta.shape):
            flags += ["--input-shape", f"{meta.name}={'x'.join(map(str, x.shape))}"]
    return flags


def ort_block(sess, feeds, warmup, runs):
    """Milliseconds of `runs` timed runs after `warmup` untimed ones."""
    for _ in range(warmup):
        sess.run(None, feeds)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t) * 1e3)
    return times


def sparrow_run_block(sparrow, model, x_path, threads, warmup, runs, json_path):
    """`sparrow run --timing-json`: (latencies in ms, ISA name or None)."""
    cmd = [sparrow, "run", str(model), "--input", str(x_path), "--threads", str(threads), "--warmup",
           str(warmup), "--runs", str(runs), "--timing-json", str(json_path)]
    with tempfile.TemporaryDirectory(prefix="sparrow-bench-out-") as out_dir:
        proc = subprocess.run(cmd + ["--output-dir", out_dir], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    timing = json.loads(Path(json_path).read_text())
    printed = re.search(r"\bisa\b\s*[:=]?\s*([A-Za-z0-9_.+-]+)", proc.stdout + proc.stderr, re.I)
    isa = timing.get("isa") or (printed.group(1) if printed else None)
    return [float(v) for v in timing["latencies_ms"]], isa


def sparrow_bench_block(sparrow, model, x_path, threads, warmup, runs):
    """`sparrow bench --json -`: the whole report (latencies_ms, isa, file_bytes, macs, ...)."""
    cmd = [sparrow, "bench", str(model), "--input", str(x_path), "--threads", str(threads), "--warmup",
           str(warmup), "--runs", str(runs), "--json", "-"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout)


def ratio_summary(ratios):
    """(median, min, max) of per-block ratios."""
    return float(np.median(ratios)), float(min(ratios)), float(max(ratios))
