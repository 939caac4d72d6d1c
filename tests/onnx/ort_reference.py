#!/usr/bin/env python3
"""ONNX Runtime's outputs for the inputs fp8sim's ONNX test chose: the independent reference of tests/onnx.

usage: ort_reference.py IN.json OUT.json
IN.json:  {"model": PATH, "runs": [{"inputs": {NAME: {"dtype": "float32"|"int64"|"bool", "shape": [...],
                                                      "data": [...]}}}]}
OUT.json: {"onnxruntime": VERSION, "runs": [{"outputs": [{"name": N, "shape": [...], "data": [...]}]}]}
Exit status 77 when onnxruntime is not installed (the test skips).
"""
import json
import sys

try:
    import numpy as np
    import onnxruntime as ort
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e} (run scripts/setup.sh)")
    sys.exit(77)


def main() -> int:
    with open(sys.argv[1]) as f:
        req = json.load(f)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(req["model"], opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    runs = []
    for run in req["runs"]:
        feed = {k: np.asarray(v["data"], dtype=v["dtype"]).reshape(v["shape"]) for k, v in run["inputs"].items()}
        outs = sess.run(None, feed)
        runs.append({"outputs": [{"name": n, "shape": list(o.shape), "data": o.astype(np.float64).ravel().tolist()}
                                 for n, o in zip(names, outs)]})
    with open(sys.argv[2], "w") as f:
        json.dump({"onnxruntime": ort.__version__, "runs": runs}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
