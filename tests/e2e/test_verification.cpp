// simrun's verification bookkeeping (simrun/pipeline.cpp): the totals come from the network's own GEMMs
// (quant::Executor counts M x N where it hands a GEMM to the backend), the checked counts from the comparison
// loop. The test wraps the backend the executor calls (run_format's BackendWrap, as sim::ArrayFactory wraps
// arrays) and counts every GEMM's outputs itself, so the expected numbers come from the test, not from the code
// under test: an honest run checks all of them; a GEMM sent around the accelerator shows as exactly its M x N
// outputs missing, and verification_failure (what makes simrun exit non-zero) names the gap.
#include <catch2/catch.hpp>

#include <memory>
#include <tuple>
#include <utility>

#include "fp8sim/cost/cost.h"
#include "fp8sim/model/gemm.h"
#include "network.h"
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

// The network timeline (simrun/network.h) on a hand-made case: six operations with chosen simulated phases
// (cycles C, weight head W, DMA-idle tail T) and data dependences, scheduled on the matrix engine (one GEMM at a
// time, reorder window of two) and the vector unit (in program order). Derivation of the expected schedule:
//   op0 GEMM A  (writes a)          C=100 W=10 T=6   engine free at 0 -> [0, 100); tail 6
//   op1 GEMM B  (writes b)          C=100 W=20 T=0   candidates A and B tied at 0 before A ran; after A: B may
//                                                    start its weight head min(W=20, T_A=6) = 6 cycles early:
//                                                    [94, 194); 6 weight-head cycles under A
//   op2 vector V1 (a -> c)          150 cycles       a is ready at 100, vector unit free: [100, 250)
//   op3 GEMM C  (c -> d)            C=50  W=8  T=0   c at 250: its activations start at 250, its weight head
//                                                    at 242 -> would start at 242
//   op4 GEMM D  (b -> e)            C=40  W=5  T=0   b at 194; engine free at 194 (B's tail T=0, nothing
//                                                    hidden): 194 < 242, so D overtakes C: [194, 234)
//       then C: engine free at 234 (D's tail 0), activations from 250 - W 8 = 242: [242, 292); its weight
//       head [242, 250) runs under V1: 8 cycles
//   op5 vector V2 (no OpIo: waits for every earlier operation, latest end 292): [292, 302)
// Latency 302 cycles; serial sum 100 + 100 + 150 + 50 + 40 + 10 = 450; weight heads under other operations
// 6 + 8 = 14 cycles.
TEST_CASE("network timeline: a hand-derived schedule of GEMMs and vector operations", "[e2e][network]") {
  sim::AcceleratorConfig cfg;
  cfg.activation_sram.size_bytes = 1 << 20;
  NetworkSchedule net(cfg);
  const quant::OpIo a{"a", {}}, b{"b", {}}, c{"c", {"a"}}, d{"d", {"c"}}, e{"e", {"b"}};
  const auto gemm = [&](const char* name, const quant::OpIo& io, uint64_t cycles, uint64_t w, uint64_t t) {
    const NetworkSchedule::Decision dd = net.gemm(name, false, 8, 8, 8, 2, -1, &io);
    NetworkSchedule::GemmPhases ph;
    ph.cycles = cycles, ph.weight_head = w, ph.dma_idle_tail = t;
    net.simulated(dd.index, ph);
  };
  gemm("A", a, 100, 10, 6);
  gemm("B", b, 100, 20, 0);
  net.vector_op(150, &c);
  gemm("C", d, 50, 8, 0);
  gemm("D", e, 40, 5, 0);
  net.vector_op(10);
  const report::NetworkSchedule r = net.finish(1, 1);
  CHECK(r.timeline);
  CHECK(r.serial_cycles == 450);
  CHECK(r.overlapped_cycles == 302);
  CHECK(r.hidden_prefetch_cycles == 14);

  // Leakage over the latency, not the serial sum. Hand-derived: 10 nW/um^2 on 1 mm^2 (1e6 um^2) is 10 mW; at
  // 1000 MHz a cycle is 1 ns, so the rows' stand-alone leakage over the serial 450 cycles is 10 mW x 450 ns =
  // 4,500 pJ and the network's over its 302-cycle latency 10 mW x 302 ns = 3,020 pJ: correction -1,480 pJ.
  cost::EnergyTable et;
  et.leakage_nw_per_um2.value = 10;
  report::FormatRun run;
  run.network = r;
  run.totals.energy_pj.leakage = cost::leakage_pj(et, 1e6, r.serial_cycles, 1000);
  CHECK(run.totals.energy_pj.leakage == Approx(4500.0).epsilon(1e-12));
  charge_leakage_over_latency(run, cost::leakage_pj(et, 1e6, r.overlapped_cycles, 1000));
  CHECK(run.totals.energy_pj.leakage == Approx(3020.0).epsilon(1e-12));
  CHECK(run.network.leakage_correction_pj == Approx(-1480.0).epsilon(1e-12));
  // Without the timeline (--batch > 1) the leakage stays over the serial cycles and the correction is 0.
  report::FormatRun serial;
  serial.network = r;
  serial.network.timeline = false;
  serial.totals.energy_pj.leakage = 4500;
  charge_leakage_over_latency(serial, 3020);
  CHECK(serial.totals.energy_pj.leakage == 4500);
  CHECK(serial.network.leakage_correction_pj == 0);
  // The same operations without data dependences declared: each waits for all before it (a chain). A [0, 100);
  // B's weight head hides in A's tail: [94, 194); V1 [194, 344); C's weight head (8, no activation read) runs
  // under V1 while the engine is free: [336, 386); D: C's tail is 0: [386, 426); V2 [426, 436).
  // 450 - 6 - 8 = 436.
  NetworkSchedule chain(cfg);
  for (auto [cy, w, t] : {std::tuple<uint64_t, uint64_t, uint64_t>{100, 10, 6}, {100, 20, 0}}) {
    NetworkSchedule::GemmPhases ph;
    ph.cycles = cy, ph.weight_head = w, ph.dma_idle_tail = t;
    chain.simulated(chain.gemm("G", false, 8, 8, 8, 2).index, ph);
  }
  chain.vector_op(150);
  for (auto [cy, w] : {std::pair<uint64_t, uint64_t>{50, 8}, {40, 5}}) {
    NetworkSchedule::GemmPhases ph;
    ph.cycles = cy, ph.weight_head = w;
    chain.simulated(chain.gemm("G", false, 8, 8, 8, 2).index, ph);
  }
  chain.vector_op(10);
  const report::NetworkSchedule rc = chain.finish(1, 1);
  CHECK(rc.overlapped_cycles == 436);
  CHECK(rc.hidden_prefetch_cycles == 6 + 8);
}

