#!/usr/bin/env python3
"""Train a small CNN on scikit-learn's 8x8 digits and export it to models/digits_cnn.onnx.

    train_digits.py [--out models] [--epochs 30]

The network is trained in plain numpy (forward and backward written out below), so that the shipped model needs
nothing but numpy + scikit-learn to regenerate. Everything is seeded: two runs give the same weights and accuracy.

Model input: the raw 0..16 pixel values divided by 16.0 (float32 in [0, 1]), shape [N, 1, 8, 8], name "image".
Model output: "logits" [N, 10] (no softmax).

Architecture (BatchNormalization kept as separate nodes, eval mode with running statistics):
    Conv3x3(1->16, pad 1) BN ReLU  Conv3x3(16->32, pad 1) BN ReLU  MaxPool 2x2
    Conv3x3(32->32, pad 1) BN ReLU  Flatten  Gemm(512->10)

Also writes models/digits_test_images.npy (float32 [32,1,8,8], the first 32 held-out images, already /16) and
models/digits_test_labels.npy (int64 [32]). Checks with onnxruntime that the ONNX model reproduces the numpy
model's held-out accuracy.
"""
import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
BN_EPS = 1e-5
BN_MOMENTUM = 0.1  # PyTorch convention: running = (1 - m) * running + m * batch


# --- layers: each forward returns (output, cache); each backward takes (grad_out, cache) ---------------------------


