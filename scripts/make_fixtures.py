#!/usr/bin/env python3
"""Write the converter's golden fixtures: one tiny ONNX model per operator or feature, with ONNX Runtime's outputs.

    make_fixtures.py [--out Tests/SparrowConvertTests/Fixtures] [--cases conv_3x3,gemm_transb]

Each case becomes a directory <out>/<case>/ holding
    model.onnx            (plus weights.bin for the external_data case)
    input_0.npy ...       one per graph input, in graph input order
    output_0.npy ...      one per graph output, in graph output order, computed by onnxruntime with
                          graph optimizations disabled (ORT_DISABLE_ALL), so that ORT's own fusions play no part
and <out>/README.md lists the cases. Inputs are seeded per case (crc32 of the name), so reruns are byte-identical.
"""
import argparse
import shutil
import zlib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

CASES = []  # (name, description, opset, build function), in definition order


def case(name, doc, opset=13):
    def register(fn):
        CASES.append((name, doc, opset, fn))
        return fn
    return register


class Case:
    """Collects one small graph; inputs get seeded random data unless given."""

    def __init__(self, name, opset):
        self.name, self.opset = name, opset
        self.rng = np.random.default_rng(zlib.crc32(name.encode()))
        self.inputs, self.outputs, self.inits, self.nodes = [], [], [], []
        self.feeds = {}
        self.save_external = False

    def input(self, name, shape, data=None, dims=None):
        """A graph input; `dims` overrides the declared shape (for symbolic dimensions)."""
        if data is None:
            data = self.rng.standard_normal(shape).astype(np.float32)
        dtype = helper.np_dtype_to_tensor_dtype(data.dtype)
        self.inputs.append(helper.make_tensor_value_info(name, dtype, dims if dims is not None else list(data.shape)))
        self.feeds[name] = data
        return name

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, name, shape, fan_in=None):
        fan_in = fan_in or int(np.prod(shape[1:])) or 1
        return self.init(name, (self.rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32))

    def f32(self, name, values):
        return self.init(name, np.asarray(values, np.float32))

    def i64(self, name, values):
        return self.init(name, np.asarray(values, np.int64))

    def node(self, op, inputs, outputs, **attrs):
        outputs = [outputs] if isinstance(outputs, str) else outputs
        self.nodes.append(helper.make_node(op, inputs, outputs, name=f"{op}_{len(self.nodes)}", **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def output(self, *names, dtype=TensorProto.FLOAT):
        for n in names:
            self.outputs.append((n, dtype))

    def model(self, output_shapes=None, batch_symbolic=False):
        outs = []
        for i, (n, dtype) in enumerate(self.outputs):
            shape = None
            if output_shapes is not None:
                shape = list(output_shapes[i])
                if batch_symbolic:
                    shape[0] = "N"
            outs.append(helper.make_tensor_value_info(n, dtype, shape))
        graph = helper.make_graph(self.nodes, self.name, self.inputs, outs, initializer=self.inits)
        opset = [helper.make_opsetid("", self.opset)]
        return helper.make_model(graph, opset_imports=opset, producer_name="sparrow-make_fixtures",
                                 ir_version=helper.find_min_ir_version_for(opset))


def run_case(name, doc, opset, build, out_dir):
    g = Case(name, opset)
    build(g)
    d = out_dir / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    path = d / "model.onnx"
    # ORT runs the saved file, so the external-data case is read back the way the converter will read it
    probe = g.model()
    onnx.save(probe, path)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    results = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"]).run(None, g.feeds)
    symbolic = any(dim.dim_param for i in g.inputs for dim in i.type.tensor_type.shape.dim)
    model = g.model([r.shape for r in results], batch_symbolic=symbolic)
    if g.save_external:
        onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location="weights.bin",
                  size_threshold=0)
    else:
        onnx.save(model, path)
    onnx.checker.check_model(str(path), full_check=True)
    again = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"]).run(None, g.feeds)
    assert all(np.array_equal(a, b) for a, b in zip(results, again)), name
    for i, inp in enumerate(g.inputs):
        np.save(d / f"input_{i}.npy", g.feeds[inp.name])
    for i, r in enumerate(results):
        assert r.dtype in (np.float32, np.int64), f"{name}: output {i} is {r.dtype}"
        assert np.isfinite(r).all() if r.dtype == np.float32 else True, f"{name}: non-finite output"
        np.save(d / f"output_{i}.npy", r)
    return [r.shape for r in results]


# =================================================================================================================
# Conv


def conv(g, xshape, wshape, bias=True, **attrs):
    x = g.input("x", xshape)
    ins = [x, g.weight("w", wshape)] + ([g.weight("b", [wshape[0]], fan_in=1)] if bias else [])
    g.node("Conv", ins, "y", **attrs)
    g.output("y")


@case("conv_3x3", "Conv 3x3, pads 1, bias")
def _(g): conv(g, [1, 3, 8, 8], [4, 3, 3, 3], kernel_shape=[3, 3], pads=[1, 1, 1, 1])


@case("conv_stride2", "Conv 3x3, stride 2, pads 1, odd input 9x9")
def _(g): conv(g, [1, 3, 9, 9], [4, 3, 3, 3], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])


@case("conv_dilated", "Conv 3x3, dilation 2, pads 2")
def _(g): conv(g, [1, 2, 9, 9], [3, 2, 3, 3], kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 2, 2, 2])


