#!/usr/bin/env python3
"""Build the model zoo: standard CNN architectures as ONNX files with random weights.

    make_zoo.py --out build/zoo [--models resnet18,mobilenet_v2] [--no-check]

Each model is 1x3x224x224 -> 1000 logits with He-initialized weights and BatchNormalization kept as separate
nodes, so that the converter has to fold it. The graphs are deliberately "exported-style" (Constant nodes,
Shape->Gather->Unsqueeze->Concat->Reshape flattens, Clip for ReLU6, Dropout/Identity left in, symbolic batch
dimensions, opsets 11..21), because that is what real PyTorch and Paddle exports look like.

The builder evaluates every node in numpy while it builds the graph (batch 1, a seeded calibration image). That
serves two purposes: BatchNorm running statistics are set near the real activation statistics (perturbed), so
activations stay O(1) through 50+ layers instead of vanishing or exploding; and the numpy result is an
independent reference that the onnxruntime output is checked against.

Writes build/zoo/<name>.onnx and build/zoo/<name>.input.npy (float32, 1x3x224x224, seeded).
Needs numpy + onnx; onnxruntime only for the checks (skip them with --no-check).
"""
import argparse
import math
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# ---------------------------------------------------------------------------------------------------------------
# numpy reference ops (batch 1 is enough for calibration; all shapes NCHW)


