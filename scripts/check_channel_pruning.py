#!/usr/bin/env python3
"""Check Sparrow's structured channel pruning against ONNX Runtime on the masked model.

    check_channel_pruning.py MODEL.onnx FRACTION [--sparrow .build/release/sparrow] [--input X.npy]
                             [--pruned P.sparrow --report R.json] [--tolerance 1e-4] [--keep DIR]

The pruned model must compute what the original model computes with the pruned channels' weights set to zero
(biases kept): the *masked model*. This script

1. converts MODEL with `sparrow convert --prune-channels FRACTION --prune-channels-report R.json` (or takes an
   already pruned .sparrow and its report with --pruned/--report),
2. runs the pruned model with `sparrow run --output-dir`,
3. builds the masked model in ONNX itself: for every producer of the report, the rows `removed_channels` of its
   Conv weight initializer are set to zero (a shared initializer is copied first),
4. runs the masked model with ONNX Runtime (graph optimizations off) and requires
   max |sparrow - ort| / max |ort| <= --tolerance for every output.

BatchNormalization after a Conv is consistent with this: Sparrow folds BN into the Conv before pruning, so the
zeroed folded channel outputs the folded bias, which is exactly BN(conv bias) of the zeroed ONNX Conv.

The input is --input, else MODEL's sibling <name>.input.npy (the zoo's), else seeded normal noise of the model's
input shape (symbolic dimensions at 1). Symbolic input dimensions are pinned with --input-shape when converting.
Exits non-zero when an output differs or a step fails.
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def sanitize(name):
    """How `sparrow run` names output files: characters other than [A-Za-z0-9._-] become '_'."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"FAILED: {' '.join(map(str, cmd))}\n{proc.stdout}{proc.stderr}")
    return proc


def find_conv(graph, producer):
    """The ONNX Conv node a report producer names: by node name, else by weight name, else by the name the
    importer generates for unnamed nodes (<OpType>_<index>)."""
    convs = [(i, n) for i, n in enumerate(graph.node) if n.op_type == "Conv"]
    by_name = [n for _, n in convs if n.name == producer["node"]]
    if len(by_name) == 1:
        return by_name[0]
    by_weight = [n for _, n in convs if len(n.input) > 1 and n.input[1] == producer["weight"]]
    if len(by_weight) == 1:
        return by_weight[0]
    generated = [n for i, n in convs if not n.name and f"{n.op_type}_{i}" == producer["node"]]
    if len(generated) == 1:
        return generated[0]
    sys.exit(f"no unique Conv for producer {producer['node']!r} (weight {producer['weight']!r}) in the ONNX model")


def masked_model(model, report):
    """A copy of `model` with the removed channels' Conv weights zeroed."""
    masked = onnx.ModelProto()
    masked.CopyFrom(model)
    graph = masked.graph
    initializers = {t.name: t for t in graph.initializer}
    readers = {}
    for node in graph.node:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    for producer in report["producers"]:
        conv = find_conv(graph, producer)
        name = conv.input[1]
        if name not in initializers:
            sys.exit(f"Conv {conv.name!r}: weight {name!r} is not an initializer")
        weight = numpy_helper.to_array(initializers[name]).copy()
        if weight.shape[0] != producer["channels_before"]:
            sys.exit(f"Conv {conv.name!r}: weight has {weight.shape[0]} output channels, the report says "
                     f"{producer['channels_before']}")
        weight[producer["removed_channels"]] = 0
        if readers.get(name, 0) > 1:  # shared: give this Conv its own copy
            name = f"{name}__masked_{len(initializers)}"
            conv.input[1] = name
            graph.initializer.append(numpy_helper.from_array(weight, name))
        else:
            initializers[name].CopyFrom(numpy_helper.from_array(weight, name))
        initializers = {t.name: t for t in graph.initializer}
    return masked


