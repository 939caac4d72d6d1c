// The TLM-2.0 accelerator (sim/tlm): the binary command encoding, the register file, and the example virtual
// platform in both timing styles against the golden GEMM and the standalone engine. Each TEST_CASE runs in
// its own process (one SystemC elaboration each).
#include <catch2/catch.hpp>

#include <systemc>
#include <tlm>

#include <functional>
#include <memory>
#include <random>

#include "fp8sim/sim/gemm_run.h"
#include "fp8sim/tlm/command_binary.h"
#include "fp8sim/tlm/platform.h"
#include "sim_test_util.h"

using namespace fp8sim;
using fp8sim::simtest::CfgText;

namespace {

firmware::Command random_command(std::mt19937_64& rng) {
  firmware::Command c;
  c.op = static_cast<firmware::Opcode>(rng() % firmware::kOpcodeCount);
  c.flags = static_cast<uint8_t>(rng() % 32);
  c.layer = static_cast<uint16_t>(rng());
  c.tile = static_cast<uint32_t>(rng());
  c.dram_addr = rng();
  c.dram_stride = static_cast<uint32_t>(rng());
  c.rows = static_cast<uint32_t>(rng()), c.cols = static_cast<uint32_t>(rng());
  c.buf_rows = static_cast<uint32_t>(rng()), c.buf_cols = static_cast<uint32_t>(rng());
  c.buf_addr = static_cast<uint32_t>(rng());
  c.slot = uint8_t(rng()), c.a_slot = uint8_t(rng()), c.w_slot = uint8_t(rng()), c.o_slot = uint8_t(rng());
  c.a_addr = uint32_t(rng()), c.w_addr = uint32_t(rng()), c.o_addr = uint32_t(rng());
  c.m = uint32_t(rng()), c.k = uint32_t(rng()), c.n = uint32_t(rng());
  c.scale_addr = rng(), c.bias_addr = rng(), c.row_scale_addr = rng();
  c.conv_in_h = uint32_t(rng()), c.conv_in_w = uint32_t(rng()), c.conv_in_c = uint32_t(rng());
  c.conv_kh = uint32_t(rng()), c.conv_kw = uint32_t(rng()), c.conv_stride = uint32_t(rng()), c.conv_pad = uint32_t(rng());
  c.gather_m0 = uint32_t(rng()), c.gather_k0 = uint32_t(rng()), c.pad_code = uint8_t(rng());
  c.out_fmt = uint8_t(rng());
  c.out_scale = uint32_t(rng());
  return c;
}

// A test driver in place of the example host: runs `body` in its thread with transactors on memory and on
// the accelerator's registers.
struct Driver : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Driver> mem, regs;
  sc_core::sc_in<bool> irq;
  vp::Transactor mem_bus, reg_bus;
  std::function<void(Driver&)> body;
  bool finished = false;
  SC_HAS_PROCESS(Driver);
  explicit Driver(sc_core::sc_module_name n)
      : sc_core::sc_module(n), mem("mem"), regs("regs"), irq("irq"),
        mem_bus(vp::Timing::LooselyTimed, nullptr), reg_bus(vp::Timing::LooselyTimed, nullptr, 64) {
    SC_THREAD(run);
  }
  void run() {
    mem_bus.bind(mem.operator->());
    reg_bus.bind(regs.operator->());
    body(*this);
    finished = true;
  }
  // A raw register access of `len` bytes at `addr`: the response status.
  tlm::tlm_response_status raw(tlm::tlm_command cmd, uint64_t addr, unsigned len) {
    uint8_t buf[8] = {};
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(buf);
    gp.set_data_length(len);
    gp.set_streaming_width(len);
    sc_core::sc_time t = sc_core::SC_ZERO_TIME;
    regs->b_transport(gp, t);
    return gp.get_response_status();
  }
  void wait_irq(bool level) {
    while (irq.read() != level) sc_core::wait(irq.value_changed_event());
  }
};

