// The network on one accelerator: where each tensor lives between operations (issue #10 item 3).
//
// Policy (stated in the report and README): the activation SRAM ([activation_sram], size S) is used as two
// ping-pong halves, one holding what the current operation reads and one what it writes. A tensor stays on chip
// when it fits in one half (S / 2 bytes); otherwise it spills: its producer writes it to DRAM and its consumer
// reads it from there. For a GEMM that means: its activations (A; for attention matmuls also the second
// operand) are read from the activation SRAM when they fit, and its post-processed outputs are written there
// when they fit. A GEMM output requantized to the consuming GEMM's 8-bit code (GEMM -> GEMM edges, e.g. Q, K, V
// -> the attention matmuls) is 1 byte per value and goes from the producer's post-processing unit to the
// consumer's loads: no vector unit between them. The vector unit between GEMMs reads and writes the activation SRAM; for a spilled tensor it
// pays the DRAM round trip (counted here as spill traffic: a spilled GEMM output is read back, a spilled GEMM
// input was written out). Weights always come from DRAM, once per GEMM call (per batch with --batch).
//
//
// The timeline (issue #10 item 3: operations overlap where the data dependences and the units allow): every
// operation keeps its simulated duration (a GEMM's cycles on a cold accelerator, a vector operation's cycles on
// the vector unit), and the schedule places them on two resources, the matrix engine (DMA, array and
// post-processing unit: one GEMM at a time) and the vector unit, with the network's data dependences
// (quant::OpIo: an operation waits for the last writers of the tensors it reads; an operation without OpIo
// waits for every operation before it). Two overlaps, both measured in the GEMM's own simulation:
//  - weight prefetch: a GEMM's weight head W (cycles before its first activation load starts: only weights
//    and parameters move) reads no activation, so it may start before its producers finish, while the engine
//    is free (e.g. under a vector operation) and, for the GEMM before it on the engine, inside that GEMM's DMA-idle tail
//    T (the cycles before its last Compute ends during which its in-order DMA has nothing to move: the array
//    drains its last tile): min(W, T) of the two overlap;
//  - vector unit beside the array: a GEMM that does not read a running vector operation's result runs beside
//    it (e.g. matmul_qk of head h+1 while the vector unit computes head h's softmax). The engine takes GEMMs in
//    program order, except that it may start the next one ahead of the first waiting one (a reorder window of
//    two GEMMs: at most one GEMM overtaken, one extra live tensor, e.g. a second head's scores); the vector
//    unit takes its operations in program order.
// The latency is the end of the last operation; the serial sum (every operation one after another) is kept
// beside it. Assumptions, stated in the report: the activation SRAM serves the vector unit and the engine at the
// same time (the ping-pong halves), and the tensors the window keeps live fit (they do when none spilled).
//
// Calls come from the executor's thread (gemm(), vector_op()), in program order or each with its OpOrder
// (--batch); simulated() may come from worker threads.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include <climits>
#include <cstddef>
#include <cstdint>

#include "fp8sim/model/quant/executor.h"
#include "fp8sim/report/report.h"
#include "fp8sim/sim/config.h"
#include "fp8sim/sim/gemm_run.h"

namespace fp8sim::simrun {

class NetworkSchedule {
 public:
  explicit NetworkSchedule(const sim::AcceleratorConfig& cfg) : half_(cfg.activation_sram.size_bytes / 2),
                                                                sram_(cfg.activation_sram.size_bytes) {}

