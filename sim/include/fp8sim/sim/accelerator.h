// The accelerator: controller, DMA engine to DRAM, input/weight/accumulator buffers (SRAMs with size,
// banks, ports and read latency) and the systolic array, stepped once per clock cycle.
//
// Units and their cycle rules (the derivations in tests/sim rely on exactly these):
//   controller  fetches one command per cycle, in order, into the queue of the unit that executes it
//               (DMA: loads and stores; compute: Compute), when that queue has room; a Barrier waits until
//               every unit is idle; End finishes the run once every unit is idle. A command dispatched in
//               cycle t can start in cycle t + 1.
//   scoreboard  per buffer slot: a load waits for the slot's earlier readers, a Compute for the loads of
//               the slots it reads and for the stores reading its output slot, a Store for the computes
//               writing its slot. Completion in cycle t is visible in cycle t + 1.
//   DMA         one transfer at a time, in order: dram.latency cycles (a Store also waits the output
//               buffer's read latency), then min(bytes_per_cycle, buffer access width) bytes per cycle while
//               it wins a buffer port; the array has priority, a lost port is a conflict stall cycle.
//   compute     feeder: reads one beat (WS: a weight row or an activation row; OS: one A column and one B
//               row) per cycle once the command's dependencies hold, the data arriving `latency` cycles
//               later; up to latency + 1 beats in flight. The array (systolic_array.h) takes a ready beat
//               whenever in_ready; each output row is written into the accumulator buffer (Accumulate: read,
//               add with the PE's adder, write: two accesses) and back-pressures the array when the buffer
//               has no free port. A Compute completes when its last output row is written.
// Accumulation order: each Compute's tile sums from +0 in the array; the buffer adds the tile sums in
// order, so a GEMM is AccumulationOrder{k_chunk = the lowering's K tile} (firmware/lowering.h).
// The units live one per file in sim/src (controller.cpp, dma.cpp, post_processing.cpp, compute_unit.cpp;
// units.h says what they share).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fp8sim/firmware/commands.h"
#include "fp8sim/sim/config.h"
#include "fp8sim/sim/systolic_array.h"

