// pe_kinds.vh: PE kinds and the accumulator word each carries. Include inside a module body.
//   PE_KIND 0: INT8 x INT8, int32 accumulator          word = int32 (two's complement)
//   PE_KIND 1: FP8 x FP8, exact fixed-point accumulator word = {cls[1:0], value[FW-1:0]}, value in units of
//              2^(lsb_a + lsb_b), cls as fp8_mul (0 finite, 1 +Inf, 2 -Inf, 3 NaN)
//   PE_KIND 2: FP8 x FP8, IEEE float32 accumulator     word = float32 bits
// The all-zeros word is the empty sum in every kind (0, finite 0, +0.0).
// Lint waiver: per-module copies of these functions look like shadowing to Verilator after inlining (see
// fp8_formats.vh); they are identical.
/* verilator lint_off VARHIDDEN */

// Fixed-point width: ACC_W if given (> 0), else exact for K = 4096 products (model's
// fixed_point_accumulator_width, through fp8_formats.vh).
function automatic integer pe_fixed_width(input integer acc_w, input integer fmt_a, input integer fmt_b);
  pe_fixed_width = (acc_w > 0) ? acc_w : fp8_acc_width_k4096(fmt_a, fmt_b);
endfunction

function automatic integer pe_word_bits(input integer kind, input integer acc_w, input integer fmt_a,
                                        input integer fmt_b);
  pe_word_bits = (kind == 1) ? pe_fixed_width(acc_w, fmt_a, fmt_b) + 2 : 32;
endfunction
/* verilator lint_on VARHIDDEN */
