// The abstract interpreter of command streams used by the firmware tests, written independently of sim/
// and of the firmware's own address helpers: it executes a stream on buffers whose cells hold *which*
// element they contain (A[m][k], B[k][n], or padding) and checks, while it runs:
//   - no access outside a buffer (no overfill) and no DRAM access outside A (or the convolution's NHWC
//     input), B and C;
//   - every product pairs A[m][k] with B[k][n] of the same k (or involves padding);
//   - every output C[m][n] is stored exactly once, and its word holds each k in [0, K) exactly once (implicit
//     im2col: each k whose tap lies inside the input; padding taps hold +0 and add nothing);
//   - the Accumulate flag is set exactly when the output word already holds a partial sum of that output.
//   - MX GEMMs (g.mx.enabled, the output-stationary MX array): the E8M0 scale loads read only the A (M x nb) and
//     B (N x nb) scale matrices; on every block-last beat of a Compute (beat r with r % block == block - 1, or
//     the tile's last) the scale bytes the array samples (after the tile's codes, sim/mx_array.h) are exactly
//     A's scale of that output row and B's of that column for the block holding every k of the block's beats
//     (so K tiles are whole blocks and scales travel with them); kFlagMxCont continues exactly the product a
//     kFlagMxMore Compute left in the PEs, a product's words are written only by its last K tile, never with
//     Accumulate.
// It also counts the DRAM bytes the stream reads and writes.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "fp8sim/firmware/commands.h"
#include "fp8sim/firmware/lowering.h"
#include "fp8sim/model/requant.h"

namespace fp8sim::testing {

using namespace fp8sim::firmware;
namespace model = fp8sim::model;


struct Tag {  // one operand byte: A[i][j] or B[i][j]; i < 0 is padding (zero)
  int64_t i = -1, j = -1;
  int kind = 0;  // 0: an operand element; MX scales: 1 = A's scale of row i, block j; 2 = B's of block i, column j
};
struct OutWord {
  int64_t m = -1, n = -1;
  std::vector<int64_t> ks;  // k of every product summed into this word
  bool started = false;     // reset by a Compute without Accumulate
};

struct Interp {
  ArrayTarget t;
  GemmSpec g;
  std::vector<Tag> inbuf, wbuf;
  std::vector<OutWord> obuf;
  std::vector<int> stored;  // per C element
  int64_t computes = 0;
  // MX: the PEs' partial products between K tiles (R x C; kFlagMxMore leaves them, kFlagMxCont continues them)
  std::vector<OutWord> pe;
  bool pe_open = false;
  uint64_t dram_read = 0, dram_written = 0;  // bytes the stream moves (loads' non-padding bytes; stores)

  Interp(const ArrayTarget& t_, const GemmSpec& g_)
      : t(t_), g(g_), inbuf(static_cast<size_t>(t.input_buffer_bytes)),
        wbuf(static_cast<size_t>(t.weight_buffer_bytes)),
        obuf(static_cast<size_t>(t.output_buffer_bytes / t.word_bytes)), stored(static_cast<size_t>(g.m * g.n)) {}

  static void fail(const std::string& s) { throw std::runtime_error(s); }

  Tag dram_operand(uint64_t addr, bool is_a) const {
    const uint64_t base = is_a ? g.a_addr : g.b_addr;
    const int64_t rows = is_a ? g.m : g.k, cols = is_a ? g.k : g.n;
    if (addr < base || addr >= base + static_cast<uint64_t>(rows * cols)) fail("DRAM read outside the operand");
    const int64_t off = static_cast<int64_t>(addr - base);
    return Tag{off / cols, off % cols};
  }

  // MX: whether a load reads the scale matrix of its side (A: M x nb at a_scale_addr; B: N x nb at b_scale_addr).
  int64_t mx_blocks() const { return (g.k + g.mx.block - 1) / g.mx.block; }
  bool scale_load(const Command& c, bool is_a) const {
    if (!g.mx.enabled) return false;
    const uint64_t base = is_a ? g.mx.a_scale_addr : g.mx.b_scale_addr;
    return c.dram_addr >= base && c.dram_addr < base + uint64_t((is_a ? g.m : g.n) * mx_blocks());
  }
  Tag dram_scale(uint64_t addr, bool is_a) const {
    const uint64_t base = is_a ? g.mx.a_scale_addr : g.mx.b_scale_addr;
    const int64_t rows = is_a ? g.m : g.n, nb = mx_blocks();
    if (addr < base || addr >= base + uint64_t(rows * nb)) fail("DRAM read outside the scale matrix");
    const int64_t off = static_cast<int64_t>(addr - base);
    return is_a ? Tag{off / nb, off % nb, 1} : Tag{off % nb, off / nb, 2};
  }

