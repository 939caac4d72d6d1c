// The cost model: hand-computed examples on round-number fixtures (derivations in the comments), the real
// data files, loader errors and monotonicity.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "fp8sim/cost/cost.h"

using namespace fp8sim::cost;
using Catch::Matchers::Contains;

namespace {

const std::string kData = FP8SIM_COST_TEST_DATA;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

EnergyTable fixture_energy() { return load_energy_table(kData + "/energy_fixture.json"); }
AreaTable fixture_area() { return load_area_table(kData + "/area_fixture.json"); }

// The example run used by the hand computations below: a 4x4 INT8 array, 1000 MACs at exactly the reference
// activity (8 operand toggles and 16 accumulator toggles per MAC), two buffers, 128 DRAM bytes, 2 us.
EventCounts example_int8() {
  EventCounts e;
  e.cycles = 2000;
  e.clock_mhz = 1000;
  e.macs = 1000;
  e.pe = "int8";
  e.accumulator = "int32";
  e.operand_toggles = 8000;
  e.accumulator_toggles = 16000;
  e.buffers = {{"input", 65536, 2, 1000, 200}, {"weight", 8192, 1, 800, 0}};
  e.dram_bytes_read = 100;
  e.dram_bytes_written = 28;
  e.rows = 4;
  e.cols = 4;
  return e;
}

// Expects parse_energy_table on the real file, modified by `edit`, to fail with all of `parts` in the message.
template <class Edit>
void expect_energy_error(Edit edit, std::initializer_list<const char*> parts) {
  auto j = nlohmann::ordered_json::parse(slurp(default_energy_table_path()));
  edit(j);
  try {
    parse_energy_table(j.dump(), "edited.json");
    FAIL("no error");
  } catch (const CostError& e) {
    INFO(e.what());
    CHECK_THAT(e.what(), Contains("edited.json"));
    for (const char* p : parts) CHECK_THAT(e.what(), Contains(p));
  }
}

void expect_area_error(const std::string& text, std::initializer_list<const char*> parts) {
  try {
    parse_area_table(text, "edited_area.json");
    FAIL("no error");
  } catch (const CostError& e) {
    INFO(e.what());
    CHECK_THAT(e.what(), Contains("edited_area.json"));
    for (const char* p : parts) CHECK_THAT(e.what(), Contains(p));
  }
}

}  // namespace

TEST_CASE("area table: JSON rows (nlohmann::json), quotes in descriptions") {
  const AreaTable a = fixture_area();
  REQUIRE(a.rows.size() == 8);
  CHECK(a.at("int8_pe").description == "fixture INT8 PE, \"int32\" accumulator");
  CHECK(a.at("int8_pe").flip_flops == 32);
  CHECK(a.at("ws4_fp").area_um2 == 35200);
  CHECK(a.find("nope") == nullptr);
  CHECK_THROWS_WITH(a.at("nope"), Contains("area_fixture.json") && Contains("nope"));
}

TEST_CASE("PE energies per event, hand-computed (fixture)") {
  const EnergyTable t = fixture_energy();
  const AreaTable a = fixture_area();
  check_consistent(t, a);
  // INT8: E_ref = mul + add = 0.2 + 0.1 = 0.3 pJ; w_mul = 400/1000 = 0.4
  //   per operand toggle     = 0.4 x 0.3 / (0.5 x 2 x 8) = 0.12 / 8 = 0.015 pJ
  //   per accumulator toggle = 0.6 x 0.3 / (0.5 x 32)    = 0.18 / 16 = 0.01125 pJ
  //   per register toggle    = 0.3 / (1000/24 NAND2) / 0.5 x 4 NAND2 = 0.0576 pJ
  //   per PE in an array     = 19200 / 16 = 1200 um^2
  const PeEnergy i8 = pe_energy(t, a, "int8");
  CHECK(i8.ref_mac_pj == Approx(0.3));
  CHECK(i8.multiplier_share == Approx(0.4));
  CHECK(i8.pj_per_operand_toggle == Approx(0.015));
  CHECK(i8.pj_per_accumulator_toggle == Approx(0.01125));
  CHECK(i8.pj_per_register_toggle == Approx(0.0576));
  CHECK(i8.per_pe_area_um2_synthesis == Approx(1200));
  // FP8 fixed: E_ref = 0.3 x 2000/1000 = 0.6; w_mul = 300/2000 = 0.15
  //   per operand toggle     = 0.15 x 0.6 / 8 = 0.01125 pJ
  //   per accumulator toggle = 0.85 x 0.6 / (0.5 x 40) = 0.0255 pJ
  const PeEnergy f8 = pe_energy(t, a, "e4m3_fixed");
  CHECK(f8.ref_mac_pj == Approx(0.6));
  CHECK(f8.pj_per_operand_toggle == Approx(0.01125));
  CHECK(f8.pj_per_accumulator_toggle == Approx(0.0255));
  CHECK(f8.per_pe_area_um2_synthesis == Approx(2200));
  // E5M2 has no synthesized array: its PE (3000) + the FP8 array's per-PE overhead (35200/16 - 2000 = 200)
  CHECK(pe_energy(t, a, "e5m2_fixed").per_pe_area_um2_synthesis == Approx(3200));
}

