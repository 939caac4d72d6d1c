// Configuration files: the committed ones load; bad ones are rejected naming the file, the key and why.
#include <catch2/catch.hpp>

#include <string>

#include "fp8sim/sim/config.h"
#include "sim_test_util.h"
#include "test_paths.h"

using namespace fp8sim;

namespace {

std::string error_of(const std::string& text) {
  try {
    sim::parse_config(text, "bad.toml");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto p = s.find(from);
  REQUIRE(p != std::string::npos);
  return s.replace(p, from.size(), to);
}

}  // namespace

TEST_CASE("the committed configurations load", "[sim][config]") {
  const auto dir = test::source_dir() / "sim" / "configs";
  const auto s8 = sim::load_config((dir / "small8.toml").string());
  CHECK(s8.name == "small8");
  CHECK((s8.array.rows == 8 && s8.array.cols == 8));
  CHECK(s8.array.dataflow == sim::Dataflow::WeightStationary);
  CHECK(s8.array.pe == sim::PeKind::Fp8Float32);
  CHECK(s8.word_bytes() == 4);
  const auto d32 = sim::load_config((dir / "default32.toml").string());
  CHECK((d32.array.rows == 32 && d32.array.cols == 32));
  CHECK(d32.array.pe == sim::PeKind::Fp8Fixed);
  // Exact fixed point for K = 4096: 37 product bits + 12 = 49; {cls, value} = 51 bits -> 8-byte words.
  CHECK(d32.array.numerics().acc_width == 49);
  CHECK(d32.word_bytes() == 8);
  CHECK(d32.array.shadow_weights);  // written out in default32.toml (the default for ws)
  const auto l128 = sim::load_config((dir / "large128.toml").string());
  CHECK((l128.array.rows == 128 && l128.array.cols == 128));
  CHECK(l128.array.dataflow == sim::Dataflow::OutputStationary);
  CHECK(l128.os_k_tile == 256);
  CHECK(!l128.array.shadow_weights);  // os: no stationary weights
  CHECK(l128.array.shadow_outputs);   // written out in large128.toml (the default for os)
}

TEST_CASE("bad configurations are rejected with file, key and reason", "[sim][config]") {
  const std::string good = simtest::CfgText{}.text();
  REQUIRE(error_of(good) == "accepted");
  // Zero and negative sizes.
  CHECK(error_of(replace(good, "rows = 4", "rows = 0")) == "bad.toml:3: array.rows: value 0 outside [1, 4096]");
  CHECK(error_of(replace(good, "cols = 4", "cols = -2")) == "bad.toml:4: array.cols: value -2 outside [1, 4096]");
  CHECK_THAT(error_of(replace(good, "size_bytes = 4096", "size_bytes = 0")),
             Catch::StartsWith("bad.toml:10: input_buffer.size_bytes: value 0 outside"));
  // Buffers too small for one tile: WS needs two 4x4 weight tiles (32 bytes).
  CHECK(error_of(replace(good, "[weight_buffer]\nsize_bytes = 4096", "[weight_buffer]\nsize_bytes = 31")) ==
        "bad.toml: weight_buffer.size_bytes: too small for one tile: 31 bytes < 32 (two 4x4 weight tiles)");
  // A buffer too narrow for one array row per access (input: 1 bank x 2 bytes < 4 codes).
  CHECK(error_of(replace(good, "[input_buffer]\nsize_bytes = 4096\nbanks = 4\nbank_width_bytes = 4",
                         "[input_buffer]\nsize_bytes = 4096\nbanks = 1\nbank_width_bytes = 2")) ==
        "bad.toml: input_buffer.bank_width_bytes: banks x bank_width_bytes = 2 bytes per access < one array row (4 bytes)");
  // Unknown PE type, dataflow, accumulator; INT8 with a float accumulator.
  CHECK(error_of(replace(good, "pe = \"e4m3\"", "pe = \"fp4\"")) ==
        "bad.toml:6: array.pe: unknown PE type 'fp4' (int8, e4m3, e5m2, e4m3fnuz, e5m2fnuz, e4m3ieee; MX arrays: mxfp8, mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3, mxfp4, mxint8)");
  CHECK(error_of(replace(good, "dataflow = \"ws\"", "dataflow = \"is\"")) ==
        "bad.toml:5: array.dataflow: unknown dataflow 'is' (ws or os)");
  CHECK(error_of(replace(good, "pe = \"e4m3\"", "pe = \"int8\"")) ==
        "bad.toml:7: array.accumulator: INT8 PEs need accumulator \"int32\"");
  // Unknown keys and sections, missing keys, wrong types, syntax.
  CHECK(error_of(replace(good, "[dram]\n", "[dram]\nburst = 4\n")) == "bad.toml:28: dram.burst: unknown key");
  CHECK(error_of(good + "[cache]\nsize = 1\n") == "bad.toml:33: cache.size: unknown key");
  CHECK(error_of(replace(good, "latency = 10\n", "")) == "bad.toml: dram.latency: missing (required)");
  CHECK(error_of(replace(good, "rows = 4", "rows = \"four\"")) == "bad.toml:3: array.rows: must be an integer");
  // Syntax errors: the reason is toml++'s (TOML 1.0 parser), in the same "file:line: key: reason" form.
  CHECK(error_of(replace(good, "rows = 4", "rows = 4x")) ==
        "bad.toml:3: array.rows: Error while parsing decimal integer: expected digit, saw 'x'");
  CHECK(error_of(replace(good, "rows = 4", "rows = 4\nrows = 5")) ==
        "bad.toml:4: array.rows: Error while parsing key-value pair: cannot redefine existing integer 'rows'");
  // Shadow weights are a weight-stationary feature (line 8 of CfgText's text).
  CHECK(error_of(replace(replace(good, "dataflow = \"ws\"", "dataflow = \"os\""), "shadow_weights = false",
                         "shadow_weights = true")) ==
        "bad.toml:8: array.shadow_weights: only the weight-stationary dataflow has stationary weights");
  CHECK(error_of(replace(good, "shadow_weights = false", "shadow_outputs = true")) ==
        "bad.toml:8: array.shadow_outputs: only the output-stationary dataflow has stationary outputs");
  CHECK(error_of(replace(good, "shadow_weights = false", "shadow_weights = 1")) ==
        "bad.toml:8: array.shadow_weights: must be true or false");
  CHECK(error_of(replace(good, "[dram]", "[dram")) ==
        "bad.toml:27: [dram: Error while parsing table header: expected ']', saw '\\n'");
  CHECK(error_of(replace(good, "rows = 4", "rows = 99999999999999999999")) ==
        "bad.toml:3: array.rows: Error while parsing decimal integer: '99999999999999999999' is not representable "
        "in 64 bits");
  // TOML values the configuration does not use are refused by key; TOML syntax it allows is accepted.
  CHECK(error_of(replace(good, "rows = 4", "rows = [4]")) ==
        "bad.toml:3: array.rows: unsupported value type (integers, numbers, strings and booleans only)");
  CHECK(error_of(replace(good, "[dram]", "[dram.x]\ny = 1\n[dram]")) ==
        "bad.toml:27: dram.x: nested tables are not used by configurations");
  CHECK(error_of(replace(good, "size_bytes = 4096", "size_bytes = 4_096  # TOML digit separators")) == "accepted");
  CHECK(error_of("name = \"x\"") == "bad.toml: array.rows: missing (required)");
  CHECK_THROWS_WITH(sim::load_config("/nonexistent/x.toml"), "/nonexistent/x.toml: cannot open");
}
