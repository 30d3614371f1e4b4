"""Train the digits CNN, export it to ONNX and run it in onnxruntime, without xpnet.

The model of cnn_digits.py (two convolutions with batch normalisation, max pooling, dropout,
two linear layers) is trained for ``--epochs`` epochs, then written with `xpnet.onnx.export`
as ``torch.onnx.export`` would write it: evaluation mode (dropout off, batch norm on its
running statistics), named input and output, and a dynamic batch axis so the file takes any
number of images. onnxruntime (no xpnet, no NumPy model code) then classifies the held-out
digits in one batch and one image at a time; the logits agree with xpnet's to float32
rounding and the predictions are the same. Timings are printed for both, same thread count.

    python examples/onnx_export.py                         # 10 epochs, digits_cnn.onnx
    python examples/onnx_export.py --epochs 3 --onnx /tmp/cnn.onnx --threads 2

Needs the ``onnx`` and ``examples`` extras: pip install 'xpnet[onnx,examples]'.
"""

from __future__ import annotations

import argparse
import os
import time

import xpnet
from xpnet.data import load_digits, train_test_split

import cnn_digits


def test_split(seed=0):
    """The held-out quarter of the digits that cnn_digits.train evaluates on."""
    X, y = load_digits()
    X = (X / 16.0).reshape(-1, 1, 8, 8)
    _, X_test, _, y_test = train_test_split(X, y, test_size=0.25, stratify=y, seed=seed)
    return X_test, y_test


def best_of(repeats, fn):
    """The shortest of ``repeats`` timed calls, in seconds (the least disturbed one)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--onnx", default="digits_cnn.onnx", help="where to write the model")
    parser.add_argument("--opset", type=int, default=18)
    parser.add_argument("--threads", type=int, default=1, help="for xpnet and onnxruntime")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.threads < 1:
        parser.error("--epochs and --threads must be >= 1")
    try:
        import onnxruntime
    except ImportError:
        raise SystemExit("onnx_export: running the exported model needs onnxruntime: "
                         "pip install 'xpnet[onnx]'") from None
    xpnet.set_num_threads(args.threads)

    model, history = cnn_digits.train(args.epochs, seed=args.seed,
                                      progress=not args.no_progress)
    X_test, y_test = test_split(args.seed)
    print(f"trained {args.epochs} epochs: xpnet test accuracy {history['test_acc'][-1]:.2%}")

    # The example input fixes every size but the batch axis, which stays symbolic.
    proto = xpnet.onnx.export(model, X_test[:2], args.onnx, input_names=["image"],
                              output_names=["logits"], opset_version=args.opset,
                              dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    ops = sorted({node.op_type for node in proto.graph.node})
    print(f"wrote {args.onnx} ({os.path.getsize(args.onnx):,} bytes, opset {args.opset}): "
          f"{len(proto.graph.node)} nodes of {', '.join(ops)}")

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = args.threads
    session = onnxruntime.InferenceSession(args.onnx, options,
                                           providers=["CPUExecutionProvider"])
    images = X_test.cpu().numpy().astype("float32")  # onnxruntime takes NumPy arrays

    model.eval()
    with xpnet.no_grad():
        ours = model(X_test).cpu().numpy()
    (theirs,) = session.run(["logits"], {"image": images})
    single = [session.run(["logits"], {"image": images[i:i + 1]})[0][0]
              for i in range(len(images))]
    labels = y_test.cpu().numpy()
    difference = float(abs(ours - theirs).max())
    single_difference = max(float(abs(ours[i] - row).max()) for i, row in enumerate(single))
    agree = int((ours.argmax(1) == theirs.argmax(1)).sum())
    accuracy = float((theirs.argmax(1) == labels).mean())
    print(f"onnxruntime on {len(images)} held-out digits: accuracy {accuracy:.2%}, "
          f"{agree}/{len(images)} predictions as xpnet's, largest logit difference "
          f"{difference:.1e} (batch of {len(images)}), {single_difference:.1e} (one by one)")

    with xpnet.no_grad():
        ours_batch = best_of(5, lambda: model(X_test))
        ours_one = best_of(3, lambda: [model(X_test[i:i + 1]) for i in range(100)]) / 100
    theirs_batch = best_of(5, lambda: session.run(["logits"], {"image": images}))
    theirs_one = best_of(3, lambda: [session.run(["logits"], {"image": images[i:i + 1]})
                                     for i in range(100)]) / 100
    print(f"\n{args.threads} thread(s), best of repeats   xpnet ({xpnet.get_backend()})  "
          f"onnxruntime")
    print(f"batch of {len(images)} (ms)              {ours_batch * 1e3:>10.2f}  "
          f"{theirs_batch * 1e3:>11.2f}")
    print(f"one image (ms)                 {ours_one * 1e3:>10.3f}  {theirs_one * 1e3:>11.3f}")
    return {"accuracy": accuracy, "xpnet_accuracy": history["test_acc"][-1], "agree": agree,
            "n": len(images), "max_diff": max(difference, single_difference), "ops": ops}


if __name__ == "__main__":
    main()
