// The stored outcome of a sweep's design point reads back into the very same values (what merge relies on to
// write a single-process sweep's bytes), the --shard syntax, and the FNV-1a hash that names point folders.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "cli.h"
#include "sweep_store.h"

using namespace fp8sim;
using fp8sim::simrun::FormatOutcome;

namespace {

uint64_t bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// An outcome with the values a text format loses most easily: NaN, infinities, -0.0, a subnormal, the
// largest uint64 and smallest int64, optionals both set and unset, strings with quotes and non-ASCII.
FormatOutcome awkward() {
  FormatOutcome o;
  report::FormatRun& r = o.run;
  r.format = "e4m3";
  r.config.name = "small8 \"quoted\"";
  r.config.buffers = {{"input", 16384, 2}, {"weight", 4096, 1}, {"output", 16384, 4}};
  r.config.clock_mhz = 1000.0 / 3.0;
  r.config.dram_bytes_per_cycle = 0.1;
  report::LayerRow row;
  row.name = "layer.0 \xc3\xa9";  // UTF-8 e-acute
  row.cycles = std::numeric_limits<uint64_t>::max();
  row.pe_utilization = 0.1 + 0.2;
  row.energy_pj.mac = 5e-324;  // the smallest subnormal
  r.layers = {row, row};
  r.vector_ops = {{"softmax", 3, 96, 40, 1.25}};
  r.totals.energy_pj.sram = -0.0;
  r.totals.area.nand2_eq = 1e300;
  r.accuracy.metric = "top1";
  r.accuracy.value = std::numeric_limits<double>::quiet_NaN();
  r.accuracy.sqnr_db = std::numeric_limits<double>::infinity();
  r.accuracy.cosine = -std::numeric_limits<double>::infinity();
  r.accuracy.ci95 = report::Interval{-1.0 / 7.0, 2.0 / 3.0};
  r.verification = {{"golden", 10, 10, 0}, {"rtl", 10, 12, 0}};
  report::AccumulatorCheck a;
  a.bound = "K <= 4096";
  a.wrap_free_k = std::numeric_limits<int64_t>::min();
  r.accumulator = a;
  r.network.present = true;
  r.network.spills = {{"layer.0.output", 2, 1 << 20}};
  r.network.io_dram_written = 7;
  r.network.dram_energy_pj = 1.0 / 3.0;
  o.notes = {"note, with a comma"};
  o.scores.metric = "top1";
  o.scores.correct = {1, 0, 1};
  o.fp32_scores.metric = "spearman";
  o.fp32_scores.pred = {0.5, std::nextafter(0.5, 1.0)};
  o.gemms = 42;
  o.seconds = 3.5;  // wall time: not stored
  return o;
}

}  // namespace

