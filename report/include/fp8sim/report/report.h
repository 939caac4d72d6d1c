// The run report of `simrun --workload` (issue #6) as plain data, and its writers: text tables for the
// terminal, JSON (deterministic: fixed key order, numbers rounded to 9 significant digits, no timestamps),
// and one self-contained HTML page with inline SVG charts. An adapter in simrun fills RunReport from the
// simulator's statistics, the quantizer's accuracy and the cost model; this library knows none of them.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace fp8sim::report {

struct ReportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct BufferConfig {
  std::string name;  // "input", "weight", "output"
  uint64_t size_bytes = 0;
  uint32_t banks = 1;
};

struct ConfigSummary {
  std::string name;         // "default32"
  std::string pe;           // "e4m3", "e5m2", "int8"
  std::string accumulator;  // "fixed", "fp32", "int32"
  std::string dataflow;     // "ws", "os"
  uint32_t rows = 0, cols = 0;
  double clock_mhz = 0;
  std::vector<BufferConfig> buffers;
  double dram_bytes_per_cycle = 0;
  uint32_t dram_latency_cycles = 0;
};

struct Stalls {  // cycles lost, by cause
  uint64_t dram_wait = 0;
  uint64_t buffer_conflict = 0;
  uint64_t fill_drain = 0;
  uint64_t total() const { return dram_wait + buffer_conflict + fill_drain; }
};

struct Energy {  // pJ, by unit
  double mac = 0, sram = 0, dram = 0, leakage = 0;
  double post_processing = 0;     // post-processing unit: dequantize, bias, convert
  double vector_unit = 0;         // vector unit: the non-GEMM operations
  double accumulator_adders = 0;  // the accumulating output buffer's adders (K tiles summed)
  double total() const { return mac + sram + dram + leakage + post_processing + accumulator_adders + vector_unit; }
};

struct Traffic {  // bytes
  uint64_t sram_read = 0, sram_written = 0;
  uint64_t dram_read = 0, dram_written = 0;
};

struct LayerRow {
  std::string name;
  uint64_t calls = 1;  // GEMMs of this name summed into the row (attention heads, samples); m sums their rows
  uint64_t m = 0, k = 0, n = 0;
  uint64_t cycles = 0;
  Stalls stalls;
  double pe_utilization = 0;  // 0..1
  uint64_t macs = 0;
  Traffic traffic;
  Energy energy_pj;
  std::string mapping;       // the loop order and blocks the mapper chose (first call), e.g. "act-resident ..."
  std::string mapping_kind;  // "fixed", "act-resident", "weight-resident" or "k-blocked"
};

struct Area {
  double array_um2 = 0, buffers_um2 = 0;
  double nand2_eq = 0;
  double total_um2() const { return array_um2 + buffers_um2; }
};

struct Totals {
  uint64_t cycles = 0;
  uint64_t macs = 0;
  Stalls stalls;
  Traffic traffic;
  Energy energy_pj;  // of the whole run (RunReport::samples inferences)
  Area area;
  // latency, energy per MAC, TOPS/W and TOPS/mm^2 are derived by the writers from the fields above and the
  // configured clock, so the JSON and the text cannot disagree.
};

struct Interval {
  double low = 0, high = 0;
};

struct Accuracy {
  std::string metric;                 // "top1", or "sqnr_db" when the workload has no task/data
  double value = 0;                   // of the quantized run
  std::optional<double> fp32_value;   // the FP32 reference's value (none for SQNR: FP32 against itself)
  bool higher_is_better = true;
  std::optional<double> sqnr_db;      // outputs against FP32
  std::optional<double> cosine;       // cosine similarity of the outputs against FP32
  // How the task metric was measured (issue #11): items evaluated in all, of which simulated on the
  // accelerator (every output verified) and evaluated on the bit-exact golden model of the same numerics.
  uint64_t items = 0, items_simulated = 0, items_golden = 0;
  std::optional<Interval> ci95, fp32_ci95;  // 95 % percentile-bootstrap confidence intervals
  uint64_t bootstrap_resamples = 0;
  // Set when too few items for the metric to mean anything (Spearman on fewer than 30 pairs): the writers
  // then show this reason instead of value and fp32_value.
  std::string withheld;
};

