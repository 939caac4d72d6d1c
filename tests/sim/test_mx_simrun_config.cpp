// simrun's derive_config hook for MX formats (simrun/pipeline.cpp): an MX --format on an FP8/INT8 configuration
// file gives the MX array; int8/e4m3 clear it again; the report names of the PE, accumulator and cost kind.
#include <catch2/catch.hpp>

#include "fp8sim/cost/cost.h"
#include "fp8sim/sim/mx_array.h"
#include "pipeline.h"

using namespace fp8sim;

TEST_CASE("mx simrun config: derive_config makes MX arrays from small8, small8_mx and default32", "[sim][mx]") {
  const std::string dir = std::string(FP8SIM_SOURCE_DIR) + "/sim/configs/";
  const sim::AcceleratorConfig small8 = sim::load_config(dir + "small8.toml");
  const sim::AcceleratorConfig small8_mx = sim::load_config(dir + "small8_mx.toml");
  const sim::AcceleratorConfig d32 = sim::load_config(dir + "default32.toml");
  std::vector<std::string> notes;
  const sim::AcceleratorConfig a = simrun::derive_config(small8, {}, "mxfp8", &notes);
  CHECK(a.array.mx);
  CHECK(a.array.mx_kind == model::MxKind::MXFP8_E4M3);
  CHECK(a.array.mx_block == 32);
  CHECK(a.array.dataflow == firmware::Dataflow::OutputStationary);
  CHECK(a.array.rows == 8);
  CHECK(sim::rtl_array_available(a.array) == sim::rtl_mx_array_available(a.array));
  const sim::AcceleratorConfig i8 = simrun::derive_config(small8, {}, "int8", &notes);
  CHECK_FALSE(i8.array.mx);
  CHECK(i8.array.pe == sim::PeKind::Int8);
  // from an MX file: the other formats are not MX
  CHECK_FALSE(simrun::derive_config(small8_mx, {}, "int8", &notes).array.mx);
  CHECK_FALSE(simrun::derive_config(small8_mx, {}, "e4m3", &notes).array.mx);
  const sim::AcceleratorConfig m32 = simrun::derive_config(d32, {}, "mxint8", &notes);
  CHECK(m32.array.mx);
  CHECK(m32.array.rows == 32);
  CHECK(m32.array.mx_kind == model::MxKind::MXINT8);
  CHECK(cost::pe_kind_key(sim::mx_pe_name(m32.array), sim::mx_accumulator_name(m32.array)) == "mxint8_exact");
  CHECK_THROWS_WITH(simrun::derive_config(small8, {}, "mxfp9", &notes), Catch::Contains("mxfp8|mxfp8-e5m2"));
}
