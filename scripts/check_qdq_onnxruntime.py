#!/usr/bin/env python3
"""Check Sparrow's import of QDQ-quantized models against ONNX Runtime.

    check_qdq_onnxruntime.py [--zoo build/zoo] [--sparrow .build/release/sparrow] [--models a,b]
                             [--min-within 0.999]

For every zoo model X:
  1. ONNX Runtime quantizes it: opset raised to 13, `quant_pre_process` (BatchNorm folded), then
     `quantize_static` in QDQ format, per-channel int8 weights, uint8 activations, calibrated on 4 seeded
     random inputs. Cached as build/zoo/qdq/X.qdq.onnx.
  2. `sparrow convert` imports it (QDQPass: constant DequantizeLinear folded, QuantizeLinear → DequantizeLinear
     pairs kept as QuantizeDequantize in f32), `sparrow run` on X.input.npy.
  3. The output is compared, in units of the output's quantization step (the scale of the DequantizeLinear that
     produces it), with ONNX Runtime running the same QDQ model twice: with graph optimizations off (the QDQ
     graph as written, its reference semantics) and on (ONNX Runtime's int8 kernels).
The trained digits CNN (models/) is quantized too, calibrated on 16 of its held-out images, and checked on all
32 (accuracy of fp32, ONNX Runtime's int8 and Sparrow printed). Weights are 7-bit by default (`reduce_range`,
ONNX Runtime's advice for AVX2 without VNNI: with 8-bit weights its u8s8 kernels saturate int16 pair sums, and
its int8 output of the digits CNN lies within one step of its own QDQ reference on only 17% of elements).

The exit status comes from the --gate models (digits CNN, SqueezeNet): >= --min-within of the output elements
within one step of both the reference semantics and ONNX Runtime's int8 kernels. The other zoo models are
reported: their random weights amplify single-step rounding differences layer by layer, so that even ONNX
Runtime's two executions of the same QDQ model disagree by several steps (ResNet-50: 48% within one step).
"""
import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from check_onnxruntime import input_shape_flags, run  # noqa: E402
from make_zoo import BUILDERS  # noqa: E402

DEFAULT_MODELS = "resnet18,mobilenet_v2,squeezenet1_1"


def quantized(zoo, name, source_path=None, calibration=None, reduce_range=False):
    """ONNX Runtime's QDQ version of zoo model `name` (or of `source_path`, calibrated on `calibration`, a list of
    input arrays), made once and cached."""
    from onnx import version_converter
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    out_dir = zoo / "qdq"
    out_dir.mkdir(exist_ok=True)
    target = out_dir / f"{name}{'.rr' if reduce_range else ''}.qdq.onnx"
    if target.exists():
        return target
    source = onnx.load(str(source_path or zoo / f"{name}.onnx"))
    inp = source.graph.input[0]
    shape = [d.dim_value or 1 for d in inp.type.tensor_type.shape.dim]
    rng = np.random.default_rng(0)
    samples = calibration or [rng.standard_normal(shape).astype(np.float32) for _ in range(4)]
    with tempfile.TemporaryDirectory() as tmp:
        raised, pre = Path(tmp) / "13.onnx", Path(tmp) / "pre.onnx"
        opset = max(o.version for o in source.opset_import if o.domain in ("", "ai.onnx"))
        onnx.save(version_converter.convert_version(source, 13) if opset < 13 else source, str(raised))
        quant_pre_process(str(raised), str(pre), skip_symbolic_shape=True)

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.samples = iter([{inp.name: sample} for sample in samples])

            def get_next(self):
                return next(self.samples, None)

        quantize_static(str(pre), str(target), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, reduce_range=reduce_range)
    return target


def output_step(path):
    """Scale of the DequantizeLinear producing the first graph output (None if it is not one)."""
    model = onnx.load(str(path))
    out = model.graph.output[0].name
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear" and node.output[0] == out and node.input[1] in inits:
            return float(inits[node.input[1]])
    return None


def ort_output(path, x, optimize):
    opts = ort.SessionOptions()
    opts.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                     else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0], sess