// The difference of the task metric between two runs on the same items (a - b), with a paired-bootstrap 95 %
// interval: the same resampled items for both.
struct Difference {
  std::string a, b;  // formats ("e4m3", "int8", "fp32")
  std::string metric;
  double value = 0;
  Interval ci95;
  uint64_t items = 0, bootstrap_resamples = 0;
};

struct VerificationCheck {
  std::string reference;  // "golden" (model/'s GEMM), "rtl" (Verilated array)
  uint64_t checked_outputs = 0;
  uint64_t total_outputs = 0;
  uint64_t mismatches = 0;
};

// The accumulator's overflow (wrap) bound and, with --allow-accumulator-wrap, the wraps counted
// (model::max_wrap_free_k; present for fixed-point and int32 accumulators).
struct AccumulatorCheck {
  std::string bound;              // model::wrap_bound_text
  int64_t wrap_free_k = 0;        // largest K that cannot wrap
  uint64_t largest_k = 0;         // of the run's GEMMs
  bool wrap_allowed = false;      // --allow-accumulator-wrap
  uint64_t array_wrap_events = 0;   // counted in the array's cells and the accumulating buffer (sim::Stats)
  uint64_t golden_wrap_events = 0;  // counted by model::count_accumulator_wraps in the same order
  uint64_t wrapped_outputs = 0;     // outputs whose exact value does not fit (their words are wrong)
};

// One format's run: the chosen format, and each compared one.
// The vector unit's work of a run, per operation kind (sim/vector_unit.h).
struct VectorOpRow {
  std::string op;  // "softmax", "layer_norm", ...
  uint64_t calls = 0, elements = 0, cycles = 0;
  double energy_pj = 0;
};

// The network on one accelerator (simrun/network.h): which tensors stayed in the activation SRAM between
// operations and which spilled to DRAM, and the DRAM floor of the batch.
struct SpillRow {
  std::string tensor;  // "<layer>.input", "<layer>.input_b" (attention's second operand) or "<layer>.output"
  uint64_t calls = 0, bytes = 0;
};
struct NetworkSchedule {
  bool present = false;
  uint64_t activation_sram_bytes = 0;  // 0: none, every tensor goes through DRAM
  uint64_t batch = 1;
  uint64_t resident_tensors = 0, spilled_tensors = 0, resident_bytes = 0, spilled_bytes = 0;
  // The vector unit's DRAM traffic for spilled tensors (reading a spilled GEMM output back, writing a GEMM input
  // that does not fit): included in Totals::traffic and the DRAM energy.
  uint64_t spill_dram_read = 0, spill_dram_written = 0;
  // The network's input read from DRAM (the first GEMM's activations, as the vector unit hands them over) and its
  // output written back (the last GEMM's outputs), per inference times inferences: in Totals::traffic too.
  uint64_t io_dram_read = 0, io_dram_written = 0;
  double dram_energy_pj = 0;  // DRAM energy of the spill and I/O traffic (in Totals::energy_pj.dram)
  // DRAM floor of the run: every distinct weight once per batch, plus the network's inputs and outputs.
  uint64_t dram_minimum_bytes = 0;
  // Outputs the post-processing unit delivered as the consuming GEMM's 8-bit code instead of BF16 (one byte each
  // instead of two: the bytes saved in the activation SRAM, or in DRAM where the tensor spilled).
  uint64_t requantized_outputs = 0;
  // The timeline (simrun/network.h): the operations' simulated cycles one after another (serial_cycles =
  // Totals::cycles) and scheduled on the matrix engine and the vector unit with the network's data dependences
  // (overlapped_cycles: the critical path); hidden_prefetch_cycles: of the overlap, the cycles of GEMMs' weight
  // heads that ran while another operation was still running (the GEMM before on the engine, or a producer). timeline false: not computed (the operations' program order not known), overlapped_cycles 0.
  bool timeline = false;
  uint64_t serial_cycles = 0, overlapped_cycles = 0, hidden_prefetch_cycles = 0;
  // Leakage over the network's latency: the layer and vector-operation rows keep the leakage of their own cycles
  // (summing to serial_cycles x leakage power); with the timeline, this correction (<= 0) brings
  // Totals::energy_pj.leakage to overlapped_cycles x leakage power. 0 without the timeline (leakage then stays
  // charged over the serial cycles, an upper bound).
  double leakage_correction_pj = 0;
  std::vector<SpillRow> spills;
};