struct DriverBench {
  vp::Memory memory{"memory", vp::kMemBase, 1 << 20, 2};
  vp::AcceleratorTlm acc;
  Driver drv{"driver"};
  sc_core::sc_signal<bool> irq{"irq"};
  explicit DriverBench(const sim::AcceleratorConfig& cfg) : acc("accelerator", cfg) {
    drv.mem.bind(memory.socket(0));
    acc.dma.bind(memory.socket(1));
    drv.regs.bind(acc.regs);
    acc.irq(irq);
    drv.irq(irq);
  }
};

}  // namespace

TEST_CASE("binary command records: documented byte offsets, round trip, rejected records", "[tlm]") {
  // A record written by hand from the table in command_binary.h (not by the encoder).
  firmware::Command c;
  c.op = firmware::Opcode::LoadActivations;
  c.flags = firmware::kFlagTranspose;
  c.layer = 0x1234;
  c.tile = 0x05060708;
  c.dram_addr = 0x1122334455667788ull;
  c.dram_stride = 0x99;
  c.rows = 3, c.cols = 4, c.buf_rows = 5, c.buf_cols = 6, c.buf_addr = 0x700;
  c.slot = 1, c.a_slot = 2, c.w_slot = 3, c.o_slot = 4;
  c.a_addr = 0xA0, c.w_addr = 0xB0, c.o_addr = 0xC0, c.m = 7, c.k = 8, c.n = 9;
  c.out_fmt = 2, c.out_scale = 0x3F800000u, c.scale_addr = 0xDEADBEEFull, c.bias_addr = 0xFEEDull << 32;
  c.row_scale_addr = 0x0102030405060708ull;
  c.conv_in_h = 11, c.conv_in_w = 12, c.conv_in_c = 13, c.conv_kh = 14, c.conv_kw = 15, c.conv_stride = 16;
  c.conv_pad = 17, c.gather_m0 = 0x12345, c.gather_k0 = 19, c.pad_code = 0x80;
  uint8_t want[160] = {};
  want[0] = 2, want[1] = 1, want[2] = 0x34, want[3] = 0x12, want[4] = 0x08, want[5] = 0x07, want[6] = 0x06, want[7] = 0x05;
  const uint8_t dram[8] = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
  for (int i = 0; i < 8; ++i) want[8 + i] = dram[i];
  want[16] = 0x99, want[20] = 3, want[24] = 4, want[28] = 5, want[32] = 6, want[36] = 0x00, want[37] = 0x07;
  want[40] = 1, want[41] = 2, want[42] = 3, want[43] = 4;
  want[44] = 0xA0, want[48] = 0xB0, want[52] = 0xC0, want[56] = 7, want[60] = 8, want[64] = 9, want[68] = 2;
  want[74] = 0x80, want[75] = 0x3F;
  want[80] = 0xEF, want[81] = 0xBE, want[82] = 0xAD, want[83] = 0xDE;
  want[92] = 0xED, want[93] = 0xFE;
  for (int i = 0; i < 8; ++i) want[96 + i] = uint8_t(8 - i);  // row_scale_addr 0x0102030405060708
  want[104] = 11, want[108] = 12, want[112] = 13, want[116] = 14, want[120] = 15, want[124] = 16, want[128] = 17;
  want[132] = 0x45, want[133] = 0x23, want[134] = 0x01, want[136] = 19, want[140] = 0x80;
  uint8_t got[160];
  vp::encode_command(c, got);
  for (int i = 0; i < 160; ++i) {
    INFO("byte " << i);
    CHECK(int(got[i]) == int(want[i]));
  }
  CHECK(vp::decode_command(want) == c);

  std::mt19937_64 rng(14);
  std::vector<firmware::Command> cmds;
  for (int i = 0; i < 500; ++i) cmds.push_back(random_command(rng));
  const auto bin = vp::encode_commands(cmds);
  REQUIRE(bin.size() == 500 * vp::kCommandBytes);
  CHECK(vp::decode_commands(bin.data(), bin.size()) == cmds);

  auto bad = bin;
  bad[3 * 160] = firmware::kOpcodeCount;  // unknown opcode in record 3
  CHECK_THROWS_WITH(vp::decode_commands(bad.data(), bad.size()), Catch::Contains("command record 3 (byte 480)") &&
                                                                     Catch::Contains("unknown opcode 8"));
  bad = bin;
  bad[160 + 70] = 1;  // reserved byte of record 1
  CHECK_THROWS_WITH(vp::decode_commands(bad.data(), bad.size()), Catch::Contains("record 1") && Catch::Contains("reserved"));
  bad = bin;
  bad[160 + 159] = 1;  // the last reserved byte of record 1
  CHECK_THROWS_WITH(vp::decode_commands(bad.data(), bad.size()), Catch::Contains("record 1") && Catch::Contains("reserved"));
  bad = bin;
  bad[1] = 0x20;  // unknown flag (bits 0-4 are defined)
  CHECK_THROWS_WITH(vp::decode_commands(bad.data(), bad.size()), Catch::Contains("flag"));
  CHECK_THROWS_WITH(vp::decode_commands(bin.data(), 159), Catch::Contains("not a whole number"));
}

