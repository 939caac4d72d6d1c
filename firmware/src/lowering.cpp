#include "fp8sim/firmware/lowering.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "fp8sim/model/requant.h"

#include "lowering_internal.h"

namespace fp8sim::firmware {

using detail::shape_str;
using detail::u32;

namespace detail {

void validate_gemm(const GemmSpec& g) {
  if (g.m < 1 || g.k < 1 || g.n < 1) throw std::invalid_argument("lower_gemm: empty GEMM " + shape_str(g));
  if (!g.gather.enabled) return;
  const ConvSpec& c = g.gather.conv;
  if (c.batch < 1 || c.in_h < 1 || c.in_w < 1 || c.in_c < 1 || c.kh < 1 || c.kw < 1 || c.stride < 1 || c.pad < 0 ||
      c.out_h() < 1 || c.out_w() < 1)
    throw std::invalid_argument("lower_gemm: implicit im2col: bad convolution shape");
  for (int64_t v : {c.in_h, c.in_w, c.in_c, c.kh, c.kw, c.stride, c.pad})
    if (v > 65535) throw std::invalid_argument("lower_gemm: implicit im2col: geometry values must be <= 65535");
  if (g.m != c.batch * c.out_h() * c.out_w() || g.k != c.kh * c.kw * c.in_c)
    throw std::invalid_argument("lower_gemm: implicit im2col: " + shape_str(g) +
                                " is not the convolution's M = batch*out_h*out_w, K = kh*kw*in_c");
}

void set_a_source(Command& a, const GemmSpec& g, int64_t m0, int64_t mv, int64_t k0, int64_t kv) {
  a.rows = u32(mv, "m");
  a.cols = u32(kv, "k");
  if (!g.gather.enabled) {
    const int64_t a_stride = g.a_stride ? g.a_stride : g.k;
    a.dram_addr = g.a_addr + static_cast<uint64_t>(m0 * a_stride + k0);
    a.dram_stride = u32(a_stride, "A stride");
    return;
  }
  const ConvSpec& c = g.gather.conv;
  a.flags |= kFlagGather;
  a.dram_addr = g.a_addr;
  a.dram_stride = 0;
  a.conv_in_h = u32(c.in_h, "in_h");
  a.conv_in_w = u32(c.in_w, "in_w");
  a.conv_in_c = u32(c.in_c, "in_c");
  a.conv_kh = u32(c.kh, "kh");
  a.conv_kw = u32(c.kw, "kw");
  a.conv_stride = u32(c.stride, "stride");
  a.conv_pad = u32(c.pad, "pad");
  a.gather_m0 = u32(m0, "gather m0");
  a.gather_k0 = u32(k0, "gather k0");
  a.pad_code = g.gather.pad_code;
}

void set_post_process(Command& s, const GemmSpec& g, int64_t m0, int64_t n0) {
  const int64_t ob = model::out_format_bytes(g.post.out_fmt);
  s.op = Opcode::PostProcess;
  s.dram_addr = g.post.out_addr + static_cast<uint64_t>((m0 * g.n + n0) * ob);
  s.dram_stride = u32(g.n * ob, "N");
  s.scale_addr = g.post.scale_addr + static_cast<uint64_t>(4 * n0);
  s.bias_addr = g.post.has_bias ? g.post.bias_addr + static_cast<uint64_t>(4 * n0) : 0;
  if (g.post.has_bias) s.flags |= kFlagBias;
  if (g.post.row_scales) {
    s.flags |= kFlagRowScales;
    s.row_scale_addr = g.post.row_scale_addr + static_cast<uint64_t>(4 * m0);
  }
  s.out_fmt = g.post.out_fmt;
  if (g.post.via_bf16) s.flags |= kFlagViaBf16;
  uint32_t bits;
  std::memcpy(&bits, &g.post.out_scale, 4);
  s.out_scale = bits;
}

}  // namespace detail

LoweredGemm lower_gemm(const ArrayTarget& t, const GemmSpec& g) {
  if (g.mx.enabled) return lower_gemm_mx(t, g);  // MX: lowering_mx.cpp
  t.validate();
  detail::validate_gemm(g);
  const int64_t R = t.rows, C = t.cols, wb = t.word_bytes;
  const int64_t b_stride = g.b_stride ? g.b_stride : g.n;
  const int64_t c_stride = g.n * wb;
  LoweredGemm L;
  // Two slots (double buffering) per buffer: each slot must hold one tile.
  if (t.dataflow == Dataflow::WeightStationary) {
    if (t.weight_buffer_bytes < 2 * R * C)
      throw std::invalid_argument("lower_gemm: weight buffer (" + std::to_string(t.weight_buffer_bytes) +
                                  " bytes) cannot hold two " + std::to_string(R) + "x" + std::to_string(C) +
                                  " weight tiles");
    L.k_tile = R;
    L.n_tile = C;
    L.m_tile = std::min({g.m, t.input_buffer_bytes / (2 * R), t.output_buffer_bytes / (2 * C * wb)});
  } else {
    L.m_tile = R;
    L.n_tile = C;
    if (t.output_buffer_bytes < 2 * R * C * wb)
      throw std::invalid_argument("lower_gemm: output buffer (" + std::to_string(t.output_buffer_bytes) +
                                  " bytes) cannot hold two " + std::to_string(R) + "x" + std::to_string(C) +
                                  " output tiles of " + std::to_string(wb) + "-byte words");
    int64_t kt = std::min({g.k, t.input_buffer_bytes / (2 * R), t.weight_buffer_bytes / (2 * C)});
    if (t.os_k_tile > 0) kt = std::min(kt, t.os_k_tile);
    L.k_tile = kt;
  }
  if (L.m_tile < 1 || L.k_tile < 1)
    throw std::invalid_argument("lower_gemm: buffers too small for one tile of " + shape_str(g));
  L.k_chunk = L.k_tile;

  const bool ws = t.dataflow == Dataflow::WeightStationary;
  const int64_t a_tile_bytes = ws ? L.m_tile * R : L.k_tile * R;
  const int64_t w_tile_bytes = ws ? R * C : L.k_tile * C;
  const int64_t o_tile_bytes = (ws ? L.m_tile : R) * C * wb;
  uint32_t tile = 0, op_slot = 0, out_slot = 0;
  std::optional<Command> pending_store;
  for (int64_t m0 = 0; m0 < g.m; m0 += L.m_tile) {
    const int64_t mv = std::min(L.m_tile, g.m - m0);
    for (int64_t n0 = 0; n0 < g.n; n0 += C) {
      const int64_t nv = std::min(C, g.n - n0);
      for (int64_t k0 = 0; k0 < g.k; k0 += L.k_tile) {
        const int64_t kv = std::min(L.k_tile, g.k - k0);
        Command w;
        w.op = Opcode::LoadWeights;
        w.layer = g.layer;
        w.tile = tile;
        w.dram_addr = g.b_addr + static_cast<uint64_t>(k0 * b_stride + n0);
        w.dram_stride = u32(b_stride, "B stride");
        w.rows = u32(kv, "k");
        w.cols = u32(nv, "n");
        w.buf_rows = u32(ws ? R : L.k_tile, "rows");
        w.buf_cols = u32(C, "cols");
        w.slot = static_cast<uint8_t>(op_slot);
        w.buf_addr = u32(op_slot * w_tile_bytes, "weight address");
        Command a;
        a.op = Opcode::LoadActivations;
        a.layer = g.layer;
        a.tile = tile;
        detail::set_a_source(a, g, m0, mv, k0, kv);
        if (ws) {  // mt x R, row m = A[m0 + m][k0 .. k0 + R)
          a.buf_rows = u32(L.m_tile, "rows");
          a.buf_cols = u32(R, "cols");
        } else {   // transposed: kt x R, row j = A[m0 .. m0 + R)[k0 + j], one OS beat
          a.flags |= kFlagTranspose;
          a.buf_rows = u32(L.k_tile, "rows");
          a.buf_cols = u32(R, "cols");
        }
        a.slot = static_cast<uint8_t>(op_slot);
        a.buf_addr = u32(op_slot * a_tile_bytes, "input address");
        Command c;
        c.op = Opcode::Compute;
        c.layer = g.layer;
        c.tile = tile;
        c.flags = k0 > 0 ? kFlagAccumulate : 0;
        c.a_slot = a.slot;
        c.a_addr = a.buf_addr;
        c.w_slot = w.slot;
        c.w_addr = w.buf_addr;
        c.o_slot = static_cast<uint8_t>(out_slot);
        c.o_addr = u32(out_slot * o_tile_bytes, "output address");
        c.m = u32(mv, "m");
        c.k = u32(kv, "k");
        c.n = u32(nv, "n");
        if (ws) {
          L.commands.push_back(w);
          L.commands.push_back(a);
        } else {
          L.commands.push_back(a);
          L.commands.push_back(w);
        }
        // The previous output tile's Store goes after this tile's loads: the in-order DMA then fetches the
        // next operands before it waits for the previous tile's last row, so the array never starves.
        if (pending_store) {
          L.commands.push_back(*pending_store);
          pending_store.reset();
        }
        L.commands.push_back(c);
        ++tile;
        op_slot ^= 1;
      }
      Command s;
      s.op = Opcode::Store;
      s.layer = g.layer;
      s.tile = tile - 1;
      s.dram_addr = g.c_addr + static_cast<uint64_t>((m0 * g.n + n0) * wb);
      s.dram_stride = u32(c_stride, "C stride");
      s.rows = u32(mv, "m");
      s.cols = u32(nv, "n");
      s.buf_rows = u32(ws ? L.m_tile : R, "rows");
      s.buf_cols = u32(C, "cols");
      s.slot = static_cast<uint8_t>(out_slot);
      s.buf_addr = u32(out_slot * o_tile_bytes, "output address");
      // the post-processing unit writes converted outputs instead of accumulator words
      if (g.post.enabled) detail::set_post_process(s, g, m0, n0);
      pending_store = s;
      out_slot ^= 1;
    }
  }
  if (pending_store) L.commands.push_back(*pending_store);
  L.tiles = tile;
  Command b;
  b.op = Opcode::Barrier;
  b.layer = g.layer;
  L.commands.push_back(b);
  return L;
}

void finish_stream(std::vector<Command>& cmds) {
  Command e;
  e.op = Opcode::End;
  cmds.push_back(e);
}

std::vector<Command> lower_gemms(const ArrayTarget& t, const std::vector<GemmSpec>& gs,
                                 std::vector<LoweredGemm>* per_gemm) {
  std::vector<Command> out;
  for (const GemmSpec& g : gs) {
    LoweredGemm L = lower_gemm(t, g);
    out.insert(out.end(), L.commands.begin(), L.commands.end());
    if (per_gemm) per_gemm->push_back(std::move(L));
  }
  finish_stream(out);
  return out;
}

std::vector<uint8_t> im2col(const ConvSpec& c, const uint8_t* in, uint8_t zero_code) {
  if (c.batch < 1 || c.in_h < 1 || c.in_w < 1 || c.in_c < 1 || c.out_c < 1 || c.kh < 1 || c.kw < 1 ||
      c.stride < 1 || c.pad < 0 || c.out_h() < 1 || c.out_w() < 1)
    throw std::invalid_argument("im2col: bad convolution shape");
  const int64_t oh = c.out_h(), ow = c.out_w(), K = c.kh * c.kw * c.in_c;
  std::vector<uint8_t> a(static_cast<size_t>(c.batch * oh * ow * K), zero_code);
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x) {
        uint8_t* row = a.data() + ((b * oh + y) * ow + x) * K;
        for (int64_t dy = 0; dy < c.kh; ++dy)
          for (int64_t dx = 0; dx < c.kw; ++dx) {
            const int64_t iy = y * c.stride + dy - c.pad, ix = x * c.stride + dx - c.pad;
            if (iy < 0 || iy >= c.in_h || ix < 0 || ix >= c.in_w) continue;
            const uint8_t* src = in + ((b * c.in_h + iy) * c.in_w + ix) * c.in_c;
            std::copy(src, src + c.in_c, row + (dy * c.kw + dx) * c.in_c);
          }
      }
  return a;
}

