"""Writes a small safetensors file of SYNTHETIC float32 tensors (seeded), for demos without ../shared."""
import json
import struct
import sys

import numpy as np

rng = np.random.default_rng(0)
tensors = {"synthetic.linear.weight": rng.normal(0, 0.05, (64, 64)).astype(np.float32),
           "synthetic.linear.bias": rng.normal(0, 1.0, (64,)).astype(np.float32)}
header, blobs, offset = {"__metadata__": {"note": "synthetic data"}}, [], 0
for name, t in tensors.items():
    b = t.tobytes()
    header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
    blobs.append(b)
    offset += len(b)
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
