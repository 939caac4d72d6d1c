// fp8_prod_f32: the exact FP8 product from fp8_mul (sign, significand product, shift) as an IEEE float32.
//
// Always exact: the significand product has at most MAN_A+MAN_B+2 <= 8 bits and the value lies in
// [2^-34, 2^32) for every format of the table, inside float32's normal range, so this is a normalization
// and a re-biasing, no rounding. Zero keeps its sign, NaN is the canonical quiet NaN 0x7FC00000 and Inf is
// +-Inf, exactly as fp8sim::model::fp8_product_f32.
module fp8_prod_f32 #(
    parameter integer FMT_A = 0,
    parameter integer FMT_B = 0
) (
    input  wire [1:0]      cls,
    input  wire            sign,
    input  wire [SIGW-1:0] sig,
    input  wire [SHW-1:0]  shift,
    output reg  [31:0]     f
);
`include "fp8_formats.vh"

  localparam integer EA = fp8_exp_bits(FMT_A);
  localparam integer EB = fp8_exp_bits(FMT_B);
  localparam integer SIGW = fp8_man_bits(FMT_A) + fp8_man_bits(FMT_B) + 2;
  localparam integer SHW = (EA > EB ? EA : EB) + 1;
  // Biased float32 exponent of a significand product whose leading one is at bit SIGW-1, shift 0.
  localparam integer EOFF = SIGW - 1 + fp8_lsb_exp(FMT_A) + fp8_lsb_exp(FMT_B) + 127;

  // Leading-zero count of the (at most 8-bit) significand product.
  reg [3:0] lz;
  integer i;
  always @* begin
    lz = 4'(SIGW);
    for (i = 0; i < SIGW; i = i + 1)
      if (sig[i]) lz = 4'(SIGW - 1 - i);
  end

  // Leading one at bit SIGW-1 when sig != 0; it is float32's hidden bit, so only the bits below are used.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [SIGW-1:0] norm = sig << lz;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [7:0] bexp = 8'(EOFF) + 8'(shift) - 8'(lz);

  always @* begin
    if (cls == 2'd3) f = 32'h7FC0_0000;                        // canonical NaN
    else if (cls != 2'd0) f = {cls == 2'd2, 8'hFF, 23'd0};     // +-Inf
    else if (sig == {SIGW{1'b0}}) f = {sign, 31'd0};           // +-0
    else f = {sign, bexp, norm[SIGW-2:0], {(24 - SIGW){1'b0}}};
  end
endmodule