GemmSpec conv_as_gemm(const ConvSpec& c, uint64_t a_addr, uint64_t b_addr, uint64_t c_addr, uint16_t layer,
                      bool implicit, uint8_t pad_code) {
  GemmSpec g;
  if (implicit) {
    g.gather.enabled = true;
    g.gather.conv = c;
    g.gather.pad_code = pad_code;
  }
  g.m = c.batch * c.out_h() * c.out_w();
  g.k = c.kh * c.kw * c.in_c;
  g.n = c.out_c;
  g.a_addr = a_addr;
  g.b_addr = b_addr;
  g.c_addr = c_addr;
  g.layer = layer;
  return g;
}

int64_t a_pass_bytes(const GemmSpec& g) {
  if (!g.gather.enabled) return g.m * g.k;
  // Taps inside the input, per output row y: the dy whose iy is in range, times per column x the dx whose ix
  // is; each valid (dy, dx) tap reads in_c bytes.
  const ConvSpec& c = g.gather.conv;
  auto valid_taps = [&](int64_t out, int64_t in, int64_t kern) {
    int64_t n = 0;
    for (int64_t y = 0; y < out; ++y)
      for (int64_t d = 0; d < kern; ++d) {
        const int64_t i = y * c.stride + d - c.pad;
        n += (i >= 0 && i < in);
      }
    return n;
  };
  return c.batch * valid_taps(c.out_h(), c.in_h, c.kh) * valid_taps(c.out_w(), c.in_w, c.kw) * c.in_c;
}

