#include "fp8sim/sim/accelerator.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "fp8sim/model/gemm.h"
#include "fp8sim/sim/postprocess.h"
#include "rtl_array.h"

namespace fp8sim::sim {

using firmware::Command;
using firmware::Opcode;

namespace {

enum BufId { kIn = 0, kW = 1, kOut = 2 };
constexpr int kSlots = 256;

struct Sram {
  SramConfig cfg;
  BufferStats* st = nullptr;
  int used = 0;  // ports taken this cycle
  bool take() {
    if (used >= cfg.ports) return false;
    ++used;
    ++st->accesses;
    return true;
  }
};

struct Beat {
  size_t cmd;        // index into the compute queue's sequence
  bool wload = false, last = false;
  uint64_t ready_at = 0;
  std::vector<uint8_t> a, b;
};

struct OutTag {
  size_t cmd;
  uint32_t row;
};

// A dispatched command with its scoreboard conditions.
struct Issued {
  Command c;
  size_t index = 0;             // position in the program
  uint64_t wait[3] = {0, 0, 0}; // compute: writes done on a/w slots, reads done on o slot
  uint64_t wait_b = 0;          // loads: reads done on the slot; store: writes done on the slot
  // progress
  bool started = false;
  uint32_t beats_issued = 0, rows_fired = 0, rows_written = 0;
  uint64_t latency_left = 0, bytes_left = 0;
  std::vector<uint128> tile_out;  // Engine::Rtl: the tile's raw array outputs, for the golden tile check
  std::vector<uint8_t> tile_a, tile_b;  // Engine::Rtl: the operands as they entered the array
  uint32_t beats_fired = 0;
};

}  // namespace

struct Accelerator::Impl {
  AcceleratorConfig cfg;
  Engine engine;
  int R, C, wb;
  bool ws;
  std::unique_ptr<ArrayCore> arr, shadow;  // shadow: the model array beside the RTL (Engine::Rtl)
  bool golden_tiles = true;
  std::vector<uint8_t> dram, inbuf, wbuf;
  std::vector<uint128> obuf;
  Sram sram[3];
  Stats st;
  TraceProbe probe;
  std::vector<Command> prog;
  size_t pc = 0;
  bool finished = false;
  uint64_t now = 0;
  // scoreboard: [buffer][slot]
  uint64_t w_issued[3][kSlots] = {}, w_done[3][kSlots] = {}, r_issued[3][kSlots] = {}, r_done[3][kSlots] = {};
  std::vector<std::pair<int, int>> pend_w_done, pend_r_done;  // applied at the end of the cycle
  std::deque<Issued> dmaq, compq;
  size_t comp_seq_base = 0;  // sequence number of compq.front()
  size_t feed = 0;           // compq index being fed
  std::deque<Beat> fifo;
  std::deque<OutTag> tags;
  bool rmw_read = false;     // accumulate write with one port: the read half is done
  std::vector<uint128> outrow, shadow_row;
  bool any_beat = false;
  uint64_t rows_out = 0;  // array output rows written so far (numbering for the test-only fault)
  std::optional<Accelerator::TestOnlyOutputFault> test_fault;

  // TEST ONLY (Accelerator::test_only_inject_output_fault): flips the chosen word of the current output row.
  void apply_test_fault(std::vector<uint128>& row) const {
    if (test_fault->out_row == rows_out) row[size_t(test_fault->col)] ^= test_fault->xor_mask;
  }