def im2col3x3(x):
    """x [N,C,H,W] -> [N, C*9, H*W] for a 3x3 kernel with padding 1, stride 1."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.stack([xp[:, :, i:i + h, j:j + w] for i in range(3) for j in range(3)], axis=2)
    return cols.reshape(n, c * 9, h * w)


def col2im3x3(cols, shape):
    n, c, h, w = shape
    cols = cols.reshape(n, c, 9, h, w)
    xp = np.zeros((n, c, h + 2, w + 2), cols.dtype)
    for t in range(9):
        i, j = divmod(t, 3)
        xp[:, :, i:i + h, j:j + w] += cols[:, :, t]
    return xp[:, :, 1:-1, 1:-1]


def conv_forward(x, w):
    cols = im2col3x3(x)
    out = np.einsum("ok,nkp->nop", w.reshape(w.shape[0], -1), cols, optimize=True)
    return out.reshape(x.shape[0], w.shape[0], x.shape[2], x.shape[3]), (x.shape, cols, w)


def conv_backward(dout, cache):
    xshape, cols, w = cache
    d = dout.reshape(dout.shape[0], dout.shape[1], -1)
    dw = np.einsum("nop,nkp->ok", d, cols, optimize=True).reshape(w.shape)
    dcols = np.einsum("ok,nop->nkp", w.reshape(w.shape[0], -1), d, optimize=True)
    return col2im3x3(dcols, xshape), dw


def bn_forward(x, p, train):
    g, b = p["gamma"][None, :, None, None], p["beta"][None, :, None, None]
    if not train:
        xhat = (x - p["mean"][None, :, None, None]) / np.sqrt(p["var"][None, :, None, None] + BN_EPS)
        return g * xhat + b, None
    mu, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    m = x.size // x.shape[1]
    p["mean"] = (1 - BN_MOMENTUM) * p["mean"] + BN_MOMENTUM * mu
    p["var"] = (1 - BN_MOMENTUM) * p["var"] + BN_MOMENTUM * var * m / (m - 1)  # unbiased, as PyTorch
    inv = 1.0 / np.sqrt(var + BN_EPS)
    xhat = (x - mu[None, :, None, None]) * inv[None, :, None, None]
    return g * xhat + b, (xhat, inv, g)


def bn_backward(dout, cache):
    xhat, inv, g = cache
    dgamma, dbeta = (dout * xhat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
    dxhat = dout * g
    m = dout.size // dout.shape[1]
    dx = (inv[None, :, None, None] / m) * (m * dxhat - dxhat.sum(axis=(0, 2, 3), keepdims=True)
                                           - xhat * (dxhat * xhat).sum(axis=(0, 2, 3), keepdims=True))
    return dx, dgamma, dbeta


def maxpool2_forward(x):
    n, c, h, w = x.shape
    win = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = win.max(axis=(3, 5))
    mask = win == out[:, :, :, None, :, None]
    mask = mask / mask.sum(axis=(3, 5), keepdims=True)  # ties share the gradient; rare with real-valued inputs
    return out, (mask, x.shape)


def maxpool2_backward(dout, cache):
    mask, shape = cache
    return (mask * dout[:, :, :, None, :, None]).reshape(shape)


# --- the model ---------------------------------------------------------------------------------------------------

CONVS = [(1, 16), (16, 32), (32, 32)]


def init_params(rng):
    params = {}
    for i, (cin, cout) in enumerate(CONVS):
        params[f"conv{i}"] = {"w": rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2.0 / (cin * 9))}
        params[f"bn{i}"] = {"gamma": np.ones(cout), "beta": np.zeros(cout), "mean": np.zeros(cout),
                            "var": np.ones(cout)}
    params["fc"] = {"w": rng.standard_normal((10, 512)) * np.sqrt(1.0 / 512), "b": np.zeros(10)}
    return params


def forward(params, x, train):
    caches = []
    for i in range(3):
        x, c_conv = conv_forward(x, params[f"conv{i}"]["w"])
        x, c_bn = bn_forward(x, params[f"bn{i}"], train)
        relu_mask = x > 0
        x = x * relu_mask
        c_pool = None
        if i == 1:
            x, c_pool = maxpool2_forward(x)
        caches.append((c_conv, c_bn, relu_mask, c_pool))
    flat = x.reshape(x.shape[0], -1)
    logits = flat @ params["fc"]["w"].T + params["fc"]["b"]
    return logits, (caches, flat, x.shape)


def backward(params, dlogits, cache):
    caches, flat, shape = cache
    grads = {"fc": {"w": dlogits.T @ flat, "b": dlogits.sum(axis=0)}}
    d = (dlogits @ params["fc"]["w"]).reshape(shape)
    for i in reversed(range(3)):
        c_conv, c_bn, relu_mask, c_pool = caches[i]
        if c_pool is not None:
            d = maxpool2_backward(d, c_pool)
        d = d * relu_mask
        d, dgamma, dbeta = bn_backward(d, c_bn)
        d, dw = conv_backward(d, c_conv)
        grads[f"conv{i}"] = {"w": dw}
        grads[f"bn{i}"] = {"gamma": dgamma, "beta": dbeta}
    return grads


def softmax_xent(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(len(labels)), labels] + 1e-12).mean()
    p[np.arange(len(labels)), labels] -= 1
    return loss, p / len(labels)


def accuracy(params, x, y):
    logits, _ = forward(params, x, train=False)
    return float((logits.argmax(axis=1) == y).mean()), logits


def train(x_train, y_train, epochs, rng, batch=32, lr=2e-3):
    params = init_params(rng)
    # Adam state for every trainable tensor; BN running stats are not trained
    trainable = [(k, n) for k, d in params.items() for n in d if n not in ("mean", "var")]
    m = {kn: np.zeros_like(params[kn[0]][kn[1]]) for kn in trainable}
    v = {kn: np.zeros_like(params[kn[0]][kn[1]]) for kn in trainable}
    step = 0
    for epoch in range(epochs):
        lr_e = lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))  # cosine decay: stable final weights
        order = rng.permutation(len(x_train))
        total = 0.0
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            logits, cache = forward(params, x_train[idx], train=True)
            loss, dlogits = softmax_xent(logits, y_train[idx])
            total += loss * len(idx)
            grads = backward(params, dlogits, cache)
            step += 1
            for k, n in trainable:
                g = grads[k][n]
                m[k, n] = 0.9 * m[k, n] + 0.1 * g
                v[k, n] = 0.999 * v[k, n] + 0.001 * g * g
                mh, vh = m[k, n] / (1 - 0.9 ** step), v[k, n] / (1 - 0.999 ** step)
                params[k][n] -= lr_e * mh / (np.sqrt(vh) + 1e-8)
        if epoch % 5 == 4 or epoch == epochs - 1:
            print(f"epoch {epoch + 1:3d}  train loss {total / len(order):.4f}")
    return params


# --- export --------------------------------------------------------------------------------------------------------


def export(params, path):
    f32 = lambda a: np.asarray(a, np.float32)
    inits, nodes = [], []

    def init(name, a):
        inits.append(numpy_helper.from_array(f32(a), name))
        return name

    x = "image"
    for i in range(3):
        nodes.append(helper.make_node("Conv", [x, init(f"conv{i}.weight", params[f"conv{i}"]["w"])], [f"conv{i}"],
                                      name=f"Conv_{i}", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]))
        bn = params[f"bn{i}"]
        names = [init(f"bn{i}.{k}", bn[k]) for k in ("gamma", "beta", "mean", "var")]
        nodes.append(helper.make_node("BatchNormalization", [f"conv{i}"] + names, [f"bn{i}"], name=f"BN_{i}",
                                      epsilon=BN_EPS, momentum=1 - BN_MOMENTUM))
        nodes.append(helper.make_node("Relu", [f"bn{i}"], [f"relu{i}"], name=f"Relu_{i}"))
        x = f"relu{i}"
        if i == 1:
            nodes.append(helper.make_node("MaxPool", [x], ["pool"], name="MaxPool_0", kernel_shape=[2, 2],
                                          strides=[2, 2]))
            x = "pool"
    nodes.append(helper.make_node("Flatten", [x], ["flat"], name="Flatten_0", axis=1))
    nodes.append(helper.make_node("Gemm", ["flat", init("fc.weight", params["fc"]["w"]), init("fc.bias", params["fc"]["b"])],
                                  ["logits"], name="Gemm_0", transB=1))
    graph = helper.make_graph(nodes, "digits_cnn", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 8, 8])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], initializer=inits)
    opset = [helper.make_opsetid("", 13)]
    model = helper.make_model(graph, opset_imports=opset, producer_name="sparrow-train_digits",
                              ir_version=helper.find_min_ir_version_for(opset))
    model.doc_string = "8x8 digits CNN; input = raw pixel values (0..16) / 16.0; output = logits"
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models")
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    digits = load_digits()
    images = (digits.images / 16.0).reshape(-1, 1, 8, 8)  # the model's input convention: pixels / 16
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=0.2, stratify=labels,
                                                        random_state=SEED)
    print(f"train {len(x_train)}  test {len(x_test)}")

    params = train(x_train, y_train, args.epochs, np.random.default_rng(SEED))
    acc, logits = accuracy(params, x_test, y_test)
    print(f"numpy held-out accuracy {acc:.4f} ({round(acc * len(y_test))}/{len(y_test)})")

    path = out / "digits_cnn.onnx"
    export(params, path)
    np.save(out / "digits_test_images.npy", x_test[:32].astype(np.float32))
    np.save(out / "digits_test_labels.npy", y_test[:32].astype(np.int64))

    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ort_logits,) = sess.run(None, {"image": x_test.astype(np.float32)})
    ort_acc = float((ort_logits.argmax(axis=1) == y_test).mean())
    diff = np.abs(ort_logits - logits).max() / np.abs(logits).max()
    print(f"onnxruntime held-out accuracy {ort_acc:.4f}, max rel logit difference vs numpy {diff:.1e}")
    print(f"{path}: {path.stat().st_size} bytes")
    if ort_acc != acc:
        raise SystemExit("onnxruntime does not reproduce the numpy model's accuracy")


if __name__ == "__main__":
    main()
