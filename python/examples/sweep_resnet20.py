"""Sweep array size and number format over resnet20-cifar10 and plot accuracy against energy.

    .venv/bin/python python/examples/sweep_resnet20.py [--samples N] [--arrays 8x8,16x16,32x32]
        [--formats e4m3,e5m2,int8] [--out docs/sweep_resnet20.png] [--json FILE]

Every design point runs the whole pipeline (PTQ calibration, every GEMM simulated cycle by cycle and checked
against the golden model, cost model) through fp8sim.sweep, i.e. `simrun sweep`. Needs ../shared (ResNet-20
weights and CIFAR-10 images). Top-1 over a few images is coarse, so the plot shows the logits' SQNR against
FP32 beside it.
"""
import argparse
import json
import os
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import fp8sim  # noqa: E402

MARKERS = {"e4m3": "o", "e5m2": "s", "int8": "^"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=8, help="CIFAR-10 test images per design point [8]")
    ap.add_argument("--calib", type=int, default=64, help="calibration images [64]")
    ap.add_argument("--arrays", default="8x8,16x16,32x32", help="array sizes [8x8,16x16,32x32]")
    ap.add_argument("--formats", default="e4m3,e5m2,int8", help="formats [e4m3,e5m2,int8]")
    ap.add_argument("--config", default="default32", help="base configuration (sim/configs) [default32]")
    ap.add_argument("--out", default=os.path.join(fp8sim.SOURCE_DIR, "docs", "sweep_resnet20.png"))
    ap.add_argument("--json", help="also write the sweep's points (JSON) here")
    ap.add_argument("--from-json", help="plot a sweep written earlier with --json instead of running one")
    a = ap.parse_args()

    spec = {"array": a.arrays.split(","), "format": a.formats.split(",")}
    t0 = time.time()
    if a.from_json:
        with open(a.from_json) as f:
            res = json.load(f)
        spec["format"] = list(dict.fromkeys(p["format"] for p in res["points"]))
    else:
        try:
            res = fp8sim.sweep(spec, "resnet20-cifar10", config=a.config, samples=a.samples, calib=a.calib)
        except (ValueError, RuntimeError) as e:
            sys.exit(f"sweep_resnet20: error: {e}")
    wall = time.time() - t0
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)

    pts = res["points"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, label in ((axes[0], "accuracy", f"top-1 (%) over {res['samples']} images"),
                           (axes[1], "sqnr_db", "logit SQNR vs FP32 (dB)")):
        for fmt in spec["format"]:
            sel = [p for p in pts if p["format"] == fmt]
            x = [p["energy_pj"] / 1e9 for p in sel]
            y = [p[key] for p in sel]
            ax.plot(x, y, MARKERS.get(fmt, "x") + "-", label=fmt.upper() if fmt != "int8" else "INT8")
            if key == "sqnr_db":  # (top-1 points of different formats coincide; the sizes are named here)
                for p, xi, yi in zip(sel, x, y):
                    ax.annotate(f"{p['rows']}x{p['cols']}", (xi, yi), textcoords="offset points", xytext=(4, 4),
                                fontsize=8)
        ax.set_xlabel(f"energy of the {res['samples']} inferences (mJ, fp8sim cost model)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if pts and pts[0].get("fp32_accuracy") is not None:
        axes[0].axhline(pts[0]["fp32_accuracy"], color="gray", ls="--", lw=1)
        axes[0].annotate("FP32", (axes[0].get_xlim()[0], pts[0]["fp32_accuracy"]), fontsize=8, color="gray",
                         xytext=(2, -10), textcoords="offset points")
    fig.suptitle(f"resnet20-cifar10, {a.config} with the array resized (8x8 / 16x16 / 32x32 from right to left): "
                 f"accuracy against energy ({res['samples']} CIFAR-10 test images, seed {res['seed']})", fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    fig.savefig(a.out, dpi=90)
    print(f"{len(pts)} design points in {wall:.0f} s; wrote {a.out}")
    print("label,accuracy,sqnr_db,energy_mj,cycles,area_mm2")
    for p in pts:
        print(f"{p['label']},{p['accuracy']:.2f},{p['sqnr_db']:.2f},{p['energy_pj'] / 1e9:.3f},{p['cycles']},"
              f"{p['area_um2'] / 1e6:.3f}")


if __name__ == "__main__":
    main()
