// mx_pe: MX dot-product processing element (OCP MX v1.0 section 6.2, "exact" MAC semantics).
//
// Each enabled cycle takes LANES element pairs a[l], b[l] (8 bits per lane, lane 0 in bits 7:0) of the current
// block pair. Their exact products (mx_mul) are summed exactly into the block sum; the cycle with last = 1
// closes the block: its scales sa, sb (E8M0 codes) are sampled and the exact block sum enters a second stage
// that applies the two scales as an exact exponent add (a left shift by sa + sb) and adds the result into an
// exact fixed-point (Kulisch) accumulator. Nothing is rounded anywhere.
//
//   block value  = block_sum * 2^(lsb_a + lsb_b + (sa - 127) + (sb - 127))     (model/mx.h mx_block_dot)
//   accumulator  = sum over blocks of block_sum << (sa + sb), in units of 2^(lsb_a + lsb_b - 254)
//
// Widths: block sum SBW = mx_prod_bits + clog2(BLOCK) signed bits (42 for E4M3, BLOCK = 32); accumulator
// FW = SBW + 508 + KBLK_BITS bits: exact for any scales (sa + sb <= 508; 0xFF is NaN) and up to 2^KBLK_BITS
// blocks (default 7: K = 4096 at BLOCK = 32, as the FP8 PEs), wrapping modulo 2^FW beyond.
//
// Protocol (one clock, synchronous active-high rst clears every register):
//   en    : the lanes are valid this cycle.
//   clr   : with en, this cycle starts a new dot product: the block sum restarts from 0 and the accumulator
//           restarts from the empty sum when this block is added (an unfinished block is dropped).
//   last  : with en, this cycle ends the block; sa, sb are its scales. A block may span any number of
//           cycles (BLOCK / LANES for full blocks; a short last block of K is allowed: its elements are summed
//           the same way, i.e. zero padding).
//   fin   : with en and last, the block is the dot product's final one; acc_done pulses in the cycle in which
//           acc first holds the finished sum.
// Timing: a block closed at clock edge t (en && last sampled) is in acc after edge t + 1.
//
// Specials, tracked as a class beside the value (acc = {cls[1:0], value[FW-1:0]}, cls 0 finite, 1 +Inf,
// 2 -Inf, 3 NaN, as the FP8 fixed-point PE): a block is NaN if either scale is 0xFF (OCP MX v1.0 5.4.1:
// every element of the block is then NaN) or a product is NaN or +Inf and -Inf products meet; else +-Inf if
// a product is infinite (E5M2 elements only). A non-finite block adds 0 to the value; the class is sticky
// (NaN absorbs, +Inf + -Inf = NaN). Model twin: fp8sim::model::MxPe (model/mx_pe.h).
module mx_pe #(
    parameter integer FMT_A = 0,
    parameter integer FMT_B = 0,
    parameter integer LANES = 1,
    parameter integer BLOCK = 32,
    parameter integer KBLK_BITS = 7
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               en,
    input  wire               clr,
    input  wire               last,
    input  wire               fin,
    input  wire [8*LANES-1:0] a,
    input  wire [8*LANES-1:0] b,
    input  wire [7:0]         sa,
    input  wire [7:0]         sb,
    output wire [AW-1:0]      acc,
    output reg                acc_done
);
`include "mx_formats.vh"

  localparam integer PB = mx_prod_bits(FMT_A, FMT_B);
  localparam integer SBW = PB + mx_clog2(BLOCK);
  localparam integer FW = SBW + 508 + KBLK_BITS;
  localparam integer AW = FW + 2;

  // ---- lanes: exact products and their exact sum (+ class) ----
  wire [LANES*PB-1:0] p;
  wire [LANES*2-1:0]  pc;
  genvar l;
  generate
    for (l = 0; l < LANES; l = l + 1) begin : g_lane
      mx_mul #(.FMT_A(FMT_A), .FMT_B(FMT_B)) u_mul (
          .a(a[8*l +: 8]), .b(b[8*l +: 8]), .cls(pc[2*l +: 2]), .prod(p[PB*l +: PB]));
    end
  endgenerate

  reg [SBW-1:0] lane_sum;
  reg           any_nan, any_pinf, any_ninf;
  always @* begin
    lane_sum = {SBW{1'b0}};
    any_nan = 1'b0;
    any_pinf = 1'b0;
    any_ninf = 1'b0;
    for (integer i = 0; i < LANES; i = i + 1) begin
      lane_sum = lane_sum + {{(SBW - PB){p[PB*i + PB-1]}}, p[PB*i +: PB]};
      any_nan = any_nan | (pc[2*i +: 2] == 2'd3);
      any_pinf = any_pinf | (pc[2*i +: 2] == 2'd1);
      any_ninf = any_ninf | (pc[2*i +: 2] == 2'd2);
    end
  end

  // ---- stage 1: the open block ----
  reg [SBW-1:0] bsum_q;
  reg [1:0]     bcls_q;
  reg           open_q, fresh_q;
  wire          cont = open_q && !clr;             // continue the open block
  wire [SBW-1:0] bsum_n = (cont ? bsum_q : {SBW{1'b0}}) + lane_sum;
  wire [1:0]     bcls_in = cont ? bcls_q : 2'd0;
  wire n_nan = any_nan || bcls_in == 2'd3 || ((any_pinf || bcls_in == 2'd1) && (any_ninf || bcls_in == 2'd2));
  wire [1:0] bcls_n = n_nan ? 2'd3 : (any_pinf || bcls_in == 2'd1) ? 2'd1 : (any_ninf || bcls_in == 2'd2) ? 2'd2 : 2'd0;
  wire fresh_n = clr || (open_q && fresh_q);

  // ---- stage 2: the closed block, its scales applied to the accumulator ----
  reg           s2_v, s2_fresh, s2_fin;
  reg [SBW-1:0] s2_sum;
  reg [1:0]     s2_cls;
  reg [8:0]     s2_x;
  reg [FW-1:0]  val_q;
  reg [1:0]     cls_q;

  always @(posedge clk) begin
    if (rst) begin
      bsum_q <= {SBW{1'b0}};
      bcls_q <= 2'd0;
      open_q <= 1'b0;
      fresh_q <= 1'b0;
      s2_v <= 1'b0;
      s2_fresh <= 1'b0;
      s2_fin <= 1'b0;
      s2_sum <= {SBW{1'b0}};
      s2_cls <= 2'd0;
      s2_x <= 9'd0;
    end else begin
      s2_v <= en && last;
      if (en) begin
        if (last) begin
          s2_sum <= bsum_n;
          s2_cls <= (sa == 8'hFF || sb == 8'hFF) ? 2'd3 : bcls_n;
          s2_x <= 9'(sa) + 9'(sb);
          s2_fresh <= fresh_n;
          s2_fin <= fin;
          open_q <= 1'b0;
          fresh_q <= 1'b0;
        end else begin
          bsum_q <= bsum_n;
          bcls_q <= bcls_n;
          open_q <= 1'b1;
          fresh_q <= fresh_n;
        end
      end
    end
  end

  wire [FW-1:0] base_val = s2_fresh ? {FW{1'b0}} : val_q;
  wire [1:0]    base_cls = s2_fresh ? 2'd0 : cls_q;
  wire [FW-1:0] addend = (s2_cls != 2'd0) ? {FW{1'b0}} : ({{(FW - SBW){s2_sum[SBW-1]}}, s2_sum} << s2_x);
  wire a_nan = base_cls == 2'd3 || s2_cls == 2'd3 || (base_cls != 2'd0 && s2_cls != 2'd0 && base_cls != s2_cls);
  wire [1:0] cls_n = a_nan ? 2'd3 : (base_cls != 2'd0) ? base_cls : s2_cls;

  always @(posedge clk) begin
    if (rst) begin
      val_q <= {FW{1'b0}};
      cls_q <= 2'd0;
      acc_done <= 1'b0;
    end else begin
      acc_done <= s2_v && s2_fin;
      if (s2_v) begin
        val_q <= base_val + addend;
        cls_q <= cls_n;
      end
    end
  end
  assign acc = {cls_q, val_q};
endmodule
