// mx_decode: one element code -> sign, magnitude significand, shift, NaN, Inf (mx_mul's operand decode).
module mx_decode #(
    parameter integer FMT = 0
) (
    input  wire [W-1:0] code,
    output wire         s,
    output wire [G-1:0] sig,
    output wire [5:0]   sh,
    output wire         nan,
    output wire         inf
);
`include "mx_formats.vh"

  localparam integer W = mx_code_bits(FMT);
  localparam integer E = mx_exp_bits(FMT);
  localparam integer M = mx_man_bits(FMT);
  localparam integer SP = mx_specials(FMT);
  localparam integer G = mx_sig_bits(FMT);

  assign s = code[W-1];
  generate
    if (SP == 3) begin : g_int
      // two's complement: magnitude |k| <= 128 fits 8 unsigned bits
      assign sig = code[W-1] ? G'(-code) : G'(code);
      assign sh = 6'd0;
      assign nan = 1'b0;
      assign inf = 1'b0;
    end else begin : g_fp
      wire [E-1:0] e = code[W-2 -: E];
      wire [M-1:0] m = code[M-1:0];
      wire special = (SP != 0) && (&e) && ((SP == 2) || (&m));   // E4M3: S.1111.111; E5M2: exponent 11111
      assign nan = special && ((SP == 1) || (|m));
      assign inf = special && (SP == 2) && !(|m);
      assign sig = special ? {G{1'b0}} : {|e, m};
      assign sh = (|e && !special) ? 6'(e) - 6'd1 : 6'd0;
    end
  endgenerate
endmodule