  Impl(const AcceleratorConfig& c, uint64_t dram_bytes, Engine e)
      : cfg(c), engine(e), R(c.array.rows), C(c.array.cols), wb(c.word_bytes()),
        ws(c.array.dataflow == Dataflow::WeightStationary) {
    cfg.validate();
    if (engine == Engine::Rtl) {
      arr = make_rtl_array(cfg.array);
      shadow = make_systolic_array(cfg.array);
    } else {
      arr = make_systolic_array(cfg.array);
    }
    dram.assign(dram_bytes, 0);
    inbuf.assign(static_cast<size_t>(cfg.input_buffer.size_bytes), 0);
    wbuf.assign(static_cast<size_t>(cfg.weight_buffer.size_bytes), 0);
    obuf.assign(static_cast<size_t>(cfg.output_buffer.size_bytes / wb), 0);
    sram[kIn] = {cfg.input_buffer, &st.input};
    sram[kW] = {cfg.weight_buffer, &st.weight};
    sram[kOut] = {cfg.output_buffer, &st.output};
    outrow.resize(C);
    shadow_row.resize(C);
  }

  [[noreturn]] void error(const Issued& is, const std::string& why) const {
    throw std::runtime_error("command " + std::to_string(is.index) + " (" + firmware::opcode_name(is.c.op) +
                             ", layer " + std::to_string(is.c.layer) + ", tile " + std::to_string(is.c.tile) +
                             "): " + why);
  }

  // ---------------- controller ----------------
  bool all_idle() const { return dmaq.empty() && compq.empty(); }

  void controller() {
    if (finished || pc >= prog.size()) return;
    const Command& c = prog[pc];
    Issued is;
    is.c = c;
    is.index = pc;
    auto slot_ok = [&](int s) {
      if (s >= kSlots) error(is, "slot out of range");
      return s;
    };
    switch (c.op) {
      case Opcode::Nop: break;
      case Opcode::LoadActivations:
      case Opcode::LoadWeights: {
        if (static_cast<int>(dmaq.size()) >= cfg.queue_depth + 1) return;
        const int b = c.op == Opcode::LoadActivations ? kIn : kW, s = slot_ok(c.slot);
        is.wait_b = r_issued[b][s];
        ++w_issued[b][s];
        dmaq.push_back(std::move(is));
        break;
      }
      case Opcode::PostProcess:
        if (c.out_fmt > model::kFp8KindCount) error(is, "unknown output format " + std::to_string(c.out_fmt));
        [[fallthrough]];
      case Opcode::Store: {
        if (static_cast<int>(dmaq.size()) >= cfg.queue_depth + 1) return;
        const int s = slot_ok(c.slot);
        is.wait_b = w_issued[kOut][s];
        ++r_issued[kOut][s];
        dmaq.push_back(std::move(is));
        break;
      }
      case Opcode::Compute: {
        if (static_cast<int>(compq.size()) >= cfg.queue_depth + 1) return;
        is.wait[0] = w_issued[kIn][slot_ok(c.a_slot)];
        is.wait[1] = w_issued[kW][slot_ok(c.w_slot)];
        is.wait[2] = r_issued[kOut][slot_ok(c.o_slot)];
        ++r_issued[kIn][c.a_slot];
        ++r_issued[kW][c.w_slot];
        ++w_issued[kOut][c.o_slot];
        check_compute(is);
        compq.push_back(std::move(is));
        break;
      }
      case Opcode::Barrier:
        if (!all_idle()) return;
        break;
      case Opcode::End:
        if (!all_idle()) return;
        finished = true;
        break;
    }
    CommandStats cs;
    cs.index = pc;
    cs.op = c.op;
    cs.layer = c.layer;
    cs.tile = c.tile;
    cs.dispatch = cs.start = cs.end = now;
    st.commands.push_back(cs);
    if (c.op != Opcode::End && c.op != Opcode::Nop) ++layer(c.layer).commands;  // End belongs to no layer
    ++pc;
  }

  LayerStats& layer(uint16_t id) {
    auto [it, fresh] = st.layers.try_emplace(id);
    if (fresh) it->second.first_cycle = now;
    it->second.last_cycle = std::max(it->second.last_cycle, now);
    return it->second;
  }

