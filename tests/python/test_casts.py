"""fp8sim's numpy casts against ml_dtypes (an independent implementation) and, for INT8, against numpy's own
arithmetic written out from the definition."""
import ml_dtypes
import numpy as np
import pytest

import fp8sim

ML = {
    "e4m3": ml_dtypes.float8_e4m3fn,
    "e5m2": ml_dtypes.float8_e5m2,
    "e4m3fnuz": ml_dtypes.float8_e4m3fnuz,
    "e5m2fnuz": ml_dtypes.float8_e5m2fnuz,
    "e4m3ieee": ml_dtypes.float8_e4m3,
}


def same_floats(a, b):
    """Bit-equal, NaNs equal to NaNs."""
    return (np.isnan(a) & np.isnan(b)) | (a.view(np.uint32) == b.view(np.uint32))


def test_every_format_is_covered():
    assert set(fp8sim.FORMATS) == set(ML)


def many_floats(seed=1):
    """A million float32 inputs: random bit patterns (every exponent), values spread over each format's
    range, exact halfway points between neighbouring FP8 values (ties), and the specials."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**32, size=400_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    mags = np.exp2(rng.uniform(-24, 17, size=400_000)).astype(np.float32)
    spread = mags * rng.choice(np.array([-1, 1], np.float32), size=mags.size)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 448, 464, 465, -465, 480, 57344, 61440,
                         61439, 65536, 240, 248, 1e-10, -1e-10], np.float32)
    return np.concatenate([bits, spread, specials])


@pytest.mark.parametrize("fmt", sorted(ML))
def test_decode_all_256_codes(fmt):
    codes = np.arange(256, dtype=np.uint8)
    ours = fp8sim.from_fp8(codes, fmt)
    ref = codes.view(ML[fmt]).astype(np.float32)
    assert ours.dtype == np.float32
    assert same_floats(ours, ref).all()


@pytest.mark.parametrize("fmt", sorted(ML))
def test_encode_equals_ml_dtypes(fmt):
    x = many_floats()
    # Ties: midpoints of consecutive finite codes (exact in float32), both signs.
    vals = np.arange(256, dtype=np.uint8).view(ML[fmt]).astype(np.float32)
    fin = np.unique(vals[np.isfinite(vals)])
    mids = ((fin[1:].astype(np.float64) + fin[:-1]) / 2).astype(np.float32)
    x = np.concatenate([x, mids, -mids])
    with np.errstate(invalid="ignore", over="ignore"):
        ref = x.astype(ML[fmt]).view(np.uint8)
    ours = fp8sim.to_fp8(x, fmt)
    assert ours.dtype == np.uint8 and ours.shape == x.shape
    bad = np.nonzero(ours != ref)[0]
    assert bad.size == 0, [(hex(x.view(np.uint32)[i]), int(ours[i]), int(ref[i])) for i in bad[:5]]


@pytest.mark.parametrize("fmt", sorted(ML))
def test_round_trip_of_every_code(fmt):
    codes = np.arange(256, dtype=np.uint8)
    vals = fp8sim.from_fp8(codes, fmt)
    back = fp8sim.to_fp8(vals, fmt)
    finite = np.isfinite(vals)
    # Every non-NaN value encodes back to its own code (fnuz has one zero: 0x00; -0.0 of other formats keeps
    # its sign); NaN codes come back as NaN codes.
    assert (back[finite] == codes[finite]).all()
    assert np.isnan(fp8sim.from_fp8(back[np.isnan(vals)], fmt)).all()
    inf = np.isinf(vals)
    assert (back[inf] == codes[inf]).all()


@pytest.mark.parametrize("fmt", sorted(ML))
def test_saturating_policy(fmt):
    x = many_floats(2)
    with np.errstate(invalid="ignore", over="ignore"):
        ref = x.astype(ML[fmt])
    ref_f = ref.astype(np.float32)
    fmax = float(ml_dtypes.finfo(ML[fmt]).max)
    # Expected from ml_dtypes: where it overflowed (non-NaN input, NaN or Inf result), +-max with the input's sign.
    over = ~np.isnan(x) & ~np.isfinite(ref_f)
    exp = np.where(over, np.where(np.signbit(x), -fmax, fmax).astype(np.float32), ref_f)
    ours = fp8sim.from_fp8(fp8sim.to_fp8(x, fmt, saturate=True), fmt)
    assert same_floats(ours, exp).all()


def test_float64_input_rounds_once():
    # E4M3 around its maximum: 448 (code 0x7E) is the largest finite value; the next step would be 480, so
    # 464 is the tie point. 464 + 2^-30 (float64) lies above the tie: rounds towards 480, an overflow (NaN,
    # code 0x7F, non-saturating). Through float32 it would first become exactly 464.0 (float32's step at 464
    # is 2^-15), a tie, rounded to even: 448.
    x = np.array([464 + 2.0**-30], np.float64)
    assert fp8sim.to_fp8(x, "e4m3")[0] == 0x7F
    assert fp8sim.to_fp8(x.astype(np.float32), "e4m3")[0] == 0x7E


def test_shapes_and_bad_format():
    x = np.linspace(-3, 3, 24, dtype=np.float32).reshape(2, 3, 4)
    c = fp8sim.to_fp8(x, "e5m2")
    assert c.shape == (2, 3, 4)
    assert fp8sim.from_fp8(c, "e5m2").shape == (2, 3, 4)
    with pytest.raises(ValueError, match="unknown FP8 format 'e3m4'"):
        fp8sim.to_fp8(x, "e3m4")


def test_bf16_equals_ml_dtypes():
    x = many_floats(3)
    with np.errstate(invalid="ignore", over="ignore"):
        ref = x.astype(ml_dtypes.bfloat16).view(np.uint16)
    ours = fp8sim.to_bf16(x)
    nan = np.isnan(x)
    assert (ours[~nan] == ref[~nan]).all()
    # NaN: a NaN with the input's sign (fp8sim's is the canonical quiet NaN).
    assert np.isnan(fp8sim.from_bf16(ours[nan])).all()
    assert (np.signbit(fp8sim.from_bf16(ours[nan])) == np.signbit(x[nan])).all()
    bits = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    assert same_floats(fp8sim.from_bf16(bits), bits.view(ml_dtypes.bfloat16).astype(np.float32)).all()


def test_int8_from_the_definition():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(0, 3, 200_000).astype(np.float32),
                        (np.arange(-300, 301, dtype=np.float32) + 0.5) * np.float32(0.05),  # ties
                        np.array([np.inf, -np.inf, 1e30, -1e30, 0.0, -0.0], np.float32)])
    scale = np.float32(0.05)
    with np.errstate(over="ignore"):
        q = np.true_divide(x, scale, dtype=np.float32)  # one float32 division
    exp = np.clip(np.rint(q), -127, 127).astype(np.int8)  # rint: round half to even
    assert (fp8sim.to_int8(x, scale) == exp).all()
    exp128 = np.clip(np.rint(q), -128, 127).astype(np.int8)
    assert (fp8sim.to_int8(x, scale, allow_minus_128=True) == exp128).all()
    codes = np.arange(-128, 128, dtype=np.int8)
    assert (fp8sim.from_int8(codes, scale) == codes.astype(np.float32) * scale).all()
    with pytest.raises(ValueError, match="NaN"):
        fp8sim.to_int8(np.array([1.0, np.nan], np.float32), 1.0)
    with pytest.raises(ValueError, match="scale"):
        fp8sim.to_int8(x, 0.0)


def test_cast_and_decode_by_name():
    x = np.array([0.3, -2.5, 100.0], np.float32)
    assert (fp8sim.cast(x, "e4m3") == x.astype(ml_dtypes.float8_e4m3fn).view(np.uint8)).all()
    assert (fp8sim.decode(fp8sim.cast(x, "bf16"), "bf16") == x.astype(ml_dtypes.bfloat16).astype(np.float32)).all()
    assert (fp8sim.decode(fp8sim.cast(x, "int8", scale=1.0), "int8", scale=1.0) == np.array([0, -2, 100], np.float32)).all()
    with pytest.raises(ValueError):
        fp8sim.cast(x, "int8")
