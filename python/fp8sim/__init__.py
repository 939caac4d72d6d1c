"""fp8sim from Python: number formats, accelerator configurations, workload runs and sweeps.

Casts (numpy arrays; every rounding and decoding is done by fp8sim's C++ model/, the simulator's one
numerics source):
    to_fp8(x, "e4m3")  -> uint8 codes        from_fp8(codes, "e4m3") -> float32
    to_int8(x, scale)  -> int8               from_int8(q, scale)     -> float32
    to_bf16(x)         -> uint16 bits        from_bf16(bits)         -> float32
    cast(x, fmt, scale=None) / decode(codes, fmt, scale=None): the same by format name (FORMATS, "int8", "bf16")
FP8 formats: FORMATS (e4m3, e5m2, e4m3fnuz, e5m2fnuz, e4m3ieee); the codes are bit-compatible with
ml_dtypes (codes.view(ml_dtypes.float8_e4m3fn)).

Configurations (sim/configs/*.toml as dicts, checked by the simulator's strict loader):
    cfg = config("small8", array={"rows": 16, "cols": 16}, dram={"bytes_per_cycle": 32})
Runs (simrun's own code; the dicts are the JSON reports the command line writes):
    report = run("resnet20-cifar10", config="small8", samples=1)      # simrun --workload ... --report-json
    points = sweep({"array": ["8x8", "16x16"], "format": ["e4m3", "int8"]}, "resnet20-cifar10")["points"]
    simrun_args("resnet20-cifar10", samples=1)  # the equivalent simrun command line
"""
import copy
import json
import os
import tempfile

try:
    import tomllib
except ImportError:  # pragma: no cover (Python < 3.11)
    tomllib = None

import numpy as np

from . import _fp8sim

__all__ = ["FORMATS", "SOURCE_DIR", "format_info", "to_fp8", "from_fp8", "to_int8", "from_int8", "to_bf16",
           "from_bf16", "cast", "decode", "config", "config_toml", "config_info", "run", "sweep", "simrun_args"]

SOURCE_DIR = _fp8sim.source_dir
_TABLE = {row["name"]: row for row in _fp8sim.format_table()}
FORMATS = tuple(_TABLE)


def format_info(fmt):
    """The format-table row of an FP8 format: exp_bits, man_bits, bias, has_inf, has_negative_zero, max."""
    if fmt not in _TABLE:
        raise ValueError(f"unknown FP8 format '{fmt}' (one of {', '.join(FORMATS)})")
    return dict(_TABLE[fmt])


def _floats(x):
    a = np.asarray(x)
    if a.dtype == np.float64:
        return a
    if a.dtype.kind not in "fiub":
        raise TypeError(f"expected a numeric array, got dtype {a.dtype}")
    return a.astype(np.float32, copy=False)


def to_fp8(x, fmt="e4m3", saturate=False):
    """float32/float64 -> FP8 codes (uint8), round to nearest even. Overflow: NaN (E4M3 kinds) or Inf (E5M2),
    as ml_dtypes' astype and OCP's non-saturating mode; saturate=True: +-max instead. float64 is rounded once,
    directly (ml_dtypes rounds float64 through float32, twice)."""
    return _fp8sim.to_fp8(_floats(x), fmt, saturate)


def from_fp8(codes, fmt="e4m3"):
    """FP8 codes (uint8) -> float32 (exact)."""
    return _fp8sim.from_fp8(np.asarray(codes, dtype=np.uint8), fmt)


def to_int8(x, scale, allow_minus_128=False):
    """Symmetric INT8: clamp(round_half_even(x / scale), -127, 127) (-128 with allow_minus_128); float32
    input: one float32 division. NaN input raises ValueError."""
    return _fp8sim.to_int8(_floats(x), float(scale), allow_minus_128)


def from_int8(q, scale):
    """q * scale in float32."""
    return _fp8sim.from_int8(np.asarray(q, dtype=np.int8), float(scale))


def to_bf16(x):
    """float32 -> bfloat16 bits (uint16), round to nearest even; NaN -> quiet NaN with its sign."""
    return _fp8sim.to_bf16(np.asarray(x, dtype=np.float32))


def from_bf16(bits):
    """bfloat16 bits (uint16) -> float32 (exact)."""
    return _fp8sim.from_bf16(np.asarray(bits, dtype=np.uint16))


def cast(x, fmt, scale=None, saturate=False):
    """x in format fmt: FP8 codes (uint8) for an FP8 format, int8 for "int8" (scale required), uint16 bits
    for "bf16"."""
    if fmt == "int8":
        if scale is None:
            raise ValueError("cast to int8 needs a scale")
        return to_int8(x, scale)
    if fmt == "bf16":
        return to_bf16(x)
    return to_fp8(x, fmt, saturate)


def decode(codes, fmt, scale=None):
    """The float32 values of codes in format fmt (inverse of cast)."""
    if fmt == "int8":
        if scale is None:
            raise ValueError("decode of int8 needs a scale")
        return from_int8(codes, scale)
    if fmt == "bf16":
        return from_bf16(codes)
    return from_fp8(codes, fmt)


# ---------------------------------------------------------------- configurations