  void check_compute(const Issued& is) const {
    const Command& c = is.c;
    const uint64_t beats = ws ? uint64_t(R) + c.m : c.k;
    const uint64_t a_end = c.a_addr + (ws ? uint64_t(c.m) * R : uint64_t(c.k) * R);
    const uint64_t w_end = c.w_addr + (ws ? uint64_t(R) * C : uint64_t(c.k) * C);
    const uint64_t o_end = c.o_addr + uint64_t(ws ? c.m : R) * C * wb;
    if (beats == 0 || c.k == 0 || c.n == 0 || c.m == 0) error(is, "empty tile");
    if (ws ? c.k > uint32_t(R) : c.m > uint32_t(R)) error(is, "tile larger than the array");
    if (c.n > uint32_t(C)) error(is, "tile wider than the array");
    if (a_end > inbuf.size()) error(is, "activation tile outside the input buffer");
    if (w_end > wbuf.size()) error(is, "weight tile outside the weight buffer");
    if (o_end > obuf.size() * wb || c.o_addr % wb) error(is, "output tile outside the accumulator buffer");
  }

  CommandStats& cstats(const Issued& is) {
    for (auto it = st.commands.rbegin(); it != st.commands.rend(); ++it)
      if (it->index == is.index) return *it;
    throw std::logic_error("command stats missing");
  }

  // ---------------- DMA ----------------
  void dma() {
    if (dmaq.empty()) return;
    Issued& is = dmaq.front();
    const Command& c = is.c;
    const bool store = c.op == Opcode::Store || c.op == Opcode::PostProcess;
    const int b = store ? kOut : c.op == Opcode::LoadActivations ? kIn : kW;
    if (!is.started) {
      const bool ok = store ? w_done[kOut][c.slot] >= is.wait_b : r_done[b][c.slot] >= is.wait_b;
      if (!ok) {
        ++st.dma_wait_deps;
        return;
      }
      is.started = true;
      cstats(is).start = now;
      is.latency_left = uint64_t(cfg.dram.latency) + (store ? cfg.output_buffer.latency : 0);
      // PostProcess: the column parameters (8 bytes per column) in, one code per output out.
      is.bytes_left = c.op == Opcode::PostProcess ? uint64_t(c.rows) * c.cols + 8ull * c.cols
                                                  : uint64_t(c.rows) * c.cols * (store ? wb : 1);
      check_transfer(is, b);
    }
    ++st.dma_busy;
    if (is.latency_left > 0) {
      --is.latency_left;
      return;
    }
    if (is.bytes_left > 0) {
      if (!sram[b].take()) {
        ++st.dma_stall_conflict;
        ++sram[b].st->conflicts;
        ++cstats(is).stall_cycles;
        return;
      }
      const uint64_t step = std::min<uint64_t>({uint64_t(cfg.dram.bytes_per_cycle),
                                               uint64_t(sram[b].cfg.width_bytes()), is.bytes_left});
      is.bytes_left -= step;
      if (is.bytes_left > 0) return;
    }
    complete_transfer(is, b);
    dmaq.pop_front();
  }

  void check_transfer(const Issued& is, int b) const {
    const Command& c = is.c;
    const bool store = c.op == Opcode::Store || c.op == Opcode::PostProcess;
    const bool tr = c.flags & firmware::kFlagTranspose;
    const uint64_t esz = store ? wb : 1;                          // buffer side
    const uint64_t dram_esz = c.op == Opcode::Store ? wb : 1;     // DRAM side (PostProcess writes codes)
    if (c.rows == 0 || c.cols == 0) error(is, "empty transfer");
    if ((tr ? c.cols : c.rows) > c.buf_rows || (tr ? c.rows : c.cols) > c.buf_cols)
      error(is, "tile larger than its buffer region");
    const uint64_t region = uint64_t(c.buf_rows) * c.buf_cols * esz;
    const uint64_t cap = b == kIn ? inbuf.size() : b == kW ? wbuf.size() : obuf.size() * wb;
    if (c.buf_addr + region > cap)
      error(is, "buffer region [" + std::to_string(c.buf_addr) + ", " + std::to_string(c.buf_addr + region) +
                    ") overfills the " + std::to_string(cap) + "-byte buffer");
    const uint64_t last = c.dram_addr + uint64_t(c.rows - 1) * c.dram_stride + uint64_t(c.cols) * dram_esz;
    if (last > dram.size()) error(is, "DRAM access beyond the end of DRAM");
    if (c.op == Opcode::PostProcess &&
        (c.scale_addr + 4ull * c.cols > dram.size() || c.bias_addr + 4ull * c.cols > dram.size()))
      error(is, "scales or biases beyond the end of DRAM");
  }

