// A synthetic RunReport for the writer tests and for looking at the HTML: made-up simulator statistics (a
// three-layer MLP on the default 32x32 array, E4M3 with the fixed-point accumulator against INT8, and a small
// sweep) costed by the real cost model and data files. The statistics are invented by the formulas below, not
// simulated, and the report says so (synthetic = true).
#pragma once

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "fp8sim/cost/cost.h"
#include "fp8sim/report/report.h"

namespace fp8sim::test {

struct ExampleLayer {
  const char* name;
  uint64_t m, k, n;
};

inline report::FormatRun example_run(const cost::EnergyTable& et, const cost::AreaTable& at, const std::string& pe,
                                     const std::string& acc, double op_toggles_per_mac, double acc_toggles_per_mac,
                                     double accuracy, std::vector<std::string>* notes) {
  const ExampleLayer layers[] = {{"fc1 (768->3072)", 128, 768, 3072},
                                 {"fc2 (3072->768)", 128, 3072, 768},
                                 {"head (768->10)", 128, 768, 10}};
  report::FormatRun run;
  run.format = pe;
  run.config = {"default32", pe, pe == "int8" ? "int32" : acc, "ws", 32, 32, 1000.0,
                {{"input", 262144, 8}, {"weight", 65536, 8}, {"output", 262144, 16}}, 64, 100};
  cost::EventCounts total_counts;
  for (const auto& l : layers) {
    const uint64_t macs = l.m * l.k * l.n;
    const uint64_t tiles = ((l.k + 31) / 32) * ((l.n + 31) / 32);
    const uint64_t busy = tiles * (l.m + 32);  // one weight tile per (K, N) tile, M rows streamed through
    report::LayerRow row;
    row.name = l.name;
    row.m = l.m, row.k = l.k, row.n = l.n;
    row.macs = macs;
    row.stalls = {tiles * 40, tiles * 3, tiles * 62};
    row.cycles = busy + row.stalls.total();
    row.pe_utilization = static_cast<double>(macs) / (static_cast<double>(row.cycles) * 1024);
    const uint64_t in_bytes = l.m * l.k * ((l.n + 31) / 32), w_bytes = l.k * l.n, out_bytes = l.m * l.n * 4;
    row.traffic = {in_bytes + w_bytes + out_bytes, l.m * l.k + w_bytes + out_bytes, l.m * l.k + l.k * l.n,
                   l.m * l.n};
    cost::EventCounts e;
    e.cycles = row.cycles;
    e.macs = macs;
    e.pe = pe;
    e.accumulator = acc;
    e.operand_toggles = static_cast<uint64_t>(op_toggles_per_mac * static_cast<double>(macs));
    e.accumulator_toggles = static_cast<uint64_t>(acc_toggles_per_mac * static_cast<double>(macs));
    e.buffers = {{"input", 262144, 8, in_bytes, l.m * l.k},
                 {"weight", 65536, 8, w_bytes, w_bytes},
                 {"output", 262144, 16, out_bytes, out_bytes}};
    e.dram_bytes_read = row.traffic.dram_read;
    e.dram_bytes_written = row.traffic.dram_written;
    e.rows = e.cols = 32;
    e.clock_mhz = 1000;
    const cost::CostResult c = cost::evaluate(et, at, e);
    row.energy_pj = {c.energy.mac_pj, c.energy.sram_pj, c.energy.dram_pj, c.energy.leakage_pj};
    run.layers.push_back(row);
    run.totals.cycles += row.cycles;
    run.totals.macs += macs;
    run.totals.stalls.dram_wait += row.stalls.dram_wait;
    run.totals.stalls.buffer_conflict += row.stalls.buffer_conflict;
    run.totals.stalls.fill_drain += row.stalls.fill_drain;
    run.totals.traffic.sram_read += row.traffic.sram_read;
    run.totals.traffic.sram_written += row.traffic.sram_written;
    run.totals.traffic.dram_read += row.traffic.dram_read;
    run.totals.traffic.dram_written += row.traffic.dram_written;
    run.totals.energy_pj.mac += row.energy_pj.mac;
    run.totals.energy_pj.sram += row.energy_pj.sram;
    run.totals.energy_pj.dram += row.energy_pj.dram;
    run.totals.energy_pj.leakage += row.energy_pj.leakage;
    run.totals.area = {c.area.array_um2, c.area.buffers_um2, c.area.nand2_eq};
    if (notes)
      for (const auto& n : c.notes)
        if (std::find(notes->begin(), notes->end(), n) == notes->end()) notes->push_back(n);
    total_counts = e;
  }
  run.accuracy.metric = "top1";
  run.accuracy.value = accuracy;
  run.accuracy.fp32_value = 0.8125;
  run.accuracy.sqnr_db = pe == "int8" ? 27.5 : 24.25;
  run.accuracy.cosine = pe == "int8" ? 0.99912 : 0.99813;
  const uint64_t outputs = 128 * 3072 + 128 * 768 + 128 * 10;
  run.verification = {{"golden", outputs, outputs, 0}};
  return run;
}

inline report::RunReport example_report() {
  const cost::EnergyTable et = cost::load_energy_table(cost::default_energy_table_path());
  const cost::AreaTable at = cost::load_area_table(cost::default_area_table_path());
  cost::check_consistent(et, at);
  report::RunReport r;
  r.tool_version = "0.1.0";
  r.command = "report_example (tests/report/example_report.h)";
  r.workload = "synthetic-mlp3";
  r.seed = 1;
  r.synthetic = true;
  r.synthetic_note =
      "statistics, toggle counts and accuracies invented by tests/report/example_report.h to exercise the "
      "writers; nothing here was simulated";
  r.run = example_run(et, at, "e4m3", "fixed", 3.1, 9.5, 0.8047, &r.notes);
  r.comparison.push_back(example_run(et, at, "int8", "int32", 3.6, 7.2, 0.8016, &r.notes));
  report::SweepTable s;
  s.accuracy_metric = "top1";
  struct P {
    const char *pe, *acc;
    uint32_t dim;
    double accuracy;
  };
  const P points[] = {{"int8", "int32", 16, 0.8016}, {"int8", "int32", 32, 0.8016},
                      {"e4m3", "fixed", 16, 0.8047}, {"e4m3", "fixed", 32, 0.8047},
                      {"e4m3", "fp32", 32, 0.8049},  {"e5m2", "fixed", 32, 0.7930},
                      {"e5m2", "fp32", 16, 0.7931}};
  for (const P& p : points) {
    cost::EventCounts e;
    e.pe = p.pe;
    e.accumulator = p.acc;
    e.rows = e.cols = p.dim;
    e.clock_mhz = 1000;
    e.macs = r.run.totals.macs;
    e.cycles = r.run.totals.cycles * (32 / p.dim) * (32 / p.dim);
    e.toggles_measured = false;  // a sweep point costed at the reference activity
    e.buffers = {{"input", 262144, 8, r.run.totals.traffic.sram_read / 2, r.run.totals.traffic.sram_written / 2},
                 {"weight", 65536, 8, r.run.totals.traffic.sram_read / 2, r.run.totals.traffic.sram_written / 2}};
    e.dram_bytes_read = r.run.totals.traffic.dram_read;
    e.dram_bytes_written = r.run.totals.traffic.dram_written;
    const cost::CostResult c = cost::evaluate(et, at, e);
    const std::string kind = cost::pe_kind_key(p.pe, p.acc);
    s.points.push_back({kind + " " + std::to_string(p.dim) + "x" + std::to_string(p.dim), p.pe, p.acc, p.dim, p.dim,
                        p.accuracy, c.energy.total_pj, c.area.total_um2, e.cycles});
  }
  r.sweep = s;
  for (const auto& f : cost::describe_model(et, at))
    r.cost_model.push_back({f.name, f.value, f.unit, f.source, f.assumption});
  return r;
}

}  // namespace fp8sim::test
