// fp8_pe: FP8 x FP8 processing element (mac_pe, rst/en/clr protocol there).
//   ACC = 0: exact two's complement fixed-point accumulator of ACC_W bits (0: exact for K = 4096, the
//            model's fixed_point_accumulator_width: E4M3 49, E5M2 77), wrapping modulo 2^ACC_W;
//            acc = {cls[1:0], value[ACC_W-1:0]}, value in units of 2^(lsb_a + lsb_b).
//   ACC = 1: IEEE float32 accumulator, round to nearest even after every addition, subnormals kept;
//            acc = float32 bits.
module fp8_pe #(
    parameter integer FMT_A = 0,
    parameter integer FMT_B = 0,
    parameter integer ACC = 0,
    parameter integer ACC_W = 0
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          en,
    input  wire          clr,
    input  wire [7:0]    a,
    input  wire [7:0]    b,
    output wire [AW-1:0] acc
);
`include "fp8_formats.vh"
`include "pe_kinds.vh"

  localparam integer AW = pe_word_bits(1 + ACC, ACC_W, FMT_A, FMT_B);

  mac_pe #(.PE_KIND(1 + ACC), .FMT_A(FMT_A), .FMT_B(FMT_B), .ACC_W(ACC_W)) u_pe (
      .clk(clk), .rst(rst), .en(en), .clr(clr), .a(a), .b(b), .acc(acc));
endmodule