std::vector<GemmSpec> attention_gemms(const AttentionSpec& a, int word_bytes) {
  if (a.heads < 1 || a.seq < 1 || a.head_dim < 1) throw std::invalid_argument("attention: bad shape");
  std::vector<GemmSpec> out;
  const int64_t S = a.seq, D = a.head_dim;
  for (int64_t h = 0; h < a.heads; ++h) {
    GemmSpec s;  // scores: Q_h (S x D) x Kt_h (D x S)
    s.m = S, s.k = D, s.n = S;
    s.a_addr = a.q_addr + static_cast<uint64_t>(h * S * D);
    s.b_addr = a.kt_addr + static_cast<uint64_t>(h * D * S);
    s.c_addr = a.s_addr + static_cast<uint64_t>(h * S * S * word_bytes);
    s.layer = static_cast<uint16_t>(2 * h);
    GemmSpec o;  // context: P_h (S x S) x V_h (S x D)
    o.m = S, o.k = S, o.n = D;
    o.a_addr = a.p_addr + static_cast<uint64_t>(h * S * S);
    o.b_addr = a.v_addr + static_cast<uint64_t>(h * S * D);
    o.c_addr = a.o_addr + static_cast<uint64_t>(h * S * D * word_bytes);
    o.layer = static_cast<uint16_t>(2 * h + 1);
    out.push_back(s);
    out.push_back(o);
  }
  return out;
}

}  // namespace fp8sim::firmware
