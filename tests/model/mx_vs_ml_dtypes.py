"""MX element formats and the E8M0 scale against ml_dtypes, an independent implementation.

Checks, through the C API (libfp8sim_model_capi.so):
  * decoding: every code of float8_e8m0fnu (256), float8_e4m3fn and float8_e5m2 (256), float6_e3m2fn and
    float6_e2m3fn (64), float4_e2m1fn (16) equals ml_dtypes' value (NaN where ml_dtypes has NaN); the MXINT8
    element (no ml_dtypes type) against numpy: int8 code / 64 (OCP MX v1.0: two's complement, scale 2^-6);
  * encoding (model's mx_element_encode: round to nearest even, saturating): float32 inputs against
    ml_dtypes' astype, which rounds to nearest even and saturates float6/float4 (no Inf/NaN there); for
    float8_e4m3fn/e5m2 ml_dtypes does not saturate, so where it overflowed (NaN/Inf from a non-NaN input) the
    expected code is +-max finite (OCP's saturating mode). MXINT8: numpy round-half-even of x * 64 clipped
    to [-127, 127].
    Inputs (default, the CI test, a few seconds): for every float32 exponent within the element format's range
    widened by 3 binades each side and both signs, every value of the top 12 mantissa bits combined with the
    low 11 bits in {0, 1, 0x2A5, 0x3FF, 0x400, 0x7FF}; plus every 4099th bit pattern of all 2^32, +-0, +-Inf
    and NaNs. Why this covers every rounding case: in that exponent range the result's quantum lies at most
    9 bits below the input's leading bit for every element format (the extreme: the MXINT8 element, quantum
    2^-6, inputs in binade 2^3; float formats: mantissa bits + 3), so the kept bits and the round bit are among the top 12 stored
    bits, and the low 11 bits only enter through the sticky bit, for which zero and several nonzero patterns
    are present. --dense: instead, every bit pattern whose exponent lies in that range plus every 257th
    elsewhere (about 10^8-10^9 inputs per format, minutes); --all: all 2^32 patterns (a script run, not CI).
    NaN inputs for formats without NaN: ml_dtypes 0.6.0 gives a zero whose sign is the NaN's sign inverted;
    the model gives +0 (a convention: in an MX block a NaN input makes the scale NaN, model/mx.h). Checked
    separately: both are zeros.
usage: mx_vs_ml_dtypes.py LIBPATH [--dense | --all] [--formats e2m1,e3m2,...] (default: every element format). Exit 77 (CTest SKIP) when numpy/ml_dtypes are missing.
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

# format-table row name -> (ml_dtypes type or None, code bits)
FORMATS = {
    "e4m3": (ml_dtypes.float8_e4m3fn, 8),
    "e5m2": (ml_dtypes.float8_e5m2, 8),
    "e3m2": (ml_dtypes.float6_e3m2fn, 6),
    "e2m3": (ml_dtypes.float6_e2m3fn, 6),
    "e2m1": (ml_dtypes.float4_e2m1fn, 4),
    "mxint8": (None, 8),
}
CHUNK = 1 << 24


def fail(msg):
    sys.exit(f"FAIL: {msg}")


def same_bits(x, y):
    return (np.isnan(x) & np.isnan(y)) | (x.view(np.uint32) == y.view(np.uint32))


def main():
    lib = ctypes.CDLL(sys.argv[1])
    everything = "--all" in sys.argv
    dense = "--dense" in sys.argv
    only = None
    if "--formats" in sys.argv:
        only = sys.argv[sys.argv.index("--formats") + 1].split(",")
        unknown = [f for f in only if f not in FORMATS]
        if unknown:
            fail(f"unknown format(s) {unknown}; known: {', '.join(FORMATS)}")
    ptr = np.ctypeslib.ndpointer
    u8, f32 = ptr(np.uint8, flags="C"), ptr(np.float32, flags="C")
    lib.fp8sim_decode_f32.argtypes = [ctypes.c_int, u8, f32, ctypes.c_size_t]
    lib.fp8sim_mx_element_encode_f32.argtypes = [ctypes.c_int, f32, u8, ctypes.c_size_t]
    lib.fp8sim_e8m0_decode_f32.argtypes = [u8, f32, ctypes.c_size_t]
    lib.fp8sim_format_name.restype = ctypes.c_char_p
    kinds = {lib.fp8sim_format_name(k).decode(): k for k in range(lib.fp8sim_format_row_count())}
    t0 = time.time()

    # E8M0: all 256 codes.
    codes = np.arange(256, dtype=np.uint8)
    ours = np.empty(256, np.float32)
    lib.fp8sim_e8m0_decode_f32(codes, ours, 256)
    ref = codes.view(ml_dtypes.float8_e8m0fnu).astype(np.float32)
    if not same_bits(ours, ref).all():
        bad = np.nonzero(~same_bits(ours, ref))[0][:8]
        fail(f"e8m0 decode differs at codes {bad}: {ours[bad]} vs {ref[bad]}")
    print("e8m0: 256 codes decode as ml_dtypes.float8_e8m0fnu")

    total = 0
    for name, (mlt, nbits) in FORMATS.items():
        if only is not None and name not in only:
            continue
        kind = kinds[name]
        ncodes = 1 << nbits
        codes = np.arange(ncodes, dtype=np.uint8)
        dec = np.empty(ncodes, np.float32)
        lib.fp8sim_decode_f32(kind, codes, dec, ncodes)
        if mlt is not None:
            ref_dec = codes.view(mlt).astype(np.float32)
        else:
            ref_dec = codes.view(np.int8).astype(np.float32) / np.float32(64)
        if not same_bits(dec, ref_dec).all():
            bad = np.nonzero(~same_bits(dec, ref_dec))[0][:8]
            fail(f"{name}: decode differs for codes {[hex(c) for c in bad]}: {dec[bad]} vs {ref_dec[bad]}")

        finite = ref_dec[np.isfinite(ref_dec)]
        fmax = float(np.max(finite))
        fmin_sub = float(np.min(np.abs(finite[finite != 0])))
        lo_exp = 127 + int(np.floor(np.log2(fmin_sub))) - 3
        hi_exp = 127 + int(np.floor(np.log2(fmax))) + 3
        max_code = int(np.nonzero(ref_dec == fmax)[0][0])
        sign_bit = 1 << (nbits - 1)
        checked = 0
        base = np.arange(CHUNK, dtype=np.uint32)
        if everything or dense:
            batches = (base + np.uint32(start) for start in range(0, 1 << 32, CHUNK))
        else:
            top = np.arange(1 << 12, dtype=np.uint32) << np.uint32(11)
            low = np.array([0, 1, 0x2A5, 0x3FF, 0x400, 0x7FF], dtype=np.uint32)
            mant = (top[:, None] | low[None, :]).ravel()
            exps = np.arange(max(lo_exp, 0), min(hi_exp, 254) + 1, dtype=np.uint32) << np.uint32(23)
            cover = (exps[:, None] | mant[None, :]).ravel()
            specials = np.array([0, 0x7F800000, 0x7FC00000, 0x7F800001, 0x7FFFFFFF], dtype=np.uint32)
            stride = np.arange(0, 1 << 32, 4099, dtype=np.uint64).astype(np.uint32)
            one = np.concatenate([cover, specials])
            batches = [np.concatenate([one, one | np.uint32(0x80000000), stride])]
        for bits in batches:
            if dense:
                e = (bits >> 23) & 0xFF
                bits = bits[((e >= lo_exp) & (e <= hi_exp)) | (e == 0xFF) | ((bits & 0x7FFFFFFF) == 0) |
                            (bits % 257 == 0)]
            x = bits.view(np.float32)
            out = np.empty(x.size, np.uint8)
            lib.fp8sim_mx_element_encode_f32(kind, x, out, x.size)
            nan_in = np.isnan(x)
            if mlt is None:
                with np.errstate(invalid="ignore"):
                    q = np.clip(np.round(x.astype(np.float64) * 64.0), -127, 127)
                q = np.where(nan_in, 0, q)
                expect = q.astype(np.int64).astype(np.int8).view(np.uint8)
            else:
                with np.errstate(invalid="ignore", over="ignore"):
                    expect = x.astype(mlt).view(np.uint8).copy()
                if nbits == 8:  # e4m3fn / e5m2: ml_dtypes does not saturate; derive the saturating result
                    special = ~np.isfinite(ref_dec[expect]) & ~nan_in
                    expect[special] = np.where(bits[special] >> 31 == 1, max_code | sign_bit, max_code)
                else:  # no NaN in the format: ml_dtypes gives a zero; the model +0 (see the docstring)
                    if not (ref_dec[expect[nan_in]] == 0).all():
                        fail(f"{name}: ml_dtypes maps a NaN to a nonzero code")
                    expect[nan_in] = 0
            if not np.array_equal(out, expect):
                bad = np.nonzero(out != expect)[0]
                lines = [f"{name}: {bad.size} encode mismatches in this chunk; first:"]
                for i in bad[:10]:
                    lines.append(f"  input 0x{int(bits[i]):08x} ({x[i]!r}): fp8sim 0x{int(out[i]):x}, "
                                 f"reference 0x{int(expect[i]):x}")
                fail("\n".join(lines))
            checked += x.size
        total += checked
        what = "all" if everything else "boundary-region + every 257th" if dense else "rounding-class cover + stride"
        ref_name = mlt.__name__ if mlt is not None else "numpy round-half-even"
        print(f"{name}: {ncodes} codes decode and {checked} ({what}) float32 inputs encode as {ref_name}")
    print(f"OK: {total} encodings, ml_dtypes {ml_dtypes.__version__} ({time.time() - t0:.1f} s)")


if __name__ == "__main__":
    main()
