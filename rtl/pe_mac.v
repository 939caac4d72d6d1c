// pe_mac: one multiply-accumulate step on an accumulator word, combinational: acc_out = acc_in (+) a * b.
// The word format and the arithmetic depend on PE_KIND (pe_kinds.vh); every PE and array cell uses this
// module, so there is one description of the arithmetic in rtl/, twin of model/'s accumulators:
//   0 INT8:  acc_out = acc_in + int8(a) * int8(b) mod 2^32                    (model Int32Accumulator)
//   1 FP8 fixed point: value_out = value_in + exact product mod 2^FW; the special class is tracked beside
//            the value and is sticky: NaN absorbs, +Inf + -Inf = NaN; a special product adds 0 to the
//            value                                                             (model FixedPointAccumulator)
//   2 FP8 float32: acc_out = fl32(acc_in + product), RNE, subnormals kept, NaN canonical (model
//            Float32Accumulator, with the product exact in float32 by fp8_product_f32)
module pe_mac #(
    parameter integer PE_KIND = 2,
    parameter integer FMT_A = 0,
    parameter integer FMT_B = 0,
    parameter integer ACC_W = 0       // PE_KIND 1 only: fixed-point width, 0 = exact for K = 4096
) (
    input  wire [7:0]    a,
    input  wire [7:0]    b,
    input  wire [AW-1:0] acc_in,
    output wire [AW-1:0] acc_out
);
`include "fp8_formats.vh"
`include "pe_kinds.vh"

  localparam integer AW = pe_word_bits(PE_KIND, ACC_W, FMT_A, FMT_B);

  generate
    if (PE_KIND == 0) begin : g_int8
      wire [15:0] p;
      int8_mul u_mul (.a(a), .b(b), .p(p));
      assign acc_out = acc_in + {{16{p[15]}}, p};
    end else begin : g_fp8
      localparam integer EA = fp8_exp_bits(FMT_A);
      localparam integer EB = fp8_exp_bits(FMT_B);
      localparam integer SIGW = fp8_man_bits(FMT_A) + fp8_man_bits(FMT_B) + 2;
      localparam integer SHW = (EA > EB ? EA : EB) + 1;
      localparam integer PB = fp8_product_bits(FMT_A, FMT_B);
      wire [1:0]      p_cls;
      wire            p_sign;
      wire [SIGW-1:0] p_sig;
      wire [SHW-1:0]  p_shift;
      wire [PB-1:0]   p_fix;
      fp8_mul #(.FMT_A(FMT_A), .FMT_B(FMT_B)) u_mul (
          .a(a), .b(b), .cls(p_cls), .sign(p_sign), .sig(p_sig), .shift(p_shift), .prod(p_fix));

      if (PE_KIND == 1) begin : g_fixed
        localparam integer FW = AW - 2;
        // The fixed-point PE uses the two's complement product; the unnormalized view feeds only the
        // float32 PE (synthesis removes it here).
        wire unused_ok = &{1'b0, p_sign, p_sig, p_shift};
        wire [FW-1:0] p_ext;
        if (FW >= PB) begin : g_ext
          assign p_ext = {{(FW - PB){p_fix[PB-1]}}, p_fix};
        end else begin : g_trunc   // narrower than one product: wraps, as the model's register does
          assign p_ext = p_fix[FW-1:0];
          wire unused_hi = &{1'b0, p_fix[PB-1:FW]};
        end
        wire [1:0] c_in = acc_in[AW-1:FW];
        wire c_nan = (c_in == 2'd3) || (p_cls == 2'd3) ||
                     (c_in != 2'd0 && p_cls != 2'd0 && c_in != p_cls);   // +Inf + -Inf
        wire [1:0] c_out = c_nan ? 2'd3 : (c_in != 2'd0) ? c_in : p_cls;
        assign acc_out = {c_out, acc_in[FW-1:0] + p_ext};
      end else begin : g_f32
        wire unused_ok = &{1'b0, p_fix};
        wire [31:0] p_f32;
        fp8_prod_f32 #(.FMT_A(FMT_A), .FMT_B(FMT_B)) u_cvt (
            .cls(p_cls), .sign(p_sign), .sig(p_sig), .shift(p_shift), .f(p_f32));
        f32_add u_add (.a(acc_in), .b(p_f32), .s(acc_out));
      end
    end
  endgenerate
endmodule