TEST_CASE("SRAM energy per byte against capacity (fixture)") {
  const EnergyTable t = fixture_energy();
  bool extra = true;
  // On Horowitz's points: 10 pJ / 8 B, 20 / 8, 100 / 8
  CHECK(sram_pj_per_byte(t, 8192, &extra) == Approx(1.25));
  CHECK_FALSE(extra);
  CHECK(sram_pj_per_byte(t, 32768) == Approx(2.5));
  CHECK(sram_pj_per_byte(t, 1048576) == Approx(12.5));
  // 256 KB lies on the 32 KB -> 1 MB segment at 8 = 32^(3/5) times 32 KB, so E = 20 x 5^(3/5) pJ per 64 bits.
  CHECK(sram_pj_per_byte(t, 262144, &extra) == Approx(20.0 * std::pow(5.0, 0.6) / 8.0));
  CHECK_FALSE(extra);
  // 2 KB: extrapolated with the first segment's exponent 1/2: 10 x (1/4)^(1/2) = 5 pJ per 64 bits.
  CHECK(sram_pj_per_byte(t, 2048, &extra) == Approx(0.625));
  CHECK(extra);
  CHECK_THROWS_AS(sram_pj_per_byte(t, 0), CostError);
}

TEST_CASE("energy and area of a run, hand-computed (fixture)") {
  const EnergyTable t = fixture_energy();
  const AreaTable a = fixture_area();
  const CostResult r = evaluate(t, a, example_int8());
  // PE: 8000 x 0.015 = 120 (multiplier), 16000 x 0.01125 = 180 (accumulator), 8000 x 0.0576 = 460.8 (registers)
  CHECK(r.energy.multiplier_pj == Approx(120));
  CHECK(r.energy.accumulator_pj == Approx(180));
  CHECK(r.energy.operand_register_pj == Approx(460.8));
  CHECK(r.energy.mac_pj == Approx(760.8));
  // SRAM: input = 65536 B in 2 banks -> 32 KB bank -> 2.5 pJ/B x (1000 + 200) = 3000; weight: 1.25 x 800 = 1000
  REQUIRE(r.energy.sram_pj_by_buffer.size() == 2);
  CHECK(r.energy.sram_pj_by_buffer[0].second == Approx(3000));
  CHECK(r.energy.sram_pj_by_buffer[1].second == Approx(1000));
  CHECK(r.energy.sram_pj == Approx(4000));
  // DRAM: 128 B x 1600 / 8 = 25600 pJ
  CHECK(r.energy.dram_pj == Approx(25600));
  // Area: array 16 PEs x 1200 = 19200 um^2 at 180 nm -> x (45/180)^2 = 1200 um^2; 19200 / 24 = 800 NAND2.
  //       SRAM: 8 bits x 0.5 um^2 / 0.5 = 8 um^2 per byte: 65536 x 8 + 8192 x 8 = 589824 um^2,
  //       NAND2 at 45 nm = 24 / 16 = 1.5 um^2 -> 393216 NAND2.
  CHECK(r.area.array_um2_synthesis_node == Approx(19200));
  CHECK(r.area.array_um2 == Approx(1200));
  CHECK(r.area.array_nand2_eq == Approx(800));
  CHECK(r.area.buffers_um2 == Approx(589824));
  CHECK(r.area.buffers_nand2_eq == Approx(393216));
  CHECK(r.area.total_um2 == Approx(591024));
  CHECK(r.area.nand2_eq == Approx(394016));
  // Leakage: 10 nW/um^2 x 591024 um^2 x 2 us = 11.82048 uJ... in pJ: 10 x 591024 x 2e-6 x 1e3 = 11820.48
  CHECK(r.latency_s == Approx(2e-6));
  CHECK(r.energy.leakage_pj == Approx(11820.48));
  CHECK(r.energy.total_pj == Approx(760.8 + 4000 + 25600 + 11820.48));
  // Derived: 2 ops per MAC.
  CHECK(r.energy_per_mac_pj == Approx(42181.28 / 1000));
  CHECK(r.tops_per_w == Approx(2000 / 42181.28));
  CHECK(r.tops_per_mm2 == Approx(2000 / 2e-6 * 1e-12 / 0.591024));
  CHECK(r.peak_tops_per_mm2 == Approx(2.0 * 16 * 1e9 * 1e-12 / 0.591024));
}