def ort_session(model, threads=1):
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("fraction", type=float)
    parser.add_argument("--sparrow", default=".build/release/sparrow", help="the sparrow executable")
    parser.add_argument("--input", type=Path, help="input .npy (default: <model>.input.npy or seeded noise)")
    parser.add_argument("--pruned", type=Path, help="an already pruned .sparrow (skips the conversion)")
    parser.add_argument("--report", type=Path, help="its --prune-channels-report JSON (with --pruned)")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--keep", type=Path, help="write the masked ONNX and intermediate files here")
    args = parser.parse_args()
    if (args.pruned is None) != (args.report is None):
        parser.error("--pruned and --report go together")

    model = onnx.load(str(args.model))
    original = ort_session(model)
    input_meta = original.get_inputs()
    if len(input_meta) != 1:
        sys.exit(f"the model has {len(input_meta)} inputs; this check feeds one")
    sibling = args.model.with_name(args.model.name.removesuffix(".onnx") + ".input.npy")
    if args.input:
        x = np.load(args.input)
    elif sibling.exists():
        x = np.load(sibling)
    else:
        shape = [d if isinstance(d, int) else 1 for d in input_meta[0].shape]
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)

    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        input_path = work / "input.npy"
        np.save(input_path, x)
        if args.pruned:
            pruned, report_path = args.pruned, args.report
        else:
            pruned, report_path = work / "pruned.sparrow", work / "pruning.json"
            flags = []
            if any(not isinstance(d, int) for d in input_meta[0].shape):
                flags = ["--input-shape", f"{input_meta[0].name}={'x'.join(map(str, x.shape))}"]
            proc = run([args.sparrow, "convert", str(args.model), "-o", str(pruned), "--prune-channels",
                        str(args.fraction), "--prune-channels-report", str(report_path)] + flags)
            print(proc.stdout, end="")
        report = json.loads(Path(report_path).read_text())
        if abs(report["fraction"] - args.fraction) > 1e-12:
            sys.exit(f"the report is for fraction {report['fraction']}, not {args.fraction}")
        out_dir = work / "sparrow_out"
        out_dir.mkdir(exist_ok=True)
        run([args.sparrow, "run", str(pruned), "--input", str(input_path), "--output-dir", str(out_dir)])

        masked = masked_model(model, report)
        if args.keep:
            onnx.save(masked, str(work / "masked.onnx"))
        masked_session = ort_session(masked)
        feed = {input_meta[0].name: x}
        references = masked_session.run(None, feed)
        originals = original.run(None, feed)

        removed = sum(len(p["removed_channels"]) for p in report["producers"])
        print(f"{args.model.name}: {len(report['producers'])} producers pruned, {removed} channels removed, "
              f"MACs {report['macs_before'] / 1e6:.1f} M -> {report['macs_after'] / 1e6:.1f} M, "
              f"{report['bias_maps']} bias maps, {report['bias_folds']} bias folds")
        failed = False
        for meta, ref, orig in zip(masked_session.get_outputs(), references, originals):
            got_path = out_dir / f"{sanitize(meta.name)}.npy"
            if not got_path.exists():
                print(f"  output {meta.name!r}: missing {got_path.name}")
                failed = True
                continue
            got = np.load(got_path)
            if got.shape != ref.shape:
                print(f"  output {meta.name!r}: shape {got.shape}, masked ONNX gives {ref.shape}")
                failed = True
                continue
            scale = max(float(np.abs(ref).max()), 1e-30)
            err = float(np.abs(got.astype(np.float64) - ref).max() / scale)
            masking = float(np.abs(orig.astype(np.float64) - ref).max() / scale)
            ok = err <= args.tolerance
            failed |= not ok
            print(f"  output {meta.name!r}: max rel. error vs masked ONNX {err:.2e} ({'ok' if ok else 'FAIL'}, "
                  f"tolerance {args.tolerance:.0e}); masking itself changed it by {masking:.2e}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