  void complete_transfer(Issued& is, int b) {
    const Command& c = is.c;
    LayerStats& L = layer(c.layer);
    if (c.op == Opcode::PostProcess) {
      float out_scale;
      std::memcpy(&out_scale, &c.out_scale, 4);
      for (uint32_t q = 0; q < c.cols; ++q) {
        float scale, bias;
        std::memcpy(&scale, dram.data() + c.scale_addr + 4ull * q, 4);
        std::memcpy(&bias, dram.data() + c.bias_addr + 4ull * q, 4);
        for (uint32_t r = 0; r < c.rows; ++r) {
          const uint128 w = obuf[c.buf_addr / wb + size_t(r) * c.buf_cols + q];
          dram[c.dram_addr + uint64_t(r) * c.dram_stride + q] =
              postprocess_word(arr->numerics(), arr->to_acc_word(w), scale, bias, c.out_fmt, out_scale);
        }
      }
      st.output.bytes_read += uint64_t(c.rows) * c.cols * wb;
      st.dram_read += 8ull * c.cols;
      st.dram_written += uint64_t(c.rows) * c.cols;
      L.dram_read += 8ull * c.cols;
      L.dram_written += uint64_t(c.rows) * c.cols;
      pend_r_done.emplace_back(kOut, c.slot);
    } else if (c.op == Opcode::Store) {
      for (uint32_t r = 0; r < c.rows; ++r)
        for (uint32_t q = 0; q < c.cols; ++q) {
          const uint128 w = obuf[c.buf_addr / wb + size_t(r) * c.buf_cols + q];
          uint8_t* dst = dram.data() + c.dram_addr + uint64_t(r) * c.dram_stride + uint64_t(q) * wb;
          for (int i = 0; i < wb; ++i) dst[i] = static_cast<uint8_t>(w >> (8 * i));
        }
      const uint64_t bytes = uint64_t(c.rows) * c.cols * wb;
      st.output.bytes_read += bytes;
      st.dram_written += bytes;
      L.dram_written += bytes;
      pend_r_done.emplace_back(kOut, c.slot);
    } else {
      std::vector<uint8_t>& buf = b == kIn ? inbuf : wbuf;
      const bool tr = c.flags & firmware::kFlagTranspose;
      std::fill_n(buf.begin() + c.buf_addr, size_t(c.buf_rows) * c.buf_cols, uint8_t{0});  // zero padding
      for (uint32_t r = 0; r < c.rows; ++r) {
        const uint8_t* src = dram.data() + c.dram_addr + uint64_t(r) * c.dram_stride;
        for (uint32_t q = 0; q < c.cols; ++q) {
          const size_t at = tr ? size_t(q) * c.buf_cols + r : size_t(r) * c.buf_cols + q;
          buf[c.buf_addr + at] = src[q];
        }
      }
      const uint64_t bytes = uint64_t(c.rows) * c.cols;
      sram[b].st->bytes_written += uint64_t(c.buf_rows) * c.buf_cols;
      st.dram_read += bytes;
      L.dram_read += bytes;
      pend_w_done.emplace_back(b, c.slot);
    }
    cstats(is).end = now;
  }