  struct Decision {
    sim::GemmPlacement placement;
    size_t index = 0;           // the GEMM's position in program order
  };
  // out_bytes: bytes per post-processed output (0: raw accumulator words, --store accumulators: DRAM only).
  // a_bytes: the size of A as stored (implicit im2col: the NHWC input, not the im2col matrix; -1: m * k).
  // io: the tensors it writes and reads (none: it waits for everything before it). requantized: its outputs
  // leave the post-processing unit as the consuming GEMM's 8-bit code (out_bytes 1) instead of BF16.
  // Where an operation sits in the accelerator's program order when the calls do not arrive in it (--batch N:
  // the executor runs item after item, the vector unit's operations arrive at once and the batched GEMMs when
  // the batch is complete): batch `group`, the operation's position `pos` in its item's sequence of calls, and
  // the items it serves (a weight layer's batched GEMM serves all of the batch's items, any other operation
  // one). The timeline then orders the operations by (group, pos, first item) and takes data dependences per
  // item (an operation reads the tensors its items' producers wrote). Without an order: the arrival order.
  struct OpOrder {
    uint64_t group = 0, pos = 0;
    std::vector<uint64_t> items;
  };
  Decision gemm(const std::string& name, bool act_act, int64_t m, int64_t k, int64_t n, int out_bytes,
                int64_t a_bytes = -1, const quant::OpIo* io = nullptr, bool requantized = false,
                const OpOrder* order = nullptr);
  void vector_op(uint64_t cycles, const quant::OpIo* io = nullptr, const OpOrder* order = nullptr);
  // What the timeline needs of a simulated GEMM, from its command records (see above).
  struct GemmPhases {
    uint64_t cycles = 0;       // the GEMM's simulated cycles
    uint64_t weight_head = 0;  // W: cycles before its first activation load starts (or its first Compute)
    uint64_t dma_idle_tail = 0;  // T: cycles before its last Compute ends in which its DMA is idle
  };
  static GemmPhases phases(const sim::Stats& st);
  // After GEMM `index` ran (any thread).
  void simulated(size_t index, const GemmPhases& ph);
  // The timeline is computed when the calls came in program order or every operation has an OpOrder.
  void set_timeline(bool on) { timeline_ = on; }
  // The network's inputs and outputs as the accelerator sees them (bytes per inference), for the DRAM floor.
  static constexpr uint64_t kKeep = ~uint64_t{0};
  void set_io_bytes(uint64_t in, uint64_t out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (in != kKeep) io_in_ = in;
    if (out != kKeep) io_out_ = out;
  }
  report::NetworkSchedule finish(uint64_t batch, uint64_t inferences) const;

 private:
  void spill(const std::string& tensor, uint64_t bytes, bool read_back, bool by_vector_unit);
  std::set<std::string> requantized_tensors_;  // OpIo outputs last written as a consumer's 8-bit code
  int64_t half_ = 0, sram_ = 0;
  mutable std::mutex mu_;
  size_t gemms_ = 0;
  bool timeline_ = true;
  struct Op {
    bool gemm = false;
    size_t gemm_index = 0;  // gemm: into phases_
    uint64_t vector_cycles = 0;
    bool barrier = false;   // no OpIo: waits for every earlier operation
    std::vector<size_t> deps;
    std::optional<quant::OpIo> io;  // kept with an order (the dependences are taken again in that order)
    std::optional<OpOrder> order;
  };
  std::vector<Op> ops_;
  std::vector<GemmPhases> phases_;
  std::map<std::string, size_t> last_writer_;
  size_t last_barrier_ = SIZE_MAX;
  void add_op(Op op, const quant::OpIo* io);
  uint64_t requantized_outputs_ = 0;
  uint64_t resident_ = 0, spilled_ = 0, resident_bytes_ = 0, spilled_bytes_ = 0;
  uint64_t spill_read_ = 0, spill_written_ = 0;
  std::map<std::string, report::SpillRow> spills_;
  std::set<std::string> weights_seen_;
  uint64_t weight_bytes_ = 0, io_in_ = 0, io_out_ = 0;
};

// Leakage over the network's latency (issue #10): the layer and vector-operation rows keep the leakage of their
// own cycles (their sum: leakage power x serial cycles); where the timeline exists, run.network's
// leakage_correction_pj (<= 0) brings Totals::energy_pj.leakage to pj_at_latency, the accelerator's leakage over
// run.network.overlapped_cycles. Without the timeline nothing changes.
void charge_leakage_over_latency(report::FormatRun& run, double pj_at_latency);

}  // namespace fp8sim::simrun