TEST_CASE("post-processing unit and accumulator adders, hand-computed (fixture)") {
  const EnergyTable t = fixture_energy();
  const AreaTable a = fixture_area();
  EventCounts e = example_int8();
  const double base = evaluate(t, a, e).energy.total_pj;
  e.postprocessed = 100;
  e.buffer_adds = 40;
  const CostResult r = evaluate(t, a, e);
  // 100 outputs x (fp32 mul 4.0 + fp32 add 1.0 + 8-bit add 0.05) = 505 pJ
  CHECK(r.energy.postproc_pj == Approx(505));
  // int8 -> int32 adds: 40 x 0.2 x 32 / 32 = 8 pJ
  CHECK(r.energy.adder_pj == Approx(8));
  CHECK(r.energy.total_pj == Approx(base + 513));
  // FP8 fixed-point accumulators of 40 and 64 bits (fixture): 40 x 0.2 x 40 / 32 = 10 pJ, 40 x 0.2 x 64 / 32 = 16.
  e.pe = "e4m3";
  e.accumulator = "fixed";
  CHECK(evaluate(t, a, e).energy.adder_pj == Approx(10));
  e.pe = "e5m2";
  CHECK(evaluate(t, a, e).energy.adder_pj == Approx(16));
}

TEST_CASE("unmeasured toggles fall back to the reference activity and say so") {
  const EnergyTable t = fixture_energy();
  const AreaTable a = fixture_area();
  EventCounts e = example_int8();
  e.toggles_measured = false;
  e.operand_toggles = e.accumulator_toggles = 0;  // ignored
  const CostResult r = evaluate(t, a, e);
  // the example's toggles are exactly the reference activity, so the energies match
  CHECK(r.energy.mac_pj == Approx(760.8));
  bool said = false;
  for (const auto& n : r.notes) said |= n.find("not measured") != std::string::npos;
  CHECK(said);
}

TEST_CASE("bad event counts are errors, not crashes") {
  const EnergyTable t = fixture_energy();
  const AreaTable a = fixture_area();
  EventCounts e = example_int8();
  e.pe = "int4";
  CHECK_THROWS_WITH(evaluate(t, a, e), Contains("int4"));
  e = example_int8();
  e.clock_mhz = 0;
  CHECK_THROWS_WITH(evaluate(t, a, e), Contains("clock_mhz"));
  e = example_int8();
  e.buffers[0].banks = 0;
  CHECK_THROWS_WITH(evaluate(t, a, e), Contains("input") && Contains("banks"));
  e = example_int8();
  e.rows = 0;
  CHECK_THROWS_WITH(evaluate(t, a, e), Contains("rows"));
  e = example_int8();
  e.pe = "e4m3";
  e.accumulator = "fp32";  // the fixture has no e4m3_f32 kind
  CHECK_THROWS_WITH(evaluate(t, a, e), Contains("e4m3_f32"));
  CHECK(pe_kind_key("E4M3", "fixed") == "e4m3_fixed");
  CHECK(pe_kind_key("e5m2", "fp32") == "e5m2_f32");
  CHECK(pe_kind_key("int8", "") == "int8");
  CHECK_THROWS_AS(pe_kind_key("int8", "fp32"), CostError);
}