  void load(const Command& c, bool is_a) {
    std::vector<Tag>& buf = is_a ? inbuf : wbuf;
    const bool tr = c.flags & kFlagTranspose;
    const uint64_t span = uint64_t{c.buf_rows} * c.buf_cols;
    if (c.buf_addr + span > buf.size()) fail("load overfills the buffer");
    if ((tr ? c.cols : c.rows) > c.buf_rows || (tr ? c.rows : c.cols) > c.buf_cols) fail("tile larger than region");
    for (uint64_t x = 0; x < span; ++x) buf[c.buf_addr + x] = Tag{};  // zero fill
    const bool gather = c.flags & kFlagGather, scales = scale_load(c, is_a);
    if (gather != (is_a && g.gather.enabled && !scales)) fail("gather flag on the wrong load");
    for (uint32_t r = 0; r < c.rows; ++r)
      for (uint32_t q = 0; q < c.cols; ++q) {
        const uint64_t addr = c.dram_addr + uint64_t{r} * c.dram_stride + q;
        const Tag tg = scales ? dram_scale(addr, is_a) : gather ? gathered(c, r, q) : dram_operand(addr, is_a);
        if (!gather || tg.i >= 0) ++dram_read;
        const uint64_t at = tr ? uint64_t{q} * c.buf_cols + r : uint64_t{r} * c.buf_cols + q;
        buf[c.buf_addr + at] = tg;
      }
  }

  // Implicit im2col, decoded here from the command's geometry fields: element (r, q) is output pixel
  // p = gather_m0 + r, reduction index k = gather_k0 + q = (dy * kw + dx) * in_c + ci. The interpreter reads the
  // NHWC input byte of (image, iy, ix, ci), checks it lies inside the input, and tags it A[p][k] only if that
  // byte is the one the convolution pairs with output p and tap k (the spec's geometry, not the command's).
  Tag gathered(const Command& c, uint32_t r, uint32_t q) const {
    const ConvSpec& cv = g.gather.conv;
    if (c.dram_addr != g.a_addr || c.conv_in_h != cv.in_h || c.conv_in_w != cv.in_w || c.conv_in_c != cv.in_c ||
        c.conv_kh != cv.kh || c.conv_kw != cv.kw || c.conv_stride != cv.stride || c.conv_pad != cv.pad)
      fail("gather geometry differs from the convolution");
    if (c.pad_code != g.gather.pad_code) fail("gather pad code differs");
    const int64_t oh = cv.out_h(), ow = cv.out_w();
    const int64_t p = int64_t{c.gather_m0} + r, k = int64_t{c.gather_k0} + q;
    if (p >= g.m || k >= g.k) fail("gather outside the im2col matrix");
    const int64_t img = p / (oh * ow), y = (p / ow) % oh, x = p % ow;
    const int64_t ci = k % cv.in_c, dx = (k / cv.in_c) % cv.kw, dy = k / cv.in_c / cv.kw;
    const int64_t iy = y * cv.stride - cv.pad + dy, ix = x * cv.stride - cv.pad + dx;
    if (iy < 0 || ix < 0 || iy >= cv.in_h || ix >= cv.in_w) return Tag{};  // padding tap: pad_code (+0)
    const uint64_t addr = c.dram_addr + uint64_t(((img * cv.in_h + iy) * cv.in_w + ix) * cv.in_c + ci);
    const uint64_t in_bytes = uint64_t(cv.batch * cv.in_h * cv.in_w * cv.in_c);
    if (addr < g.a_addr || addr >= g.a_addr + in_bytes) fail("gather reads outside the input");
    return Tag{p, k};
  }

  // Implicit im2col: whether A[m][k] is a real tap (not padding) of the convolution.
  bool tap_inside(int64_t m, int64_t k) const {
    if (!g.gather.enabled) return true;
    const ConvSpec& cv = g.gather.conv;
    const int64_t ow = cv.out_w(), y = (m / ow) % cv.out_h(), x = m % ow, tap = k / cv.in_c;
    const int64_t iy = y * cv.stride - cv.pad + tap / cv.kw, ix = x * cv.stride - cv.pad + tap % cv.kw;
    return iy >= 0 && ix >= 0 && iy < cv.in_h && ix < cv.in_w;
  }

