// The MX lowering (firmware/lowering.h lower_gemm_mx): an MX GEMM on the output-stationary MX array
// (rtl/mx_array.v, sim/mx_array.h). K tiles are whole MX blocks; every tile's E8M0 scales are loaded into the
// same buffer slot as its codes, right after them, so scales travel with their blocks (1 byte per block per
// A row / B column: the DMA counts them as any load). The PEs accumulate a product exactly over all its K
// tiles (Compute flags kFlagMxCont / kFlagMxMore), so the whole K is one accumulation (k_chunk = 0).
#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "fp8sim/firmware/lowering.h"
#include "fp8sim/model/requant.h"

#include "lowering_internal.h"

namespace fp8sim::firmware {

using detail::shape_str;
using detail::u32;

LoweredGemm lower_gemm_mx(const ArrayTarget& t, const GemmSpec& g) {
  t.validate();
  detail::validate_gemm(g);
  if (!g.mx.enabled) throw std::invalid_argument("lower_gemm_mx: the GEMM has no MX scales");
  if (t.dataflow != Dataflow::OutputStationary)
    throw std::invalid_argument("lower_gemm_mx: MX GEMMs run on the output-stationary MX array");
  const int64_t R = t.rows, C = t.cols, wb = t.word_bytes, B = g.mx.block;
  if (B < 1) throw std::invalid_argument("lower_gemm_mx: block size must be >= 1");
  if (g.a_stride || g.b_stride) throw std::invalid_argument("lower_gemm_mx: operand strides are not supported");
  if (g.post.mx_out && (!g.post.enabled || g.post.row_scales || C % B != 0))
    throw std::invalid_argument("lower_gemm_mx: MX outputs need post-processing without row scales and an array whose " +
                                std::to_string(C) + " columns hold whole blocks of " + std::to_string(B));
  const int64_t nb = (g.k + B - 1) / B;
  const int64_t b_stride = g.n, c_stride = g.n * wb;
  LoweredGemm L;
  L.m_tile = R;
  L.n_tile = C;
  if (t.output_buffer_bytes < 2 * R * C * wb)
    throw std::invalid_argument("lower_gemm_mx: output buffer (" + std::to_string(t.output_buffer_bytes) +
                                " bytes) cannot hold two " + std::to_string(R) + "x" + std::to_string(C) +
                                " output tiles");
  // A slot holds kt x R codes + kt/B x R scales (B side: C); two slots per buffer.
  int64_t blocks = std::min({nb, t.input_buffer_bytes / (2 * R * (B + 1)), t.weight_buffer_bytes / (2 * C * (B + 1))});
  if (t.os_k_tile > 0) blocks = std::min(blocks, std::max<int64_t>(1, t.os_k_tile / B));
  if (blocks < 1)
    throw std::invalid_argument("lower_gemm_mx: buffers too small for one MX block (" + std::to_string(B) +
                                " elements + scale) of " + shape_str(g));
  const int64_t kt = blocks * B;
  L.k_tile = kt;
  L.k_chunk = 0;
  const int64_t a_slot_bytes = kt * R + blocks * R, w_slot_bytes = kt * C + blocks * C;
  const int64_t o_tile_bytes = R * C * wb;
  uint32_t tile = 0, op_slot = 0, out_slot = 0;
  std::optional<Command> pending_store;
  for (int64_t m0 = 0; m0 < g.m; m0 += R) {
    const int64_t mv = std::min(R, g.m - m0);
    for (int64_t n0 = 0; n0 < g.n; n0 += C) {
      const int64_t nv = std::min(C, g.n - n0);
      for (int64_t k0 = 0; k0 < g.k; k0 += kt) {
        const int64_t kv = std::min(kt, g.k - k0), nbt = (kv + B - 1) / B, kvp = nbt * B, kb0 = k0 / B;
        const uint32_t a_base = u32(op_slot * a_slot_bytes, "input address");
        const uint32_t w_base = u32(op_slot * w_slot_bytes, "weight address");
        Command a;  // codes, transposed: kvp x R, row j = A[m0 .. m0 + R)[k0 + j], one beat
        a.op = Opcode::LoadActivations;
        a.layer = g.layer;
        a.tile = tile;
        detail::set_a_source(a, g, m0, mv, k0, kv);
        a.flags |= kFlagTranspose;
        a.buf_rows = u32(kvp, "rows");
        a.buf_cols = u32(R, "cols");
        a.slot = static_cast<uint8_t>(op_slot);
        a.buf_addr = a_base;
        Command as;  // A scales (M x nb in DRAM), transposed: nbt x R after the codes
        as.op = Opcode::LoadActivations;
        as.layer = g.layer;
        as.tile = tile;
        as.flags = kFlagTranspose;
        as.dram_addr = g.mx.a_scale_addr + static_cast<uint64_t>(m0 * nb + kb0);
        as.dram_stride = u32(nb, "A scale stride");
        as.rows = u32(mv, "m");
        as.cols = u32(nbt, "blocks");
        as.buf_rows = u32(nbt, "rows");
        as.buf_cols = u32(R, "cols");
        as.slot = a.slot;
        as.buf_addr = u32(a_base + kvp * R, "input address");
        Command w;  // codes: kvp x C
        w.op = Opcode::LoadWeights;
        w.layer = g.layer;
        w.tile = tile;
        w.dram_addr = g.b_addr + static_cast<uint64_t>(k0 * b_stride + n0);
        w.dram_stride = u32(b_stride, "B stride");
        w.rows = u32(kv, "k");
        w.cols = u32(nv, "n");
        w.buf_rows = u32(kvp, "rows");
        w.buf_cols = u32(C, "cols");
        w.slot = static_cast<uint8_t>(op_slot);
        w.buf_addr = w_base;
        Command ws;  // B scales (N x nb in DRAM), transposed: nbt x C after the codes
        ws.op = Opcode::LoadWeights;
        ws.layer = g.layer;
        ws.tile = tile;
        ws.flags = kFlagTranspose;
        ws.dram_addr = g.mx.b_scale_addr + static_cast<uint64_t>(n0 * nb + kb0);
        ws.dram_stride = u32(nb, "B scale stride");
        ws.rows = u32(nv, "n");
        ws.cols = u32(nbt, "blocks");
        ws.buf_rows = u32(nbt, "rows");
        ws.buf_cols = u32(C, "cols");
        ws.slot = w.slot;
        ws.buf_addr = u32(w_base + kvp * C, "weight address");
        Command c;
        c.op = Opcode::Compute;
        c.layer = g.layer;
        c.tile = tile;
        if (k0 > 0) c.flags |= kFlagMxCont;
        if (k0 + kv < g.k) c.flags |= kFlagMxMore;
        c.a_slot = a.slot;
        c.a_addr = a_base;
        c.w_slot = w.slot;
        c.w_addr = w_base;
        c.o_slot = static_cast<uint8_t>(out_slot);
        c.o_addr = u32(out_slot * o_tile_bytes, "output address");
        c.m = u32(mv, "m");
        c.k = u32(kv, "k");
        c.n = u32(nv, "n");
        for (const Command* x : {&a, &as, &w, &ws}) L.commands.push_back(*x);
        if (pending_store) {  // after this tile's loads, as lower_gemm does
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
      s.buf_rows = u32(R, "rows");
      s.buf_cols = u32(C, "cols");
      s.slot = static_cast<uint8_t>(out_slot);
      s.buf_addr = u32(out_slot * o_tile_bytes, "output address");
      if (g.post.enabled) {
        detail::set_post_process(s, g, m0, n0);
        if (g.post.mx_out) {  // 1-byte codes; scales M x ceil(N / B), this tile's at (m0, n0 / B)
          const int64_t nbo = (g.n + B - 1) / B;
          s.flags |= kFlagMxOut;
          s.dram_addr = g.post.out_addr + static_cast<uint64_t>(m0 * g.n + n0);
          s.dram_stride = u32(g.n, "N");
          s.row_scale_addr = g.post.mx_out_scale_addr + static_cast<uint64_t>(m0 * nbo + n0 / B);
        }
      }
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

}  // namespace fp8sim::firmware
