// simrun's verification bookkeeping (simrun/pipeline.cpp): the totals come from the network's own GEMMs
// (quant::Executor counts M x N where it hands a GEMM to the backend), the checked counts from the comparison
// loop. The test wraps the backend the executor calls (run_format's BackendWrap, as sim::ArrayFactory wraps
// arrays) and counts every GEMM's outputs itself, so the expected numbers come from the test, not from the code
// under test: an honest run checks all of them; a GEMM sent around the accelerator shows as exactly its M x N
// outputs missing, and verification_failure (what makes simrun exit non-zero) names the gap.
#include <catch2/catch.hpp>

#include <memory>

#include "fp8sim/cost/cost.h"
#include "fp8sim/model/gemm.h"
#include "pipeline.h"

using namespace fp8sim;
using namespace fp8sim::simrun;

namespace {

struct Fixture {
  std::unique_ptr<workloads::Workload> w;
  cost::EnergyTable energy;
  cost::AreaTable area;
  sim::AcceleratorConfig cfg;
  PipelineSetup setup;
  bool ok = false;
  Fixture() {
    try {
      w = std::make_unique<workloads::Workload>("minilm-l2", workloads::Paths::defaults());
    } catch (const workloads::MissingData& e) {
      WARN("skipped: " << e.what());
      return;
    }
    w->set_sequence_length(8);
    workloads::RunOptions ro;
    const auto range = w->eval_range(ro);
    energy = cost::load_energy_table(cost::default_energy_table_path());
    area = cost::load_area_table(cost::default_area_table_path());
    cfg = derive_config(sim::load_config(std::string(FP8SIM_SOURCE_DIR) + "/sim/configs/small8.toml"), {}, "e4m3",
                        nullptr);
    setup.workload = w.get();
    setup.items = {range.first};
    setup.energy = &energy;
    setup.area = &area;
    ok = true;
  }
};

}  // namespace

TEST_CASE("verification: every GEMM output counted by the network is compared, a bypassed GEMM is a gap",
          "[e2e][verification]") {
  Fixture f;
  if (!f.ok) return;
  uint64_t outputs = 0, bypassed = 0, calls = 0;
  std::string bypassed_name;
  const uint64_t bypass_call = 3;  // the third GEMM (0 = none)
  auto wrap_with = [&](uint64_t skip) -> BackendWrap {
    return [&, skip](quant::GemmBackend inner) -> quant::GemmBackend {
      return [&, skip, inner](const quant::GemmCall& c) -> std::vector<model::AccWord> {
        outputs += static_cast<uint64_t>(c.m * c.n);
        if (++calls == skip) {  // computed on the host: never reaches the accelerator or its comparison
          bypassed = static_cast<uint64_t>(c.m * c.n);
          bypassed_name = c.name;
          return model::golden_gemm(c.num, model::AccumulationOrder{0}, c.m, c.k, c.n, c.a, c.b_kn);
        }
        return inner(c);
      };
    };
  };
  SECTION("honest run: total = checked = the test's own count") {
    const FormatOutcome o = run_format(f.setup, "e4m3", f.cfg, nullptr, 0, wrap_with(0));
    REQUIRE(o.run.verification.size() == 1);
    const report::VerificationCheck& v = o.run.verification[0];
    CHECK(outputs > 0);
    CHECK(v.total_outputs == outputs);
    CHECK(v.checked_outputs == outputs);
    CHECK(v.mismatches == 0);
    CHECK(verification_failure({o.run}).empty());
  }
  SECTION("one GEMM computed around the accelerator: exactly its M x N outputs are missing") {
    const FormatOutcome o = run_format(f.setup, "e4m3", f.cfg, nullptr, 0, wrap_with(bypass_call));
    INFO("bypassed " << bypassed_name);
    REQUIRE(bypassed > 0);
    const report::VerificationCheck& v = o.run.verification.at(0);
    CHECK(v.total_outputs == outputs);
    CHECK(v.checked_outputs == outputs - bypassed);
    CHECK(v.mismatches == 0);
    CHECK(verification_failure({o.run}) == "e4m3 against golden: " + std::to_string(bypassed) + " of " +
                                               std::to_string(outputs) + " GEMM outputs were not compared");
  }
}

TEST_CASE("verification: a gap or a mismatch in any check fails the run in one line", "[e2e][verification]") {
  report::FormatRun r;
  r.format = "int8";
  r.verification = {{"golden", 100, 100, 0}, {"rtl", 0, 100, 0}};
  CHECK(verification_failure({r}) == "int8 against rtl: 100 of 100 GEMM outputs were not compared");
  r.verification = {{"golden", 100, 100, 2}};
  CHECK(verification_failure({r}) == "int8 against golden: 2 mismatches");
  r.verification = {};
  CHECK(verification_failure({r}) == "int8: no verification");
  // The RTL rule: a GEMM's outputs count only when every array output row was compared.
  sim::Stats st;
  st.array_rows_out = 20, st.rtl_rows_compared = 20;
  CHECK(rtl_checked_outputs(st, 5, 7) == 35);
  st.rtl_rows_compared = 19;
  CHECK(rtl_checked_outputs(st, 5, 7) == 0);
}