TEST_CASE("monotonicity") {
  const EnergyTable t = fixture_energy();
  const AreaTable a = fixture_area();
  for (const char* pe : {"int8", "e4m3", "e5m2"}) {
    EventCounts e = example_int8();
    e.pe = pe;
    e.accumulator = std::string(pe) == "int8" ? "int32" : "fixed";
    const double base = evaluate(t, a, e).energy.total_pj;
    EventCounts more_op = e, more_acc = e, more_dram = e, more_sram = e;
    more_op.operand_toggles += 1;
    more_acc.accumulator_toggles += 1;
    more_dram.dram_bytes_read += 1;
    more_sram.buffers[1].bytes_read += 1;
    INFO(pe);
    CHECK(evaluate(t, a, more_op).energy.total_pj > base);
    CHECK(evaluate(t, a, more_acc).energy.total_pj > base);
    CHECK(evaluate(t, a, more_dram).energy.total_pj > base);
    CHECK(evaluate(t, a, more_sram).energy.total_pj > base);
  }
  // Bigger SRAM: more area, and no less energy per byte; bigger array: more area.
  double prev_area = 0, prev_e = 0;
  for (double kb : {1.0, 4.0, 8.0, 16.0, 32.0, 64.0, 256.0, 1024.0, 4096.0}) {
    const double ar = sram_area_um2(t, kb * 1024), en = sram_pj_per_byte(t, kb * 1024);
    CHECK(ar > prev_area);
    CHECK(en >= prev_e);
    prev_area = ar;
    prev_e = en;
  }
  EventCounts small = example_int8(), big = example_int8();
  big.rows = 8;
  CHECK(area(t, a, big).array_um2 > area(t, a, small).array_um2);
  big = small;
  big.buffers[0].size_bytes *= 2;
  CHECK(area(t, a, big).buffers_um2 > area(t, a, small).buffers_um2);
}

TEST_CASE("the real data files load, agree with each other and cite a source for every figure") {
  const EnergyTable t = load_energy_table(default_energy_table_path());
  const AreaTable a = load_area_table(default_area_table_path());
  check_consistent(t, a);
  // INT8 MAC = 8b mult + 32b add (Horowitz) = 0.3 pJ; FP8 kinds scale by the synthesized PE area ratio.
  const PeEnergy i8 = pe_energy(t, a, "int8");
  CHECK(i8.ref_mac_pj == Approx(0.3));
  CHECK(pe_energy(t, a, "e4m3_fixed").ref_mac_pj == Approx(0.3 * 29786.0 / 24821.0).epsilon(1e-3));
  CHECK(pe_energy(t, a, "e4m3_f32").ref_mac_pj == Approx(0.3 * 53633.0 / 24821.0).epsilon(1e-3));
  // An FP8 PE costs more per MAC than INT8 at equal activity; float32 accumulation more than fixed point.
  CHECK(pe_energy(t, a, "e4m3_fixed").ref_mac_pj > i8.ref_mac_pj);
  CHECK(pe_energy(t, a, "e4m3_f32").ref_mac_pj > pe_energy(t, a, "e4m3_fixed").ref_mac_pj);
  // DRAM: 1950 pJ / 8 B = 243.75 pJ per byte; SRAM 8 KB: 1.25 pJ per byte.
  CHECK(t.dram_pj_per_64b.value / 8 == Approx(243.75));
  CHECK(sram_pj_per_byte(t, 8192) == Approx(1.25));
  // Leakage and the area scaling are assumptions and must say so.
  CHECK(t.leakage_nw_per_um2.assumption);
  CHECK(t.area_scaling_exponent.assumption);
  const auto rows = describe_model(t, a);
  CHECK(rows.size() > 20);
  for (const auto& r : rows) {
    INFO(r.name);
    CHECK_FALSE(r.source.empty());
  }
  // The default 32x32 E4M3 fixed-point configuration costs something sensible on a reference-activity run.
  EventCounts e;
  e.pe = "e4m3";
  e.accumulator = "fixed";
  e.rows = e.cols = 32;
  e.clock_mhz = 1000;
  e.cycles = 1000;
  e.macs = 1024 * 900;
  e.toggles_measured = false;
  e.buffers = {{"input", 262144, 8, 100000, 100000}, {"weight", 65536, 8, 50000, 50000}};
  const CostResult r = evaluate(t, a, e);
  CHECK(r.energy.total_pj > 0);
  CHECK(r.tops_per_w > 0);
  // ws4_e4m3_fixed in rtl/synth/area.json (581068 um^2 for 16 PEs; regression anchor on the committed table)
  CHECK(r.area.array_um2 == Approx(581068.0 / 16 * 1024 / 16));
}