def np_conv(x, w, b, stride, pad, groups, dilation=1):
    n, c, h, wd = x.shape
    cout, cin_g, kh, kw = w.shape
    ekh, ekw = (kh - 1) * dilation + 1, (kw - 1) * dilation + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[2]), (pad[1], pad[3])))
    ho = (xp.shape[2] - ekh) // stride + 1
    wo = (xp.shape[3] - ekw) // stride + 1

    def tap(i, j):  # the input pixels that kernel tap (i, j) sees, for every output pixel
        r, q = i * dilation, j * dilation
        return xp[:, :, r:r + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]

    if groups == c and cin_g == 1 and cout == c:  # depthwise: shift-and-accumulate beats im2col by far
        out = np.zeros((n, c, ho, wo), np.float32)
        for i in range(kh):
            for j in range(kw):
                out += tap(i, j) * w[:, 0, i, j][None, :, None, None]
    else:
        cols = np.stack([tap(i, j) for i in range(kh) for j in range(kw)], axis=2)  # n, c, kh*kw, ho, wo
        cols = cols.reshape(n, groups, cin_g * kh * kw, ho * wo)
        wg = w.reshape(groups, cout // groups, cin_g * kh * kw)
        out = np.einsum("gok,ngkp->ngop", wg, cols, optimize=True).reshape(n, cout, ho, wo)
    if b is not None:
        out = out + b[None, :, None, None]
    return out.astype(np.float32)


def pool_out_size(n, k, s, p0, p1, ceil):
    span = n + p0 + p1 - k
    o = (-(-span // s) if ceil else span // s) + 1
    if ceil and (o - 1) * s >= n + p0:  # a window that starts in the right padding is dropped (ONNX rule)
        o -= 1
    return o


def np_maxpool(x, k, s, p, ceil):
    h, w = x.shape[2:]
    ho, wo = pool_out_size(h, k, s, p, p, ceil), pool_out_size(w, k, s, p, p, ceil)
    xp = np.pad(x, ((0, 0), (0, 0), (p, (ho - 1) * s + k - h - p), (p, (wo - 1) * s + k - w - p)),
                constant_values=-np.inf)
    out = np.full((x.shape[0], x.shape[1], ho, wo), -np.inf, np.float32)
    for i in range(k):
        for j in range(k):
            out = np.maximum(out, xp[:, :, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s])
    return out


def sigmoid(x):
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


def hardsigmoid(x):
    return np.clip(x / 6.0 + 0.5, 0.0, 1.0).astype(np.float32)


def make_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


# ---------------------------------------------------------------------------------------------------------------
# graph builder: every method appends ONNX nodes and returns the output name; self.val holds its numpy value


class Net:
    def __init__(self, name, opset, seed, *, input_name="input", batch_dim=1, clip_consts="init",
                 output_name="output", producer="pytorch"):
        self.name, self.opset = name, opset
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.val = {}
        self.macs = 0
        self.count = {}
        self.input_name, self.batch_dim, self.output_name = input_name, batch_dim, output_name
        self.clip_consts = clip_consts  # "init" or "node": where Clip's min/max come from
        self.producer = producer
        self._shared = {}

    def fresh(self, prefix):
        i = self.count.get(prefix, 0)
        self.count[prefix] = i + 1
        return f"{prefix}_{i}"

    def init(self, prefix, array):
        name = self.fresh(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        self.val[name] = np.asarray(array)
        return name

    def constant(self, prefix, array):
        """A Constant node, as exporters emit for shapes and scalars."""
        array = np.asarray(array)
        out = self.fresh(prefix)
        self.nodes.append(helper.make_node("Constant", [], [out], name=out + "_node",
                                           value=numpy_helper.from_array(array)))
        self.val[out] = array
        return out

    def shared_scalar(self, value):
        """Exporters reuse one initializer for repeated scalars (Clip's 0 and 6); so do we."""
        key = ("scalar", value)
        if key not in self._shared:
            self._shared[key] = self.init("const_f", np.array(value, np.float32))
        return self._shared[key]

    def node(self, op, inputs, value, **attrs):
        out = self.fresh(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out + "_node", **attrs))
        self.val[out] = value
        return out

    def shape(self, x):
        return self.val[x].shape

    # -- layers ---------------------------------------------------------------------------------------------------
    def conv(self, x, cout, k, stride=1, groups=1, bias=False, pad=None):
        cin = self.shape(x)[1]
        kh, kw = (k, k) if isinstance(k, int) else k
        p = pad if pad is not None else (kh // 2, kw // 2, kh // 2, kw // 2)
        fan_in = cin // groups * kh * kw
        w = (self.rng.standard_normal((cout, cin // groups, kh, kw)) * math.sqrt(2.0 / fan_in)).astype(np.float32)
        b = self.rng.uniform(-0.1, 0.1, cout).astype(np.float32) if bias else None
        inputs = [x, self.init("conv_w", w)] + ([self.init("conv_b", b)] if bias else [])
        y = np_conv(self.val[x], w, b, stride, p, groups)
        self.macs += y.shape[1] * y.shape[2] * y.shape[3] * fan_in
        return self.node("Conv", inputs, y, kernel_shape=[kh, kw], strides=[stride, stride], pads=list(p),
                         group=groups, dilations=[1, 1])

    def bn(self, x):
        """BatchNormalization whose running stats are the real stats of the calibration image, perturbed."""
        v = self.val[x].astype(np.float64)
        c = v.shape[1]
        mu, sd = v.mean(axis=(0, 2, 3)), np.maximum(v.std(axis=(0, 2, 3)), 1e-2)
        mean = (mu + 0.2 * sd * self.rng.standard_normal(c)).astype(np.float32)
        var = (sd ** 2 * self.rng.uniform(0.6, 1.6, c)).astype(np.float32)
        gamma = self.rng.uniform(0.5, 1.0, c).astype(np.float32)
        beta = self.rng.uniform(-0.2, 0.2, c).astype(np.float32)
        eps = 1e-5 if self.producer == "pytorch" else 1e-3
        y = ((v - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps) * gamma[None, :, None, None]
             + beta[None, :, None, None]).astype(np.float32)
        names = [self.init(p, a) for p, a in (("bn_scale", gamma), ("bn_bias", beta), ("bn_mean", mean),
                                               ("bn_var", var))]
        return self.node("BatchNormalization", [x] + names, y, epsilon=eps, momentum=0.9)

    def relu(self, x):
        return self.node("Relu", [x], np.maximum(self.val[x], 0))

    def relu6(self, x):
        if self.clip_consts == "node":
            lo, hi = self.constant("clip_min", np.array(0, np.float32)), self.constant("clip_max", np.array(6, np.float32))
        else:
            lo, hi = self.shared_scalar(0.0), self.shared_scalar(6.0)
        return self.node("Clip", [x, lo, hi], np.clip(self.val[x], 0, 6))

    def hardswish(self, x):
        return self.node("HardSwish", [x], (self.val[x] * hardsigmoid(self.val[x])).astype(np.float32))

    def hardsigmoid(self, x):
        return self.node("HardSigmoid", [x], hardsigmoid(self.val[x]), alpha=1.0 / 6, beta=0.5)

    def sigmoid(self, x):
        return self.node("Sigmoid", [x], sigmoid(self.val[x]))

    def silu(self, x):
        return self.mul(x, self.sigmoid(x))  # PyTorch exports SiLU this way below opset 24

    def act(self, x, kind):
        return {"relu": self.relu, "relu6": self.relu6, "hswish": self.hardswish, "silu": self.silu,
                None: lambda t: t}[kind](x)

    def add(self, a, b):
        return self.node("Add", [a, b], self.val[a] + self.val[b])

    def mul(self, a, b):
        return self.node("Mul", [a, b], (self.val[a] * self.val[b]).astype(np.float32))

    def concat(self, xs, axis=1):
        return self.node("Concat", xs, np.concatenate([self.val[x] for x in xs], axis=axis), axis=axis)

    def maxpool(self, x, k, s, p, ceil=False):
        return self.node("MaxPool", [x], np_maxpool(self.val[x], k, s, p, ceil), kernel_shape=[k, k],
                         strides=[s, s], pads=[p] * 4, ceil_mode=int(ceil))

    def gap(self, x):
        return self.node("GlobalAveragePool", [x], self.val[x].mean(axis=(2, 3), keepdims=True))

    def reduce_mean_hw(self, x):
        """torch's x.mean([2, 3]) export: ReduceMean without keepdims; axes moved to an input in opset 18."""
        y = self.val[x].mean(axis=(2, 3))
        if self.opset >= 18:
            return self.node("ReduceMean", [x, self.init("axes", np.array([2, 3], np.int64))], y, keepdims=0)
        return self.node("ReduceMean", [x], y, axes=[2, 3], keepdims=0)

    def dropout(self, x):
        if self.opset < 12:
            return self.node("Dropout", [x], self.val[x], ratio=0.2)
        return self.node("Dropout", [x], self.val[x])

    def identity(self, x):
        return self.node("Identity", [x], self.val[x])

    def reshape(self, x, shape_name, shape):
        return self.node("Reshape", [x, shape_name], self.val[x].reshape(shape))

    def transpose(self, x, perm):
        return self.node("Transpose", [x], self.val[x].transpose(perm), perm=list(perm))

    def unsqueeze0(self, x):
        y = np.expand_dims(self.val[x], 0)
        if self.opset >= 13:
            return self.node("Unsqueeze", [x, self.constant("axes", np.array([0], np.int64))], y)
        return self.node("Unsqueeze", [x], y, axes=[0])

    def split2(self, x):
        """torch.chunk(x, 2, dim=1) as exported: Split with explicit sizes (an input since opset 13)."""
        c = self.shape(x)[1]
        halves = np.split(self.val[x], 2, axis=1)
        outs = [self.fresh("split") for _ in range(2)]
        if self.opset >= 13:
            sizes = self.constant("split_sizes", np.array([c // 2, c // 2], np.int64))
            self.nodes.append(helper.make_node("Split", [x, sizes], outs, name=outs[0] + "_node", axis=1))
        else:
            self.nodes.append(helper.make_node("Split", [x], outs, name=outs[0] + "_node", axis=1,
                                               split=[c // 2, c // 2]))
        for o, h in zip(outs, halves):
            self.val[o] = h
        return outs

    def flatten(self, x):
        v = self.val[x]
        return self.node("Flatten", [x], v.reshape(v.shape[0], -1), axis=1)

    def flatten_exported(self, x):
        """x.view(x.size(0), -1) as traced with a dynamic batch: Shape -> Gather -> Unsqueeze -> Concat -> Reshape."""
        v = self.val[x]
        shp = self.node("Shape", [x], np.array(v.shape, np.int64))
        idx = self.constant("gather_idx", np.array(0, np.int64))
        n = self.node("Gather", [shp, idx], np.array(v.shape[0], np.int64), axis=0)
        n1 = self.unsqueeze0(n)
        minus1 = self.constant("minus_one", np.array([-1], np.int64))
        target = self.node("Concat", [n1, minus1], np.array([v.shape[0], -1], np.int64), axis=0)
        return self.node("Reshape", [x, target], v.reshape(v.shape[0], -1))

    def gemm(self, x, nout):
        nin = self.shape(x)[1]
        w = (self.rng.standard_normal((nout, nin)) * math.sqrt(2.0 / nin)).astype(np.float32)
        b = self.rng.uniform(-0.1, 0.1, nout).astype(np.float32)
        self.macs += nin * nout
        return self.node("Gemm", [x, self.init("fc_w", w), self.init("fc_b", b)], self.val[x] @ w.T + b,
                         alpha=1.0, beta=1.0, transB=1)

    # -- composite blocks -------------------------------------------------------------------------------------------
    def conv_bn_act(self, x, cout, k, stride=1, groups=1, act="relu"):
        return self.act(self.bn(self.conv(x, cout, k, stride, groups)), act)

    def squeeze_excite(self, x, squeeze, inner_act, gate):
        c = self.shape(x)[1]
        s = self.gap(x)
        s = self.act(self.conv(s, squeeze, 1, bias=True), inner_act)
        s = self.conv(s, c, 1, bias=True)
        s = self.sigmoid(s) if gate == "sigmoid" else self.hardsigmoid(s)
        return self.mul(x, s)

    # -- output ---------------------------------------------------------------------------------------------------
    def finish(self, x):
        """Rename the last node's output to the graph output name and wrap everything in a ModelProto."""
        last = self.nodes[-1]
        last.output[0] = self.output_name
        self.val[self.output_name] = self.val[x]
        n = self.val[x].shape[0]
        batch = self.batch_dim
        inp = helper.make_tensor_value_info(self.input_name, TensorProto.FLOAT, [batch, 3, 224, 224])
        out = helper.make_tensor_value_info(self.output_name, TensorProto.FLOAT,
                                            [batch if isinstance(batch, str) else n, self.val[x].shape[1]])
        graph = helper.make_graph(self.nodes, self.name, [inp], [out], initializer=self.inits)
        opset = [helper.make_opsetid("", self.opset)]
        model = helper.make_model(graph, opset_imports=opset, producer_name=self.producer,
                                  ir_version=helper.find_min_ir_version_for(opset))
        return model


def start(name, opset, **kw):
    """A Net with its input tensor evaluated on a seeded calibration image (distinct from the shipped input)."""
    net = Net(name, opset, zlib.crc32(name.encode()), **kw)
    net.val[net.input_name] = calibration_input(name)
    return net, net.input_name


def calibration_input(name):
    return np.random.default_rng(zlib.crc32(("calib:" + name).encode())).standard_normal((1, 3, 224, 224)).astype(np.float32)


def test_input(name):
    return np.random.default_rng(zlib.crc32(("input:" + name).encode())).standard_normal((1, 3, 224, 224)).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------------
# one builder per family; channel/stride tables follow torchvision


def mobilenet_v1():
    net, x = start("mobilenet_v1", 11, input_name="input.1", clip_consts="node")
    x = net.conv_bn_act(x, 32, 3, 2, act="relu6")
    for cout, s in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]:
        x = net.conv_bn_act(x, net.shape(x)[1], 3, s, groups=net.shape(x)[1], act="relu6")
        x = net.conv_bn_act(x, cout, 1, act="relu6")
    x = net.flatten(net.gap(x))
    return net.finish(net.gemm(x, 1000)), net


def mobilenet_v2():
    net, x = start("mobilenet_v2", 13, batch_dim="N")
    x = net.conv_bn_act(x, 32, 3, 2, act="relu6")
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1)]:
        for i in range(n):
            cin, stride = net.shape(x)[1], s if i == 0 else 1
            y = net.conv_bn_act(x, cin * t, 1, act="relu6") if t != 1 else x
            y = net.conv_bn_act(y, cin * t, 3, stride, groups=cin * t, act="relu6")
            y = net.conv_bn_act(y, c, 1, act=None)
            x = net.add(x, y) if stride == 1 and cin == c else y
    x = net.conv_bn_act(x, 1280, 1, act="relu6")
    x = net.dropout(net.flatten_exported(net.gap(x)))
    return net.finish(net.gemm(x, 1000)), net


def _mobilenet_v3(name, opset, cfg, last_conv, hidden, **kw):
    net, x = start(name, opset, **kw)
    x = net.conv_bn_act(x, 16, 3, 2, act="hswish")
    for k, exp, cout, se, nl, s in cfg:
        cin = net.shape(x)[1]
        act = "relu" if nl == "RE" else "hswish"
        y = net.conv_bn_act(x, exp, 1, act=act) if exp != cin else x
        y = net.conv_bn_act(y, exp, k, s, groups=exp, act=act)
        if se:
            y = net.squeeze_excite(y, make_divisible(exp // 4), "relu", "hardsigmoid")
        y = net.conv_bn_act(y, cout, 1, act=None)
        x = net.add(x, y) if s == 1 and cin == cout else y
    x = net.conv_bn_act(x, last_conv, 1, act="hswish")
    x = net.flatten(net.gap(x))
    x = net.dropout(net.hardswish(net.gemm(x, hidden)))
    return net.finish(net.gemm(x, 1000)), net


def mobilenet_v3_small():
    cfg = [(3, 16, 16, 1, "RE", 2), (3, 72, 24, 0, "RE", 2), (3, 88, 24, 0, "RE", 1), (5, 96, 40, 1, "HS", 2),
           (5, 240, 40, 1, "HS", 1), (5, 240, 40, 1, "HS", 1), (5, 120, 48, 1, "HS", 1), (5, 144, 48, 1, "HS", 1),
           (5, 288, 96, 1, "HS", 2), (5, 576, 96, 1, "HS", 1), (5, 576, 96, 1, "HS", 1)]
    return _mobilenet_v3("mobilenet_v3_small", 17, cfg, 576, 1024)


def mobilenet_v3_large():
    cfg = [(3, 16, 16, 0, "RE", 1), (3, 64, 24, 0, "RE", 2), (3, 72, 24, 0, "RE", 1), (5, 72, 40, 1, "RE", 2),
           (5, 120, 40, 1, "RE", 1), (5, 120, 40, 1, "RE", 1), (3, 240, 80, 0, "HS", 2), (3, 200, 80, 0, "HS", 1),
           (3, 184, 80, 0, "HS", 1), (3, 184, 80, 0, "HS", 1), (3, 480, 112, 1, "HS", 1), (3, 672, 112, 1, "HS", 1),
           (5, 672, 160, 1, "HS", 2), (5, 960, 160, 1, "HS", 1), (5, 960, 160, 1, "HS", 1)]
    # Styled after a Paddle2ONNX export: input "x", a named dynamic batch dim, a path-like output name.
    return _mobilenet_v3("mobilenet_v3_large", 18, cfg, 960, 1280, input_name="x",
                         batch_dim="p2o.DynamicDimension.0", output_name="save_infer_model/scale_0.tmp_1",
                         producer="PaddlePaddle")


def efficientnet_b0():
    net, x = start("efficientnet_b0", 21, batch_dim="N")
    x = net.conv_bn_act(x, 32, 3, 2, act="silu")
    for t, k, s, cout, n in [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
                             (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]:
        for i in range(n):
            cin, stride = net.shape(x)[1], s if i == 0 else 1
            y = net.conv_bn_act(x, cin * t, 1, act="silu") if t != 1 else x
            y = net.conv_bn_act(y, cin * t, k, stride, groups=cin * t, act="silu")
            y = net.squeeze_excite(y, max(1, cin // 4), "silu", "sigmoid")
            y = net.conv_bn_act(y, cout, 1, act=None)
            x = net.add(x, y) if stride == 1 and cin == cout else y
    x = net.conv_bn_act(x, 1280, 1, act="silu")
    x = net.dropout(net.flatten_exported(net.gap(x)))
    return net.finish(net.gemm(x, 1000)), net


def _resnet_stem(net, x):
    x = net.conv_bn_act(x, 64, 7, 2)
    return net.maxpool(x, 3, 2, 1)


def _downsample(net, x, cout, stride):
    if stride == 1 and net.shape(x)[1] == cout:
        return x
    return net.bn(net.conv(x, cout, 1, stride))


def resnet18():
    net, x = start("resnet18", 11, input_name="input.1")
    x = _resnet_stem(net, x)
    for width, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        for i in range(2):
            s = stride if i == 0 else 1
            y = net.conv_bn_act(x, width, 3, s)
            y = net.bn(net.conv(y, width, 3))
            x = net.relu(net.add(y, _downsample(net, x, width, s)))
    x = net.identity(net.flatten(net.gap(x)))  # an export leftover the converter should drop
    return net.finish(net.gemm(x, 1000)), net


def resnet50():
    net, x = start("resnet50", 13, batch_dim="N")
    x = _resnet_stem(net, x)
    for width, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for i in range(blocks):
            s = stride if i == 0 else 1  # torchvision v1.5: the stride sits on the 3x3 conv
            y = net.conv_bn_act(x, width, 1)
            y = net.conv_bn_act(y, width, 3, s)
            y = net.bn(net.conv(y, width * 4, 1))
            x = net.relu(net.add(y, _downsample(net, x, width * 4, s)))
    x = net.flatten_exported(net.gap(x))
    return net.finish(net.gemm(x, 1000)), net


def squeezenet1_1():
    net, x = start("squeezenet1_1", 12)

    def fire(x, squeeze, expand):
        s = net.relu(net.conv(x, squeeze, 1, bias=True))
        return net.concat([net.relu(net.conv(s, expand, 1, bias=True)), net.relu(net.conv(s, expand, 3, bias=True))])

    x = net.relu(net.conv(x, 64, 3, 2, bias=True, pad=(0, 0, 0, 0)))
    x = net.maxpool(x, 3, 2, 0, ceil=True)
    x = fire(fire(x, 16, 64), 16, 64)
    x = net.maxpool(x, 3, 2, 0, ceil=True)
    x = fire(fire(x, 32, 128), 32, 128)
    x = net.maxpool(x, 3, 2, 0, ceil=True)
    x = fire(fire(fire(fire(x, 48, 192), 48, 192), 64, 256), 64, 256)
    x = net.relu(net.conv(net.dropout(x), 1000, 1, bias=True))
    return net.finish(net.flatten(net.gap(x))), net


def shufflenet_v2_x1_0():
    net, x = start("shufflenet_v2_x1_0", 15)

    def channel_shuffle(x, groups=2):
        n, c, h, w = net.shape(x)
        split_shape = net.constant("shape", np.array([n, groups, c // groups, h, w], np.int64))
        x = net.reshape(x, split_shape, (n, groups, c // groups, h, w))
        x = net.transpose(x, (0, 2, 1, 3, 4))
        return net.reshape(x, net.constant("shape", np.array([n, c, h, w], np.int64)), (n, c, h, w))

    def block(x, cout, stride):
        bf = cout // 2
        if stride == 1:
            keep, x2 = net.split2(x)
        else:
            keep = net.bn(net.conv(x, net.shape(x)[1], 3, stride, groups=net.shape(x)[1]))
            keep = net.conv_bn_act(keep, bf, 1)
            x2 = x
        y = net.conv_bn_act(x2, bf, 1)
        y = net.bn(net.conv(y, bf, 3, stride, groups=bf))
        y = net.conv_bn_act(y, bf, 1)
        return channel_shuffle(net.concat([keep, y]))

    x = net.conv_bn_act(x, 24, 3, 2)
    x = net.maxpool(x, 3, 2, 1)
    for cout, repeats in [(116, 4), (232, 8), (464, 4)]:
        for i in range(repeats):
            x = block(x, cout, 2 if i == 0 else 1)
    x = net.conv_bn_act(x, 1024, 1)
    return net.finish(net.gemm(net.reduce_mean_hw(x), 1000)), net


BUILDERS = {f.__name__: f for f in [mobilenet_v1, mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large,
                                    efficientnet_b0, resnet18, resnet50, squeezenet1_1, shufflenet_v2_x1_0]}


# ---------------------------------------------------------------------------------------------------------------


def check(name, model, net, x):
    """checker, finite and input-dependent outputs, agreement with the numpy reference, 1-thread latency."""
    import onnxruntime as ort

    onnx.checker.check_model(model, full_check=True)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = 1, 1
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    (out,) = sess.run(None, {net.input_name: x})
    assert np.isfinite(out).all() and out.std() > 1e-3, f"{name}: degenerate output"
    (ref_out,) = sess.run(None, {net.input_name: net.val[net.input_name]})
    ref = net.val[net.output_name]
    rel = np.abs(ref_out - ref).max() / np.abs(ref).max()
    assert rel < 1e-3, f"{name}: onnxruntime and the numpy reference differ (rel {rel:.2e})"
    for _ in range(3):
        sess.run(None, {net.input_name: x})
    times = []
    for _ in range(10):
        t = time.perf_counter()
        sess.run(None, {net.input_name: x})
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times)), float(out.std()), rel


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="build/zoo")
    ap.add_argument("--models", default=",".join(BUILDERS), help="comma-separated subset of: " + ", ".join(BUILDERS))
    ap.add_argument("--no-check", action="store_true", help="skip onnxruntime checks and timing")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = [m for m in args.models.split(",") if m]
    unknown = [m for m in names if m not in BUILDERS]
    if unknown:
        sys.exit(f"unknown model(s): {', '.join(unknown)}")

    header = f"{'model':<20} {'opset':>5} {'GMACs':>6} {'params M':>8} {'MB':>6}"
    print(header if args.no_check else header + f" {'ORT 1T ms':>9} {'out std':>8} {'vs numpy':>9}")
    for name in names:
        model, net = BUILDERS[name]()
        x = test_input(name)
        onnx.save(model, out / f"{name}.onnx")
        np.save(out / f"{name}.input.npy", x)
        params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
        size = (out / f"{name}.onnx").stat().st_size / 1e6
        line = f"{name:<20} {net.opset:>5} {net.macs / 1e9:>6.3f} {params / 1e6:>8.2f} {size:>6.1f}"
        if not args.no_check:
            ms, std, rel = check(name, model, net, x)
            line += f" {ms:>9.1f} {std:>8.3f} {rel:>9.1e}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
