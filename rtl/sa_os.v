// sa_os: output-stationary systolic array (ports and timing: systolic_array.v, which instantiates it).
//
// Cell (r, c) accumulates C[r][c] of a ROWS x COLS output tile over the whole reduction. Each input beat
// carries column k of the A tile (in_a[r] = A[r][k]) and row k of the B tile (in_b[c] = B[k][c]). A
// enters skewed by row and moves right, B enters skewed by column and moves down, so A[r][k] and B[k][c]
// meet in cell (r, c) r + c cycles after the beat; the products are added in increasing k from +0 (the
// beat after in_last, or the first after reset, restarts the sum). After the last beat has reached cell
// (ROWS-1, COLS-1), the accumulators shift down one row per accepted output beat: output rows leave
// bottom row first (ROWS-1, ..., 0). Inputs are refused (in_ready = 0) from the last beat until the
// drain has finished; input bubbles (in_valid = 0) are allowed at any time and carry a valid flag.
//
// SHADOW = 1 (double-buffered accumulators, timing in systolic_array.v): each cell also has an output
// register. The in_last beat carries a last flag beside its operands; when it reaches a cell, the cell's
// final sum (this product included) goes into the output register, and the output registers, not the
// accumulators, shift down during the drain. So the next tile's beats are accepted while the previous tile
// waits for its corner and drains; only its own in_last beat waits until the drain has finished.
module sa_os #(
    parameter integer ROWS = 4,
    parameter integer COLS = 4,
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
    input  wire               in_last,
    input  wire [ROWS*8-1:0]  in_a,
    input  wire [COLS*8-1:0]  in_b,
    output wire               out_valid,
    input  wire               out_ready,
    output wire [COLS*AW-1:0] out_data
);
`include "fp8_formats.vh"
`include "pe_kinds.vh"

  localparam integer AW = pe_word_bits(PE_KIND, ACC_W, FMT_A, FMT_B);
  localparam integer FILL = ROWS + COLS - 2;   // cycles from a beat to its arrival in the far corner
  localparam integer CW = $clog2(ROWS + COLS + 1) + 1;

  localparam [1:0] S_RUN = 2'd0, S_WAIT = 2'd1, S_DRAIN = 2'd2;
  reg [1:0]    st;
  reg [CW-1:0] cnt;          // S_WAIT: cycles left; S_DRAIN: output beats left - 1
  reg          first_pend;   // the next accepted beat starts new sums

  // SHADOW = 1: beats other than in_last are accepted in every state (they touch only the accumulators).
  assign in_ready = (st == S_RUN) || (SHADOW != 0 && !in_last);
  wire fire = in_valid && in_ready;
  assign out_valid = (st == S_DRAIN);
  wire drain = out_valid && out_ready;   // shift the accumulators down one row

  always @(posedge clk) begin
    if (rst) begin
      st <= S_RUN;
      cnt <= {CW{1'b0}};
      first_pend <= 1'b1;
    end else begin
      if (fire) first_pend <= in_last;
      case (st)
        S_RUN:
          if (fire) begin
            if (in_last) begin
              if (FILL == 0) begin
                st <= S_DRAIN;
                cnt <= CW'(ROWS - 1);
              end else begin
                st <= S_WAIT;
                cnt <= CW'(FILL);
              end
            end
          end
        S_WAIT:
          if (cnt == CW'(1)) begin
            st <= S_DRAIN;
            cnt <= CW'(ROWS - 1);
          end else begin
            cnt <= cnt - 1'b1;
          end
        default:  // S_DRAIN
          if (drain) begin
            if (cnt == {CW{1'b0}}) st <= S_RUN;
            else cnt <= cnt - 1'b1;
          end
      endcase
    end
  end

  // Per row: {valid, first, a} after the input skew (row r delayed r cycles); per column: b after the
  // skew (column c delayed c cycles). Flags need a reset; data registers do not.
  // Per-cell values as arrays of words, not flat buses (see sa_ws.v: the same logic, far faster Verilated).
  wire [9:0]    a_sk [0:ROWS-1];
  wire          l_sk [0:ROWS-1];        // SHADOW = 1: the last flag after the same skew
  wire [7:0]    b_sk [0:COLS-1];
  // verilator lint_off UNUSED
  wire [9:0]    a_q  [0:ROWS*COLS-1];   // each cell's {valid, first, a} register, read by the cell to its right
  wire [7:0]    b_q  [0:ROWS*COLS-1];   // each cell's b register, read by the cell below
  // verilator lint_on UNUSED
  // verilator lint_off UNUSED
  wire          l_q  [0:ROWS*COLS-1];   // SHADOW = 1: each cell's last-flag register
  // verilator lint_on UNUSED
  wire [AW-1:0] out_q [0:ROWS*COLS-1];  // SHADOW = 1: each cell's output register (else its accumulator)
  wire [ROWS*10-1:0]      a_beat;
  genvar r, c;
  generate
    for (r = 0; r < ROWS; r = r + 1) begin : g_askew
      assign a_beat[10*r +: 10] = {fire, first_pend, in_a[8*r +: 8]};
      if (r == 0) begin : g_direct
        assign a_sk[0] = a_beat[9:0];
      end else begin : g_delay
        reg [10*r-1:0] sr;
        integer k;
        always @(posedge clk) begin
          for (k = r - 1; k > 0; k = k - 1) sr[10*k +: 10] <= sr[10*(k-1) +: 10];
          sr[9:0] <= a_beat[10*r +: 10];
          if (rst)
            for (k = 0; k < r; k = k + 1) sr[10*k+9] <= 1'b0;
        end
        assign a_sk[r] = sr[10*(r-1) +: 10];
      end
      if (SHADOW == 0) begin : g_nol
        assign l_sk[r] = 1'b0;
      end else if (r == 0) begin : g_ldirect
        assign l_sk[0] = fire && in_last;
      end else begin : g_ldelay
        reg [r-1:0] lsr;   // stage k at bit k
        integer k;
        always @(posedge clk) begin
          if (rst) lsr <= {r{1'b0}};
          else begin
            for (k = r - 1; k > 0; k = k - 1) lsr[k] <= lsr[k-1];
            lsr[0] <= fire && in_last;
          end
        end
        assign l_sk[r] = lsr[r-1];
      end
    end
    for (c = 0; c < COLS; c = c + 1) begin : g_bskew
      if (c == 0) begin : g_direct
        assign b_sk[0] = in_b[7:0];
      end else begin : g_delay
        reg [8*c-1:0] sr;
        integer k;
        always @(posedge clk) begin
          for (k = c - 1; k > 0; k = k - 1) sr[8*k +: 8] <= sr[8*(k-1) +: 8];
          sr[7:0] <= in_b[8*c +: 8];
        end
        assign b_sk[c] = sr[8*(c-1) +: 8];
      end
    end

    for (r = 0; r < ROWS; r = r + 1) begin : g_row
      for (c = 0; c < COLS; c = c + 1) begin : g_col
        localparam integer I = r * COLS + c;
        wire [9:0]    a_in;   // {valid, first, a}
        wire [7:0]    b_in;
        wire [AW-1:0] acc_above;   // the output register above (SHADOW = 1) or the accumulator above
        wire          l_in;
        if (c == 0) begin : g_a_edge
          assign a_in = a_sk[r];
          assign l_in = l_sk[r];
        end else begin : g_a_left
          assign a_in = a_q[I-1];
          assign l_in = l_q[I-1];
        end
        if (r == 0) begin : g_top
          assign b_in = b_sk[c];
          assign acc_above = {AW{1'b0}};
        end else begin : g_below
          assign b_in = b_q[I-COLS];
          assign acc_above = out_q[I-COLS];
        end

        reg [9:0]     a;
        reg [7:0]     b;
        reg [AW-1:0]  acc;
        wire [AW-1:0] acc_nxt;
        pe_mac #(.PE_KIND(PE_KIND), .FMT_A(FMT_A), .FMT_B(FMT_B), .ACC_W(ACC_W)) u_mac (
            .a(a_in[7:0]), .b(b_in), .acc_in(a_in[8] ? {AW{1'b0}} : acc), .acc_out(acc_nxt));
        always @(posedge clk) begin
          a <= a_in;
          if (rst) a[9] <= 1'b0;
          b <= b_in;
        end
        if (SHADOW == 0) begin : g_acc
          always @(posedge clk) begin
            // Valid operands and a drain never coincide: inputs stop at in_last and the drain waits until
            // the last beat has passed the far corner.
            if (drain) acc <= acc_above;
            else if (a_in[9]) acc <= acc_nxt;
          end
          assign out_q[I] = acc;
          assign l_q[I] = 1'b0;
          wire unused_ok = &{1'b0, l_in};
        end else begin : g_acc
          // The last beat's flag moves with it; its cell's final sum goes to the output register. A capture
          // and a drain never coincide: the drain starts after the last beat has passed the far corner, and
          // the next in_last beat is accepted only after the drain.
          reg          l;
          reg [AW-1:0] o;
          always @(posedge clk) begin
            if (rst) l <= 1'b0;
            else l <= l_in;
            if (a_in[9]) acc <= acc_nxt;
            if (drain) o <= acc_above;
            else if (l_in) o <= acc_nxt;
          end
          assign out_q[I] = o;
          assign l_q[I] = l;
        end
        assign a_q[I] = a;
        assign b_q[I] = b;
      end
    end

    for (c = 0; c < COLS; c = c + 1) begin : g_out
      assign out_data[AW*c +: AW] = out_q[(ROWS-1)*COLS + c];
    end
  endgenerate

  // The last column's a registers and the bottom row's b registers have no reader (synthesis removes them;
  // hence lint_off UNUSED around a_q, b_q).
endmodule