TEST_CASE("energy table loader errors name the file, the key and the reason") {
  using J = nlohmann::ordered_json;
  expect_energy_error([](J& j) { j["extra"] = 1; }, {"'extra'", "unknown key"});
  expect_energy_error([](J& j) { j["leakage"]["nw_per_um2"]["value"] = -1; },
                      {"leakage.nw_per_um2.value", "negative"});
  expect_energy_error([](J& j) { j["sram"]["bitcell_um2"].erase("source"); }, {"sram.bitcell_um2.source", "missing"});
  expect_energy_error([](J& j) { j["sram"]["bitcell_um2"]["source"] = ""; }, {"sram.bitcell_um2.source", "empty"});
  expect_energy_error([](J& j) { j["dram"]["pj_per_64b"]["vale"] = 1; }, {"dram.pj_per_64b.vale", "unknown key"});
  expect_energy_error([](J& j) { j["technology"].erase("node_nm"); }, {"technology.node_nm", "missing"});
  expect_energy_error([](J& j) { j["technology"]["node_nm"]["value"] = "45"; },
                      {"technology.node_nm.value", "expected a number"});
  expect_energy_error([](J& j) { j["pe"]["int8_mac_terms"][0] = "int_mul_9b"; },
                      {"pe.int8_mac_terms[0]", "int_mul_9b"});
  expect_energy_error([](J& j) { j["pe"]["kinds"]["e5m2_fixed"]["array_overhead_from"] = "e5m2_f32"; },
                      {"pe.kinds.e5m2_fixed.array_overhead_from"});
  expect_energy_error([](J& j) { j["pe"]["kinds"].erase("int8"); }, {"pe.kinds.int8", "missing"});
  expect_energy_error([](J& j) { j["sram"]["read_pj_per_64b"][1]["capacity_bytes"] = 4096; },
                      {"sram.read_pj_per_64b[1].capacity_bytes", "increase"});
  expect_energy_error([](J& j) { j["sram"]["array_efficiency"]["value"] = 1.5; },
                      {"sram.array_efficiency.value", "at most 1"});
  expect_energy_error([](J& j) { j["dram"]["pj_per_64b"]["value"] = 5000; }, {"dram.pj_per_64b.value", "outside"});
  expect_energy_error([](J& j) { j["version"] = 2; }, {"version", "unsupported"});
  expect_energy_error([](J& j) { j["leakage"]["nw_per_um2"]["assumption"] = "yes"; },
                      {"leakage.nw_per_um2.assumption", "true or false"});
  CHECK_THROWS_WITH(parse_energy_table("{\"format\": ", "broken.json"),
                    Contains("broken.json") && Contains("invalid JSON"));
  CHECK_THROWS_WITH(load_energy_table("/nonexistent/energy.json"), Contains("/nonexistent/energy.json"));
  // A design the area table lacks.
  EnergyTable t = fixture_energy();
  t.pe_kinds["int8"].pe_design = "int9_pe";
  CHECK_THROWS_WITH(check_consistent(t, fixture_area()),
                    Contains("pe.kinds.int8.pe_design") && Contains("int9_pe") && Contains("area_fixture.json"));
}

