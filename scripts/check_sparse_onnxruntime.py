#!/usr/bin/env python3
"""Check pruned models: Sparrow's sparse kernels against its dense kernels and against ONNX Runtime.

    check_sparse_onnxruntime.py [--zoo build/zoo] [--sparrow .build/release/sparrow]
                                [--sparsities 0.5,0.7,0.9,0.95] [--models a,b] [--auto-at 0.7] [--threads 1]

For every zoo model X and sparsity S:
  1. `sparrow convert X.onnx --prune S --sparse-format csr --export-masked-onnx M.onnx`: every pruned layer is
     stored CSR, so every one of them takes a sparse kernel (where the runtime has one); M.onnx is the source
     model with the same weights zeroed at the same positions.
  2. `sparrow convert X.onnx --prune S --sparse-format dense`: the same pruning, stored dense, run by the dense
     kernels.
  3. `sparrow run` both on X.input.npy, and onnxruntime (graph optimizations on) on M.onnx.
  4. Each output must satisfy max |sparse - ref| / max |ref| <= --tolerance (1e-4), for ref = the dense-kernel
     output and ref = onnxruntime's.
Once per model, at --auto-at (0.7: some layer kinds are above their crossover, some below), the default
`--sparse-format auto` is checked the same way, against the dense conversion at that sparsity.

Quantized variants (`--quantize int8-weights`, dense and at --int8-weights-at sparsities) are lossy: they are
checked against onnxruntime on the f32 model (masked when pruned) by a stated fidelity bound instead, cosine
similarity of the outputs >= --min-cosine (0.98); whether the top-1 class agrees is printed, not required (the
random-weight zoo models' logits are near ties, so one input's class is no measure).

Also checked: `sparrow run` reports as many sparse weights in use as there are sparse-stored weights of layers
with a sparse kernel (Conv with group 1; Gemm with transB = 1, transA = 0, alpha = 1), and the masked ONNX model
differs from the source only by zeros: the count the converter printed, at positions that were nonzero.

Prints one line per model and format, and exits non-zero if any check fails or errors.
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from check_onnxruntime import input_shape_flags, run, sanitize  # noqa: E402
from make_zoo import BUILDERS  # noqa: E402


class CheckError(Exception):
    """A step failed; the message says which and why."""


def must(cmd, what):
    proc, seconds = run(cmd)
    if proc.returncode != 0:
        raise CheckError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout, seconds


def sparrow_outputs(sparrow, model, x_path, out_dir, threads):
    """Runs a .sparrow file; returns its outputs by file name and the count of sparse weights in use."""
    stdout, seconds = must([sparrow, "run", str(model), "--input", str(x_path), "--output-dir", str(out_dir),
                            "--threads", str(threads)], f"sparrow run {model.name}")
    match = re.search(r"sparse weights in use: (\d+)", stdout)
    return {p.stem: np.load(p) for p in out_dir.glob("*.npy")}, int(match.group(1)) if match else 0, seconds


def rel_err(got, ref):
    """max |got - ref| / max |ref| over every output (outputs matched by name)."""
    worst = 0.0
    for name, r in ref.items():
        if name not in got:
            raise CheckError(f"output {name!r} missing")
        g = got[name]
        if g.shape != r.shape:
            raise CheckError(f"output {name!r}: shape {g.shape}, expected {r.shape}")
        err = float(np.abs(g.astype(np.float64) - r).max() / max(float(np.abs(r).max()), 1e-30))
        worst = max(worst, err if np.isfinite(err) else float("inf"))
    return worst


def sparse_layers(sparrow, model, onnx_nodes):
    """(weights stored sparse, prunable layers, of the sparse ones those with a sparse kernel) from `inspect`."""
    stdout, _ = must([sparrow, "inspect", str(model), "--json"], f"sparrow inspect {model.name}")
    layers = json.loads(stdout)["layers"]
    stored = runnable = prunable = 0
    for layer in layers:
        op = layer["op"].split("+")[0]
        if op not in ("Conv", "Gemm", "MatMul"):
            continue
        prunable += 1
        if not layer["encoding"].startswith(("csr", "coo")):
            continue
        stored += 1
        attrs = onnx_nodes.get(layer["name"])
        if attrs is None:
            raise CheckError(f"layer {layer['name']!r} of {model.name} is not a node of the ONNX model")
        if op == "Conv" and attrs.get("group", 1) == 1:
            runnable += 1
        elif op == "Gemm" and attrs.get("transB", 0) == 1 and attrs.get("transA", 0) == 0 \
                and attrs.get("alpha", 1.0) == 1.0:
            runnable += 1
    return stored, prunable, runnable


def check_masked(source, masked_path, printed_zeroed):
    """The masked model must differ from the source only by zeros, as many as the converter said it set."""
    masked = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(masked_path)).graph.initializer}
    if set(masked) != set(source):
        raise CheckError("masked ONNX has other initializers than the source")
    zeroed = 0
    for name, m in masked.items():
        s = source[name]
        if m.shape != s.shape or m.dtype != s.dtype:
            raise CheckError(f"masked ONNX: initializer {name!r} changed type or shape")
        changed = m != s
        if not changed.any():
            continue
        if np.any(m[changed] != 0):
            raise CheckError(f"masked ONNX: initializer {name!r} has values changed to nonzeros")
        zeroed += int(changed.sum())
    if zeroed != printed_zeroed:
        raise CheckError(f"masked ONNX has {zeroed} new zeros, the converter reported {printed_zeroed}")
    return zeroed


class Model:
    """One zoo model: its files, its ONNX attributes by node name, and onnxruntime on masked versions of it."""

    def __init__(self, name, zoo, threads):
        self.name, self.threads = name, threads
        self.onnx_path, self.x_path = zoo / f"{name}.onnx", zoo / f"{name}.input.npy"
        self.x = np.load(self.x_path)
        proto = onnx.load(str(self.onnx_path))
        self.nodes = {n.name: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
                      for n in proto.graph.node if n.name}
        self.initializers = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
        self.shape_flags = input_shape_flags(self.session(self.onnx_path, optimize=False), self.x)

    def session(self, path, optimize=True):
        opts = ort.SessionOptions()
        opts.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                         else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
        opts.intra_op_num_threads, opts.inter_op_num_threads = self.threads, 1
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def ort_outputs(self, path):
        sess = self.session(path)
        refs = sess.run(None, {sess.get_inputs()[0].name: self.x})
        return {sanitize(meta.name): ref for meta, ref in zip(sess.get_outputs(), refs)}


def check(model, sparsity, fmt, sparrow, work, dense_cache, tol):
    """One row: converts with `fmt`, checks against the dense kernels and onnxruntime. Returns the row's fields."""
    tag = f"{model.name}-{sparsity:g}"
    prune = ["--prune", f"{sparsity:g}"] + model.shape_flags
    t0 = time.perf_counter()
    if sparsity not in dense_cache:
        dense = work / f"{tag}-dense.sparrow"
        must([sparrow, "convert", str(model.onnx_path), "-o", str(dense), "--sparse-format", "dense"] + prune,
             "convert (dense)")
        outs, in_use, _ = sparrow_outputs(sparrow, dense, model.x_path, work / f"{tag}-dense-out", model.threads)
        if in_use != 0:
            raise CheckError(f"dense conversion runs {in_use} sparse weights")
        dense_cache[sparsity] = outs
    dense_out = dense_cache[sparsity]

    sparse, masked = work / f"{tag}-{fmt}.sparrow", work / f"{tag}-{fmt}-masked.onnx"
    stdout, _ = must([sparrow, "convert", str(model.onnx_path), "-o", str(sparse), "--sparse-format", fmt,
                      "--export-masked-onnx", str(masked)] + prune, f"convert ({fmt})")
    printed = re.search(r"wrote masked ONNX .* \((\d+) weights, ([\d,]+) elements zeroed", stdout)
    if not printed:
        raise CheckError("convert printed no 'wrote masked ONNX' line")
    zeroed = check_masked(model.initializers, masked, int(printed.group(2).replace(",", "")))
    stored, prunable, runnable = sparse_layers(sparrow, sparse, model.nodes)
    sparse_out, in_use, t_run = sparrow_outputs(sparrow, sparse, model.x_path, work / f"{tag}-{fmt}-out",
                                                model.threads)
    err_dense = rel_err(sparse_out, dense_out)
    err_ort = rel_err(sparse_out, model.ort_outputs(masked))
    problems = []
    if in_use != runnable:
        problems.append(f"sparse weights in use {in_use}, expected {runnable}")
    if fmt == "csr" and stored == 0:
        problems.append("no layer stored sparse")
    for label, err in (("vs dense kernels", err_dense), ("vs onnxruntime", err_ort)):
        if not err <= tol:
            problems.append(f"max rel err {label} {err:.3e} > {tol:g}")
    for path in (sparse, masked):
        path.unlink()
    return dict(stored=stored, prunable=prunable, in_use=in_use, runnable=runnable, zeroed=zeroed,
                err_dense=err_dense, err_ort=err_ort, problems=problems, seconds=time.perf_counter() - t0,
                run_seconds=t_run)


