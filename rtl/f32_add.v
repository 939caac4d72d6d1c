// f32_add: IEEE 754 binary32 addition, round to nearest even, subnormals kept (no flush), combinational.
//
// NaN results are the canonical quiet NaN 0x7FC00000 (the model's Float32Accumulator canonicalizes the
// same way); +Inf + -Inf = NaN; an exact zero sum is +0 unless both operands are -0 (IEEE 754-2019 §6.3).
//
// Datapath: order the operands by magnitude, align the smaller one with three extra bits (guard, round,
// sticky), add or subtract, normalize, round. Three extra bits suffice: when the exponents differ by 2 or
// more a subtraction loses at most one leading bit, and when they differ by 0 or 1 no bit is shifted out,
// so the result is exact before normalization (Goldberg 1991, "What every computer scientist should know
// about floating-point arithmetic", §"Guard digits"; Ercegovac & Lang, Digital Arithmetic, ch. 8).
// Rounding adds the round bit to {exponent field, fraction} as one integer, so a carry out of the fraction
// steps the exponent, turns a subnormal into the smallest normal, and overflows to exactly +-Inf.
module f32_add (
    input  wire [31:0] a,
    input  wire [31:0] b,
    output reg  [31:0] s
);
  wire        sa = a[31], sb = b[31];
  wire [7:0]  ea = a[30:23], eb = b[30:23];
  wire [22:0] fa = a[22:0], fb = b[22:0];

  wire a_nan = &ea && |fa, b_nan = &eb && |fb;
  wire a_inf = &ea && !(|fa), b_inf = &eb && !(|fb);

  // Subnormals: exponent field 0 has the weight of field 1 and no hidden bit.
  wire [7:0]  xa = (ea == 8'd0) ? 8'd1 : ea;
  wire [7:0]  xb = (eb == 8'd0) ? 8'd1 : eb;
  wire [23:0] ma = {ea != 8'd0, fa};
  wire [23:0] mb = {eb != 8'd0, fb};

  wire swap = {xb, mb} > {xa, ma};
  wire        s_big = swap ? sb : sa;
  wire [7:0]  x_big = swap ? xb : xa;
  wire [23:0] m_big = swap ? mb : ma;
  wire [7:0]  x_sml = swap ? xa : xb;
  wire [23:0] m_sml = swap ? ma : mb;
  wire        sub = sa ^ sb;

  // Alignment: shift right by d, OR every bit shifted out of the 27-bit window into the sticky bit.
  // A shift by 27 or more leaves 0 in the window and makes the mask all ones (then the sticky is |m_sml).
  wire [7:0]  d = x_big - x_sml;
  wire [26:0] m_sml_x = {m_sml, 3'b000};
  wire [26:0] shifted = m_sml_x >> d;
  wire [26:0] lost_mask = (27'd1 << d) - 27'd1;
  wire        sticky = |(m_sml_x & lost_mask);
  wire [27:0] aligned = {1'b0, shifted[26:1], shifted[0] | sticky};
  wire [27:0] big_x = {1'b0, m_big, 3'b000};
  wire [27:0] sum = sub ? big_x - aligned : big_x + aligned;

  // Leading zeros of sum[26:0] (27 when zero).
  reg [4:0] lz;
  integer i;
  always @* begin
    lz = 5'd27;
    for (i = 0; i < 27; i = i + 1)
      if (sum[i]) lz = 5'(26 - i);
  end

  // Normalize: a carry shifts right by one (keeping the sticky); otherwise shift left by the leading
  // zeros, but never below exponent 1 (the result is then subnormal and keeps its leading zeros).
  reg [26:0] norm;
  reg [8:0]  e;
  reg [7:0]  sh;
  always @* begin
    sh = 8'd0;
    if (sum[27]) begin
      norm = {sum[27:2], sum[1] | sum[0]};
      e = {1'b0, x_big} + 9'd1;
    end else begin
      sh = ({3'b000, lz} < x_big - 8'd1) ? {3'b000, lz} : x_big - 8'd1;
      norm = sum[26:0] << sh;
      e = {1'b0, x_big} - {1'b0, sh};
    end
  end

  // Round to nearest even at bit 3: guard = norm[2], sticky = norm[1] | norm[0].
  wire [7:0]  field = norm[26] ? e[7:0] : 8'd0;
  wire        rnd = norm[2] && (norm[1] || norm[0] || norm[3]);
  wire [30:0] rounded = {field, norm[25:3]} + {30'd0, rnd};

  always @* begin
    if (a_nan || b_nan || (a_inf && b_inf && sub)) s = 32'h7FC0_0000;
    else if (a_inf) s = a;
    else if (b_inf) s = b;
    else if (sum == 28'd0) s = {sa & sb, 31'd0};
    else if (e >= 9'd255) s = {s_big, 8'hFF, 23'd0};   // carry out of the largest binade
    else s = {s_big, rounded};
  end
endmodule
