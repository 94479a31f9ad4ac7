#!/usr/bin/env python3
"""Check Sparrow against ONNX Runtime on the model zoo.

    check_onnxruntime.py [--zoo build/zoo] [--sparrow .build/release/sparrow] [--models a,b] [--threads 1]

For each zoo model: `sparrow convert X.onnx -o X.sparrow`, `sparrow run X.sparrow --input X.input.npy
--output-dir DIR`, then onnxruntime on the same input (graph optimizations disabled: the plain ONNX semantics).
Each output must satisfy max |sparrow - ort| / max |ort| <= --tolerance (1e-4). Prints one line per model and
exits non-zero if any model fails or errors. Builds missing zoo files with make_zoo.py first.

Inputs with symbolic dimensions are pinned to the shape of X.input.npy with `--input-shape NAME=1x3x224x224`.
"""
import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_zoo import BUILDERS  # noqa: E402  (the zoo's model list lives in one place)


def sanitize(name):
    """How `sparrow run` names output files: characters other than [A-Za-z0-9._-] become '_'."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def input_shape_flags(sess, x):
    flags = []
    for inp in sess.get_inputs():
        if any(not isinstance(d, int) for d in inp.shape):
            flags += ["--input-shape", f"{inp.name}={'x'.join(map(str, x.shape))}"]
    return flags


def run(cmd):
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return proc, time.perf_counter() - t


def check_model(name, zoo, sparrow, threads, tol, workdir):
    onnx_path, x_path, sp_path = zoo / f"{name}.onnx", zoo / f"{name}.input.npy", zoo / f"{name}.sparrow"
    x = np.load(x_path)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])

    proc, t_convert = run([sparrow, "convert", str(onnx_path), "-o", str(sp_path)] + input_shape_flags(sess, x))
    if proc.returncode != 0:
        return None, "ERROR (convert)", t_convert, 0.0, proc.stderr
    out_dir = workdir / name
    out_dir.mkdir()
    proc, t_run = run([sparrow, "run", str(sp_path), "--input", str(x_path), "--output-dir", str(out_dir),
                       "--threads", str(threads)])
    if proc.returncode != 0:
        return None, "ERROR (run)", t_convert, t_run, proc.stderr

    refs = sess.run(None, {sess.get_inputs()[0].name: x})
    worst, problems = 0.0, []
    for meta, ref in zip(sess.get_outputs(), refs):
        got_path = out_dir / f"{sanitize(meta.name)}.npy"
        if not got_path.exists():
            problems.append(f"missing output file {got_path.name} (output {meta.name!r})")
            continue
        got = np.load(got_path)
        if got.shape != ref.shape:
            problems.append(f"output {meta.name!r}: shape {got.shape}, expected {ref.shape}")
            continue
        err = float(np.abs(got.astype(np.float64) - ref).max() / max(np.abs(ref).max(), 1e-30))
        if not np.isfinite(err):
            err = float("inf")
        worst = max(worst, err)
    if problems:
        return worst, "FAIL", t_convert, t_run, "\n".join(problems) + "\n" + proc.stderr
    return worst, "pass" if worst <= tol else "FAIL", t_convert, t_run, ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zoo", default="build/zoo")
    ap.add_argument("--sparrow", default=".build/release/sparrow")
    ap.add_argument("--models", default=",".join(BUILDERS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tolerance", type=float, default=1e-4, help="max |a-b| / max |ref| (default 1e-4)")
    args = ap.parse_args()
    zoo, sparrow = Path(args.zoo), str(Path(args.sparrow).resolve())
    names = [m for m in args.models.split(",") if m]
    if not Path(sparrow).exists():
        sys.exit(f"no sparrow binary at {sparrow} (build it with `swift build -c release`, or pass --sparrow)")
    unknown = [m for m in names if m not in BUILDERS]
    if unknown:
        sys.exit(f"unknown model(s): {', '.join(unknown)}")

    missing = [m for m in names if not (zoo / f"{m}.onnx").exists() or not (zoo / f"{m}.input.npy").exists()]
    if missing:
        print(f"building missing zoo models: {', '.join(missing)}", flush=True)
        subprocess.run([sys.executable, str(HERE / "make_zoo.py"), "--out", str(zoo), "--models", ",".join(missing),
                        "--no-check"], check=True)

    failed = 0
    print(f"{'model':<20} {'max rel err':>11}  {'result':<15} {'convert s':>9} {'run s':>6}")
    with tempfile.TemporaryDirectory(prefix="sparrow-check-") as tmp:
        for name in names:
            err, status, t_convert, t_run, detail = check_model(name, zoo, sparrow, args.threads, args.tolerance,
                                                                Path(tmp))
            err_s = "-" if err is None else f"{err:.2e}"
            print(f"{name:<20} {err_s:>11}  {status:<15} {t_convert:>9.2f} {t_run:>6.2f}", flush=True)
            if status != "pass":
                failed += 1
                if detail.strip():
                    print("    " + detail.strip().replace("\n", "\n    "), flush=True)
    print(f"{len(names) - failed}/{len(names)} passed (tolerance {args.tolerance:g}, {args.threads} thread(s))")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
