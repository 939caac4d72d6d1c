"""Exhaustive check of model/'s conversions against ml_dtypes, an independent implementation.

Every one of the 2^32 float32 bit patterns is converted by fp8sim (through the C API in
libfp8sim_model_capi.so) and by ml_dtypes, and the bytes must be equal:
  * non-saturating policy: exactly ml_dtypes' astype (OCP non-saturating mode);
  * saturating policy: derived from ml_dtypes' result: where ml_dtypes overflowed (a non-NaN input that
    became NaN, or Inf), the expected code is +-max finite; elsewhere the same byte.
For bf16 the reference is ml_dtypes.bfloat16. Also checks the decoding of all 256 codes.

usage: fp8_vs_ml_dtypes.py LIBPATH FORMAT [--boundary]   (FORMAT: a format-table name, or bf16)
  --boundary: instead of all 2^32 patterns, every pattern whose float32 exponent lies within the FP8 format's
              range widened by 3 binades on each side (all rounding, subnormal and overflow boundaries are
              there; outside it every input is a plain zero or overflow), plus every 257th pattern elsewhere.
Exit 77 (CTest SKIP) when numpy/ml_dtypes are missing.
"""
import ctypes
import sys
import time

try:
    import ml_dtypes
    import numpy as np
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e} (run scripts/setup.sh)")
    sys.exit(77)

ML_TYPES = {
    "e4m3": ml_dtypes.float8_e4m3fn,
    "e5m2": ml_dtypes.float8_e5m2,
    "e4m3fnuz": ml_dtypes.float8_e4m3fnuz,
    "e5m2fnuz": ml_dtypes.float8_e5m2fnuz,
    "e4m3ieee": ml_dtypes.float8_e4m3,
}
CHUNK = 1 << 24


def all_patterns():
    base = np.arange(CHUNK, dtype=np.uint32)
    for start in range(0, 1 << 32, CHUNK):
        yield base + np.uint32(start)


def boundary_slabs(lo_exp, hi_exp):
    """The --boundary set, built slab by slab (no pass over all 2^32 patterns): for both signs, every
    mantissa of every float32 exponent in [lo_exp, hi_exp] and of exponents 0 (zeros, subnormals) and 0xFF
    (Inf, NaN); then every 257th pattern whose exponent lies outside those."""
    mant = np.arange(1 << 23, dtype=np.uint32)
    exps = [0, 0xFF] + list(range(max(lo_exp, 1), min(hi_exp, 0xFE) + 1))
    for sign in (0, 1):
        for e in exps:
            yield np.uint32((sign << 31) | (e << 23)) | mant
    stride = np.arange(0, CHUNK * 257, 257, dtype=np.uint64)
    for start in range(0, 1 << 32, CHUNK * 257):
        bits = (stride + np.uint64(start))
        bits = bits[bits < (1 << 32)].astype(np.uint32)
        e = (bits >> 23) & 0xFF
        yield bits[((e < lo_exp) | (e > hi_exp)) & (e != 0) & (e != 0xFF)]


def main():
    lib = ctypes.CDLL(sys.argv[1])
    name = sys.argv[2]
    ptr = np.ctypeslib.ndpointer
    u8, f32 = ptr(np.uint8, flags="C"), ptr(np.float32, flags="C")
    lib.fp8sim_encode_f32.argtypes = [ctypes.c_int, ctypes.c_int, f32, u8, ctypes.c_size_t]
    lib.fp8sim_decode_f32.argtypes = [ctypes.c_int, u8, f32, ctypes.c_size_t]
    lib.fp8sim_bf16_from_f32.argtypes = [f32, ptr(np.uint16, flags="C"), ctypes.c_size_t]
    lib.fp8sim_format_name.restype = ctypes.c_char_p

    kinds = {lib.fp8sim_format_name(k).decode(): k for k in range(lib.fp8sim_format_count())}
    t0 = time.time()
    checked = 0
    if name == "bf16":
        base = np.arange(CHUNK, dtype=np.uint32)
        for start in range(0, 1 << 32, CHUNK):
            x = (base + np.uint32(start)).view(np.float32)
            ref = x.astype(ml_dtypes.bfloat16).view(np.uint16)
            ours = np.empty(CHUNK, np.uint16)
            lib.fp8sim_bf16_from_f32(x, ours, CHUNK)
            report(name, "rne", x, ours, ref)
            checked += CHUNK
        print(f"bf16: {checked} float32 inputs equal ml_dtypes.bfloat16 ({time.time() - t0:.1f} s)")
        return

    kind, mlt = kinds[name], ML_TYPES[name]
    # Decoding: all 256 codes.
    codes = np.arange(256, dtype=np.uint8)
    dec = np.empty(256, np.float32)
    lib.fp8sim_decode_f32(kind, codes, dec, 256)
    ref_dec = codes.view(mlt).astype(np.float32)
    same = (np.isnan(dec) & np.isnan(ref_dec)) | (dec.view(np.uint32) == ref_dec.view(np.uint32))
    if not same.all():
        bad = np.nonzero(~same)[0][:8]
        sys.exit(f"{name}: decode differs for codes {[hex(c) for c in bad]}: {dec[bad]} vs {ref_dec[bad]}")

    finfo = ml_dtypes.finfo(mlt)
    max_code = np.array([finfo.max], dtype=mlt).view(np.uint8)[0]
    # Saturating expectation, derived from ml_dtypes: a non-NaN input whose ml_dtypes result is NaN or
    # Inf overflowed, and saturates to +-max finite (the sign comes from the input).
    ref_is_special = ~np.isfinite(ref_dec)
    sat_code = np.array([max_code, max_code | 0x80], dtype=np.uint8)
    ours = np.empty(CHUNK, np.uint8)
    base = np.arange(CHUNK, dtype=np.uint32)
    boundary = "--boundary" in sys.argv
    lo_exp = 127 + int(np.log2(float(finfo.smallest_subnormal))) - 3
    hi_exp = 127 + int(np.floor(np.log2(float(finfo.max)))) + 3
    for bits in (boundary_slabs(lo_exp, hi_exp) if boundary else all_patterns()):
        x = bits.view(np.float32)
        with np.errstate(invalid="ignore", over="ignore"):
            ref_bytes = x.astype(mlt).view(np.uint8)
        ours = np.empty(x.size, np.uint8)
        lib.fp8sim_encode_f32(kind, 0, x, ours, x.size)
        report(name, "nonsaturating", x, ours, ref_bytes)
        overflow = ref_is_special[ref_bytes] & ((bits & 0x7FFFFFFF) <= 0x7F800000)
        sat_ref = np.where(overflow, sat_code[bits >> 31], ref_bytes)
        lib.fp8sim_encode_f32(kind, 1, x, ours, x.size)
        report(name, "saturate", x, ours, sat_ref)
        checked += x.size
    what = "boundary-region" if boundary else "(all)"
    print(f"{name}: 256 codes decode and {checked} {what} float32 inputs x 2 overflow policies encode "
          f"exactly as ml_dtypes {ml_dtypes.__version__} ({time.time() - t0:.1f} s)")


def report(name, policy, x, ours, ref):
    if np.array_equal(ours, ref):
        return
    bad = np.nonzero(ours != ref)[0]
    lines = [f"{name} ({policy}): {bad.size} mismatches in this chunk; first:"]
    for i in bad[:10]:
        lines.append(f"  input 0x{x.view(np.uint32)[i]:08x} ({x[i]!r}): fp8sim 0x{int(ours[i]):x}, "
                     f"reference 0x{int(ref[i]):x}")
    sys.exit("\n".join(lines))


if __name__ == "__main__":
    main()
