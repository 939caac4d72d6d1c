// systolic_array: ROWS x COLS array of MAC cells, weight-stationary (DATAFLOW = 0, sa_ws.v) or
// output-stationary (DATAFLOW = 1, sa_os.v), PE_KIND 0 INT8/int32, 1 FP8/exact fixed point, 2 FP8/float32
// (pe_kinds.vh; FP8 formats FMT_A, FMT_B index model/'s format table through fp8_formats.vh).
// One clock, synchronous active-high reset. All arithmetic is pe_mac's; each output word equals model/'s
// golden GEMM with AccumulationOrder{k_chunk = 0} (see the per-dataflow notes).
//
// ---- Handshake (both dataflows) ----
// Input and output are valid/ready channels: a beat moves on a rising edge where valid && ready. The
// input beat's payload (in_a, in_b, in_wload, in_last, in_psum) must be stable while in_valid is high.
// AW = accumulator word bits (32, or fixed-point width + 2 for {cls, value}).
//
// ---- DATAFLOW = 0, weight stationary ----
// Beats with in_wload = 1 load weights: in_b = one weight row, shifted in at the top; ROWS such beats
// load W[ROWS-1] first and W[0] last (cell (r, c) ends holding the r-th last row). A weight beat is
// accepted only when no earlier compute row still needs the old weights (the array drains first).
// Beats with in_wload = 0 are compute rows: in_a[r] = A[m][k0 + r] (8 bits per array row, row 0 in bits
// 7:0), in_psum[c] = the partial sum to continue for output (m, n0 + c) (all zeros for a fresh sum).
// The output beat for that row, ROWS + COLS - 1 cycles later when never stalled, is
// out_data[c] = in_psum[c] (+) A[m][k0] * W[0][c] (+) ... (+) A[m][k0+ROWS-1] * W[ROWS-1][c], the adds in
// that order, one output beat per compute beat, in order. Chaining the outputs of one K tile into in_psum
// of the next therefore adds all K products in increasing k from +0: AccumulationOrder{k_chunk = 0}.
// Back-pressure: when an output is valid and out_ready is low, the whole array stalls (in_ready = 0).
//
//   cycle       0    1    2    3    4    5    6    7    8    9   10   11   12     (ROWS = COLS = 2, M = 3)
//   in_valid    1    1    1    1    1    0 ...
//   in_wload    1    1    0    0    0
//   in_b/in_a   W1   W0   A0   A1   A2                   (A0 = row 0 of A, with its in_psum)
//   out_valid   0    0    0    0    0    1    1    1    0
//   out_data                             C0   C1   C2    (C0 leaves ROWS + COLS - 1 = 3 cycles after A0)
//   Cycles from the first input beat to the last output beat, both counted: ROWS (weight beats) + M
//   (compute beats) + ROWS + COLS - 1 (latency of the last row) = 2 + 3 + 3 = 8 here.
//
// ---- DATAFLOW = 0 with SHADOW = 1: hidden weight loads (shadow weight registers) ----
// Each cell has a second (shadow) weight register. Weights travel on their own channel: a weight beat moves
// when in_wvalid && in_wready, payload in_b = one weight row, shifted down the columns' shadow registers
// (ROWS beats, W[ROWS-1] first and W[0] last, as above). The compute channel (in_valid/in_ready) carries
// only compute rows (in_wload is ignored); in_swap = 1 marks a tile's first row. The swap marker enters
// with that row, skewed like its activations, and reaches cell (r, c) r + c edges after the row is
// accepted, in the same cycle as the row's activation: the cell multiplies that row with its shadow weight
// and makes it the active weight at that edge, while the previous tile's rows, one step ahead of the
// marker everywhere, finish with the old weights. So consecutive tiles stream without draining the array.
// Rules (the only handshake conditions besides back-pressure, which stalls both channels):
//   - a compute row with in_swap = 1 is accepted only when ROWS weight rows have been shifted in since the
//     last swap (the shadow registers hold a whole tile); rows with in_swap = 0 use the active weights;
//   - in_wready = 0 while the shadow registers are full, and until the last swap marker has reached the
//     last cell: a shift at edge e is allowed when no marker reads a shadow register after edge e, i.e.
//     from ROWS + COLS - 2 edges after the swap row was accepted (the marker reads cell (ROWS-1, COLS-1)
//     at that edge; registers read the old value).
//   So after a swap in cycle s the next tile's weights shift in cycles s + R + C - 2 ... s + 2R + C - 3 and
//   the next swap can be accepted from cycle s + 2R + C - 2 (ROWS = COLS = 1: the shadow is full until the
//   swap edge, so s + 2): tiles of M rows start every P = max(M, 2R + C - 2) cycles (P = M = 128 for a 32x32 array, against 2R + C + M - 2 = 222 with
//   SHADOW = 0). Outputs are as above: one output beat per compute row, ROWS + COLS - 1 cycles later.
//
//   cycle       0    1    2    3    4    5    6    7    8    9   10   11    (ROWS = COLS = 2, two tiles, M = 3)
//   in_wvalid   1    1    1    1    1    1    0 ...
//   in_wready   1    1    0    0    1    1    0          (2: shadow full; 3: marker still reads at edge 4)
//   in_b        W1   W0   .    .    W1'  W0'             (tile 0's weights, then tile 1's)
//   in_valid    1    1    1    1    1    1    1    1    1    0
//   in_swap     1    1    1    0    0    1    1    0    0
//   in_ready    0    0    1    1    1    0    1    1    1          (swap waits for a full shadow)
//   in_a                  A0   A1   A2        A0'  A1'  A2'
//   out_valid   0    0    0    0    0    1    1    1    0    1    1    1
//   out_data                             C0   C1   C2        C0'  C1'  C2'
//   Cycles from the first weight beat to the last output beat, both counted: R (first tile's weights)
//   + (T - 1) * P + M + R + C - 1 = 2 + 4 + 3 + 3 = 12 here (P = max(3, 2R + C - 2 = 4) = 4).
//
// ---- DATAFLOW = 1, output stationary ----
// Every beat is one step of the reduction: in_a[r] = A[m0 + r][k], in_b[c] = B[k][n0 + c]; in_last marks
// the tile's last k. Cell (r, c) sums its products in increasing k from +0 (AccumulationOrder{k_chunk = 0}).
// After the in_last beat, in_ready stays low while the products finish (ROWS + COLS - 2 cycles) and the
// ROWS output beats drain, bottom row first: out_data[c] = C[m0 + ROWS - 1][n0 + c], then ROWS - 2, ..., 0.
// Input bubbles (in_valid = 0 between beats) are allowed; out_ready = 0 holds the drain.
//
//   cycle       0    1    2    3    4    5    6    7                        (ROWS = COLS = 2, K = 3)
//   in_valid    1    1    1    0 ...
//   in_last     0    0    1
//   in_ready    1    1    1    0    0    0    0    1
//   out_valid   0    0    0    0    0    1    1    0
//   out_data                             C1   C0    (row 1 first)
//   Cycles from the first input beat to the last output beat, both counted: K + (ROWS + COLS - 2) + ROWS
//   = 3 + 2 + 2 = 7 here.
//   The next tile's first beat may be accepted in the cycle after the last output beat.
//
// ---- DATAFLOW = 1 with SHADOW = 1: double-buffered accumulators (shadow output registers) ----
// Each cell also has an output register. The in_last beat's last flag travels with its operands; the cell
// it reaches puts its final sum (that product included) into the output register, and the drain shifts the
// output registers, not the accumulators. So in_ready stays high through the wait and the drain for every
// beat but an in_last one: the next tile's beats stream while the previous tile finishes and drains, and
// only the next in_last beat waits for the drain to end (the cycle after the last output beat, as above).
// With the in_last beat of tile t accepted in cycle L_t, the next one is accepted from cycle
// L_t + max(K, (R + C - 2) + R + 1): tiles start every P = max(K, 2R + C - 1) cycles (not K + 2R + C - 2),
// and T tiles take K + 2R + C - 2 + (T - 1) * P cycles, first beat to last output beat.
//
//   cycle       0    1    2    3    4    5    6    7    8    9   10         (ROWS = COLS = 2, K = 3, two tiles)
//   in_valid    1    1    1    1    1    1    1    1    0 ...
//   in_last     0    0    1    0    0    1    1    1          (tile 1's in_last beat offered from cycle 5)
//   in_ready    1    1    1    1    1    0    0    1          (it waits for the drain: accepted in cycle 7)
//   out_valid   0    0    0    0    0    1    1    0    0    0    1    1
//   out_data                             C1   C0                  C1'  C0'
//   P = max(3, 2R + C - 1 = 5) = 5: tile 1's in_last beat is accepted in cycle 7, its outputs leave in 10, 11:
//   12 cycles = K + 2R + C - 2 + P = 3 + 4 + 5 (against 2 * 7 = 14 with SHADOW = 0).
//
// Unused ports: DATAFLOW = 0 ignores in_last (and in_swap, in_wvalid with SHADOW = 0, in_wload with
// SHADOW = 1: in_wready is then 0); DATAFLOW = 1 ignores in_wload, in_swap, in_wvalid and in_psum (in_wready
// = 0).
module systolic_array #(
    parameter integer ROWS = 4,
    parameter integer COLS = 4,
    parameter integer DATAFLOW = 0,
    parameter integer PE_KIND = 2,
    parameter integer FMT_A = 0,
    parameter integer FMT_B = 0,
    parameter integer ACC_W = 0,
    parameter integer SHADOW = 0
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               in_valid,
    output wire               in_ready,
    input  wire               in_wload,
    input  wire               in_last,
    input  wire               in_swap,
    input  wire               in_wvalid,
    output wire               in_wready,
    input  wire [ROWS*8-1:0]  in_a,
    input  wire [COLS*8-1:0]  in_b,
    input  wire [COLS*AW-1:0] in_psum,
    output wire               out_valid,
    input  wire               out_ready,
    output wire [COLS*AW-1:0] out_data
);
`include "fp8_formats.vh"
`include "pe_kinds.vh"

  localparam integer AW = pe_word_bits(PE_KIND, ACC_W, FMT_A, FMT_B);

  generate
    if (DATAFLOW == 0) begin : g_ws
      wire unused_ok = &{1'b0, in_last};   // no reduction boundary to mark: rows are independent
      sa_ws #(.ROWS(ROWS), .COLS(COLS), .PE_KIND(PE_KIND), .FMT_A(FMT_A), .FMT_B(FMT_B), .ACC_W(ACC_W),
              .SHADOW(SHADOW)) u_ws (
          .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_wload(in_wload),
          .in_swap(in_swap), .in_wvalid(in_wvalid), .in_wready(in_wready),
          .in_a(in_a), .in_b(in_b), .in_psum(in_psum),
          .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data));
    end else begin : g_os
      wire unused_ok = &{1'b0, in_wload, in_swap, in_wvalid, in_psum};   // no weights to preload; sums from +0
      assign in_wready = 1'b0;
      sa_os #(.ROWS(ROWS), .COLS(COLS), .PE_KIND(PE_KIND), .FMT_A(FMT_A), .FMT_B(FMT_B), .ACC_W(ACC_W),
              .SHADOW(SHADOW)) u_os (
          .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_last(in_last),
          .in_a(in_a), .in_b(in_b),
          .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data));
    end
  endgenerate
endmodule