namespace {

struct Variant {
  const char* name;
  CfgText t;
  std::vector<std::array<int64_t, 3>> gemms;
};

}  // namespace

// Both timing styles side by side in one elaboration, on a WS and an OS configuration with small buffers
// (several tiles per output): every C word equals golden_gemm, CYCLES and the DRAM counters equal the
// standalone engine's on the same stream, and the loosely- and approximately-timed platforms agree.
TEST_CASE("virtual platform: LT and AT hosts get golden results and the standalone engine's cycle counts", "[tlm]") {
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  tlm::tlm_global_quantum::instance().set(sc_core::sc_time(100, sc_core::SC_NS));
  std::vector<Variant> variants(2);
  variants[0].name = "ws";
  variants[0].t.rows = 8, variants[0].t.cols = 8, variants[0].t.pe = "e4m3", variants[0].t.acc = "fixed";
  variants[0].t.in_bytes = 2 * 8 * 6, variants[0].t.w_bytes = 2 * 64, variants[0].t.bw = 8, variants[0].t.dram_latency = 12;
  variants[0].gemms = {{37, 29, 19}, {8, 8, 8}};
  variants[1].name = "os";
  variants[1].t.rows = 4, variants[1].t.cols = 6, variants[1].t.dataflow = "os", variants[1].t.pe = "int8";
  variants[1].t.acc = "int32", variants[1].t.os_k_tile = 8, variants[1].t.bw = 5;
  variants[1].gemms = {{13, 40, 11}};

  std::mt19937_64 rng(2026);
  std::vector<std::unique_ptr<vp::Platform>> plats;  // [variant][lt, at]
  std::vector<std::vector<uint64_t>> standalone(variants.size());
  std::vector<std::vector<sim::Stats>> standalone_stats(variants.size());
  for (size_t v = 0; v < variants.size(); ++v) {
    const sim::AcceleratorConfig cfg = variants[v].t.make();
    std::vector<vp::GemmTask> tasks;
    for (const auto& [m, k, n] : variants[v].gemms) {
      vp::GemmTask t;
      t.m = m, t.k = k, t.n = n;
      t.a = sim::random_codes(cfg.array.numerics(), false, m * k, rng, 10);
      t.b = sim::random_codes(cfg.array.numerics(), true, k * n, rng, 10);
      sim::GemmJob job = sim::make_gemm_job(cfg, m, k, n, t.a, t.b);
      job.acc->run();
      standalone[v].push_back(job.acc->stats().cycles);
      standalone_stats[v].push_back(job.acc->stats());
      tasks.push_back(std::move(t));
    }
    for (vp::Timing tm : {vp::Timing::LooselyTimed, vp::Timing::ApproximatelyTimed}) {
      vp::PlatformOptions po;
      po.timing = tm;
      const std::string name = std::string(variants[v].name) + (tm == vp::Timing::LooselyTimed ? "_lt" : "_at");
      plats.push_back(std::make_unique<vp::Platform>(name.c_str(), cfg, po));
      plats.back()->host.tasks = tasks;
    }
  }
  sc_core::sc_start();
  for (size_t v = 0; v < variants.size(); ++v) {
    const vp::Platform& lt = *plats[2 * v];
    const vp::Platform& at = *plats[2 * v + 1];
    for (const vp::Platform* p : {&lt, &at}) {
      INFO(variants[v].name << " " << vp::timing_name(p->accelerator.timing()));
      REQUIRE(p->host.finished());
      REQUIRE(p->host.results.size() == variants[v].gemms.size());
      for (size_t g = 0; g < variants[v].gemms.size(); ++g) {
        const vp::TaskResult& r = p->host.results[g];
        const auto [m, k, n] = variants[v].gemms[g];
        INFO("GEMM " << m << "x" << k << "x" << n << ": " << p->accelerator.last_error() << " " << r.first_mismatch);
        CHECK(r.status == vp::reg::kStatusDone);
        CHECK(r.error_code == 0);
        CHECK(r.mismatches == 0);
        CHECK(r.c.size() == size_t(m * n));
        CHECK(r.cycles == standalone[v][g]);
        CHECK(r.cycles > 0);
        // Useful MACs: every (m, k, n) triple exactly once, however the GEMM is tiled.
        CHECK(r.macs == uint64_t(m * k * n));
        CHECK(r.dram_read == standalone_stats[v][g].dram_read);
        CHECK(r.dram_written == standalone_stats[v][g].dram_written);
        // Store writes C once: M*N accumulator words of word_bytes (4 for float32 / int32, 8 for E4M3 fixed).
        CHECK(r.dram_written == uint64_t(m * n) * uint64_t(variants[v].t.make().word_bytes()));
        CHECK(r.commands == r.stream.size());
        CHECK(r.array_busy == standalone_stats[v][g].array_compute);
        CHECK(r.stall_dram == standalone_stats[v][g].array_stall_dram);
        // The run takes at least CYCLES clock periods of SystemC time (plus bus and memory time).
        CHECK(r.finished - r.started >= double(r.cycles) * p->accelerator.clock_period());
      }
      // The DMA goes through the initiator socket: one transaction per DRAM row of every load and store
      // (bursts of at most 256 bytes), plus the fetch of each stream (160-byte records in 256-byte bursts).
      uint64_t want = 0;
      const uint64_t wb = uint64_t(variants[v].t.make().word_bytes());
      for (const vp::TaskResult& r : p->host.results) {
        want += (r.stream.size() * vp::kCommandBytes + 255) / 256;
        for (const firmware::Command& c : r.stream) {
          if (c.op == firmware::Opcode::LoadWeights || c.op == firmware::Opcode::LoadActivations)
            want += uint64_t(c.rows) * ((c.cols + 255) / 256);
          else if (c.op == firmware::Opcode::Store)
            want += uint64_t(c.rows) * ((c.cols * wb + 255) / 256);
        }
      }
      CHECK(p->accelerator.bus_transactions() == want);
    }
    for (size_t g = 0; g < variants[v].gemms.size(); ++g) {
      CHECK(lt.host.results[g].c == at.host.results[g].c);
      CHECK(lt.host.results[g].cycles == at.host.results[g].cycles);
    }
    WARN(variants[v].name << ": LT " << (lt.host.results[0].finished - lt.host.results[0].started).to_string()
                          << ", AT " << (at.host.results[0].finished - at.host.results[0].started).to_string()
                          << " of SystemC time for " << lt.host.results[0].cycles << " cycles");
  }
}

