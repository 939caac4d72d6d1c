// fp8_mul: exact product of two FP8 codes, combinational.
//
// A finite FP8 code is (-1)^s * sig * 2^(sh + lsb_exp) with sig = {e != 0, m} and sh = max(e - 1, 0), so a
// product is (-1)^(sa^sb) * (sig_a * sig_b) * 2^(sh_a + sh_b) in units of 2^(lsb_a + lsb_b): an integer
// multiply of the (MAN+1)-bit significands and a left shift, with no rounding anywhere. The model twin is
// fp8sim::model::fp8_exact_product (model/include/fp8sim/model/accumulate.h).
//
// Outputs, all exact:
//   cls   : 0 finite, 1 +Inf, 2 -Inf, 3 NaN (model ValueClass). NaN*x = NaN, Inf*0 = NaN, Inf*finite = Inf.
//   prod  : the product in units of 2^(lsb_a + lsb_b), two's complement, PB = fp8_product_bits bits
//           (E4M3: 37, E5M2: 65); 0 when cls != 0.
//   sign, sig, shift : the same product unnormalized (sign, significand product, shift), which the float32
//           PE converts to float32 without a wide leading-zero count. -0 keeps its sign here.
// Formats come from fp8_formats.vh, generated from model/'s format table (FMT_* = Fp8Kind index).
module fp8_mul #(
    parameter integer FMT_A = 0,
    parameter integer FMT_B = 0
) (
    input  wire [7:0]                       a,
    input  wire [7:0]                       b,
    output wire [1:0]                       cls,
    output wire                             sign,
    output wire [SIGW-1:0]                  sig,
    output wire [SHW-1:0]                   shift,
    output wire [PB-1:0]                    prod
);
`include "fp8_formats.vh"

  localparam integer EA = fp8_exp_bits(FMT_A);
  localparam integer MA = fp8_man_bits(FMT_A);
  localparam integer SPA = fp8_specials(FMT_A);
  localparam integer EB = fp8_exp_bits(FMT_B);
  localparam integer MB = fp8_man_bits(FMT_B);
  localparam integer SPB = fp8_specials(FMT_B);
  localparam integer SIGW = MA + MB + 2;               // significand product width
  localparam integer SHW = (EA > EB ? EA : EB) + 1;    // sh_a + sh_b <= (2^EA - 2) + (2^EB - 2)
  localparam integer PB = fp8_product_bits(FMT_A, FMT_B);

  // ---- operand decode ----
  wire [EA-1:0] ea = a[6 -: EA];
  wire [MA-1:0] ma = a[MA-1:0];
  wire [EB-1:0] eb = b[6 -: EB];
  wire [MB-1:0] mb = b[MB-1:0];

  // NaN / Inf per the format's SpecialValues (see fp8_formats.vh).
  wire a_nan = (SPA == 0) ? (&ea && |ma) : (SPA == 1) ? (&ea && &ma) : (a == 8'h80);
  wire b_nan = (SPB == 0) ? (&eb && |mb) : (SPB == 1) ? (&eb && &mb) : (b == 8'h80);
  wire a_inf = (SPA == 0) && &ea && !(|ma);
  wire b_inf = (SPB == 0) && &eb && !(|mb);
  wire a_zero = !(|a[6:0]);
  wire b_zero = !(|b[6:0]);

  wire [MA:0] sig_a = {|ea, ma};
  wire [MB:0] sig_b = {|eb, mb};
  wire [SHW-1:0] sh_a = (|ea) ? SHW'(ea) - 1'b1 : {SHW{1'b0}};
  wire [SHW-1:0] sh_b = (|eb) ? SHW'(eb) - 1'b1 : {SHW{1'b0}};

  // ---- classes ----
  wire p_nan = a_nan || b_nan || (a_inf && b_zero) || (b_inf && a_zero);
  wire p_inf = (a_inf || b_inf) && !p_nan;
  assign sign = a[7] ^ b[7];
  assign cls = p_nan ? 2'd3 : p_inf ? (sign ? 2'd2 : 2'd1) : 2'd0;

  // ---- exact value ----
  assign sig = SIGW'(sig_a) * SIGW'(sig_b);
  assign shift = sh_a + sh_b;
  wire [PB-2:0] mag = (PB-1)'(sig) << shift;           // < 2^(PB-1) by construction of PB
  wire [PB-1:0] smag = {1'b0, mag};
  assign prod = (cls != 2'd0) ? {PB{1'b0}} : sign ? -smag : smag;
endmodule