TEST_CASE("area table loader errors name the file, the row and the field") {
  // One valid row, then edits of it.
  auto table = [](const std::string& row) { return "{\"designs\": [" + row + "]}"; };
  const std::string ok = R"({"design": "a", "description": "b", "cells": 1, "flip_flops": 0, "area_um2": 10, "nand2_eq": 1})";
  REQUIRE(parse_area_table(table(ok), "x").rows.size() == 1);
  auto with = [&](const std::string& from, const std::string& to) {
    std::string r = ok;
    r.replace(r.find(from), from.size(), to);
    return table(r);
  };
  expect_area_error("{\"rows\": []}", {"\"designs\""});
  expect_area_error("{\"designs\": [1", {"invalid JSON"});
  expect_area_error(with(", \"nand2_eq\": 1", ""), {"designs[0]", "nand2_eq", "must be a number"});
  expect_area_error(with("\"area_um2\": 10", "\"area_um2\": -10"), {"designs[0]", "area_um2", "negative"});
  expect_area_error(with("\"area_um2\": 10", "\"area_um2\": \"ten\""), {"designs[0]", "area_um2", "must be a number"});
  expect_area_error(with("\"area_um2\": 10", "\"area_um2\": 0"), {"designs[0]", "area_um2", "greater than zero"});
  expect_area_error(with("\"cells\": 1", "\"cells\": 1.5"), {"designs[0]", "cells", "non-negative integer"});
  expect_area_error(with("\"cells\": 1", "\"cells\": -1"), {"designs[0]", "cells", "non-negative integer"});
  expect_area_error(with("\"design\": \"a\"", "\"design\": 7"), {"designs[0]", "design", "string"});
  expect_area_error(with("\"cells\": 1", "\"cells\": 1, \"colour\": 2"), {"designs[0]", "unknown field 'colour'"});
  expect_area_error("{\"designs\": [" + ok + ", " + ok + "]}", {"designs[1]", "duplicate"});
  expect_area_error("{\"designs\": []}", {"no designs"});
  expect_area_error("", {"empty"});
  CHECK_THROWS_WITH(load_area_table("/nonexistent/area.json"), Contains("/nonexistent/area.json"));
}

// Static timing in the area table (scripts/sta.sh -> critical_path_ns, max_clock_mhz) and the configuration
// clock check. Hand-computed: a PE timed at 200 MHz at 180 nm, delay scaling exponent 1, node 45 nm:
// 200 x (180 / 45)^1 = 800 MHz at 45 nm; 1000 MHz exceeds it (1.25x), 800 MHz does not.
TEST_CASE("area table timing fields and the clock check") {
  const std::string row_head =
      R"({"designs": [{"design": "int8_pe", "description": "d", "cells": 1, "flip_flops": 0, "area_um2": 10, )"
      R"("nand2_eq": 1)";
  const AreaTable timed = parse_area_table(row_head + R"(, "critical_path_ns": 5, "max_clock_mhz": 200}]})", "t.json");
  CHECK(timed.at("int8_pe").critical_path_ns == 5);
  CHECK(timed.at("int8_pe").max_clock_mhz == 200);
  CHECK(parse_area_table(row_head + "}]}", "t.json").at("int8_pe").max_clock_mhz == 0);  // optional
  expect_area_error(row_head + R"(, "critical_path_ns": 5}]})", {"come together"});
  expect_area_error(row_head + R"(, "critical_path_ns": 5, "max_clock_mhz": 300}]})", {"1000 / critical_path_ns"});
  expect_area_error(row_head + R"(, "critical_path_ns": 0, "max_clock_mhz": 0}]})", {"greater than zero"});

  EnergyTable t = load_energy_table(default_energy_table_path());
  REQUIRE(t.has_delay_scaling);
  t.node_nm.value = 45, t.synthesis_node_nm.value = 180, t.delay_scaling_exponent.value = 1;
  const ClockCheck over = clock_check(t, timed, "int8", "int32", 1000);
  CHECK(over.timed);
  CHECK(over.max_clock_mhz == Approx(800));
  CHECK(over.exceeds);
  CHECK_THAT(over.message, Contains("int8") && Contains("800 MHz") && Contains("int8_pe") && Contains("1.25x"));
  const ClockCheck ok = clock_check(t, timed, "int8", "int32", 800);
  CHECK(!ok.exceeds);
  CHECK(ok.message.empty());
  // no timing in the table: no check
  CHECK(!clock_check(t, parse_area_table(row_head + "}]}", "t.json"), "int8", "int32", 1e6).timed);
  // the committed tables: every PE kind of the energy table is timed
  const EnergyTable real = load_energy_table(default_energy_table_path());
  const AreaTable area = load_area_table(default_area_table_path());
  for (const auto& [kind, spec] : real.pe_kinds) {
    INFO(kind);
    CHECK(area.at(spec.pe_design).max_clock_mhz > 0);
    CHECK(area.at(spec.pe_design).critical_path_ns * area.at(spec.pe_design).max_clock_mhz == Approx(1000).epsilon(0.002));
  }
}