def within(a, b, step):
    d = np.abs(a.astype(np.float64) - b) / step
    return float(np.mean(d <= 1 + 1e-3)), float(d.max())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zoo", default="build/zoo")
    ap.add_argument("--sparrow", default=".build/release/sparrow")
    ap.add_argument("--models", default=DEFAULT_MODELS)
    ap.add_argument("--min-within", type=float, default=0.999,
                    help="fraction of output elements within one step of the QDQ reference semantics")
    ap.add_argument("--full-range", action="store_true",
                    help="8-bit weights; by default 7 bits (quantize_static reduce_range), which ONNX Runtime "
                         "advises on AVX2 hosts without VNNI, where its u8s8 kernels saturate int16 pair sums")
    ap.add_argument("--gate", default="digits_cnn,squeezenet1_1",
                    help="models whose result decides the exit status (the others are reported)")
    ap.add_argument("--digits", default="models",
                    help="directory of the trained digits CNN (digits_cnn.onnx, digits_test_images.npy, "
                         "digits_test_labels.npy); empty: skip it")
    args = ap.parse_args()
    zoo, sparrow = Path(args.zoo), str(Path(args.sparrow).resolve())
    names = [m for m in args.models.split(",") if m]
    unknown = [m for m in names if m not in BUILDERS]
    if unknown:
        sys.exit(f"unknown model(s): {', '.join(unknown)}")
    failed = 0
    print(f"{'model':<20} {'step':>9} {'vs QDQ reference':>22} {'vs ORT int8 kernels':>22} "
          f"{'ORT: int8 vs ref':>22}  result")
    cases = [(name, None, zoo / f"{name}.input.npy", None) for name in names]
    if args.digits:
        digits = Path(args.digits)
        images = np.load(digits / "digits_test_images.npy")
        # Calibrated on the first 16 held-out images, one per sample; checked on all of them as one batch.
        cases.append(("digits_cnn", digits / "digits_cnn.onnx", digits / "digits_test_images.npy",
                      [images[i:i + 1] for i in range(16)]))
    with tempfile.TemporaryDirectory(prefix="sparrow-qdq-") as tmp:
        for name, source, x_path, calibration in cases:
            try:
                qdq = quantized(zoo, name, source, calibration, not args.full_range)
                x = np.load(x_path)
                reference, sess = ort_output(qdq, x, optimize=False)
                kernels, _ = ort_output(qdq, x, optimize=True)
                step = output_step(qdq)
                if step is None:
                    raise RuntimeError("the output is not produced by a DequantizeLinear")
                model, out = Path(tmp) / f"{name}.sparrow", Path(tmp) / name
                for cmd in ([sparrow, "convert", str(qdq), "-o", str(model)] + input_shape_flags(sess, x),
                            [sparrow, "run", str(model), "--input", str(x_path),
                             "--output-dir", str(out)]):
                    proc, _ = run(cmd)
                    if proc.returncode != 0:
                        raise RuntimeError(f"{cmd[1]} failed: {proc.stderr.strip() or proc.stdout.strip()}")
                got = np.load(next(out.glob("*.npy")))
            except Exception as error:  # noqa: BLE001 (one line per model, whatever went wrong)
                failed += 1
                print(f"{name:<20} ERROR: {error}", flush=True)
                continue
            ref_in, ref_max = within(got, reference, step)
            ker_in, ker_max = within(got, kernels, step)
            ort_in, ort_max = within(kernels, reference, step)
            gated = name in args.gate.split(",")
            ok = ref_in >= args.min_within and (ker_in >= args.min_within or not gated)
            failed += gated and not ok
            print(f"{name:<20} {step:>9.3g} {ref_in * 100:>8.2f}% (max {ref_max:>4.1f})    "
                  f"{ker_in * 100:>8.2f}% (max {ker_max:>4.1f})    {ort_in * 100:>8.2f}% (max {ort_max:>4.1f})  "
                  f"{('pass' if ok else 'FAIL') if gated else ('ok' if ok else 'reported')}", flush=True)
            if name == "digits_cnn":
                labels = np.load(Path(args.digits) / "digits_test_labels.npy")
                fp32, _ = ort_output(source, x, optimize=True)
                accuracy = {label: float(np.mean(out.argmax(axis=1) == labels)) for label, out in
                            (("fp32 (ORT)", fp32), ("QDQ int8 (ORT kernels)", kernels), ("QDQ (Sparrow)", got))}
                print("    digits accuracy on %d held-out images: %s" % (len(labels), ", ".join(
                    f"{label} {value:.1%}" for label, value in accuracy.items())), flush=True)
    gates = [c[0] for c in cases if c[0] in args.gate.split(",")]
    print(f"{len(gates) - failed}/{len(gates)} gated models passed ({', '.join(gates)}: within one output step on "
          f">= {args.min_within:.1%} of elements, against the QDQ reference semantics and ONNX Runtime's int8 "
          f"kernels); the others are reported")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