  const Tag& rd(const std::vector<Tag>& b, uint64_t a) const {
    if (a >= b.size()) fail("compute reads outside a buffer");
    return b[a];
  }

  // MX Compute (OS): every beat's products, the scales sampled on block-last beats, the PEs' state across K tiles.
  void compute_mx(const Command& c) {
    const int64_t R = t.rows, C = t.cols, wb = t.word_bytes, B = g.mx.block;
    const int64_t kp = (int64_t{c.k} + B - 1) / B * B;
    if (t.dataflow != Dataflow::OutputStationary) fail("MX Compute on a weight-stationary array");
    if (c.flags & kFlagAccumulate) fail("MX Compute with Accumulate (the PEs accumulate over K)");
    const bool cont = c.flags & kFlagMxCont, more = c.flags & kFlagMxMore;
    if (cont != pe_open) fail(cont ? "kFlagMxCont without a product in the PEs" : "a new product while the PEs hold one");
    if (!cont) pe.assign(static_cast<size_t>(R * C), OutWord{});
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < C; ++j) {
        OutWord& w = pe[static_cast<size_t>(i * C + j)];
        int64_t blk_first = -1;  // global block of the block's first real product
        std::vector<int64_t> blk_ks;
        for (int64_t r = 0; r < c.k; ++r) {
          const Tag a = rd(inbuf, c.a_addr + r * R + i), b = rd(wbuf, c.w_addr + r * C + j);
          if (a.kind != 0 || b.kind != 0) fail("a scale byte read as an operand");
          if (a.i >= 0 && b.i >= 0) {
            if (a.j != b.i) fail("product of A[.][" + std::to_string(a.j) + "] with B[" + std::to_string(b.i) + "][.]");
            if ((w.m >= 0 && w.m != a.i) || (w.n >= 0 && w.n != b.j)) fail("one PE mixes outputs");
            w.m = a.i, w.n = b.j;
            w.ks.push_back(a.j);
            blk_ks.push_back(a.j);
          }
          if (r % B != B - 1 && r + 1 != c.k) continue;
          // block-last beat: the scales sampled with it (after the kp code rows, one row per block)
          const int64_t blk = r / B;
          const Tag sa = rd(inbuf, c.a_addr + kp * R + blk * R + i), sb = rd(wbuf, c.w_addr + kp * C + blk * C + j);
          for (int64_t k : blk_ks) {
            if (blk_first < 0) blk_first = k / B;
            if (k / B != blk_first) fail("one block of beats holds k of two MX blocks");
            if (sa.kind != 1 || sa.i != w.m || sa.j != k / B)
              fail("A scale of row " + std::to_string(w.m) + " block " + std::to_string(k / B) + " not beside its block");
            if (sb.kind != 2 || sb.i != k / B || sb.j != w.n)
              fail("B scale of block " + std::to_string(k / B) + " column " + std::to_string(w.n) + " not beside its block");
          }
          blk_first = -1;
          blk_ks.clear();
        }
      }
    pe_open = more;
    if (more) return;
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < C; ++j) {
        const uint64_t waddr = c.o_addr + static_cast<uint64_t>((i * C + j) * wb);
        if (waddr % wb || waddr / wb >= obuf.size()) fail("compute writes outside the output buffer");
        OutWord w = pe[static_cast<size_t>(i * C + j)];
        w.started = true;
        obuf[waddr / wb] = w;
      }
  }

  void compute(const Command& c) {
    ++computes;
    if (g.mx.enabled) return compute_mx(c);
    const int64_t R = t.rows, C = t.cols, wb = t.word_bytes;
    const bool ws = t.dataflow == Dataflow::WeightStationary;
    const int64_t out_rows = ws ? c.m : R;
    for (int64_t i = 0; i < out_rows; ++i)
      for (int64_t j = 0; j < C; ++j) {
        const uint64_t waddr = c.o_addr + static_cast<uint64_t>((i * C + j) * wb);
        if (waddr % wb || waddr / wb >= obuf.size()) fail("compute writes outside the output buffer");
        OutWord& w = obuf[waddr / wb];
        OutWord fresh;
        fresh.started = true;
        std::vector<int64_t> ks;
        int64_t mm = -1, nn = -1;
        const int64_t depth = ws ? R : c.k;
        for (int64_t r = 0; r < depth; ++r) {
          const Tag a = ws ? rd(inbuf, c.a_addr + i * R + r) : rd(inbuf, c.a_addr + r * R + i);
          const Tag b = ws ? rd(wbuf, c.w_addr + r * C + j) : rd(wbuf, c.w_addr + r * C + j);
          if (a.i < 0 || b.i < 0) continue;  // padding: +0 product
          if (a.j != b.i) fail("product of A[.][" + std::to_string(a.j) + "] with B[" + std::to_string(b.i) + "][.]");
          if ((mm >= 0 && mm != a.i) || (nn >= 0 && nn != b.j)) fail("one word mixes outputs");
          mm = a.i, nn = b.j;
          ks.push_back(a.j);
        }
        const bool acc = c.flags & kFlagAccumulate;
        if (!acc) w = fresh;
        if (mm >= 0) {
          if (acc && w.m >= 0 && (w.m != mm || w.n != nn)) fail("accumulating into another output's word");
          // Implicit im2col: a K tile can be all padding for an output, leaving its started word empty.
          if (acc && w.m < 0 && !(g.gather.enabled && w.started))
            fail("Accumulate set on a word holding no partial sum");
          w.m = mm, w.n = nn;
          w.ks.insert(w.ks.end(), ks.begin(), ks.end());
        }
      }
  }

  void store(const Command& c) {
    const int64_t wb = t.word_bytes;
    for (uint32_t r = 0; r < c.rows; ++r)
      for (uint32_t q = 0; q < c.cols; ++q) {
        const uint64_t baddr = c.buf_addr + (uint64_t{r} * c.buf_cols + q) * wb;
        if (baddr / wb >= obuf.size()) fail("store reads outside the output buffer");
        // Store writes accumulator words to C; PostProcess writes one output (a code, BF16 or F32) per word to
        // post.out_addr.
        const bool pp = c.op == Opcode::PostProcess;
        const int64_t esz = pp ? model::out_format_bytes(c.out_fmt) : wb;
        const uint64_t base = pp ? g.post.out_addr : g.c_addr;
        const uint64_t daddr = c.dram_addr + uint64_t{r} * c.dram_stride + q * esz;
        if (daddr < base || (daddr - base) % esz) fail("store outside C");
        const int64_t e = static_cast<int64_t>((daddr - base) / esz);
        if (pp && (c.scale_addr + 4 * q != g.post.scale_addr + 4 * uint64_t(e % g.n) ||
                   bool(c.flags & kFlagBias) != g.post.has_bias ||
                   (g.post.has_bias && c.bias_addr + 4 * q != g.post.bias_addr + 4 * uint64_t(e % g.n))))
          fail("post-processing parameters of another column");
        if (pp && (bool(c.flags & kFlagRowScales) != g.post.row_scales ||
                   (g.post.row_scales && c.row_scale_addr + 4 * r != g.post.row_scale_addr + 4 * uint64_t(e / g.n))))
          fail("post-processing row scale of another row");
        if (e >= g.m * g.n) fail("store outside C");
        const OutWord& w = obuf[baddr / wb];
        dram_written += uint64_t(esz);
        // An output with every tap in the padding holds no product at all (its word is a fresh +0).
        const int64_t em = e / g.n, en = e % g.n;
        bool any_tap = false;
        for (int64_t k = 0; k < g.k && !any_tap; ++k) any_tap = tap_inside(em, k);
        if (any_tap ? (w.m != em || w.n != en) : !w.ks.empty()) fail("stored word belongs to another output");
        std::vector<int> seen(static_cast<size_t>(g.k));
        for (int64_t k : w.ks) seen[k]++;
        for (int64_t k = 0; k < g.k; ++k)
          if (seen[k] != (tap_inside(em, k) ? 1 : 0)) fail("C[" + std::to_string(w.m) + "][" + std::to_string(w.n) + "] has k=" +
                                 std::to_string(k) + " " + std::to_string(seen[k]) + " times");
        stored[e]++;
      }
    if (c.op == Opcode::PostProcess)  // the columns' float32 scales (and biases), the rows' scales
      dram_read += 4ull * c.cols * ((c.flags & kFlagBias) ? 2 : 1) + ((c.flags & kFlagRowScales) ? 4ull * c.rows : 0);
  }

  void run(const std::vector<Command>& cmds) {
    for (const Command& c : cmds) {
      switch (c.op) {
        case Opcode::LoadActivations: load(c, true); break;
        case Opcode::LoadWeights: load(c, false); break;
        case Opcode::Compute: compute(c); break;
        case Opcode::Store:
        case Opcode::PostProcess: store(c); break;
        default: break;
      }
    }
  }
};


}  // namespace fp8sim::testing
