// DMA: one transfer at a time, in order. A transfer starts once the scoreboard allows it (a load: the slot's
// earlier readers are done; a store: the computes writing its slot are done), waits dram.latency cycles (a
// store also the output buffer's read latency), then moves min(bytes_per_cycle, buffer access width) bytes
// per cycle while it wins a buffer port (the array has priority; a lost port is a conflict stall cycle).
// The data moves when the transfer completes.
// On-chip transfers (kFlagOnChip): the far side is the activation SRAM ([activation_sram]): its latency and
// bytes_per_cycle instead of DRAM's; an on-chip PostProcess first reads its scales/biases from DRAM (DRAM latency,
// then those bytes at the DRAM rate), then writes its outputs at the activation SRAM's rate.
// Implicit im2col (LoadActivations with kFlagGather): the address generator computes each element's input
// address (firmware::gather_offset); padding taps are filled with pad_code and not fetched. Cost assumption:
// as for a strided 2-D load, dram.latency once per command, then the fetched (non-padding) bytes at
// min(bytes_per_cycle, buffer access width) per cycle: the DRAM bursts (one per contiguous run of in_c bytes of
// a tap) are taken to stream back to back, like the rows of a strided load.
#include <algorithm>

#include "fp8sim/model/requant.h"
#include "units.h"