  // ---------------- compute unit ----------------
  bool deps_ok(const Issued& is) const {
    return w_done[kIn][is.c.a_slot] >= is.wait[0] && w_done[kW][is.c.w_slot] >= is.wait[1] &&
           r_done[kOut][is.c.o_slot] >= is.wait[2];
  }
  uint32_t beats_of(const Command& c) const { return ws ? uint32_t(R) + c.m : c.k; }

  void compute() {
    ArrayInputs in;
    bool out_ready = true, conflict = false;
    const bool ov = arr->out_valid();
    if (ov) {
      if (tags.empty()) throw std::logic_error("array output without a tag");
      const Issued& owner = compq[tags.front().cmd - comp_seq_base];
      const bool acc = owner.c.flags & firmware::kFlagAccumulate;
      if (acc && !rmw_read) {
        // read half of read-add-write; with two free ports both halves happen this cycle
        if (sram[kOut].take()) rmw_read = true;
      }
      if (acc && !rmw_read) out_ready = false;
      else if (!sram[kOut].take()) out_ready = false;
      if (!out_ready) {
        conflict = true;
        ++sram[kOut].st->conflicts;
        ++cstats(owner).stall_cycles;
      }
      arr->out_words(outrow.data());
      if (test_fault) apply_test_fault(outrow);
    }
    if (shadow) compare_shadow(ov);
    // Input beat.
    Beat* head = (!fifo.empty() && fifo.front().ready_at <= now) ? &fifo.front() : nullptr;
    in.out_ready = out_ready;
    bool fired = false;
    if (head && arr->in_ready(head->wload, out_ready)) {
      in.valid = true;
      in.wload = head->wload;
      in.last = head->last;
      in.a = head->a.empty() ? nullptr : head->a.data();
      in.b = head->b.empty() ? nullptr : head->b.data();
      fired = true;
    }
    arr->edge(in);
    if (shadow) shadow->edge(in);
    probe.in_valid = head != nullptr;
    probe.in_wload = head && head->wload;
    probe.in_ready = fired;
    probe.out_ready = out_ready;
    if (fired) {
      const Beat& bt = fifo.front();
      Issued& is = compq[bt.cmd - comp_seq_base];
      if (!any_beat) {
        any_beat = true;
        st.first_beat_cycle = now;
      }
      if (engine == Engine::Rtl && golden_tiles) record_operands(is, bt);
      if (bt.wload) {
        ++st.array_weight_load;
      } else {
        ++st.array_compute;
        if (ws) {
          tags.push_back({bt.cmd, is.rows_fired++});
        } else if (bt.last) {
          for (int r = R - 1; r >= 0; --r) tags.push_back({bt.cmd, uint32_t(r)});
        }
      }
      fifo.pop_front();
    }
    if (ov && out_ready) write_row();
    const bool feeder_lost_port = feeder();
    if (fired) return;  // counted above as compute / weight_load
    if (ov && out_ready) ++st.array_fill_drain;  // an output row leaves while no beat enters: draining
    else classify_idle(conflict || feeder_lost_port, head != nullptr);
  }

  void classify_idle(bool conflict, bool head_ready) {
    if (conflict) ++st.array_stall_conflict;
    else if ((shadow ? shadow : arr)->active() || head_ready || !fifo.empty()) ++st.array_fill_drain;
    else if (feed < compq.size()) ++st.array_stall_dram;  // the next Compute waits for its loads
    else {
      ++st.array_idle;
    }
  }

  void write_row() {
    const OutTag t = tags.front();
    tags.pop_front();
    rmw_read = false;
    Issued& is = compq[t.cmd - comp_seq_base];
    const Command& c = is.c;
    const bool acc = c.flags & firmware::kFlagAccumulate;
    uint128* dst = &obuf[c.o_addr / wb + size_t(t.row) * C];
    for (int j = 0; j < C; ++j) dst[j] = arr->add_words(acc ? dst[j] : 0, outrow[j]);
    st.output.bytes_written += uint64_t(C) * wb;
    if (acc) st.output.bytes_read += uint64_t(C) * wb;
    if (engine == Engine::Rtl && golden_tiles) {
      is.tile_out.resize(size_t(ws ? c.m : R) * C);
      std::copy(outrow.begin(), outrow.end(), is.tile_out.begin() + size_t(t.row) * C);
    }
    st.last_output_cycle = now;
    ++rows_out;
    ++is.rows_written;
    if (is.rows_written == (ws ? c.m : uint32_t(R))) finish_compute(is);
  }

