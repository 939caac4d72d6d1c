// Cost of the MX arrays (cost/: kinds "<mx format>_exact" in cost/data/energy_45nm.json, the MX PE rows of
// rtl/synth/area.json) and the event counts an MX run produces. Expected values are derived by hand from the
// two data files (numbers quoted below), not read back from the cost code.
#include <catch2/catch.hpp>

#include <random>

#include "fp8sim/cost/cost.h"
#include "fp8sim/sim/gemm_run.h"
#include "fp8sim/sim/mx_array.h"

using namespace fp8sim;

TEST_CASE("mx cost: MX PE kinds, energy per MAC from the MX PE areas, clock check", "[sim][mx][cost]") {
  const cost::EnergyTable t = cost::load_energy_table(cost::default_energy_table_path());
  const cost::AreaTable a = cost::load_area_table(cost::default_area_table_path());
  REQUIRE_NOTHROW(cost::check_consistent(t, a));
  REQUIRE(cost::pe_kind_key("mxfp8", "exact") == "mxfp8_exact");
  REQUIRE(cost::pe_kind_key("mxint8", "") == "mxint8_exact");
  REQUIRE_THROWS_AS(cost::pe_kind_key("mxfp8", "fp32"), cost::CostError);
  // E(INT8 MAC) = 0.2 + 0.1 = 0.3 pJ; area.json: int8_pe 24821 um^2, mxfp8_pe 309436, mxint8_pe 285713,
  // mxfp8_mul 11565: E(mxfp8) = 0.3 x 309436 / 24821 = 3.7400 pJ, multiplier share 11565 / 309436 = 0.03737;
  // E(mxint8) = 0.3 x 285713 / 24821 = 3.4533 pJ.
  const cost::PeEnergy e8 = cost::pe_energy(t, a, "mxfp8_exact");
  CHECK(e8.ref_mac_pj == Approx(3.7400).epsilon(1e-4));
  CHECK(e8.multiplier_share == Approx(0.03737).epsilon(1e-3));
  CHECK(cost::pe_energy(t, a, "mxint8_exact").ref_mac_pj == Approx(3.4533).epsilon(1e-4));
  // Static timing: mxfp8_pe 42.4 MHz at 0.18 um, x (180/45)^1 = 169.6 MHz at 45 nm: small8_mx's 150 MHz fits,
  // 200 MHz does not.
  const cost::ClockCheck ok = cost::clock_check(t, a, "mxfp8", "exact", 150);
  CHECK(ok.timed);
  CHECK(ok.max_clock_mhz == Approx(169.6));
  CHECK_FALSE(ok.exceeds);
  CHECK(cost::clock_check(t, a, "mxfp8", "exact", 200).exceeds);
}

TEST_CASE("mx cost: an MX run's counts cost its scale traffic, accumulator toggles and output rounding", "[sim][mx][cost]") {
  const cost::EnergyTable t = cost::load_energy_table(cost::default_energy_table_path());
  const cost::AreaTable a = cost::load_area_table(cost::default_area_table_path());
  const sim::AcceleratorConfig cfg = sim::load_config(std::string(FP8SIM_SOURCE_DIR) + "/sim/configs/small8_mx.toml");
  std::mt19937_64 rng(3);
  std::vector<uint8_t> A, B;
  const int64_t m = 16, k = 64, n = 16;
  sim::MxScales s = sim::random_mx_operands(cfg.array, m, k, n, rng, A, B);
  sim::GemmJob j = sim::make_gemm_job(cfg, m, k, n, A, B, sim::Engine::Model, nullptr, nullptr, {}, nullptr, &s);
  j.acc->run(10'000'000);
  REQUIRE(j.compare() == 0);
  const sim::Stats& st = j.acc->stats();
  // DRAM reads: 2 column tiles x (16*64 codes + 16*2 scales) of A + 2 row tiles x (64*16 + 16*2) of B = 4224.
  CHECK(st.dram_read == 4224);
  // 4 output tiles x 8 rows x 8 words rounded from the Kulisch register
  CHECK(st.array_rows_out * uint64_t(cfg.array.cols) == 256);
  // The accumulator register changes once per block close (2 blocks per output): toggles were counted.
  CHECK(st.toggles.acc_regs > 0);
  cost::EventCounts e;
  e.cycles = st.cycles, e.macs = st.macs, e.pe = "mxfp8", e.accumulator = "exact";
  e.operand_toggles = st.toggles.a_regs + st.toggles.b_regs, e.accumulator_toggles = st.toggles.acc_regs;
  e.buffers = {{"input", 16384, 4, st.input.bytes_read, st.input.bytes_written},
               {"weight", 8192, 4, st.weight.bytes_read, st.weight.bytes_written}};
  e.dram_bytes_read = st.dram_read, e.dram_bytes_written = st.dram_written;
  e.mx_rounded_outputs = st.array_rows_out * uint64_t(cfg.array.cols);
  e.rows = e.cols = 8;
  e.clock_mhz = cfg.clock_mhz;
  const cost::EnergyBreakdown b = cost::energy(t, a, e);
  CHECK(b.mx_round_pj == Approx(256 * 0.9));  // one fp32 add (Horowitz 0.9 pJ) per output: an assumption
  CHECK(b.adder_pj >= b.mx_round_pj);
  CHECK(b.accumulator_pj > 0);
  CHECK(b.dram_pj == Approx((4224.0 + 16 * 16 * 4) * 1950.0 / 8));  // 64-bit DRAM access 1950 pJ (energy table)
}
