// int8_pe: INT8 x INT8 processing element, int32 accumulator wrapping modulo 2^32 (mac_pe protocol).
module int8_pe (
    input  wire        clk,
    input  wire        rst,
    input  wire        en,
    input  wire        clr,
    input  wire [7:0]  a,
    input  wire [7:0]  b,
    output wire [31:0] acc
);
  mac_pe #(.PE_KIND(0)) u_pe (
      .clk(clk), .rst(rst), .en(en), .clr(clr), .a(a), .b(b), .acc(acc));
endmodule