  void finish_compute(Issued& is) {
    const Command& c = is.c;
    if (&is != &compq.front()) throw std::logic_error("compute completed out of order");
    if (engine == Engine::Rtl && golden_tiles) golden_tile_check(is);
    const uint64_t macs = uint64_t(c.m) * c.k * c.n;
    st.macs += macs;
    layer(c.layer).macs += macs;
    cstats(is).end = now;
    pend_w_done.emplace_back(kOut, c.o_slot);
    compq.pop_front();
    ++comp_seq_base;
    --feed;
  }

  // Issues at most one beat read; returns true when a read was due but lost its buffer port.
  bool feeder() {
    while (feed < compq.size() && compq[feed].beats_issued == beats_of(compq[feed].c)) ++feed;
    if (feed >= compq.size()) return false;
    Issued& is = compq[feed];
    if (fifo.size() >= size_t(max_latency() + 1)) return false;
    if (!deps_ok(is)) return false;
    const Command& c = is.c;
    const uint32_t j = is.beats_issued;
    Beat bt;
    bt.cmd = feed + comp_seq_base;
    if (ws) {
      if (j < uint32_t(R)) {
        if (!sram[kW].take()) return true;
        bt.wload = true;
        const size_t row = size_t(R - 1 - j);  // last weight row first: it ends in array row R-1
        bt.b.assign(wbuf.begin() + c.w_addr + row * C, wbuf.begin() + c.w_addr + (row + 1) * C);
        bt.ready_at = now + cfg.weight_buffer.latency;
        st.weight.bytes_read += C;
      } else {
        if (!sram[kIn].take()) return true;
        const size_t m = j - R;
        bt.a.assign(inbuf.begin() + c.a_addr + m * R, inbuf.begin() + c.a_addr + (m + 1) * R);
        bt.ready_at = now + cfg.input_buffer.latency;
        st.input.bytes_read += R;
      }
    } else {
      if (sram[kIn].used >= sram[kIn].cfg.ports || sram[kW].used >= sram[kW].cfg.ports) return true;
      sram[kIn].take();
      sram[kW].take();
      bt.a.assign(inbuf.begin() + c.a_addr + size_t(j) * R, inbuf.begin() + c.a_addr + size_t(j + 1) * R);
      bt.b.assign(wbuf.begin() + c.w_addr + size_t(j) * C, wbuf.begin() + c.w_addr + size_t(j + 1) * C);
      bt.last = j + 1 == c.k;
      bt.ready_at = now + std::max(cfg.input_buffer.latency, cfg.weight_buffer.latency);
      st.input.bytes_read += R;
      st.weight.bytes_read += C;
    }
    if (j == 0) cstats(is).start = now;
    ++is.beats_issued;
    if (is.beats_issued == beats_of(c)) {
      pend_r_done.emplace_back(kIn, c.a_slot);
      pend_r_done.emplace_back(kW, c.w_slot);
    }
    fifo.push_back(std::move(bt));
    return false;
  }

  int max_latency() const { return std::max(cfg.input_buffer.latency, cfg.weight_buffer.latency); }