namespace fp8sim::sim::detail {

void Dma::tick(Ctx& x) {
  if (q_.empty()) return;
  Issued& is = q_.front();
  const Command& c = is.c;
  const bool store = c.op == Opcode::Store || c.op == Opcode::PostProcess;
  const int b = store ? kOut : c.op == Opcode::LoadActivations ? kIn : kW;
  if (!is.started) {
    const bool ok = store ? x.sb.w_done[kOut][c.slot] >= is.wait_b : x.sb.r_done[b][c.slot] >= is.wait_b;
    if (!ok) {
      ++x.st.dma_wait_deps;
      return;
    }
    is.started = true;
    x.cstats(is).start = x.now;
    const bool on_chip = c.flags & firmware::kFlagOnChip;
    const uint64_t params = c.op == Opcode::PostProcess ? PostProcessingUnit::parameter_bytes(c) : 0;
    const uint64_t far_latency =
        on_chip && params == 0 ? uint64_t(x.cfg.activation_sram.latency) : uint64_t(x.cfg.dram.latency);
    is.latency_left = far_latency + (store ? x.cfg.output_buffer.latency : 0);
    // PostProcess: the scales (and biases, row scales) in, one converted output per word out.
    is.bytes_left = c.op == Opcode::PostProcess ? PostProcessingUnit::output_bytes(x, c)
                                                : uint64_t(c.rows) * c.cols * (store ? x.wb : 1);
    if (on_chip) is.param_bytes_left = params;
    else is.bytes_left += params;
    check_transfer(x, is, b);
    if (gather(c)) is.bytes_left = gathered_bytes(x, is);
  }
  ++x.st.dma_busy;
  if (is.latency_left > 0) {
    --is.latency_left;
    return;
  }
  if (is.bytes_left > 0 || is.param_bytes_left > 0) {
    Sram& s = x.sram[b];
    if (!s.take()) {
      ++x.st.dma_stall_conflict;
      ++s.st->conflicts;
      ++x.cstats(is).stall_cycles;
      return;
    }
    const bool params_phase = is.param_bytes_left > 0;
    const bool on_chip = (c.flags & firmware::kFlagOnChip) && !params_phase;
    uint64_t& left = params_phase ? is.param_bytes_left : is.bytes_left;
    const uint64_t rate = on_chip ? uint64_t(x.cfg.activation_sram.bytes_per_cycle) : uint64_t(x.cfg.dram.bytes_per_cycle);
    const uint64_t step = std::min<uint64_t>({rate, uint64_t(s.cfg.width_bytes()), left});
    left -= step;
    if (is.bytes_left > 0 || is.param_bytes_left > 0) return;
  }
  complete_transfer(x, is, b);
  q_.pop_front();
}

void Dma::check_transfer(const Ctx& x, const Issued& is, int b) const {
  const Command& c = is.c;
  const bool store = c.op == Opcode::Store || c.op == Opcode::PostProcess;
  const bool tr = c.flags & firmware::kFlagTranspose;
  const uint64_t esz = store ? x.wb : 1;                        // buffer side
  const uint64_t dram_esz = c.op == Opcode::Store ? x.wb : model::out_format_bytes(c.out_fmt);  // DRAM side
  if (c.rows == 0 || c.cols == 0) x.error(is, "empty transfer");
  if (c.flags & firmware::kFlagOnChip) {
    if (c.op == Opcode::Store) x.error(is, "on-chip flag on a store of raw accumulator words");
    if (x.cfg.activation_sram.size_bytes == 0)
      x.error(is, "on-chip transfer, but the configuration has no activation SRAM ([activation_sram] size_bytes = 0)");
  }
  if ((tr ? c.cols : c.rows) > c.buf_rows || (tr ? c.rows : c.cols) > c.buf_cols)
    x.error(is, "tile larger than its buffer region");
  const uint64_t region = uint64_t(c.buf_rows) * c.buf_cols * esz;
  const uint64_t cap = b == kIn ? x.inbuf.size() : b == kW ? x.wbuf.size() : x.obuf.size() * x.wb;
  if (c.buf_addr + region > cap)
    x.error(is, "buffer region [" + std::to_string(c.buf_addr) + ", " + std::to_string(c.buf_addr + region) +
                    ") overfills the " + std::to_string(cap) + "-byte buffer");
  if (gather(c)) {
    if (c.op != Opcode::LoadActivations) x.error(is, "gather flag on a transfer other than load_activations");
    const std::string why = firmware::gather_geometry_error(c);
    if (!why.empty()) x.error(is, why);
  } else {
    const uint64_t last = c.dram_addr + uint64_t(c.rows - 1) * c.dram_stride + uint64_t(c.cols) * dram_esz;
    if (last > x.dram->size()) x.error(is, "DRAM access beyond the end of DRAM");
  }
  if (c.op == Opcode::PostProcess &&
      (c.scale_addr + 4ull * c.cols > x.dram->size() ||
       ((c.flags & firmware::kFlagBias) && c.bias_addr + 4ull * c.cols > x.dram->size()) ||
       ((c.flags & firmware::kFlagRowScales) && c.row_scale_addr + 4ull * c.rows > x.dram->size())))
    x.error(is, "scales or biases beyond the end of DRAM");
  if (c.op == Opcode::PostProcess && (c.flags & firmware::kFlagMxOut)) {
    if (!x.cfg.array.mx) x.error(is, "MX outputs (kFlagMxOut) on an array that is not an MX array");
    const uint64_t bs = uint64_t(x.cfg.array.mx_block), nbo = (c.dram_stride + bs - 1) / bs;
    if (c.row_scale_addr + uint64_t(c.rows - 1) * nbo + (c.cols + bs - 1) / bs > x.dram->size())
      x.error(is, "MX output scales beyond the end of DRAM");
  }
}

uint64_t Dma::gathered_bytes(const Ctx& x, const Issued& is) const {
  const Command& c = is.c;
  uint64_t n = 0;
  for (uint32_t r = 0; r < c.rows; ++r)
    for (uint32_t q = 0; q < c.cols; ++q) {
      const int64_t off = firmware::gather_offset(c, r, q);
      if (off < 0) continue;
      if (c.dram_addr + uint64_t(off) >= x.dram->size()) x.error(is, "gather beyond the end of DRAM");
      ++n;
    }
  return n;
}

void Dma::complete_transfer(Ctx& x, Issued& is, int b) {
  const Command& c = is.c;
  LayerStats& L = x.layer(c.layer);
  if (c.op == Opcode::PostProcess) {
    PostProcessingUnit::process_tile(x, arith_, c);
    const uint64_t params = PostProcessingUnit::parameter_bytes(c);
    const uint64_t out = PostProcessingUnit::output_bytes(x, c);  // (+ MX output scales)
    x.st.output.bytes_read += uint64_t(c.rows) * c.cols * x.wb;
    x.st.postprocessed += uint64_t(c.rows) * c.cols;
    x.st.dram_read += params;
    L.dram_read += params;
    if (c.flags & firmware::kFlagOnChip) {
      x.st.act_sram_written += out;
    } else {
      x.st.dram_written += out;
      L.dram_written += out;
    }
    x.sb.read_done(kOut, c.slot);
  } else if (c.op == Opcode::Store) {
    std::vector<uint8_t> row(size_t(c.cols) * x.wb);
    for (uint32_t r = 0; r < c.rows; ++r) {
      for (uint32_t q = 0; q < c.cols; ++q) {
        const uint128 w = x.obuf[c.buf_addr / x.wb + size_t(r) * c.buf_cols + q];
        for (int i = 0; i < x.wb; ++i) row[size_t(q) * x.wb + i] = static_cast<uint8_t>(w >> (8 * i));
      }
      x.dram->write(c.dram_addr + uint64_t(r) * c.dram_stride, row.data(), row.size());
    }
    const uint64_t bytes = uint64_t(c.rows) * c.cols * x.wb;
    x.st.output.bytes_read += bytes;
    x.st.dram_written += bytes;
    L.dram_written += bytes;
    x.sb.read_done(kOut, c.slot);
  } else {
    std::vector<uint8_t>& buf = b == kIn ? x.inbuf : x.wbuf;
    const bool tr = c.flags & firmware::kFlagTranspose;
    std::fill_n(buf.begin() + c.buf_addr, size_t(c.buf_rows) * c.buf_cols, uint8_t{0});  // zero padding
    std::vector<uint8_t> row(c.cols);
    uint64_t bytes = 0;
    for (uint32_t r = 0; r < c.rows; ++r) {
      if (gather(c)) {  // implicit im2col: one element at a time from its input address
        for (uint32_t q = 0; q < c.cols; ++q) {
          const int64_t off = firmware::gather_offset(c, r, q);
          if (off < 0) {
            row[q] = c.pad_code;
          } else {
            x.dram->read(c.dram_addr + uint64_t(off), &row[q], 1);
            ++bytes;
          }
        }
      } else {
        x.dram->read(c.dram_addr + uint64_t(r) * c.dram_stride, row.data(), row.size());
        bytes += c.cols;
      }
      for (uint32_t q = 0; q < c.cols; ++q) {
        const size_t at = tr ? size_t(q) * c.buf_cols + r : size_t(r) * c.buf_cols + q;
        buf[c.buf_addr + at] = row[q];
      }
    }
    x.sram[b].st->bytes_written += uint64_t(c.buf_rows) * c.buf_cols;
    if (c.flags & firmware::kFlagOnChip) {  // activations (or attention's second operand) from the activation SRAM
      x.st.act_sram_read += bytes;
    } else {
      x.st.dram_read += bytes;
      L.dram_read += bytes;
    }
    x.sb.write_done(b, c.slot);
  }
  x.cstats(is).end = x.now;
  x.last_completion = x.now;
}

}  // namespace fp8sim::sim::detail
