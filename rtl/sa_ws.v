// sa_ws: weight-stationary systolic array (ports and timing: systolic_array.v, which instantiates it).
//
// Cell (r, c) holds weight W[r][c]. Activation row vector a[0..ROWS-1] (one A row, one k per array row)
// enters skewed (row r delayed r cycles), moves one cell right per cycle; partial sums move one cell down
// per cycle, starting from in_psum at the top (skewed by column) and picking up a[r] * W[r][c] in each
// row, so column c adds its products in increasing r, starting from in_psum[c]. Bottom outputs are deskewed
// (column c delayed COLS-1-c cycles) so one output row leaves per cycle, all columns together.
// Every register moves only when the array advances (adv): one global stall for output back-pressure.
//
// SHADOW = 1 (hidden weight loads, protocol and timing diagram in systolic_array.v): every cell also has a
// shadow weight register. Weight rows arrive on their own channel (in_wvalid/in_wready, payload in_b) and
// shift down the columns' shadow registers; a compute row with in_swap = 1 carries a swap marker beside its
// activations, skewed like them, and each cell multiplies with (and takes over) its shadow weight exactly
// when the marker reaches it, so the rows of the previous tile still in flight keep the old weights.
module sa_ws #(
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
    input  wire               in_wload,
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
  localparam integer L = ROWS + COLS - 1;   // cycles from an accepted input row to its output row

  // vpipe[j]: the compute row accepted j+1 advancing edges ago is valid (shifts with adv).
  reg  [L-1:0] vpipe;
  wire adv = !vpipe[L-1] || out_ready;
  wire fire = in_valid && in_ready;
  wire shift_w;   // the shadow (SHADOW = 1) or the active (SHADOW = 0) weight registers shift down one row
  wire compute;
  wire swap_in;   // SHADOW = 1: the accepted compute row carries the swap marker
  generate
    if (SHADOW == 0) begin : g_ctl
      // Rows still needing the weights: all but the top stage, whose results are final.
      wire [L-1:0] top_bit = {1'b1, {(L - 1){1'b0}}};
      wire busy = |(vpipe & ~top_bit);
      // A weight row may enter only when no accepted row still needs the old weights.
      assign in_ready = adv && (!in_wload || !busy);
      assign shift_w = fire && in_wload;
      assign compute = fire && !in_wload;
      assign swap_in = 1'b0;
      assign in_wready = 1'b0;
      wire unused_ok = &{1'b0, in_swap, in_wvalid, swap_in};
    end else begin : g_ctl
      // wcnt: weight rows in the shadow registers since the last swap (ROWS = full). scnt: edges after this
      // one at which the last swap marker still reads shadow registers (it reaches cell (r, c) r + c edges
      // after its row is accepted): the shadow chain may shift at an edge only when no later read remains.
      localparam integer SREAD_I = ROWS + COLS - 2;
      wire [31:0] wfull32 = ROWS, sread32 = SREAD_I;
      wire [15:0] WFULL = wfull32[15:0], SREAD = sread32[15:0];
      wire unused_hi = &{1'b0, wfull32[31:16], sread32[31:16]};
      reg [15:0] wcnt, scnt;
      wire full = wcnt == WFULL;
      assign in_ready = adv && (!in_swap || full);
      assign compute = fire;
      assign swap_in = fire && in_swap;
      assign in_wready = adv && !full && scnt <= 16'd1;
      assign shift_w = in_wvalid && in_wready;
      always @(posedge clk) begin
        if (rst) begin
          wcnt <= 16'd0;
          scnt <= 16'd0;
        end else if (adv) begin
          if (swap_in) wcnt <= 16'd0;
          else if (shift_w) wcnt <= wcnt + 16'd1;
          if (swap_in) scnt <= SREAD;
          else if (scnt != 16'd0) scnt <= scnt - 16'd1;
        end
      end
      wire unused_ok = &{1'b0, in_wload};
    end
  endgenerate
  assign out_valid = vpipe[L-1];

  always @(posedge clk) begin
    if (rst) vpipe <= {L{1'b0}};
    else if (adv) vpipe <= (vpipe << 1) | {{(L - 1){1'b0}}, compute};
  end

  // Per-cell values as arrays of words, not flat buses: a simulator then updates one word per cell instead
  // of rebuilding a ROWS*COLS*AW-bit vector for every cell (Verilator's wide concatenations were 76% of the
  // Verilated 32x32 array's time). The logic is the same.
  wire [7:0]    a_sk [0:ROWS-1];        // activations after the input skew (row r delayed r cycles)
  wire          s_sk [0:ROWS-1];        // SHADOW = 1: the swap marker after the same skew
  wire [AW-1:0] p_sk [0:COLS-1];        // top partial sums after the skew (column c delayed c cycles)
  // verilator lint_off UNUSED
  wire [7:0]    a_q  [0:ROWS*COLS-1];   // each cell's activation register (read by the cell to its right)
  wire [AW-1:0] p_q  [0:ROWS*COLS-1];   // each cell's partial-sum register (read by the cell below)
  wire [7:0]    w_q  [0:ROWS*COLS-1];   // each cell's weight
  wire [7:0]    h_q  [0:ROWS*COLS-1];   // SHADOW = 1: each cell's shadow weight (read by the cell below)
  wire          s_q  [0:ROWS*COLS-1];   // SHADOW = 1: each cell's swap-marker register
  // verilator lint_on UNUSED

  genvar r, c;
  generate
    // ---- input skew ----
    for (r = 0; r < ROWS; r = r + 1) begin : g_askew
      if (r == 0) begin : g_direct
        assign a_sk[0] = in_a[7:0];
      end else begin : g_delay
        reg [8*r-1:0] sr;   // stage k at [8k +: 8]
        integer k;
        always @(posedge clk) begin
          if (adv) begin
            for (k = r - 1; k > 0; k = k - 1) sr[8*k +: 8] <= sr[8*(k-1) +: 8];
            sr[7:0] <= in_a[8*r +: 8];
          end
        end
        assign a_sk[r] = sr[8*(r-1) +: 8];
      end
      if (SHADOW == 0) begin : g_nos
        assign s_sk[r] = 1'b0;
      end else if (r == 0) begin : g_sdirect
        assign s_sk[0] = swap_in;
      end else begin : g_sdelay
        // stage k at bit k (stage 0 takes the marker accepted this edge)
        reg [r-1:0] ssr;
        integer k;
        always @(posedge clk) begin
          if (rst) ssr <= {r{1'b0}};
          else if (adv) begin
            for (k = r - 1; k > 0; k = k - 1) ssr[k] <= ssr[k-1];
            ssr[0] <= swap_in;
          end
        end
        assign s_sk[r] = ssr[r-1];
      end
    end
    for (c = 0; c < COLS; c = c + 1) begin : g_pskew
      if (c == 0) begin : g_direct
        assign p_sk[0] = in_psum[AW-1:0];
      end else begin : g_delay
        reg [AW*c-1:0] sr;
        integer k;
        always @(posedge clk) begin
          if (adv) begin
            for (k = c - 1; k > 0; k = k - 1) sr[AW*k +: AW] <= sr[AW*(k-1) +: AW];
            sr[AW-1:0] <= in_psum[AW*c +: AW];
          end
        end
        assign p_sk[c] = sr[AW*(c-1) +: AW];
      end
    end

    // ---- cells ----
    for (r = 0; r < ROWS; r = r + 1) begin : g_row
      for (c = 0; c < COLS; c = c + 1) begin : g_col
        localparam integer I = r * COLS + c;
        wire [7:0]    a_in;
        wire [AW-1:0] p_in;
        wire [7:0]    w_in;   // weight shifted in from above while loading (SHADOW = 1: into the shadow)
        wire          s_in;   // SHADOW = 1: the swap marker arriving with a_in
        if (c == 0) begin : g_a_edge
          assign a_in = a_sk[r];
          assign s_in = s_sk[r];
        end else begin : g_a_left
          assign a_in = a_q[I-1];
          assign s_in = s_q[I-1];
        end
        if (r == 0) begin : g_top
          assign p_in = p_sk[c];
          assign w_in = in_b[8*c +: 8];
        end else begin : g_below
          assign p_in = p_q[I-COLS];
          assign w_in = SHADOW != 0 ? h_q[I-COLS] : w_q[I-COLS];
        end

        reg [7:0]     w;
        reg [7:0]     a;
        reg [AW-1:0]  p;
        wire [7:0]    w_use;  // the weight this edge's product uses
        wire [AW-1:0] p_nxt;
        pe_mac #(.PE_KIND(PE_KIND), .FMT_A(FMT_A), .FMT_B(FMT_B), .ACC_W(ACC_W)) u_mac (
            .a(a_in), .b(w_use), .acc_in(p_in), .acc_out(p_nxt));
        always @(posedge clk) begin
          if (adv) begin
            a <= a_in;
            p <= p_nxt;
          end
        end
        if (SHADOW == 0) begin : g_w
          assign w_use = w;
          always @(posedge clk) if (adv && shift_w) w <= w_in;
          assign h_q[I] = 8'd0;
          assign s_q[I] = 1'b0;
          wire unused_ok = &{1'b0, s_in};
        end else begin : g_w
          // The marker's row is the new tile's: its product already uses the shadow weight, which becomes
          // the active one at this edge; the shadow register keeps shifting independently.
          reg [7:0] h;
          reg       s;
          assign w_use = s_in ? h : w;
          always @(posedge clk) begin
            if (rst) s <= 1'b0;
            else if (adv) s <= s_in;
            if (adv && s_in) w <= h;
            if (shift_w) h <= w_in;
          end
          assign h_q[I] = h;
          assign s_q[I] = s;
        end
        assign w_q[I] = w;
        assign a_q[I] = a;
        assign p_q[I] = p;
      end
    end

    // ---- output deskew ----
    for (c = 0; c < COLS; c = c + 1) begin : g_dskew
      localparam integer D = COLS - 1 - c;   // stages
      localparam integer B = (ROWS - 1) * COLS + c;   // bottom cell of column c
      if (D == 0) begin : g_direct
        assign out_data[AW*c +: AW] = p_q[B];
      end else begin : g_delay
        reg [AW*D-1:0] sr;
        integer k;
        always @(posedge clk) begin
          if (adv) begin
            for (k = D - 1; k > 0; k = k - 1) sr[AW*k +: AW] <= sr[AW*(k-1) +: AW];
            sr[AW-1:0] <= p_q[B];
          end
        end
        assign out_data[AW*c +: AW] = sr[AW*(D-1) +: AW];
      end
    end
  endgenerate

  // The last column's activation (and marker) registers have no cell to their right (synthesis removes
  // them); the bottom row's weights are not shifted further (hence lint_off UNUSED around a_q, w_q, h_q, s_q).
endmodule
