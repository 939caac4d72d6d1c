// The accelerator's units and what they share (internal to sim/; the public face is accelerator.h).
//
// One unit per file, each with a narrow interface: it takes commands from the controller (push/has_room),
// says whether it is idle, and is stepped once per clock by tick(Ctx&). The units meet only in Ctx: the
// configuration, the SRAM contents and ports, DRAM (through a DramPort), the scoreboard and the statistics.
//   controller.cpp       Controller: fetches one command per cycle into the unit that executes it
//   dma.cpp              Dma: loads DRAM -> input/weight buffers, stores and post-processed stores
//   post_processing.cpp  PostProcessingUnit: dequantize, bias, requantize on the store path
//   compute_unit.cpp     ComputeUnit: beat feeder, systolic array, accumulating writer, RTL comparisons
// The order of the per-cycle calls (Accelerator::tick) is compute, DMA, controller, then the scoreboard
// completions of the cycle become visible (a completion in cycle t is seen in cycle t + 1).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fp8sim/firmware/commands.h"
#include "fp8sim/sim/accelerator.h"

namespace fp8sim::sim::detail {

using firmware::Command;
using firmware::Opcode;

enum BufId { kIn = 0, kW = 1, kOut = 2 };
constexpr int kSlots = 256;

// One SRAM's access ports in the current cycle.
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
  bool free() const { return used < cfg.ports; }
};

// A dispatched command with its scoreboard conditions and progress.
struct Issued {
  Command c;
  size_t index = 0;              // position in the program
  uint64_t wait[3] = {0, 0, 0};  // compute: writes done on a/w slots, reads done on o slot
  uint64_t wait_b = 0;           // loads: reads done on the slot; store: writes done on the slot
  bool started = false;
  uint32_t beats_issued = 0, rows_fired = 0, rows_written = 0, beats_fired = 0;
  uint32_t wrows_issued = 0, wrows_fired = 0;  // shadow weights: weight rows read / taken by the array
  uint64_t latency_left = 0, bytes_left = 0;
  uint64_t param_bytes_left = 0;  // on-chip PostProcess: scale/bias bytes still to come from DRAM (first)
  std::vector<uint128> tile_out;        // Engine::Rtl: the tile's raw array outputs, for the golden tile check
  std::vector<uint8_t> tile_a, tile_b;  // Engine::Rtl: the operands as they entered the array
};

// Per buffer slot: how many writes (loads, computes into the output slot) and reads (computes, stores) were
// issued and are done. Completions are collected during a cycle and applied at its end.
struct Scoreboard {
  uint64_t w_issued[3][kSlots] = {}, w_done[3][kSlots] = {}, r_issued[3][kSlots] = {}, r_done[3][kSlots] = {};
  std::vector<std::pair<int, int>> pend_w_done, pend_r_done;
  void write_done(int buf, int slot) { pend_w_done.emplace_back(buf, slot); }
  void read_done(int buf, int slot) { pend_r_done.emplace_back(buf, slot); }
  void end_of_cycle() {
    for (auto [b, s] : pend_w_done) ++w_done[b][s];
    for (auto [b, s] : pend_r_done) ++r_done[b][s];
    pend_w_done.clear();
    pend_r_done.clear();
  }
};

// DRAM held in the accelerator object (the default).
class VectorDram final : public DramPort {
 public:
  explicit VectorDram(uint64_t bytes) : mem_(bytes, 0) {}
  uint64_t size() const override { return mem_.size(); }
  void read(uint64_t addr, uint8_t* dst, size_t n) override;
  void write(uint64_t addr, const uint8_t* src, size_t n) override;
  std::vector<uint8_t>& bytes() { return mem_; }
  const std::vector<uint8_t>& bytes() const { return mem_; }

 private:
  std::vector<uint8_t> mem_;
};

// What the units share.
struct Ctx {
  Ctx(const AcceleratorConfig& c, Engine e, DramPort* port);
  AcceleratorConfig cfg;
  Engine engine;
  int R, C, wb;
  bool ws;
  DramPort* dram;
  std::vector<uint8_t> inbuf, wbuf;
  std::vector<uint128> obuf;
  Sram sram[3];
  Stats st;
  TraceProbe probe;
  Scoreboard sb;
  uint64_t now = 0;
  uint64_t last_completion = 0;  // cycle of the latest command completion (the watchdog's reference)

  LayerStats& layer(uint16_t id);          // the layer's statistics, its span extended to this cycle
  CommandStats& cstats(const Issued& is);  // the statistics record of a dispatched command
  [[noreturn]] void error(const Issued& is, const std::string& why) const;
};

class PostProcessingUnit {
 public:
  // Reads the tile's scales (and biases, row scales) from DRAM and writes its converted outputs.
  static void process_tile(Ctx& x, const ArrayCore& arith, const Command& c);
  // DRAM bytes of the parameters a PostProcess command reads.
  static uint64_t parameter_bytes(const Command& c);
  // Bytes a PostProcess writes: one output each (out_format_bytes), plus with kFlagMxOut one E8M0 scale per
  // output block (rows x cols / block).
  static uint64_t output_bytes(const Ctx& x, const Command& c);
};

