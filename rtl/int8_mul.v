// int8_mul: signed 8 x 8 -> 16-bit product, combinational (the INT8 PE's multiplier; a separate module
// so that synthesis can report it on its own beside fp8_mul).
module int8_mul (
    input  wire [7:0]  a,
    input  wire [7:0]  b,
    output wire [15:0] p
);
  assign p = $signed(a) * $signed(b);
endmodule
