// mx_array: ROWS x COLS output-stationary array of MX dot-product PEs (mx_pe, one lane each), for
// C = A x B with A (M x K) and B (K x N) in MX: each A row and each B column is cut along K into blocks of
// BLOCK elements, one E8M0 scale per block. Cell (r, c) computes the exact dot product of A row r and
// B column c (mx_pe: exact products, exact block sums, scales as an exponent add, Kulisch accumulator).
//
// Input: one beat per cycle while in_valid (no back-pressure), beat k = step k of the reduction:
//   in_a[8r +: 8]  = A[r][k] element code,   in_sa[8r +: 8] = the scale of A row r's block holding k,
//   in_b[8c +: 8]  = B[k][c] element code,   in_sb[8c +: 8] = the scale of B column c's block holding k,
//   in_first = 1 on k = 0 (a new product starts: accumulators restart), in_last = 1 on a block's last k
//   (k % BLOCK == BLOCK - 1, and on k = K - 1), in_fin = 1 on k = K - 1.
// Scales are sampled with in_last (they may be anything on the other beats).
// Skew: row r's operands and flags enter through r registers and move one cell right per cycle; column c's
// operands through c registers and move one cell down per cycle; so cell (r, c) registers beat k at clock
// edge k + r + c (beat k is driven in cycle k and sampled at the edge ending it, edge k) and its PE takes it
// at edge k + r + c + 1; the block closed there reaches the accumulator at edge k + r + c + 2.
// Output: out_acc holds every cell's accumulator word ({cls, value}, mx_pe), cell (r, c) at index
// r * COLS + c. out_valid is high for one cycle, when the last cell (ROWS-1, COLS-1) first holds its final
// sum; every cell holds its final sum then (the others finished earlier) until the next product's first
// block closes in cell (0, 0). For one product of K beats starting in cycle 0, out_valid is high in cycle
// K + ROWS + COLS (the in_fin beat K - 1 closes its block in the last cell at edge (K-1) + (R-1) + (C-1) + 1
// and reaches its accumulator at the next edge, visible in the cycle after it).
module mx_array #(
    parameter integer ROWS = 4,
    parameter integer COLS = 4,
    parameter integer FMT_A = 0,
    parameter integer FMT_B = 0,
    parameter integer BLOCK = 32,
    parameter integer KBLK_BITS = 7
) (
    input  wire                      clk,
    input  wire                      rst,
    input  wire                      in_valid,
    input  wire                      in_first,
    input  wire                      in_last,
    input  wire                      in_fin,
    input  wire [8*ROWS-1:0]         in_a,
    input  wire [8*ROWS-1:0]         in_sa,
    input  wire [8*COLS-1:0]         in_b,
    input  wire [8*COLS-1:0]         in_sb,
    output wire                      out_valid,
    output wire [ROWS*COLS*AW-1:0]   out_acc
);
`include "mx_formats.vh"

  localparam integer AW = mx_prod_bits(FMT_A, FMT_B) + mx_clog2(BLOCK) + 508 + KBLK_BITS + 2;
  // a-side word: {valid, first, last, fin, scale, code}; b-side word: {scale, code}
  localparam integer XW = 4 + 16;
  localparam integer YW = 16;

  // ---- input skew: row r delayed by r registers, column c by c ----
  wire [XW-1:0] x_in [ROWS];
  wire [YW-1:0] y_in [COLS];
  genvar r, c;
  generate
    for (r = 0; r < ROWS; r = r + 1) begin : g_rskew
      wire [XW-1:0] beat = {in_valid, in_first, in_last, in_fin, in_sa[8*r +: 8], in_a[8*r +: 8]};
      if (r == 0) begin : g_none
        assign x_in[r] = beat;
      end else begin : g_delay
        reg [r*XW-1:0] q;   // stage i in bits [i*XW +: XW], stage 0 the newest
        wire [(r+1)*XW-1:0] shifted = {q, beat};
        always @(posedge clk) begin
          if (rst) q <= {(r*XW){1'b0}};
          else q <= shifted[r*XW-1:0];
        end
        wire unused_top = &{1'b0, shifted[(r+1)*XW-1:r*XW]};
        assign x_in[r] = q[(r-1)*XW +: XW];
      end
    end
    for (c = 0; c < COLS; c = c + 1) begin : g_cskew
      wire [YW-1:0] beat = {in_sb[8*c +: 8], in_b[8*c +: 8]};
      if (c == 0) begin : g_none
        assign y_in[c] = beat;
      end else begin : g_delay
        reg [c*YW-1:0] q;
        wire [(c+1)*YW-1:0] shifted = {q, beat};
        always @(posedge clk) begin
          if (rst) q <= {(c*YW){1'b0}};
          else q <= shifted[c*YW-1:0];
        end
        wire unused_top = &{1'b0, shifted[(c+1)*YW-1:c*YW]};
        assign y_in[c] = q[(c-1)*YW +: YW];
      end
    end

    // ---- cells: operand registers passing right (a side) and down (b side), and the PE ----
    wire [XW-1:0] x_q [ROWS*COLS];
    wire [YW-1:0] y_q [ROWS*COLS];
    wire          done [ROWS*COLS];
    for (r = 0; r < ROWS; r = r + 1) begin : g_row
      for (c = 0; c < COLS; c = c + 1) begin : g_col
        reg [XW-1:0] xq;
        reg [YW-1:0] yq;
        wire [XW-1:0] x_from = (c == 0) ? x_in[r] : x_q[r*COLS + c - 1];
        wire [YW-1:0] y_from = (r == 0) ? y_in[c] : y_q[(r-1)*COLS + c];
        always @(posedge clk) begin
          if (rst) begin
            xq <= {XW{1'b0}};
            yq <= {YW{1'b0}};
          end else begin
            xq <= x_from;
            yq <= y_from;
          end
        end
        assign x_q[r*COLS + c] = xq;
        assign y_q[r*COLS + c] = yq;
        mx_pe #(.FMT_A(FMT_A), .FMT_B(FMT_B), .LANES(1), .BLOCK(BLOCK), .KBLK_BITS(KBLK_BITS)) u_pe (
            .clk(clk), .rst(rst), .en(xq[19]), .clr(xq[18]), .last(xq[17]), .fin(xq[16]),
            .a(xq[7:0]), .b(yq[7:0]), .sa(xq[15:8]), .sb(yq[15:8]),
            .acc(out_acc[(r*COLS + c)*AW +: AW]), .acc_done(done[r*COLS + c]));
      end
    end
    // only the last cell's completion is reported (it finishes last); the others' pulses are unused
    for (r = 0; r < ROWS*COLS - 1; r = r + 1) begin : g_unused
      wire unused_done = done[r];
    end
  endgenerate
  assign out_valid = done[ROWS*COLS - 1];
endmodule