@case("conv_pads_asymmetric", "Conv 3x3, explicit asymmetric pads [top 0, left 1, bottom 2, right 1]")
def _(g): conv(g, [1, 2, 6, 6], [3, 2, 3, 3], kernel_shape=[3, 3], pads=[0, 1, 2, 1])


@case("conv_auto_pad_same_upper", "Conv 3x3 stride 2 on 8x8, auto_pad SAME_UPPER (odd total pad: extra at end)")
def _(g): conv(g, [1, 2, 8, 8], [3, 2, 3, 3], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")


@case("conv_auto_pad_same_lower", "Conv 3x3 stride 2 on 8x8, auto_pad SAME_LOWER (odd total pad: extra at start)")
def _(g): conv(g, [1, 2, 8, 8], [3, 2, 3, 3], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_LOWER")


@case("conv_auto_pad_valid", "Conv 3x3, auto_pad VALID, 7x6 input")
def _(g): conv(g, [1, 2, 7, 6], [3, 2, 3, 3], kernel_shape=[3, 3], auto_pad="VALID")


@case("conv_groups2", "Conv 3x3, group 2 (4 -> 6 channels)")
def _(g): conv(g, [1, 4, 6, 6], [6, 2, 3, 3], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=2)


@case("conv_depthwise_bias", "Depthwise Conv 3x3 (group = channels = 4), bias")
def _(g): conv(g, [1, 4, 6, 6], [4, 1, 3, 3], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=4)


@case("conv_depthwise_stride2", "Depthwise Conv 5x5 stride 2, pads 2, no bias (MobileNetV3/EfficientNet shape)")
def _(g): conv(g, [1, 6, 9, 9], [6, 1, 5, 5], bias=False, kernel_shape=[5, 5], strides=[2, 2], pads=[2, 2, 2, 2], group=6)


@case("conv_1x1", "Conv 1x1 with bias; kernel_shape attribute omitted (taken from the weights)")
def _(g): conv(g, [1, 5, 4, 4], [3, 5, 1, 1])


@case("conv_odd_7x5", "Conv 3x3 stride 2 pads 1 on a 7x5 image, no bias")
def _(g): conv(g, [1, 3, 7, 5], [4, 3, 3, 3], bias=False, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])


@case("conv_kernel_1x5", "Conv with non-square kernel 1x5, pads [0, 2, 0, 2]")
def _(g): conv(g, [1, 3, 6, 7], [4, 3, 1, 5], kernel_shape=[1, 5], pads=[0, 2, 0, 2])


@case("conv_kernel_3x1_stride_2x1", "Conv with kernel 3x1 and stride 2x1, pads [1, 0, 1, 0]")
def _(g): conv(g, [1, 3, 7, 5], [4, 3, 3, 1], kernel_shape=[3, 1], strides=[2, 1], pads=[1, 0, 1, 0])


@case("conv_batch2", "Conv 3x3 on a batch of 2")
def _(g): conv(g, [2, 3, 5, 5], [4, 3, 3, 3], kernel_shape=[3, 3], pads=[1, 1, 1, 1])


# -- conv + activation patterns the converter should fuse


def conv_then(g, act):
    x = g.input("x", [1, 3, 6, 6])
    c = g.node("Conv", [x, g.weight("w", [4, 3, 3, 3]), g.weight("b", [4], fan_in=1)], "c", kernel_shape=[3, 3],
               pads=[1, 1, 1, 1])
    g.output(act(c))


@case("conv_bn_relu", "Conv (no bias) -> BatchNormalization -> Relu")
def _(g):
    x = g.input("x", [1, 3, 6, 6])
    c = g.node("Conv", [x, g.weight("w", [4, 3, 3, 3])], "c", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    bn = [g.f32("gamma", g.rng.uniform(0.5, 1.5, 4)), g.f32("beta", g.rng.uniform(-0.5, 0.5, 4)),
          g.f32("mean", g.rng.uniform(-0.5, 0.5, 4)), g.f32("var", g.rng.uniform(0.5, 2.0, 4))]
    b = g.node("BatchNormalization", [c] + bn, "bn", epsilon=1e-3)
    g.output(g.node("Relu", [b], "y"))


@case("conv_clip", "Conv -> Clip(min 0, max 6 as inputs): ReLU6 as exported at opset >= 11")
def _(g): conv_then(g, lambda c: g.node("Clip", [c, g.f32("lo", 0.0), g.f32("hi", 6.0)], "y"))


@case("conv_hardswish", "Conv -> HardSwish", opset=14)
def _(g): conv_then(g, lambda c: g.node("HardSwish", [c], "y"))


@case("conv_leakyrelu", "Conv -> LeakyRelu(alpha 0.1)")
def _(g): conv_then(g, lambda c: g.node("LeakyRelu", [c], "y", alpha=0.1))


@case("conv_sigmoid_mul", "Conv -> x * Sigmoid(x): SiLU as PyTorch exports it")
def _(g): conv_then(g, lambda c: g.node("Mul", [c, g.node("Sigmoid", [c], "s")], "y"))


# -- ConvTranspose


@case("convtranspose_stride2", "ConvTranspose 3x3, stride 2, pads 1, output_padding 1, bias")
def _(g):
    x = g.input("x", [1, 3, 4, 4])
    g.node("ConvTranspose", [x, g.weight("w", [3, 2, 3, 3]), g.weight("b", [2], fan_in=1)], "y", kernel_shape=[3, 3],
           strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
    g.output("y")


@case("convtranspose_groups", "ConvTranspose 2x2, stride 2, group 2 (4 -> 4 channels), no bias")
def _(g):
    x = g.input("x", [1, 4, 3, 3])
    g.node("ConvTranspose", [x, g.weight("w", [4, 2, 2, 2])], "y", kernel_shape=[2, 2], strides=[2, 2], group=2)
    g.output("y")


@case("convtranspose_plain", "ConvTranspose 3x3, stride 1, no pads")
def _(g):
    x = g.input("x", [1, 2, 4, 5])
    g.node("ConvTranspose", [x, g.weight("w", [2, 3, 3, 3])], "y", kernel_shape=[3, 3])
    g.output("y")


# =================================================================================================================
# Gemm / MatMul


@case("gemm_transb", "Gemm A[3,5] x B[4,5]^T (transB=1) + C[4] broadcast over rows")
def _(g):
    g.node("Gemm", [g.input("a", [3, 5]), g.weight("b", [4, 5]), g.weight("c", [4], fan_in=1)], "y", transB=1)
    g.output("y")


@case("gemm_alpha_beta", "Gemm transA=1, alpha 0.5, beta 2, C[3,1] broadcast over columns")
def _(g):
    g.node("Gemm", [g.input("a", [5, 3]), g.weight("b", [5, 4]), g.weight("c", [3, 1], fan_in=1)], "y", transA=1,
           alpha=0.5, beta=2.0)
    g.output("y")


@case("gemm_no_bias", "Gemm without C, transB=1 (classifier without bias)")
def _(g):
    g.node("Gemm", [g.input("a", [2, 6]), g.weight("b", [3, 6])], "y", transB=1)
    g.output("y")


@case("matmul_2d", "MatMul [3,5] x [5,4] (weights as initializer)")
def _(g):
    g.node("MatMul", [g.input("a", [3, 5]), g.weight("b", [5, 4], fan_in=5)], "y")
    g.output("y")


@case("matmul_batched_3d", "MatMul [2,3,5] x [2,5,4], both graph inputs")
def _(g):
    g.node("MatMul", [g.input("a", [2, 3, 5]), g.input("b", [2, 5, 4])], "y")
    g.output("y")


@case("matmul_broadcast", "MatMul [2,3,5] x [5,4]: 2D weights broadcast over the batch")
def _(g):
    g.node("MatMul", [g.input("a", [2, 3, 5]), g.weight("b", [5, 4], fan_in=5)], "y")
    g.output("y")


@case("matmul_broadcast_4d", "MatMul [2,1,3,4] x [3,4,2] -> [2,3,3,2]: broadcast of batch dimensions")
def _(g):
    g.node("MatMul", [g.input("a", [2, 1, 3, 4]), g.input("b", [3, 4, 2])], "y")
    g.output("y")


# =================================================================================================================
# elementwise arithmetic with broadcasting


def binary(g, op, a, b):
    g.node(op, [a, b], "y")
    g.output("y")


@case("add_same_shape", "Add of two graph inputs of the same shape")
def _(g): binary(g, "Add", g.input("a", [1, 3, 4, 4]), g.input("b", [1, 3, 4, 4]))


@case("add_scalar", "Add x + scalar initializer (rank 0)")
def _(g): binary(g, "Add", g.input("x", [1, 3, 4, 4]), g.f32("s", 0.75))


@case("add_channel", "Add x[1,3,4,4] + c[1,3,1,1]")
def _(g): binary(g, "Add", g.input("x", [1, 3, 4, 4]), g.weight("c", [1, 3, 1, 1], fan_in=1))


@case("sub_row", "Sub x[1,3,4,5] - r[5] (broadcast along the last axis)")
def _(g): binary(g, "Sub", g.input("x", [1, 3, 4, 5]), g.weight("r", [5], fan_in=1))


@case("sub_scalar_first", "Sub 1.0 - x: constant first operand")
def _(g): binary(g, "Sub", g.f32("one", [1.0]), g.input("x", [1, 3, 4, 4]))


@case("mul_channel", "Mul c[1,3,1,1] * x[1,3,4,4] (constant first)")
def _(g): binary(g, "Mul", g.weight("c", [1, 3, 1, 1], fan_in=1), g.input("x", [1, 3, 4, 4]))


@case("mul_bidirectional", "Mul a[1,3,4,1] * b[1,1,1,5] -> [1,3,4,5]: both operands broadcast")
def _(g): binary(g, "Mul", g.input("a", [1, 3, 4, 1]), g.input("b", [1, 1, 1, 5]))


@case("div_channel", "Div x[1,3,4,4] / c[3,1,1] (rank-3 constant, values in 0.5..2)")
def _(g): binary(g, "Div", g.input("x", [1, 3, 4, 4]), g.f32("c", g.rng.uniform(0.5, 2.0, (3, 1, 1))))


@case("div_scalar", "Div x / 4.0 (scalar initializer)")
def _(g): binary(g, "Div", g.input("x", [2, 3, 5]), g.f32("s", 4.0))


# =================================================================================================================
# activations


def unary(g, op, shape=(1, 3, 4, 4), data=None, extra=(), **attrs):
    g.node(op, [g.input("x", list(shape), data)] + list(extra), "y", **attrs)
    g.output("y")


def spread(g, shape, scale=4.0):
    """Values that cover the interesting ranges of clamps and saturating functions."""
    return (g.rng.standard_normal(shape) * scale).astype(np.float32)


@case("relu", "Relu")
def _(g): unary(g, "Relu")


@case("clip_opset11_inputs", "Clip with min -1 and max 2 as inputs (opset 11)", opset=11)
def _(g): unary(g, "Clip", data=spread(g, (1, 3, 4, 4)), extra=[g.f32("lo", -1.0), g.f32("hi", 2.0)])


@case("clip_opset11_min_only", "Clip with only the min input (max omitted): Relu-like", opset=11)
def _(g): unary(g, "Clip", data=spread(g, (1, 3, 4, 4)), extra=[g.f32("lo", 0.5)])


@case("clip_opset10_attributes", "Clip with min 0 / max 6 attributes (the Clip-6 form; model opset 10)", opset=10)
def _(g): unary(g, "Clip", data=spread(g, (1, 3, 4, 4)), min=0.0, max=6.0)


@case("leakyrelu", "LeakyRelu with the default alpha 0.01")
def _(g): unary(g, "LeakyRelu")


@case("prelu", "PRelu with a per-channel slope [C,1,1]")
def _(g):
    x = g.input("x", [1, 3, 4, 4])
    g.node("PRelu", [x, g.f32("slope", g.rng.uniform(0.05, 0.5, (3, 1, 1)))], "y")
    g.output("y")


@case("sigmoid", "Sigmoid")
def _(g): unary(g, "Sigmoid", data=spread(g, (1, 3, 4, 4)))


@case("hardsigmoid", "HardSigmoid with defaults (alpha 0.2, beta 0.5)")
def _(g): unary(g, "HardSigmoid", data=spread(g, (1, 3, 4, 4)))


@case("hardsigmoid_alpha_sixth", "HardSigmoid alpha 1/6, beta 0.5 (as PyTorch exports nn.Hardsigmoid)")
def _(g): unary(g, "HardSigmoid", data=spread(g, (1, 3, 4, 4)), alpha=1.0 / 6, beta=0.5)


@case("hardswish", "HardSwish", opset=14)
def _(g): unary(g, "HardSwish", data=spread(g, (1, 3, 4, 4)))


@case("tanh", "Tanh")
def _(g): unary(g, "Tanh", data=spread(g, (1, 3, 4, 4), 2.0))


# =================================================================================================================
# pooling


@case("maxpool_k3_s2_p1", "MaxPool kernel 3, stride 2, pads 1 (ResNet stem)")
def _(g): unary(g, "MaxPool", (1, 2, 9, 9), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])


@case("maxpool_ceil_mode", "MaxPool kernel 3, stride 2, ceil_mode 1 on 8x8 (4x4 out instead of 3x3)")
def _(g): unary(g, "MaxPool", (1, 2, 8, 8), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)


@case("maxpool_2x2", "MaxPool kernel 2, stride 2, 7x6 input (last row dropped)")
def _(g): unary(g, "MaxPool", (1, 3, 7, 6), kernel_shape=[2, 2], strides=[2, 2])


@case("averagepool_count_include_pad_0", "AveragePool kernel 3, stride 2, pads 1, count_include_pad 0")
def _(g): unary(g, "AveragePool", (1, 2, 7, 7), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                count_include_pad=0)


@case("averagepool_count_include_pad_1", "AveragePool kernel 3, stride 2, pads 1, count_include_pad 1")
def _(g): unary(g, "AveragePool", (1, 2, 7, 7), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                count_include_pad=1)


@case("averagepool_2x2", "AveragePool kernel 2, stride 2, no pads")
def _(g): unary(g, "AveragePool", (1, 3, 6, 6), kernel_shape=[2, 2], strides=[2, 2])


@case("globalaveragepool", "GlobalAveragePool on [2,3,5,4]")
def _(g): unary(g, "GlobalAveragePool", (2, 3, 5, 4))


# =================================================================================================================
# tensor shape and layout


@case("concat_axis1", "Concat of three inputs with 2, 3 and 1 channels along axis 1")
def _(g):
    xs = [g.input(f"x{i}", [1, c, 3, 4]) for i, c in enumerate((2, 3, 1))]
    g.node("Concat", xs, "y", axis=1)
    g.output("y")


@case("concat_with_initializer", "Concat of an input and a constant along the last axis (axis -1)")
def _(g):
    g.node("Concat", [g.input("x", [2, 3]), g.weight("c", [2, 2], fan_in=1)], "y", axis=-1)
    g.output("y")


@case("split_opset13_sizes", "Split axis 1 into sizes [2,3,1] given as an input (opset 13); three outputs")
def _(g):
    g.node("Split", [g.input("x", [1, 6, 3, 3]), g.i64("sizes", [2, 3, 1])], ["y0", "y1", "y2"], axis=1)
    g.output("y0", "y1", "y2")


@case("split_opset11_attribute", "Split axis 1 with split=[1,3] attribute (opset 11)", opset=11)
def _(g):
    g.node("Split", [g.input("x", [1, 4, 2, 3])], ["y0", "y1"], axis=1, split=[1, 3])
    g.output("y0", "y1")


@case("split_equal", "Split axis 1 into 2 equal parts, no sizes given (opset 13): torch.chunk")
def _(g):
    g.node("Split", [g.input("x", [1, 6, 2, 2])], ["y0", "y1"], axis=1)
    g.output("y0", "y1")


@case("split_opset18_num_outputs", "Split axis -1 with num_outputs=3 (opset 18), uneven: 7 -> 3,3,1", opset=18)
def _(g):
    g.node("Split", [g.input("x", [2, 7])], ["y0", "y1", "y2"], axis=-1, num_outputs=3)
    g.output("y0", "y1", "y2")


def slice_case(g, shape, starts, ends, axes=None, steps=None):
    ins = [g.input("x", shape), g.i64("starts", starts), g.i64("ends", ends)]
    if axes is not None or steps is not None:
        ins.append(g.i64("axes", axes) if axes is not None else "")
    if steps is not None:
        ins.append(g.i64("steps", steps))
    g.node("Slice", ins, "y")
    g.output("y")


@case("slice_negative", "Slice with negative starts/ends: x[:, :, -4:-1, 1:] (axes given)")
def _(g): slice_case(g, [1, 2, 6, 5], [-4, 1], [-1, 2**63 - 1], axes=[2, 3])


@case("slice_steps", "Slice with steps 2 and -1: x[:, ::2, ::-1] (negative step walks backwards)")
def _(g): slice_case(g, [2, 5, 4], [0, -1], [2**63 - 1, -(2**63)], axes=[1, 2], steps=[2, -1])


@case("slice_no_axes", "Slice without axes (all leading axes): x[0:1, 1:3]")
def _(g): slice_case(g, [2, 4, 3], [0, 1], [1, 3])


@case("slice_channels", "Slice channels 2..5 of an NCHW tensor, axes [1], ends past the end (clamped)")
def _(g): slice_case(g, [1, 6, 3, 3], [2], [100], axes=[1])


@case("reshape_zero_minus1", "Reshape [2,3,4] with shape [0,-1] (0 copies the input dim)")
def _(g):
    g.node("Reshape", [g.input("x", [2, 3, 4]), g.i64("shape", [0, -1])], "y")
    g.output("y")


@case("reshape_4d", "Reshape [1,6,2,2] to [1,2,3,4] with -1: [0,2,-1,4]")
def _(g):
    g.node("Reshape", [g.input("x", [1, 6, 2, 2]), g.i64("shape", [0, 2, -1, 4])], "y")
    g.output("y")


@case("flatten_axis1", "Flatten axis 1: [2,3,2,2] -> [2,12]")
def _(g): unary(g, "Flatten", (2, 3, 2, 2), axis=1)


@case("flatten_axis2", "Flatten axis 2: [2,3,2,2] -> [6,4]")
def _(g): unary(g, "Flatten", (2, 3, 2, 2), axis=2)


@case("transpose_nhwc", "Transpose perm [0,2,3,1]")
def _(g): unary(g, "Transpose", (1, 3, 2, 4), perm=[0, 2, 3, 1])


@case("transpose_default", "Transpose with no perm (reverses the axes)")
def _(g): unary(g, "Transpose", (2, 3, 4))


@case("squeeze_opset11", "Squeeze axes=[2,3] attribute (opset 11)", opset=11)
def _(g): unary(g, "Squeeze", (1, 4, 1, 1), axes=[2, 3])


@case("squeeze_opset13", "Squeeze with axes input [-1] (opset 13)")
def _(g):
    g.node("Squeeze", [g.input("x", [2, 3, 1]), g.i64("axes", [-1])], "y")
    g.output("y")


@case("unsqueeze_opset11", "Unsqueeze axes=[0,3] attribute (opset 11)", opset=11)
def _(g): unary(g, "Unsqueeze", (3, 4), axes=[0, 3])


@case("unsqueeze_opset13", "Unsqueeze with axes input [1,-1] (opset 13)")
def _(g):
    g.node("Unsqueeze", [g.input("x", [3, 4]), g.i64("axes", [1, -1])], "y")
    g.output("y")


def pad_case(g, mode, pads, value=None):
    ins = [g.input("x", [1, 2, 4, 5]), g.i64("pads", pads)] + ([g.f32("value", value)] if value is not None else [])
    g.node("Pad", ins, "y", mode=mode)
    g.output("y")


@case("pad_constant", "Pad constant 0.5, pads [0,0,1,2, 0,0,2,1] (begin of all axes, then end)")
def _(g): pad_case(g, "constant", [0, 0, 1, 2, 0, 0, 2, 1], 0.5)


@case("pad_constant_default", "Pad constant with no value input (zero), opset 11", opset=11)
def _(g): pad_case(g, "constant", [0, 0, 1, 1, 0, 0, 1, 1])


@case("pad_reflect", "Pad reflect, pads [0,0,2,1, 0,0,1,3]")
def _(g): pad_case(g, "reflect", [0, 0, 2, 1, 0, 0, 1, 3])


@case("pad_edge", "Pad edge, pads [0,0,1,3, 0,0,2,0]")
def _(g): pad_case(g, "edge", [0, 0, 1, 3, 0, 0, 2, 0])


def resize_case(g, shape, scales=None, sizes=None, **attrs):
    ins = [g.input("x", shape), "", g.f32("scales", scales) if scales is not None else ""]
    if sizes is not None:
        ins.append(g.i64("sizes", sizes))
    g.node("Resize", ins, "y", **attrs)
    g.output("y")


@case("resize_nearest_asymmetric_floor", "Resize nearest x2, asymmetric, floor, with scales (PyTorch nearest)")
def _(g): resize_case(g, [1, 2, 3, 4], scales=[1, 1, 2, 2], mode="nearest",
                      coordinate_transformation_mode="asymmetric", nearest_mode="floor")


@case("resize_nearest_sizes_default", "Resize nearest to sizes [1,2,6,9] from 4x3 with the defaults "
      "(half_pixel, round_prefer_floor)")
def _(g): resize_case(g, [1, 2, 4, 3], sizes=[1, 2, 6, 9], mode="nearest")


@case("resize_linear_half_pixel", "Resize linear x2, half_pixel, with scales (bilinear, align_corners=False)")
def _(g): resize_case(g, [1, 2, 3, 4], scales=[1, 1, 2, 2], mode="linear", coordinate_transformation_mode="half_pixel")


@case("resize_linear_align_corners_sizes", "Resize linear to sizes [1,2,7,5] from 4x3, align_corners")
def _(g): resize_case(g, [1, 2, 4, 3], sizes=[1, 2, 7, 5], mode="linear",
                      coordinate_transformation_mode="align_corners")


@case("resize_linear_pytorch_half_pixel", "Resize linear scales [1,1,1.5,2.5], pytorch_half_pixel")
def _(g): resize_case(g, [1, 2, 4, 2], scales=[1, 1, 1.5, 2.5], mode="linear",
                      coordinate_transformation_mode="pytorch_half_pixel")


@case("resize_linear_downsample", "Resize linear scales 0.5 (downsampling), half_pixel")
def _(g): resize_case(g, [1, 2, 6, 8], scales=[1, 1, 0.5, 0.5], mode="linear",
                      coordinate_transformation_mode="half_pixel")


@case("expand", "Expand [3,1] to [2,3,4]")
def _(g):
    g.node("Expand", [g.input("x", [3, 1]), g.i64("shape", [2, 3, 4])], "y")
    g.output("y")


@case("channel_shuffle", "Channel shuffle with 2 groups: Reshape [1,2,3,3,3] -> Transpose [0,2,1,3,4] -> Reshape")
def _(g):
    r = g.node("Reshape", [g.input("x", [1, 6, 3, 3]), g.i64("s1", [1, 2, 3, 3, 3])], "r")
    t = g.node("Transpose", [r], "t", perm=[0, 2, 1, 3, 4])
    g.node("Reshape", [t, g.i64("s2", [1, 6, 3, 3])], "y")
    g.output("y")


# =================================================================================================================
# softmax, reductions, normalization


@case("softmax_axis_last", "Softmax axis -1 on [2,3,5] (opset 13)")
def _(g): unary(g, "Softmax", (2, 3, 5), data=spread(g, (2, 3, 5), 2.0), axis=-1)


@case("softmax_axis1_opset13", "Softmax axis 1 on [2,3,4] (opset 13: over axis 1 only)")
def _(g): unary(g, "Softmax", (2, 3, 4), data=spread(g, (2, 3, 4), 2.0), axis=1)


@case("softmax_axis1_opset11", "Softmax axis 1 on [2,3,4] (opset 11: flattened to [2,12], over 12 values)",
      opset=11)
def _(g): unary(g, "Softmax", (2, 3, 4), data=spread(g, (2, 3, 4), 2.0), axis=1)


@case("softmax_default_opset11", "Softmax with the default axis (1) on logits [3,10], opset 11", opset=11)
def _(g): unary(g, "Softmax", (3, 10), data=spread(g, (3, 10), 2.0))


@case("reducemean_keepdims1", "ReduceMean axes [2,3] keepdims 1 (opset 13 attribute)")
def _(g): unary(g, "ReduceMean", (1, 3, 4, 5), axes=[2, 3], keepdims=1)


@case("reducemean_keepdims0", "ReduceMean axes [-1] keepdims 0 (opset 13 attribute)")
def _(g): unary(g, "ReduceMean", (2, 3, 4), axes=[-1], keepdims=0)


@case("reducemean_all", "ReduceMean without axes: over all elements, keepdims 0")
def _(g): unary(g, "ReduceMean", (2, 3, 4), keepdims=0)


@case("reducemean_opset18_axes_input", "ReduceMean with axes input [2,3] and keepdims 0 (opset 18)", opset=18)
def _(g):
    g.node("ReduceMean", [g.input("x", [1, 3, 4, 5]), g.i64("axes", [2, 3])], "y", keepdims=0)
    g.output("y")


@case("batchnormalization", "BatchNormalization directly on a graph input [2,3,4,4] (not after a conv)")
def _(g):
    x = g.input("x", [2, 3, 4, 4])
    bn = [g.f32("gamma", g.rng.uniform(0.5, 1.5, 3)), g.f32("beta", g.rng.uniform(-0.5, 0.5, 3)),
          g.f32("mean", g.rng.uniform(-0.5, 0.5, 3)), g.f32("var", g.rng.uniform(0.5, 2.0, 3))]
    g.node("BatchNormalization", [x] + bn, "y", epsilon=1e-5)
    g.output("y")


# =================================================================================================================
# math


@case("cast_float_to_int64", "Cast float -> int64 (truncates toward zero); int64 output")
def _(g):
    g.node("Cast", [g.input("x", [2, 5], spread(g, (2, 5)))], "y", to=TensorProto.INT64)
    g.output("y", dtype=TensorProto.INT64)


@case("cast_int64_to_float", "Cast int64 input -> float")
def _(g):
    g.node("Cast", [g.input("x", [2, 5], g.rng.integers(-50, 50, (2, 5)).astype(np.int64))], "y",
           to=TensorProto.FLOAT)
    g.output("y")


@case("pow_square", "Pow x ^ 2.0 (scalar exponent)")
def _(g): binary(g, "Pow", g.input("x", [1, 3, 4, 4]), g.f32("e", 2.0))


@case("pow_fractional", "Pow x ^ e with positive x and per-element exponents in 0.5..3 (both inputs)")
def _(g):
    binary(g, "Pow", g.input("x", [2, 6], g.rng.uniform(0.1, 3.0, (2, 6)).astype(np.float32)),
           g.input("e", [2, 6], g.rng.uniform(0.5, 3.0, (2, 6)).astype(np.float32)))


@case("sqrt", "Sqrt of non-negative input")
def _(g): unary(g, "Sqrt", data=np.abs(spread(g, (1, 3, 4, 4))))


@case("erf", "Erf")
def _(g): unary(g, "Erf", data=spread(g, (1, 3, 4, 4), 1.5))


@case("gelu_erf_pattern", "GELU as exported by PyTorch: x * 0.5 * (1 + Erf(x / sqrt 2))")
def _(g):
    x = g.input("x", [2, 8], spread(g, (2, 8), 2.0))
    e = g.node("Erf", [g.node("Div", [x, g.f32("sqrt2", 1.4142135)], "d")], "e")
    m = g.node("Mul", [x, g.node("Add", [e, g.f32("one", 1.0)], "a")], "m")
    g.node("Mul", [m, g.f32("half", 0.5)], "y")
    g.output("y")


# =================================================================================================================
# exported shape arithmetic and graph clutter


@case("shape_gather_reshape", "x.view(x.size(0), -1) as traced: Shape -> Gather -> Unsqueeze -> Concat -> Reshape")
def _(g):
    x = g.input("x", [2, 3, 2, 2])
    s = g.node("Shape", [x], "s")
    n = g.node("Gather", [s, g.node("Constant", [], "zero", value=numpy_helper.from_array(np.array(0, np.int64)))],
               "n", axis=0)
    n1 = g.node("Unsqueeze", [n, g.i64("axes", [0])], "n1")
    shape = g.node("Concat", [n1, g.i64("minus_one", [-1])], "shape", axis=0)
    g.node("Reshape", [x, shape], "y")
    g.output("y")


@case("shape_slice_reshape", "Shape -> Slice [0:2] -> Concat [-1] -> Reshape: [2,3,2,2] -> [2,3,4]")
def _(g):
    x = g.input("x", [2, 3, 2, 2])
    s = g.node("Shape", [x], "s")
    head = g.node("Slice", [s, g.i64("st", [0]), g.i64("en", [2])], "head")
    g.node("Reshape", [x, g.node("Concat", [head, g.i64("m1", [-1])], "shape", axis=0)], "y")
    g.output("y")


@case("range_from_shape", "Range(0, width, 1) from Shape -> Gather, Cast to float, added to x (position ramp)")
def _(g):
    x = g.input("x", [1, 2, 3, 5])
    w = g.node("Gather", [g.node("Shape", [x], "s"), g.i64("idx", 3)], "w", axis=0)
    r = g.node("Range", [g.i64("start", 0), w, g.i64("delta", 1)], "r")
    g.node("Add", [x, g.node("Cast", [r], "rf", to=TensorProto.FLOAT)], "y")
    g.output("y")


@case("constantofshape", "ConstantOfShape(Shape(x), value 2.5) * x")
def _(g):
    x = g.input("x", [1, 3, 2, 4])
    c = g.node("ConstantOfShape", [g.node("Shape", [x], "s")], "c",
               value=numpy_helper.from_array(np.array([2.5], np.float32)))
    g.node("Mul", [c, x], "y")
    g.output("y")


@case("constant_node", "Constant nodes: a tensor [1,3,1,1] added, then a value_float scalar multiplied")
def _(g):
    x = g.input("x", [1, 3, 2, 2])
    c = g.node("Constant", [], "c", value=numpy_helper.from_array(np.array([1.0, -2.0, 0.5], np.float32).reshape(1, 3, 1, 1)))
    k = g.node("Constant", [], "k", value_float=3.0)
    g.node("Mul", [g.node("Add", [x, c], "a"), k], "y")
    g.output("y")


@case("identity_dropout", "Identity and Dropout (inference: no-ops) around a Relu; Dropout with ratio input and "
      "unused mask output")
def _(g):
    i = g.node("Identity", [g.input("x", [1, 3, 4, 4])], "i")
    d = g.node("Dropout", [i, g.f32("ratio", 0.3)], ["d", "mask"])[0]
    r = g.node("Relu", [d], "r")
    g.node("Identity", [g.node("Dropout", [r], "d2")], "y")
    g.output("y")


@case("dropout_opset11", "Dropout with ratio attribute (opset 11) before a Relu", opset=11)
def _(g):
    g.node("Relu", [g.node("Dropout", [g.input("x", [2, 6])], "d", ratio=0.5)], "y")
    g.output("y")


@case("symbolic_batch", "Input [N,3,8,8] with a symbolic batch; fixture feeds N=2; Conv Relu GAP Flatten Gemm")
def _(g):
    x = g.input("x", [2, 3, 8, 8], dims=["N", 3, 8, 8])
    c = g.node("Conv", [x, g.weight("w", [4, 3, 3, 3]), g.weight("b", [4], fan_in=1)], "c", kernel_shape=[3, 3],
               pads=[1, 1, 1, 1])
    f = g.node("Flatten", [g.node("GlobalAveragePool", [g.node("Relu", [c], "r")], "p")], "f")
    g.node("Gemm", [f, g.weight("fc_w", [5, 4]), g.weight("fc_b", [5], fan_in=1)], "y", transB=1)
    g.output("y")


# =================================================================================================================
# file-level features


@case("external_data", "Conv whose initializers live in weights.bin next to model.onnx (external data)")
def _(g):
    g.save_external = True
    conv(g, [1, 3, 5, 5], [4, 3, 3, 3], kernel_shape=[3, 3], pads=[1, 1, 1, 1])


@case("initializer_raw_data", "Initializers stored as raw_data bytes (the usual exporter form)")
def _(g):
    g.node("Gemm", [g.input("a", [2, 4]), g.weight("b", [3, 4]), g.weight("c", [3], fan_in=1)], "y", transB=1)
    g.output("y")


@case("initializer_typed_data", "Initializers stored in float_data / int64_data fields instead of raw_data")
def _(g):
    w = (g.rng.standard_normal((3, 4)) / 2).astype(np.float32)
    g.inits.append(helper.make_tensor("w", TensorProto.FLOAT, [3, 4], w.flatten().tolist(), raw=False))
    g.inits.append(helper.make_tensor("bias", TensorProto.FLOAT, [3], [0.25, -0.5, 1.0], raw=False))
    g.inits.append(helper.make_tensor("shape", TensorProto.INT64, [2], [1, -1], raw=False))
    mm = g.node("Gemm", [g.input("a", [2, 4]), "w", "bias"], "mm", transB=1)
    g.node("Reshape", [mm, "shape"], "y")
    g.output("y")


@case("mini_net", "Conv BN Relu MaxPool Conv Relu GlobalAveragePool Flatten Gemm Softmax on [1,1,8,8]")
def _(g):
    x = g.input("x", [1, 1, 8, 8])
    c = g.node("Conv", [x, g.weight("w1", [4, 1, 3, 3])], "c1", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    bn = [g.f32("gamma", g.rng.uniform(0.5, 1.5, 4)), g.f32("beta", g.rng.uniform(-0.5, 0.5, 4)),
          g.f32("mean", g.rng.uniform(-0.2, 0.2, 4)), g.f32("var", g.rng.uniform(0.5, 2.0, 4))]
    r = g.node("Relu", [g.node("BatchNormalization", [c] + bn, "bn")], "r1")
    p = g.node("MaxPool", [r], "p", kernel_shape=[2, 2], strides=[2, 2])
    c2 = g.node("Conv", [p, g.weight("w2", [6, 4, 3, 3]), g.weight("b2", [6], fan_in=1)], "c2", kernel_shape=[3, 3],
                pads=[1, 1, 1, 1])
    f = g.node("Flatten", [g.node("GlobalAveragePool", [g.node("Relu", [c2], "r2")], "gap")], "f")
    logits = g.node("Gemm", [f, g.weight("fc_w", [10, 6]), g.weight("fc_b", [10], fan_in=1)], "logits", transB=1)
    g.node("Softmax", [logits], "y", axis=-1)
    g.output("y")


# =================================================================================================================

README_HEAD = """# Converter fixtures

Generated by `scripts/make_fixtures.py` (numpy + onnx + onnxruntime {ort}); do not edit by hand. Regenerate with

    .venv/bin/python scripts/make_fixtures.py

Each directory is one case: a tiny ONNX model exercising one operator or feature, with golden data.

- `model.onnx` — the model (`external_data/` also has `weights.bin`, its initializers as ONNX external data).
- `input_<i>.npy` — the i-th graph input (graph input order; initializers are not inputs). float32 unless the
  case needs another type (`cast_int64_to_float` takes int64).
- `output_<i>.npy` — the i-th graph output (graph output order), computed by ONNX Runtime on the CPU provider
  with graph optimizations disabled (`ORT_DISABLE_ALL`), 1 thread. float32, or int64 (`cast_float_to_int64`).

Inputs are seeded per case (crc32 of its name), so regenerating gives byte-identical `.npy` files on the same
onnxruntime version. Compare as the Swift tests do: `max |sparrow - ort| <= 1e-4 * max |ort|` (exact for int64).
Declared output shapes in the models are the concrete ones ORT produced (`symbolic_batch` declares `N`).

| case | opset | what it covers | outputs |
|---|---|---|---|
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="Tests/SparrowConvertTests/Fixtures")
    ap.add_argument("--cases", default="", help="comma-separated subset (default: all; README only when all)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = [c for c in args.cases.split(",") if c]
    known = {c[0] for c in CASES}
    assert len(known) == len(CASES), "duplicate case name"
    unknown = set(names) - known
    if unknown:
        raise SystemExit(f"unknown case(s): {', '.join(sorted(unknown))}")
    if not names:  # full run: drop case directories that no longer exist in this script
        for d in out.iterdir():
            if d.is_dir() and (d / "model.onnx").exists() and d.name not in known:
                shutil.rmtree(d)
    rows = []
    for name, doc, opset, build in CASES:
        if names and name not in names:
            continue
        shapes = run_case(name, doc, opset, build, out)
        rows.append(f"| `{name}` | {opset} | {doc} | {', '.join('x'.join(map(str, s)) or 'scalar' for s in shapes)} |")
    if not names:
        (out / "README.md").write_text(README_HEAD.format(ort=ort.__version__) + "\n".join(rows) + "\n")
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{len(rows)} cases written to {out}; directory total {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