TEST_CASE("sweep store: an outcome reads back bit for bit, through its JSON text") {
  const FormatOutcome o = awkward();
  const std::string text = simrun::outcome_to_json(o).dump();
  const FormatOutcome b = simrun::outcome_from_json(nlohmann::json::parse(text));
  CHECK(std::isnan(b.run.accuracy.value));
  CHECK(b.run.accuracy.sqnr_db == std::numeric_limits<double>::infinity());
  CHECK(b.run.accuracy.cosine == -std::numeric_limits<double>::infinity());
  CHECK(!b.run.accuracy.fp32_value.has_value());
  REQUIRE(b.run.accuracy.ci95.has_value());
  CHECK(bits(b.run.accuracy.ci95->low) == bits(-1.0 / 7.0));
  CHECK(bits(b.run.accuracy.ci95->high) == bits(2.0 / 3.0));
  CHECK(!b.run.accuracy.fp32_ci95.has_value());
  CHECK(bits(b.run.totals.energy_pj.sram) == bits(-0.0));
  CHECK(bits(b.run.totals.area.nand2_eq) == bits(1e300));
  CHECK(bits(b.run.config.clock_mhz) == bits(1000.0 / 3.0));
  CHECK(bits(b.run.config.dram_bytes_per_cycle) == bits(0.1));
  CHECK(b.run.config.name == "small8 \"quoted\"");
  REQUIRE(b.run.config.buffers.size() == 3);
  CHECK(b.run.config.buffers[2].banks == 4);
  REQUIRE(b.run.layers.size() == 2);
  CHECK(b.run.layers[1].name == "layer.0 \xc3\xa9");
  CHECK(b.run.layers[1].cycles == std::numeric_limits<uint64_t>::max());
  CHECK(bits(b.run.layers[0].pe_utilization) == bits(0.1 + 0.2));
  CHECK(bits(b.run.layers[0].energy_pj.mac) == bits(5e-324));
  REQUIRE(b.run.vector_ops.size() == 1);
  CHECK(b.run.vector_ops[0].elements == 96);
  REQUIRE(b.run.verification.size() == 2);
  CHECK(b.run.verification[1].total_outputs == 12);
  REQUIRE(b.run.accumulator.has_value());
  CHECK(b.run.accumulator->wrap_free_k == std::numeric_limits<int64_t>::min());
  CHECK(b.run.network.present);
  REQUIRE(b.run.network.spills.size() == 1);
  CHECK(b.run.network.spills[0].bytes == (1u << 20));
  CHECK(b.run.network.io_dram_written == 7);
  CHECK(bits(b.run.network.dram_energy_pj) == bits(1.0 / 3.0));
  CHECK(b.notes == o.notes);
  CHECK(b.scores.correct == o.scores.correct);
  CHECK(bits(b.fp32_scores.pred[1]) == bits(std::nextafter(0.5, 1.0)));
  CHECK(b.gemms == 42);
  CHECK(b.seconds == 0);  // wall time is not part of the outcome's JSON
  CHECK(simrun::outcome_to_json(b).dump() == text);  // and again: the same text
}

TEST_CASE("sweep store: a stored outcome with a missing or mistyped field is refused, naming it") {
  nlohmann::json j = simrun::outcome_to_json(awkward());
  nlohmann::json missing = j;
  missing["run"]["totals"].erase("cycles");
  CHECK_THROWS_WITH(simrun::outcome_from_json(missing), Catch::Contains("run: totals: missing field 'cycles'"));
  nlohmann::json typed = j;
  typed["run"]["layers"][0]["m"] = "many";
  CHECK_THROWS_WITH(simrun::outcome_from_json(typed), Catch::Contains("m: not an integer"));
  nlohmann::json negative = j;
  negative["gemms"] = -1;
  CHECK_THROWS_WITH(simrun::outcome_from_json(negative), Catch::Contains("gemms: integer out of range"));
}

TEST_CASE("sweep store: --shard I/N") {
  CHECK(simrun::parse_shard("0/1").index == 0);
  CHECK(simrun::parse_shard("3/4").index == 3);
  CHECK(simrun::parse_shard("3/4").count == 4);
  CHECK_THROWS_AS(simrun::parse_shard("4/4"), simrun::UsageError);
  CHECK_THROWS_WITH(simrun::parse_shard("4/4"), Catch::Contains("I must be below N"));
  CHECK_THROWS_WITH(simrun::parse_shard("0/0"), Catch::Contains("N must be at least 1"));
  for (const char* bad : {"", "/", "1", "1/", "/4", "-1/4", "+1/4", "1/4/2", " 1/4", "1/4 ", "0x1/4", "1e0/4",
                          "1234567890/1234567891"})
    CHECK_THROWS_WITH(simrun::parse_shard(bad), Catch::Contains("expected I/N"));
}

TEST_CASE("sweep store: FNV-1a 64 matches the published test vectors") {
  // Test vectors of the FNV reference code (isthe.com/chongo/tech/comp/fnv, test_fnv.c: FNV-1a 64-bit).
  CHECK(simrun::fnv1a64_hex("") == "cbf29ce484222325");
  CHECK(simrun::fnv1a64_hex("a") == "af63dc4c8601ec8c");
  CHECK(simrun::fnv1a64_hex("foobar") == "85944171f73967e8");
}