  // ---------------- RTL in the loop ----------------
  void compare_shadow(bool ov) {
    const bool sv = shadow->out_valid();
    std::string why;
    if (sv != ov) {
      why = std::string("out_valid: rtl ") + (ov ? "1" : "0") + ", model " + (sv ? "1" : "0");
    } else if (ov) {
      shadow->out_words(shadow_row.data());
      if (test_fault && test_fault->model_too) apply_test_fault(shadow_row);
      for (int j = 0; j < C; ++j)
        if (shadow_row[j] != outrow[j]) {
          const OutTag& t = tags.front();
          const Issued& is = compq[t.cmd - comp_seq_base];
          why = "row " + std::to_string(t.row) + " col " + std::to_string(j) + ": rtl " +
                model::acc_word_to_string(arr->numerics(), arr->to_acc_word(outrow[j])) + ", model " +
                model::acc_word_to_string(arr->numerics(), arr->to_acc_word(shadow_row[j]));
          throw std::runtime_error("RTL/model mismatch: layer " + std::to_string(is.c.layer) + " tile " +
                                   std::to_string(is.c.tile) + " " + why + " at cycle " + std::to_string(now));
        }
    }
    if (!why.empty()) throw std::runtime_error("RTL/model mismatch: " + why + " at cycle " + std::to_string(now));
  }

  // The tile's operands as the array saw them (captured when the beats entered: the buffer slot may be
  // reloaded once the last beat has been read). WS: A is m x R, B is R x C; OS: A is R x k, B is k x C.
  void record_operands(Issued& is, const Beat& bt) {
    const Command& c = is.c;
    const uint32_t j = is.beats_fired++;
    if (ws) {
      is.tile_a.resize(size_t(c.m) * R);
      is.tile_b.resize(size_t(R) * C);
      if (bt.wload) std::copy(bt.b.begin(), bt.b.end(), is.tile_b.begin() + size_t(R - 1 - j) * C);
      else std::copy(bt.a.begin(), bt.a.end(), is.tile_a.begin() + size_t(j - R) * R);
    } else {
      is.tile_a.resize(size_t(R) * c.k);
      is.tile_b.resize(size_t(c.k) * C);
      for (int i = 0; i < R; ++i) is.tile_a[size_t(i) * c.k + j] = bt.a[size_t(i)];
      std::copy(bt.b.begin(), bt.b.end(), is.tile_b.begin() + size_t(j) * C);
    }
  }

  void golden_tile_check(const Issued& is) {
    const Command& c = is.c;
    const int64_t m = ws ? c.m : R, k = ws ? R : c.k, n = C;
    const auto gold = model::golden_gemm(arr->numerics(), model::AccumulationOrder{0}, m, k, n, is.tile_a.data(),
                                         is.tile_b.data());
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const model::AccWord have = arr->to_acc_word(is.tile_out[size_t(i * n + j)]);
        if (have != gold[size_t(i * n + j)])
          throw std::runtime_error("RTL/golden mismatch: layer " + std::to_string(c.layer) + " tile " +
                                   std::to_string(c.tile) + " row " + std::to_string(i) + " col " +
                                   std::to_string(j) + ": rtl " + model::acc_word_to_string(arr->numerics(), have) +
                                   ", golden " + model::acc_word_to_string(arr->numerics(), gold[size_t(i * n + j)]) +
                                   " at cycle " + std::to_string(now));
      }
  }

  // ---------------- one cycle ----------------
  void tick() {
    if (finished) return;
    for (Sram& s : sram) s.used = 0;
    probe.cycle = now;
    probe.out_valid = arr->out_valid();
    compute();
    dma();
    controller();
    for (auto [b, s] : pend_w_done) ++w_done[b][s];
    for (auto [b, s] : pend_r_done) ++r_done[b][s];
    pend_w_done.clear();
    pend_r_done.clear();
    probe.pc = static_cast<uint32_t>(pc);
    probe.dma_queue = static_cast<uint32_t>(dmaq.size());
    probe.compute_queue = static_cast<uint32_t>(compq.size());
    probe.fifo = static_cast<uint32_t>(fifo.size());
    probe.out_word0 = static_cast<uint32_t>(outrow[0]);
    ++now;
    st.cycles = now;
    st.toggles = (shadow ? shadow : arr)->toggles();  // RTL engine: its model twin counts (outputs compared in lockstep)
  }
};

