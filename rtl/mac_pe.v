// mac_pe: a processing element, pe_mac plus its accumulator register.
//   rst (synchronous): acc <= 0.   en: acc <= (clr ? 0 : acc) (+) a * b.   Otherwise acc holds.
// clr starts a new dot product with this cycle's product (the sum starts from the empty word, +0),
// which is exactly the model accumulators' reset() followed by add().
module mac_pe #(
    parameter integer PE_KIND = 2,
    parameter integer FMT_A = 0,
    parameter integer FMT_B = 0,
    parameter integer ACC_W = 0
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          en,
    input  wire          clr,
    input  wire [7:0]    a,
    input  wire [7:0]    b,
    output reg  [AW-1:0] acc
);
`include "fp8_formats.vh"
`include "pe_kinds.vh"

  localparam integer AW = pe_word_bits(PE_KIND, ACC_W, FMT_A, FMT_B);

  wire [AW-1:0] nxt;
  pe_mac #(.PE_KIND(PE_KIND), .FMT_A(FMT_A), .FMT_B(FMT_B), .ACC_W(ACC_W)) u_mac (
      .a(a), .b(b), .acc_in(clr ? {AW{1'b0}} : acc), .acc_out(nxt));

  always @(posedge clk) begin
    if (rst) acc <= {AW{1'b0}};
    else if (en) acc <= nxt;
  end
endmodule