def cosine(got, ref):
    """Cosine similarity of all outputs, flattened and concatenated (outputs matched by name)."""
    a = np.concatenate([got[name].astype(np.float64).ravel() for name in sorted(ref)])
    b = np.concatenate([ref[name].astype(np.float64).ravel() for name in sorted(ref)])
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-300))


def check_int8_weights(model, sparsity, sparrow, work, min_cosine):
    """`--quantize int8-weights` (pruned to `sparsity` when > 0, sparse format auto): a lossy variant, so the check
    is a stated fidelity bound against onnxruntime on the f32 model (the masked one when pruned), not a tolerance:
    cosine similarity >= min_cosine. Returns the row's fields."""
    t0 = time.perf_counter()
    tag = f"{model.name}-{sparsity:g}-int8w"
    quantized = work / f"{tag}.sparrow"
    cmd = [sparrow, "convert", str(model.onnx_path), "-o", str(quantized), "--quantize", "int8-weights"] \
        + model.shape_flags
    reference = model.onnx_path
    if sparsity > 0:
        reference = work / f"{tag}-masked.onnx"
        cmd += ["--prune", f"{sparsity:g}", "--export-masked-onnx", str(reference)]
    stdout, _ = must(cmd, "convert (int8-weights)")
    if "int8-weights" not in stdout:
        raise CheckError("convert printed no quantization table")
    got, _, _ = sparrow_outputs(sparrow, quantized, model.x_path, work / f"{tag}-out", model.threads)
    ref = model.ort_outputs(reference)
    cos, err = cosine(got, ref), rel_err(got, ref)
    first = sorted(ref)[0]
    same_class = bool(np.array_equal(got[first].reshape(got[first].shape[0], -1).argmax(axis=1),
                                     ref[first].reshape(ref[first].shape[0], -1).argmax(axis=1)))
    problems = []
    if not cos >= min_cosine:
        problems.append(f"cosine {cos:.6f} < {min_cosine}")
    return dict(cosine=cos, err=err, same_class=same_class, problems=problems, seconds=time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zoo", default="build/zoo")
    ap.add_argument("--sparrow", default=".build/release/sparrow")
    ap.add_argument("--models", default=",".join(BUILDERS))
    ap.add_argument("--sparsities", default="0.5,0.7,0.9,0.95")
    ap.add_argument("--auto-at", type=float, default=0.7,
                    help="sparsity at which --sparse-format auto is checked once per model (negative: never)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tolerance", type=float, default=1e-4, help="max |a-b| / max |ref| (default 1e-4)")
    ap.add_argument("--int8-weights-at", default="0,0.9",
                    help="sparsities at which `--quantize int8-weights` is checked per model (empty: never)")
    ap.add_argument("--min-cosine", type=float, default=0.98,
                    help="int8-weights fidelity bound: cosine similarity to onnxruntime's f32 outputs (the zoo's "
                    "random-weight networks amplify weight noise more than trained ones: MobileNetV2 0.99, the trained "
                    "digits CNN 0.99998)")
    args = ap.parse_args()
    zoo, sparrow = Path(args.zoo), str(Path(args.sparrow).resolve())
    names = [m for m in args.models.split(",") if m]
    sparsities = [float(s) for s in args.sparsities.split(",") if s]
    if not Path(sparrow).exists():
        sys.exit(f"no sparrow binary at {sparrow} (build it with `swift build -c release`, or pass --sparrow)")
    unknown = [m for m in names if m not in BUILDERS]
    if unknown:
        sys.exit(f"unknown model(s): {', '.join(unknown)}")
    if any(not 0 <= s < 1 for s in sparsities):
        sys.exit("sparsities must lie in [0, 1)")
    missing = [m for m in names if not (zoo / f"{m}.onnx").exists() or not (zoo / f"{m}.input.npy").exists()]
    if missing:
        print(f"building missing zoo models: {', '.join(missing)}", flush=True)
        subprocess.run([sys.executable, str(HERE / "make_zoo.py"), "--out", str(zoo), "--models", ",".join(missing),
                        "--no-check"], check=True)

    start = time.perf_counter()
    rows = failed = 0
    print(f"{'model':<20} {'sparsity':>8} {'format':<6} {'stored sparse':>13} {'in use':>8} {'zeroed':>11} "
          f"{'vs dense':>9} {'vs ORT':>9}  {'result':<6} {'s':>5}", flush=True)
    with tempfile.TemporaryDirectory(prefix="sparrow-sparse-check-") as tmp:
        for name in names:
            model = Model(name, zoo, args.threads)
            dense_cache = {}
            jobs = [(s, "csr") for s in sparsities]
            if args.auto_at >= 0:
                jobs.append((args.auto_at, "auto"))
            for sparsity, fmt in jobs:
                rows += 1
                work = Path(tmp) / f"{name}-{sparsity:g}-{fmt}"
                work.mkdir()
                try:
                    r = check(model, sparsity, fmt, sparrow, work, dense_cache, args.tolerance)
                except CheckError as error:
                    failed += 1
                    print(f"{name:<20} {sparsity:>8g} {fmt:<6} ERROR: {error}", flush=True)
                    continue
                status = "FAIL" if r["problems"] else "pass"
                failed += bool(r["problems"])
                print(f"{name:<20} {sparsity:>8g} {fmt:<6} {r['stored']:>6}/{r['prunable']:<6} "
                      f"{r['in_use']:>3}/{r['runnable']:<4} {r['zeroed']:>11,} {r['err_dense']:>9.2e} "
                      f"{r['err_ort']:>9.2e}  {status:<6} {r['seconds']:>5.1f}", flush=True)
                for problem in r["problems"]:
                    print(f"    {problem}", flush=True)
            for sparsity in [float(v) for v in args.int8_weights_at.split(",") if v]:
                rows += 1
                work = Path(tmp) / f"{name}-{sparsity:g}-int8w"
                work.mkdir()
                try:
                    r = check_int8_weights(model, sparsity, sparrow, work, args.min_cosine)
                except CheckError as error:
                    failed += 1
                    print(f"{name:<20} {sparsity:>8g} int8w  ERROR: {error}", flush=True)
                    continue
                status = "FAIL" if r["problems"] else "pass"
                failed += bool(r["problems"])
                print(f"{name:<20} {sparsity:>8g} int8w  cosine vs ORT {r['cosine']:.6f}, max rel err "
                      f"{r['err']:.2e}, top-1 {'same' if r['same_class'] else 'DIFFERENT'}  {status:<6} "
                      f"{r['seconds']:>5.1f}", flush=True)
                for problem in r["problems"]:
                    print(f"    {problem}", flush=True)
    print(f"{rows - failed}/{rows} passed (tolerance {args.tolerance:g}, {args.threads} thread(s), "
          f"{time.perf_counter() - start:.0f} s)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
