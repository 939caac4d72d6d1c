// mx_mul: exact product of two MX element codes (OCP MX v1.0 section 5.3), combinational.
//
// FMT_A, FMT_B: element rows of model/'s format table (mx_formats.vh: 0 E4M3, 1 E5M2, 5 E3M2, 6 E2M3,
// 7 E2M1, 8 MXINT8). Codes are right-aligned in the byte; bits above the code width are ignored.
// A finite floating-point code is (-1)^s * sig * 2^(sh + lsb) with sig = {e != 0, m}, sh = max(e - 1, 0);
// MXINT8 is the two's complement integer k * 2^-6. The product is (-1)^(sa^sb) * sig_a * sig_b << (sh_a + sh_b)
// in units of 2^(lsb_a + lsb_b): no rounding anywhere. Model twin: fp8sim::model::mx_element_product.
//
// Outputs: cls 0 finite, 1 +Inf, 2 -Inf, 3 NaN (NaN x any = NaN, Inf x 0 = NaN, Inf x finite = Inf; only
// E4M3 has NaN, only E5M2 has Inf and NaN); prod = the product, two's complement, PB = mx_prod_bits bits,
// 0 unless cls == 0.
module mx_mul #(
    parameter integer FMT_A = 0,
    parameter integer FMT_B = 0
) (
    input  wire [7:0]    a,
    input  wire [7:0]    b,
    output wire [1:0]    cls,
    output wire [PB-1:0] prod
);
`include "mx_formats.vh"

  localparam integer PB = mx_prod_bits(FMT_A, FMT_B);
  localparam integer WA = mx_code_bits(FMT_A);
  localparam integer WB = mx_code_bits(FMT_B);
  localparam integer GA = mx_sig_bits(FMT_A);
  localparam integer GB = mx_sig_bits(FMT_B);

  // Each operand: sign, unsigned magnitude significand, shift, NaN, Inf.
  wire          a_s, b_s, a_nan, b_nan, a_inf, b_inf;
  wire [GA-1:0] a_sig;
  wire [GB-1:0] b_sig;
  wire [5:0]    a_sh, b_sh;   // <= 29 (E5M2)

  mx_decode #(.FMT(FMT_A)) u_da (.code(a[WA-1:0]), .s(a_s), .sig(a_sig), .sh(a_sh), .nan(a_nan), .inf(a_inf));
  mx_decode #(.FMT(FMT_B)) u_db (.code(b[WB-1:0]), .s(b_s), .sig(b_sig), .sh(b_sh), .nan(b_nan), .inf(b_inf));
  wire unused_hi = &{1'b0, a, b};   // the bits above the code width

  wire a_zero = ~|a_sig && !a_nan && !a_inf;
  wire b_zero = ~|b_sig && !b_nan && !b_inf;
  wire p_nan = a_nan || b_nan || (a_inf && b_zero) || (b_inf && a_zero);
  wire p_inf = (a_inf || b_inf) && !p_nan;
  wire sign = a_s ^ b_s;
  assign cls = p_nan ? 2'd3 : p_inf ? (sign ? 2'd2 : 2'd1) : 2'd0;

  localparam integer GW = GA + GB;
  wire [GW-1:0] sig = GW'(a_sig) * GW'(b_sig);
  wire [6:0] shift = 7'(a_sh) + 7'(b_sh);
  wire [PB-1:0] mag = PB'(sig) << shift;     // < 2^(PB-1) for every finite pair (mx_prod_bits)
  assign prod = (cls != 2'd0) ? {PB{1'b0}} : sign ? -mag : mag;
endmodule