class Dma {
 public:
  explicit Dma(const ArrayCore& arith) : arith_(arith) {}
  bool has_room(const Ctx& x) const { return static_cast<int>(q_.size()) < x.cfg.queue_depth + 1; }
  void push(Issued is) { q_.push_back(std::move(is)); }
  bool idle() const { return q_.empty(); }
  size_t queued() const { return q_.size(); }
  const Issued* front() const { return q_.empty() ? nullptr : &q_.front(); }
  void tick(Ctx& x);

 private:
  void check_transfer(const Ctx& x, const Issued& is, int b) const;
  void complete_transfer(Ctx& x, Issued& is, int b);
  static bool gather(const Command& c) { return c.flags & firmware::kFlagGather; }
  uint64_t gathered_bytes(const Ctx& x, const Issued& is) const;  // non-padding bytes of a gather (checked)
  const ArrayCore& arith_;
  std::deque<Issued> q_;
};

class ComputeUnit {
 public:
  // array: the engine's array; twin: the model array run beside it for comparison (Engine::Rtl), or null.
  ComputeUnit(Ctx& x, std::unique_ptr<ArrayCore> array, std::unique_ptr<ArrayCore> twin);
  bool has_room(const Ctx& x) const { return static_cast<int>(q_.size()) < x.cfg.queue_depth + 1; }
  void check(const Ctx& x, const Issued& is) const;  // throws (Ctx::error) for a tile that cannot run
  void push(Issued is) { q_.push_back(std::move(is)); }
  bool idle() const { return q_.empty(); }
  size_t queued() const { return q_.size(); }
  const Issued* front() const { return q_.empty() ? nullptr : &q_.front(); }
  bool deps_met(const Ctx& x, const Issued& is) const { return deps_ok(x, is); }
  size_t fifo_size() const { return fifo_.size(); }
  void tick(Ctx& x);
  const ArrayCore& array() const { return *arr_; }
  const ArrayCore& counting_array() const { return twin_ ? *twin_ : *arr_; }  // whose toggles are reported
  uint32_t out_word0() const { return static_cast<uint32_t>(outrow_[0]); }
  uint64_t buffer_wraps() const { return buffer_wraps_; }  // wrap events of the accumulating buffer's adds
  bool golden_tiles = true;  // Engine::Rtl: check every tile against golden_gemm

 private:
  struct Beat {
    size_t cmd;  // sequence number of the command in the queue
    bool wload = false, last = false;
    bool swap = false;  // shadow weights: the tile's first compute row (switches the array to its next weights)
    bool mx_first = false, mx_blk_last = false, mx_fin = false;  // MX array beats (ArrayInputs)
    uint64_t ready_at = 0;
    std::vector<uint8_t> a, b;
    std::vector<uint8_t> sa, sb;  // MX: the block's scales on mx_blk_last beats
  };
  struct OutTag {
    size_t cmd;
    uint32_t row;
  };
  bool deps_ok(const Ctx& x, const Issued& is) const;
  uint32_t beats_of(const Ctx& x, const Command& c) const { return x.ws ? uint32_t(x.R) + c.m : c.k; }
  bool feeder(Ctx& x);
  void mx_beat(Ctx& x, const Command& c, uint32_t j, Beat& bt);
  bool feeder_shadow(Ctx& x);
  void write_row(Ctx& x);
  void finish_compute(Ctx& x, Issued& is);
  void classify_idle(Ctx& x, bool conflict, bool head_ready);
  void compare_twin(Ctx& x, bool ov, bool leaves);
  void record_operands(Ctx& x, Issued& is, const Beat& bt);
  void golden_tile_check(Ctx& x, const Issued& is);
  Issued& by_seq(size_t seq) { return q_[seq - seq_base_]; }

  std::unique_ptr<ArrayCore> arr_, twin_;
  std::deque<Issued> q_;
  size_t seq_base_ = 0;  // sequence number of q_.front()
  size_t feed_ = 0;      // q_ index being fed
  size_t wfeed_ = 0;     // shadow weights: q_ index whose weight rows are being read
  std::deque<Beat> fifo_;
  std::deque<Beat> wfifo_;  // shadow weights: weight rows on their way to the array's weight channel
  std::vector<std::vector<uint8_t>> spare_;  // the row buffers of beats gone (reused: no allocation per beat)
  std::vector<uint8_t> take_row() {
    if (spare_.empty()) return {};
    std::vector<uint8_t> v = std::move(spare_.back());
    spare_.pop_back();
    return v;
  }
  void recycle(Beat& bt) {
    if (bt.a.capacity()) spare_.push_back(std::move(bt.a));
    if (bt.b.capacity()) spare_.push_back(std::move(bt.b));
  }
  bool shadow_w_ = false;   // WS with shadow weights: weight rows on the array's weight channel
  std::deque<OutTag> tags_;
  bool rmw_read_ = false;  // accumulate write with one port: the read half is done
  std::vector<uint128> outrow_, twin_row_;
  bool any_beat_ = false;
  int max_latency_ = 1;
  uint64_t buffer_wraps_ = 0;
};

class Controller {
 public:
  void load(std::vector<Command> cmds) {
    prog_ = std::move(cmds);
    pc_ = 0;
    finished_ = false;
  }
  void tick(Ctx& x, Dma& dma, ComputeUnit& cu);
  bool finished() const { return finished_; }
  size_t pc() const { return pc_; }
  size_t size() const { return prog_.size(); }
  const Command& current() const { return prog_.at(pc_); }

 private:
  std::vector<Command> prog_;
  size_t pc_ = 0;
  bool finished_ = false;
};

}  // namespace fp8sim::sim::detail