// The timeline with --batch: the calls arrive in the executor's order (item after item; a weight layer's batched
// GEMM only when the batch is complete) and each carries its place in the accelerator's program order
// (NetworkSchedule::OpOrder: batch group, position among its item's calls, items). Hand-made batch of two items,
// each item: vector V (writes x) at position 0, GEMM G (x -> y) at position 1 (one batched GEMM for both items),
// vector U (y -> z) at position 2. Arrival: V(0), U(0), V(1), U(1), G(0,1). Program order: V(0), V(1), G, U(0),
// U(1). Derivation with V 10 cycles, G 100 cycles (weight head W = 20, tail 0), U 30 cycles:
//   V(0) [0, 10), V(1) [10, 20) on the vector unit;
//   G reads x of both items: ready at 20; its activations start at 20, so its weight head starts at 20 - 20 = 0:
//     [0, 100), the whole head [0, 20) under V(0) and V(1): 20 hidden cycles;
//   U(0) reads item 0's y: [100, 130); U(1): [130, 160).
// Latency 160; serial sum 10 + 10 + 100 + 30 + 30 = 180.
TEST_CASE("network timeline with --batch: operations put back in program order, dependences per item",
          "[e2e][network]") {
  sim::AcceleratorConfig cfg;
  cfg.activation_sram.size_bytes = 1 << 20;
  const quant::OpIo v{"x", {}}, g{"y", {"x"}}, u{"z", {"y"}};
  using O = NetworkSchedule::OpOrder;
  NetworkSchedule net(cfg);
  const O v0{0, 0, {0}}, u0{0, 2, {0}}, v1{0, 0, {1}}, u1{0, 2, {1}}, gg{0, 1, {0, 1}};
  net.vector_op(10, &v, &v0);
  net.vector_op(30, &u, &u0);
  net.vector_op(10, &v, &v1);
  net.vector_op(30, &u, &u1);
  NetworkSchedule::GemmPhases ph;
  ph.cycles = 100, ph.weight_head = 20, ph.dma_idle_tail = 0;
  net.simulated(net.gemm("G", false, 16, 8, 8, 2, -1, &g, false, &gg).index, ph);
  const report::NetworkSchedule r = net.finish(2, 2);
  CHECK(r.timeline);
  CHECK(r.serial_cycles == 180);
  CHECK(r.overlapped_cycles == 160);
  CHECK(r.hidden_prefetch_cycles == 20);
  // An order for some operations but not all: no program order to schedule in, no timeline.
  NetworkSchedule mixed(cfg);
  mixed.vector_op(10, &v, &v0);
  mixed.vector_op(30, &u);
  const report::NetworkSchedule rm = mixed.finish(2, 2);
  CHECK_FALSE(rm.timeline);
  CHECK(rm.overlapped_cycles == 0);
}