namespace fp8sim::sim {

// Model: the reference array (make_systolic_array, one step per PE per cycle; simrun --engine cycle);
// Fast: the fast array (fast_array.h, identical results; simrun's default); Rtl: the Verilated RTL array with
// the reference array beside it.
enum class Engine : uint8_t { Model = 0, Rtl = 1, Fast = 2 };

struct BufferStats {
  uint64_t bytes_read = 0, bytes_written = 0, accesses = 0, conflicts = 0;
};

struct CommandStats {
  size_t index = 0;
  firmware::Opcode op = firmware::Opcode::Nop;
  uint16_t layer = 0;
  uint32_t tile = 0;
  uint64_t dispatch = 0, start = 0, end = 0;  // cycles; start: dependencies satisfied, work begins
  uint64_t stall_cycles = 0;                   // DMA: lost buffer ports; compute: array back-pressure
};

struct LayerStats {
  uint64_t first_cycle = 0, last_cycle = 0, macs = 0, dram_read = 0, dram_written = 0, commands = 0;
  uint64_t cycles() const { return last_cycle - first_cycle + 1; }
};

struct Stats {
  uint64_t cycles = 0;
  // Every cycle of the array falls in exactly one class.
  uint64_t array_compute = 0;      // a compute beat (WS activation row / OS beat) entered
  uint64_t array_weight_load = 0;  // a WS weight row entered
  uint64_t array_fill_drain = 0;   // no beat entered, data in flight (pipeline fill/drain, SRAM read latency)
  uint64_t array_stall_dram = 0;   // no beat: the next Compute waits for its loads (DRAM)
  uint64_t array_stall_conflict = 0;  // no beat or output: a buffer port was busy
  uint64_t array_idle = 0;         // no Compute to run
  uint64_t dma_busy = 0, dma_stall_conflict = 0, dma_wait_deps = 0;
  uint64_t macs = 0;               // useful multiply-accumulates (valid m * k * n of every tile)
  uint64_t postprocessed = 0;      // outputs converted by the post-processing unit
  uint64_t buffer_adds = 0;        // words added into earlier sums in the accumulator buffer (Accumulate)
  uint64_t first_beat_cycle = 0, last_output_cycle = 0;  // of the whole run (array-level span)
  uint64_t first_compute_cycle = 0;                       // the first compute row entering the array
  BufferStats input, weight, output;
  uint64_t dram_read = 0, dram_written = 0;
  // Bytes moved to or from the on-chip activation SRAM (kFlagOnChip transfers) instead of DRAM.
  uint64_t act_sram_read = 0, act_sram_written = 0;
  // Output rows the array delivered into the accumulator buffer (each carries `cols` words).
  uint64_t array_rows_out = 0;
  // Engine::Rtl, counted where the Verilated array's output rows are compared with the model twin's
  // (compute_unit.cpp compare_twin, once per row as it leaves the array): rows and words compared, words that
  // differed (the first difference also stops the run with an error naming it).
  uint64_t rtl_rows_compared = 0, rtl_words_compared = 0, rtl_mismatches = 0;
  // Every output row the array delivered was compared with the RTL's (and there was at least one).
  bool rtl_compared_all() const { return array_rows_out > 0 && rtl_rows_compared == array_rows_out; }
  // Fixed-point accumulator wrap events: additions (in a PE or in the accumulating output buffer) whose exact
  // result left the register's signed range (the register kept it modulo 2^width). Always 0 when the width
  // holds K products (model::max_wrap_free_k).
  uint64_t acc_wraps = 0;
  ArrayToggles toggles;
  std::vector<CommandStats> commands;
  std::map<uint16_t, LayerStats> layers;
  double pe_utilization(int rows, int cols) const {
    return cycles ? static_cast<double>(macs) / (double(rows) * cols * double(cycles)) : 0.0;
  }
  std::string to_text(const AcceleratorConfig& cfg) const;
};

// Values to sample into a VCD (sc_trace) for a window of cycles.
struct TraceProbe {
  uint64_t cycle = 0;
  bool in_valid = false, in_ready = false, in_wload = false, out_valid = false, out_ready = false;
  uint32_t pc = 0, dma_queue = 0, compute_queue = 0, fifo = 0;
  uint32_t out_word0 = 0;  // low 32 bits of output column 0
};

// The memory the DMA reads and writes. The accelerator holds its own (a byte vector of the given size) unless
// it is given one, e.g. a TLM-2.0 model routing DMA through an initiator socket.
class DramPort {
 public:
  virtual ~DramPort() = default;
  virtual uint64_t size() const = 0;
  virtual void read(uint64_t addr, uint8_t* dst, size_t n) = 0;
  virtual void write(uint64_t addr, const uint8_t* src, size_t n) = 0;
};

// Which array a factory is asked for: the one the engine computes with, or (Engine::Rtl) the model twin that
// runs beside it and whose outputs every RTL output row is compared with.
enum class ArrayRole : uint8_t { Engine = 0, ModelTwin = 1 };
using ArrayFactory = std::function<std::unique_ptr<ArrayCore>(const ArrayParams&, Engine, ArrayRole)>;
// The default: Engine::Model -> make_systolic_array; Engine::Fast -> make_fast_array; Engine::Rtl -> the Verilated array (role Engine) and
// make_systolic_array (role ModelTwin). Throws std::invalid_argument when no RTL array matches.
std::unique_ptr<ArrayCore> make_engine_array(const ArrayParams& p, Engine engine, ArrayRole role);

class Accelerator {
 public:
  // factory: how the arrays are built (default make_engine_array); tests wrap it to inject faults.
  Accelerator(const AcceleratorConfig& cfg, uint64_t dram_bytes, Engine engine = Engine::Model,
              const ArrayFactory& factory = make_engine_array);
  // DMA through an external memory (not owned; must outlive the accelerator). dram() is then unavailable.
  Accelerator(const AcceleratorConfig& cfg, DramPort& dram, Engine engine = Engine::Model,
              const ArrayFactory& factory = make_engine_array);
  ~Accelerator();

  // The accelerator's own DRAM (throws std::logic_error when it was given a DramPort).
  std::vector<uint8_t>& dram();
  DramPort& dram_port();
  void load_program(std::vector<firmware::Command> cmds);
  void tick();          // one clock cycle
  bool done() const;
  uint64_t cycle() const;
  // Runs tick() until done (plain loop, no SystemC kernel); throws if max_cycles pass first.
  void run(uint64_t max_cycles = ~uint64_t{0});

  const Stats& stats() const;
  const AcceleratorConfig& config() const;
  const ArrayCore& array() const;
  const TraceProbe& probe() const;
  // Reads back C (M x N accumulator words at c_addr, row stride N words) as model words.
  std::vector<model::AccWord> read_output(uint64_t c_addr, int64_t m, int64_t n) const;
  // Engine::Rtl: compare every array output row with the model array's (always) and every tile with
  // golden_gemm of its operands (set false to skip the golden tile check).
  void set_tile_golden_check(bool on);

 private:
  struct Impl;
  std::unique_ptr<Impl> d_;
};

// Whether an RTL array is built for these parameters (fp8sim_rtl_arrays holds a fixed list).
bool rtl_array_available(const ArrayParams& p);

// In library fp8sim_sim_systemc (the rest of this header: fp8sim_sim, no SystemC).
// Runs the jobs one after another inside ONE SystemC simulation (SystemC elaborates once per process): a
// clocked SC_METHOD ticks the current accelerator. With vcd_path, the probe of each cycle in
// [vcd_from, vcd_to) is traced with sc_trace (values hold outside the window). Returns the simulated time
// in cycles.
struct VcdOptions {
  std::string path;
  uint64_t from = 0, to = 0;
};
// seconds: when given, the CPU seconds (this thread) each job took (for the bench program).
uint64_t run_systemc(const std::vector<Accelerator*>& jobs, const VcdOptions& vcd = {},
                     std::vector<double>* seconds = nullptr);

}  // namespace fp8sim::sim