Accelerator::Accelerator(const AcceleratorConfig& cfg, uint64_t dram_bytes, Engine engine)
    : d_(std::make_unique<Impl>(cfg, dram_bytes, engine)) {}
Accelerator::~Accelerator() = default;
std::vector<uint8_t>& Accelerator::dram() { return d_->dram; }
void Accelerator::load_program(std::vector<Command> cmds) {
  d_->prog = std::move(cmds);
  d_->pc = 0;
  d_->finished = false;
}
void Accelerator::tick() { d_->tick(); }
bool Accelerator::done() const { return d_->finished; }
uint64_t Accelerator::cycle() const { return d_->now; }
void Accelerator::run(uint64_t max_cycles) {
  while (!d_->finished) {
    if (d_->now >= max_cycles) throw std::runtime_error("simulation did not finish within " + std::to_string(max_cycles) + " cycles");
    if (d_->pc >= d_->prog.size() && !d_->finished)
      throw std::runtime_error("command stream ended without End");
    d_->tick();
  }
}
const Stats& Accelerator::stats() const { return d_->st; }
const AcceleratorConfig& Accelerator::config() const { return d_->cfg; }
const ArrayCore& Accelerator::array() const { return *d_->arr; }
const TraceProbe& Accelerator::probe() const { return d_->probe; }
void Accelerator::set_tile_golden_check(bool on) { d_->golden_tiles = on; }
void Accelerator::test_only_inject_output_fault(const TestOnlyOutputFault& f) {
  if (d_->engine != Engine::Rtl || f.col < 0 || f.col >= d_->C)
    throw std::logic_error("test_only_inject_output_fault: needs Engine::Rtl and a column of the array");
  d_->test_fault = f;
}

std::vector<model::AccWord> Accelerator::read_output(uint64_t c_addr, int64_t m, int64_t n) const {
  std::vector<model::AccWord> out(size_t(m * n));
  const int wb = d_->wb;
  if (c_addr + uint64_t(m * n * wb) > d_->dram.size()) throw std::out_of_range("read_output beyond DRAM");
  for (int64_t i = 0; i < m * n; ++i) {
    uint128 w = 0;
    for (int b = wb - 1; b >= 0; --b) w = (w << 8) | d_->dram[c_addr + uint64_t(i * wb + b)];
    out[size_t(i)] = d_->arr->to_acc_word(w);
  }
  return out;
}

std::string Stats::to_text(const AcceleratorConfig& cfg) const {
  std::ostringstream o;
  const int R = cfg.array.rows, C = cfg.array.cols;
  o << "cycles " << cycles << "\n"
    << "array: compute " << array_compute << ", weight_load " << array_weight_load << ", fill_drain "
    << array_fill_drain << ", stall_dram " << array_stall_dram << ", stall_conflict " << array_stall_conflict
    << ", idle " << array_idle << "\n"
    << "dma: busy " << dma_busy << ", conflict " << dma_stall_conflict << ", waiting " << dma_wait_deps << "\n"
    << "macs " << macs << ", PE utilization " << pe_utilization(R, C) << "\n"
    << "bytes: input r/w " << input.bytes_read << "/" << input.bytes_written << ", weight r/w " << weight.bytes_read
    << "/" << weight.bytes_written << ", output r/w " << output.bytes_read << "/" << output.bytes_written
    << ", DRAM r/w " << dram_read << "/" << dram_written << "\n"
    << "toggles: a " << toggles.a_regs << ", b " << toggles.b_regs << ", acc " << toggles.acc_regs << "\n";
  for (const auto& [id, L] : layers)
    o << "layer " << id << ": cycles " << L.cycles() << ", macs " << L.macs << ", DRAM r/w " << L.dram_read << "/"
      << L.dram_written << ", commands " << L.commands << "\n";
  return o.str();
}

}  // namespace fp8sim::sim
