// mx_formats.vh: the MX element formats of the OCP Microscaling (MX) specification v1.0 (section 5.3), as
// rows of model/'s format table (fp8sim::model::Fp8Kind index, model/include/fp8sim/model/format.h):
//   0 E4M3 (OFP8, S.1111.111 NaN, no Inf)   1 E5M2 (OFP8, IEEE-like Inf/NaN)
//   5 E3M2 (FP6, all finite)   6 E2M3 (FP6, all finite)   7 E2M1 (FP4, all finite)
//   8 MXINT8 (two's complement int8, value k * 2^-6)
// Codes are right-aligned in a byte (FP6: 0b00SEEMMM, FP4: 0b0000SEEM), as model/ and ml_dtypes store them.
// A finite code is k * 2^lsb_exp with k = (-1)^s * {e != 0, m} << max(e - 1, 0) (MXINT8: k = the integer);
// the exact product of two codes is an integer in units of 2^(lsb_a + lsb_b) of mx_prod_bits signed bits
// (model/mx.h: mx_element_product, fp8_product_bits). The tests check every code pair against model/.
// Include inside a module body.
/* verilator lint_off VARHIDDEN */

function automatic integer mx_exp_bits(input integer kind);
  case (kind)
    0: mx_exp_bits = 4;
    1: mx_exp_bits = 5;
    5: mx_exp_bits = 3;
    6: mx_exp_bits = 2;
    7: mx_exp_bits = 2;
    default: mx_exp_bits = 0;   // 8: MXINT8, no exponent field
  endcase
endfunction

// mantissa bits (MXINT8: the 7 magnitude bits below the sign)
function automatic integer mx_man_bits(input integer kind);
  case (kind)
    0: mx_man_bits = 3;
    1: mx_man_bits = 2;
    5: mx_man_bits = 2;
    6: mx_man_bits = 3;
    7: mx_man_bits = 1;
    default: mx_man_bits = 7;
  endcase
endfunction

// 0 all finite, 1 NaN = S.1..1.1..1 only (E4M3), 2 IEEE-like (E5M2), 3 two's complement integer (MXINT8)
function automatic integer mx_specials(input integer kind);
  case (kind)
    0: mx_specials = 1;
    1: mx_specials = 2;
    8: mx_specials = 3;
    default: mx_specials = 0;
  endcase
endfunction

// code width: 1 + exponent + mantissa bits (8, 6 or 4)
function automatic integer mx_code_bits(input integer kind);
  mx_code_bits = 1 + mx_exp_bits(kind) + mx_man_bits(kind);
endfunction

// significand bits of a floating-point element ({hidden, m}); MXINT8: the 8-bit integer itself
function automatic integer mx_sig_bits(input integer kind);
  mx_sig_bits = (mx_specials(kind) == 3) ? 8 : mx_man_bits(kind) + 1;
endfunction

// largest value of max(e - 1, 0): 2^E - 2 (0 for MXINT8)
function automatic integer mx_max_shift(input integer kind);
  mx_max_shift = (mx_specials(kind) == 3) ? 0 : (1 << mx_exp_bits(kind)) - 2;
endfunction

// signed bits of the exact product of two element codes, in units of 2^(lsb_a + lsb_b): the bits of the
// largest product magnitude plus a sign bit (equal to model/'s fp8_product_bits for these rows).
function automatic integer mx_prod_bits(input integer ka, input integer kb);
  // |k| maxima in LSB units (model/format.h max_magnitude_lsbs) as significand << shift: E4M3 14 << 14
  // (448 / 2^-9; S.1111.111 is NaN), E5M2 7 << 29 (57344 / 2^-16), E3M2 7 << 6 (28 / 2^-4), E2M3 15 << 2
  // (7.5 / 2^-3), E2M1 3 << 2 (6 / 2^-1), MXINT8 128 << 0 (|-2| / 2^-6).
  integer ma, mb, pa, pb, n;
  begin
    case (ka)
      0: begin ma = 14; pa = 14; end
      1: begin ma = 7; pa = 29; end
      5: begin ma = 7; pa = 6; end
      6: begin ma = 15; pa = 2; end
      7: begin ma = 3; pa = 2; end
      default: begin ma = 128; pa = 0; end
    endcase
    case (kb)
      0: begin mb = 14; pb = 14; end
      1: begin mb = 7; pb = 29; end
      5: begin mb = 7; pb = 6; end
      6: begin mb = 15; pb = 2; end
      7: begin mb = 3; pb = 2; end
      default: begin mb = 128; pb = 0; end
    endcase
    n = 0;
    for (integer v = ma * mb; v > 0; v = v >> 1) n = n + 1;
    mx_prod_bits = n + pa + pb + 1;
  end
endfunction

function automatic integer mx_clog2(input integer v);
  integer n;
  begin
    n = 0;
    while ((1 << n) < v) n = n + 1;
    mx_clog2 = n;
  end
endfunction
/* verilator lint_on VARHIDDEN */