TEST_CASE("accelerator registers: identification, interrupt enable and clear, errors", "[tlm]") {
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  CfgText t;
  DriverBench b(t.make());
  std::vector<std::string> log;
  b.drv.body = [&](Driver& d) {
    CHECK(d.reg_bus.read32(vp::reg::kId) == 0x46503853u);  // "FP8S" little-endian ASCII: S=0x53 8=0x38 P=0x50 F=0x46
    CHECK(d.reg_bus.read32(vp::reg::kVersion) == 1);
    CHECK(d.reg_bus.read32(vp::reg::kStatus) == 0);
    d.reg_bus.write32(vp::reg::kCmdAddrLo, 0x89ABCDEF);
    d.reg_bus.write32(vp::reg::kCmdAddrHi, 0x01234567);
    CHECK(d.reg_bus.read32(vp::reg::kCmdAddrLo) == 0x89ABCDEFu);
    CHECK(d.reg_bus.read32(vp::reg::kCmdAddrHi) == 0x01234567u);
    d.reg_bus.write32(vp::reg::kDramSizeLo, 0x1000);
    d.reg_bus.write32(vp::reg::kDramSizeHi, 2);
    CHECK(d.reg_bus.read32(vp::reg::kDramSizeLo) == 0x1000u);
    CHECK(d.reg_bus.read32(vp::reg::kDramSizeHi) == 2u);
    d.reg_bus.write32(vp::reg::kDramSizeHi, 0);
    d.reg_bus.write32(vp::reg::kId, 0);  // read-only: ignored
    CHECK(d.reg_bus.read32(vp::reg::kId) == 0x46503853u);
    // Only aligned 4-byte accesses inside the register space.
    CHECK(d.raw(tlm::TLM_READ_COMMAND, 2, 4) == tlm::TLM_BURST_ERROR_RESPONSE);
    CHECK(d.raw(tlm::TLM_READ_COMMAND, 0, 8) == tlm::TLM_BURST_ERROR_RESPONSE);
    CHECK(d.raw(tlm::TLM_READ_COMMAND, vp::reg::kSize, 4) == tlm::TLM_ADDRESS_ERROR_RESPONSE);

    // A command length that is not whole records: STATUS ERROR, ERROR_CODE 1; the interrupt stays low while
    // disabled, rises when enabled (level: IRQ_STATUS & IRQ_ENABLE), falls when cleared (write 1).
    d.reg_bus.write32(vp::reg::kCmdAddrLo, uint32_t(vp::kMemBase));
    d.reg_bus.write32(vp::reg::kCmdAddrHi, 0);
    d.reg_bus.write32(vp::reg::kCmdLen, 95);
    d.reg_bus.write32(vp::reg::kCtrl, vp::reg::kCtrlStart);
    sc_core::wait(1, sc_core::SC_US);
    CHECK(d.reg_bus.read32(vp::reg::kStatus) == vp::reg::kStatusError);
    CHECK(d.reg_bus.read32(vp::reg::kErrorCode) == vp::reg::kErrStream);
    CHECK(d.reg_bus.read32(vp::reg::kIrqStatus) == 1);
    CHECK(!d.irq.read());
    log.push_back(b.acc.last_error());
    d.reg_bus.write32(vp::reg::kIrqEnable, 1);
    d.wait_irq(true);
    d.reg_bus.write32(vp::reg::kIrqStatus, 1);
    d.wait_irq(false);
    CHECK(d.reg_bus.read32(vp::reg::kIrqStatus) == 0);

    // The command stream outside memory: a bus error (ERROR_CODE 2).
    d.reg_bus.write32(vp::reg::kCmdAddrLo, 0x1000);
    d.reg_bus.write32(vp::reg::kCmdLen, 160);
    d.reg_bus.write32(vp::reg::kCtrl, vp::reg::kCtrlStart);
    d.wait_irq(true);
    CHECK(d.reg_bus.read32(vp::reg::kStatus) == vp::reg::kStatusError);
    CHECK(d.reg_bus.read32(vp::reg::kErrorCode) == vp::reg::kErrBus);
    log.push_back(b.acc.last_error());
    d.reg_bus.write32(vp::reg::kIrqStatus, 1);
    d.wait_irq(false);

    // A stream without End, then one whose load overfills its buffer (the engine rejects it: code 3).
    firmware::Command load;
    load.op = firmware::Opcode::LoadWeights;
    load.rows = 4, load.cols = 4, load.buf_rows = 4, load.buf_cols = 4, load.dram_stride = 4;
    for (int pass = 0; pass < 2; ++pass) {
      std::vector<firmware::Command> s{load};
      if (pass == 1) {
        s[0].buf_addr = uint32_t(t.w_bytes);  // past the end of the weight buffer
        s.push_back(firmware::Command{});
        s.back().op = firmware::Opcode::End;
      }
      const auto bin = vp::encode_commands(s);
      d.mem_bus.write(vp::kMemBase, bin.data(), bin.size());
      d.reg_bus.write32(vp::reg::kCmdAddrLo, uint32_t(vp::kMemBase));
      d.reg_bus.write32(vp::reg::kCmdLen, uint32_t(bin.size()));
      d.reg_bus.write32(vp::reg::kDramBaseLo, uint32_t(vp::kMemBase + 4096));
      d.reg_bus.write32(vp::reg::kCtrl, vp::reg::kCtrlStart);
      d.wait_irq(true);
      CHECK(d.reg_bus.read32(vp::reg::kStatus) == vp::reg::kStatusError);
      CHECK(d.reg_bus.read32(vp::reg::kErrorCode) == (pass == 0 ? vp::reg::kErrStream : vp::reg::kErrExec));
      log.push_back(b.acc.last_error());
      d.reg_bus.write32(vp::reg::kIrqStatus, 1);
      d.wait_irq(false);
    }

    // A load whose DRAM rows lie beyond DRAM_SIZE (the engine's bounds check: code 3), then the same load
    // with an unlimited window reaching past the end of memory (the bus answers an address error: code 2).
    for (int pass = 0; pass < 2; ++pass) {
      firmware::Command ld = load;
      ld.dram_addr = pass == 0 ? 4096 : (1 << 20);  // memory: 1 MiB from kMemBase; DRAM_BASE is kMemBase + 4096
      std::vector<firmware::Command> s{ld, firmware::Command{}};
      s.back().op = firmware::Opcode::End;
      const auto bin = vp::encode_commands(s);
      d.mem_bus.write(vp::kMemBase, bin.data(), bin.size());
      d.reg_bus.write32(vp::reg::kCmdLen, uint32_t(bin.size()));
      d.reg_bus.write32(vp::reg::kDramSizeLo, pass == 0 ? 4096 : 0);
      d.reg_bus.write32(vp::reg::kCtrl, vp::reg::kCtrlStart);
      d.wait_irq(true);
      CHECK(d.reg_bus.read32(vp::reg::kErrorCode) == (pass == 0 ? vp::reg::kErrExec : vp::reg::kErrBus));
      log.push_back(b.acc.last_error());
      d.reg_bus.write32(vp::reg::kIrqStatus, 1);
      d.wait_irq(false);
    }
  };
  sc_core::sc_start();
  REQUIRE(b.drv.finished);
  REQUIRE(log.size() == 6);
  CHECK_THAT(log[4], Catch::Contains("beyond the end of DRAM"));
  CHECK_THAT(log[5], Catch::Contains("ADDRESS_ERROR"));
  CHECK_THAT(log[0], Catch::Contains("CMD_LEN 95"));
  CHECK_THAT(log[1], Catch::Contains("address") || Catch::Contains("ADDRESS"));
  CHECK_THAT(log[2], Catch::Contains("End"));
  CHECK_THAT(log[3], Catch::Contains("overfills"));
  CHECK(b.acc.runs() == 6);
}