struct FormatRun {
  std::string format;  // "e4m3", "int8", ...
  ConfigSummary config;
  std::vector<LayerRow> layers;
  std::vector<VectorOpRow> vector_ops;  // Totals::cycles and energy include them
  Totals totals;
  Accuracy accuracy;
  std::vector<VerificationCheck> verification;  // the first is the primary reference
  std::optional<AccumulatorCheck> accumulator;
  NetworkSchedule network;
};

struct DesignPoint {  // one point of a `sweep`
  std::string label;
  std::string format;
  std::string accumulator;
  uint32_t rows = 0, cols = 0;
  double accuracy = 0;
  double energy_pj = 0;  // of the run (one inference unless the sweep sets --samples)
  double area_um2 = 0;
  uint64_t cycles = 0;
};

struct SweepTable {
  std::string accuracy_metric;
  bool higher_is_better = true;
  std::vector<DesignPoint> points;
};

struct ModelFigure {  // one figure of the cost model, with its source (cost::describe_model)
  std::string name;
  double value = 0;
  std::string unit;
  std::string source;
  bool assumption = false;
};

struct RunReport {
  std::string tool = "fp8sim";
  std::string tool_version;
  std::string command;  // the command line, for reproduction
  std::string workload;
  std::string weights, inputs;  // where they came from
  uint64_t samples = 1;         // inferences simulated; totals cover all of them
  uint64_t seed = 0;
  bool synthetic = false;     // data or weights are synthetic
  std::string synthetic_note; // what is synthetic
  std::string engine = "cycle";
  std::string timestamp;      // empty unless asked for: the JSON is then byte-identical run to run
  FormatRun run;
  std::vector<FormatRun> comparison;
  std::vector<Difference> differences;  // task-metric differences between formats (paired bootstrap)
  std::optional<SweepTable> sweep;
  std::vector<ModelFigure> cost_model;
  std::vector<std::string> notes;  // assumptions and approximations that apply to this run
};

// ---- derived figures (one definition for every writer) ----
double latency_s(const FormatRun& r);           // cycles / clock (network.overlapped_cycles with the timeline)
double energy_per_mac_pj(const FormatRun& r);   // 0 without MACs
double tops_per_w(const FormatRun& r);          // 2 ops per MAC
double array_tops_per_w(const FormatRun& r);    // the PE array alone (MAC + accumulating adders energy)
double tops_per_mm2(const FormatRun& r);        // achieved: 2 x MACs / latency / area
// Pareto flags of a sweep: not dominated in (accuracy, energy) and in (accuracy, area), respectively.
std::vector<bool> pareto_energy(const SweepTable& s);
std::vector<bool> pareto_area(const SweepTable& s);

// Checks what the writers rely on (names present, utilization within 0..1, mismatches <= checked <= total,
// comparison runs with a format); throws ReportError naming the field.
void validate(const RunReport& r);

// ---- writers ----
std::string to_text(const RunReport& r);
std::string to_json(const RunReport& r);  // ends with a newline
std::string to_html(const RunReport& r);

// Writes `content` to `path` through a temporary file in the same folder and a rename, so an interrupted run
// never leaves a half-written report. Throws ReportError naming the path and the reason.
void write_file_atomic(const std::string& path, const std::string& content);

// Number formatting shared by the writers: 9 significant digits in JSON; for people, thousands separators
// for counts and 4 significant digits for measured quantities.
std::string json_number(double v);
std::string fmt_count(uint64_t v);
std::string fmt_sig(double v, int digits = 4);

}  // namespace fp8sim::report