def _config_path(name):
    if os.path.isfile(name):
        return name
    p = os.path.join(SOURCE_DIR, "sim", "configs", name + ".toml")
    if os.path.isfile(p):
        return p
    names = sorted(f[:-5] for f in os.listdir(os.path.join(SOURCE_DIR, "sim", "configs")) if f.endswith(".toml"))
    raise ValueError(f"no configuration '{name}' (a .toml file, or one of {', '.join(names)})")


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if not v.is_integer() else str(int(v))
    if isinstance(v, str):
        return json.dumps(v)
    raise TypeError(f"configuration values are int, float, bool or str, not {type(v).__name__}")


def config_toml(cfg):
    """A configuration dict as TOML text (top-level keys, then one [section] per dict value)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in cfg.items() if not isinstance(v, dict)]
    for sec, kv in cfg.items():
        if isinstance(kv, dict):
            lines += ["", f"[{sec}]"] + [f"{k} = {_toml_value(v)}" for k, v in kv.items()]
    return "\n".join(lines) + "\n"


def config(base="default32", **changes):
    """An accelerator configuration as a dict: `base` (a name under sim/configs, a .toml path, or a dict) with
    `changes` applied: a dict per section ({"rows": 16} merges into [array]) or a top-level value
    (name="mine", clock_mhz=800). The result is checked by the simulator's strict loader: a bad key or value
    raises ValueError naming it."""
    if isinstance(base, dict):
        cfg = copy.deepcopy(base)
    else:
        if tomllib is None:  # pragma: no cover
            raise RuntimeError("reading TOML needs Python >= 3.11 (tomllib)")
        with open(_config_path(base), "rb") as f:
            cfg = tomllib.load(f)
    for key, v in changes.items():
        if isinstance(v, dict):
            cfg.setdefault(key, {})
            if not isinstance(cfg[key], dict):
                raise ValueError(f"configuration key '{key}' is not a section")
            cfg[key].update(v)
        else:
            cfg[key] = v
    _fp8sim.check_config(config_toml(cfg), "<fp8sim.config>")
    return cfg


def config_info(cfg):
    """What the simulator derives from a configuration dict: name, clock_mhz, word_bytes, numerics."""
    return _fp8sim.check_config(config_toml(cfg), "<fp8sim.config>")


# ---------------------------------------------------------------- runs

def _option_args(options):
    args = []
    for k, v in options.items():
        if v is None or v is False:
            continue
        flag = "--" + k.replace("_", "-")
        if v is True:
            args.append(flag)
        elif isinstance(v, (list, tuple)):
            args += [flag, ",".join(str(x) for x in v) if v else "none"]
        else:
            args += [flag, str(v)]
    return args


class _ConfigFile:
    """--config for a config given as a dict (a temporary TOML file), a name, or a path."""

    def __init__(self, cfg):
        self.cfg, self.dir = cfg, None

    def __enter__(self):
        if self.cfg is None:
            return []
        if isinstance(self.cfg, dict):
            self.dir = tempfile.TemporaryDirectory(prefix="fp8sim-")
            path = os.path.join(self.dir.name, "config.toml")
            with open(path, "w") as f:
                f.write(config_toml(self.cfg))
            return ["--config", path]
        return ["--config", _config_path(self.cfg)]

    def __exit__(self, *exc):
        if self.dir:
            self.dir.cleanup()


def simrun_args(workload, config=None, **options):
    """The simrun command-line arguments of run(workload, config, **options) (config: a name or path)."""
    if isinstance(config, dict):
        raise ValueError("simrun_args: give the configuration as a name or .toml path (config_toml writes one)")
    cfg = ["--config", _config_path(config)] if config is not None else []
    return ["--workload", workload] + cfg + _option_args(options)


def run(workload, config=None, **options):
    """Runs a workload like `simrun --workload` and returns its JSON report as a dict.

    config: a configuration name (sim/configs), a .toml path, or a dict (see config()). options: simrun's
    options with underscores for dashes (format="e4m3", compare=["int8"] or "none", array="16x16",
    samples=1, seed=1, accumulator="fp32", act_granularity="per-token", engine="cycle", ...).
    Raises ValueError for bad options, RuntimeError for data errors and for any simulated output word that
    differs from the golden model (like simrun's exit status 1)."""
    with _ConfigFile(config) as cfg_args:
        args = ["--workload", workload] + cfg_args + _option_args(options)
        report = json.loads(_fp8sim.run_json(args))
    bad = sum(r["verification"]["mismatches"] for r in [report] + report["comparison"])
    if bad:
        raise RuntimeError(f"{bad} simulated output words differ from the golden model")
    return report


def _spec_text(spec):
    if isinstance(spec, str):
        return spec
    return ";".join(f"{k}=" + ",".join(str(x) for x in (v if isinstance(v, (list, tuple)) else [v]))
                    for k, v in spec.items())


def sweep(spec, workload, config=None, **options):
    """Runs `simrun sweep` and returns its JSON (schema fp8sim-sweep/1: workload, samples, accuracy_metric and
    one dict per design point under "points": label, format, rows, cols, accuracy, energy_pj, area_um2,
    cycles, ..., pareto_energy, pareto_area). spec: {"array": ["8x8", "16x16"], "format": ["e4m3", "int8"]}
    or simrun's text form "array=8x8,16x16;format=e4m3,int8"."""
    with _ConfigFile(config) as cfg_args, tempfile.TemporaryDirectory(prefix="fp8sim-") as d:
        out = os.path.join(d, "sweep.json")
        options = dict(options)
        options.setdefault("quiet", True)
        args = [_spec_text(spec), "--workload", workload] + cfg_args + _option_args(options) + ["--json", out]
        _fp8sim.sweep_csv(args)
        with open(out) as f:
            return json.load(f)
