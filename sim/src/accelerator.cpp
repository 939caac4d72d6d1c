// The accelerator: the units of sim/src (units.h) stepped once per clock cycle, and the public API.
#include "fp8sim/sim/accelerator.h"
#include "fp8sim/sim/mx_array.h"

#include <algorithm>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "fp8sim/sim/fast_array.h"
#include "rtl_array.h"
#include "units.h"

namespace fp8sim::sim {

using firmware::Command;

namespace detail {

void VectorDram::read(uint64_t addr, uint8_t* dst, size_t n) {
  if (addr + n > mem_.size()) throw std::out_of_range("DRAM read beyond the end of DRAM");
  std::memcpy(dst, mem_.data() + addr, n);
}
void VectorDram::write(uint64_t addr, const uint8_t* src, size_t n) {
  if (addr + n > mem_.size()) throw std::out_of_range("DRAM write beyond the end of DRAM");
  std::memcpy(mem_.data() + addr, src, n);
}

Ctx::Ctx(const AcceleratorConfig& c, Engine e, DramPort* port)
    : cfg(c), engine(e), R(c.array.rows), C(c.array.cols), wb(c.word_bytes()),
      ws(c.array.dataflow == Dataflow::WeightStationary), dram(port) {
  cfg.validate();
  inbuf.assign(static_cast<size_t>(cfg.input_buffer.size_bytes), 0);
  wbuf.assign(static_cast<size_t>(cfg.weight_buffer.size_bytes), 0);
  obuf.assign(static_cast<size_t>(cfg.output_buffer.size_bytes / wb), 0);
  sram[kIn] = {cfg.input_buffer, &st.input};
  sram[kW] = {cfg.weight_buffer, &st.weight};
  sram[kOut] = {cfg.output_buffer, &st.output};
}

LayerStats& Ctx::layer(uint16_t id) {
  auto [it, fresh] = st.layers.try_emplace(id);
  if (fresh) it->second.first_cycle = now;
  it->second.last_cycle = std::max(it->second.last_cycle, now);
  return it->second;
}

CommandStats& Ctx::cstats(const Issued& is) {
  for (auto it = st.commands.rbegin(); it != st.commands.rend(); ++it)
    if (it->index == is.index) return *it;
  throw std::logic_error("command stats missing");
}

void Ctx::error(const Issued& is, const std::string& why) const {
  throw std::runtime_error("command " + std::to_string(is.index) + " (" + firmware::opcode_name(is.c.op) +
                           ", layer " + std::to_string(is.c.layer) + ", tile " + std::to_string(is.c.tile) +
                           "): " + why);
}

}  // namespace detail

std::unique_ptr<ArrayCore> make_engine_array(const ArrayParams& p, Engine engine, ArrayRole role) {
  if (p.mx)  // the MX array (mx_array.h): its cycle model for Model (and the RTL's twin), the fast one for Fast
    return engine == Engine::Rtl && role == ArrayRole::Engine ? make_rtl_mx_array(p)
           : engine == Engine::Fast                           ? make_mx_fast_array(p)
                                                              : make_mx_array(p);
  if (engine == Engine::Rtl && role == ArrayRole::Engine) return make_rtl_array(p);
  if (engine == Engine::Fast) return make_fast_array(p);
  return make_systolic_array(p);
}

namespace {
const char* kBufName[3] = {"input", "weight", "output"};
}  // namespace

struct Accelerator::Impl {
  // What the oldest unfinished command waits for (the watchdog's error).
  std::string waits_for(const detail::Issued& is) const {
    const detail::Scoreboard& sb = x.sb;
    const Command& c = is.c;
    auto slot = [&](int b, int s, bool writes, uint64_t need) {
      const uint64_t have = writes ? sb.w_done[b][s] : sb.r_done[b][s];
      return std::string(kBufName[b]) + " buffer slot " + std::to_string(s) + " (" +
             (writes ? "writes" : "reads") + " done " + std::to_string(have) + ", needs " + std::to_string(need) + ")";
    };
    if (c.op == firmware::Opcode::Compute) {
      if (is.beats_issued == 0 && !cu.deps_met(x, is)) {
        std::string w;
        if (sb.w_done[detail::kIn][c.a_slot] < is.wait[0]) w += "the load of " + slot(detail::kIn, c.a_slot, true, is.wait[0]);
        if (sb.w_done[detail::kW][c.w_slot] < is.wait[1])
          w += (w.empty() ? "" : " and ") + std::string("the load of ") + slot(detail::kW, c.w_slot, true, is.wait[1]);
        if (sb.r_done[detail::kOut][c.o_slot] < is.wait[2])
          w += (w.empty() ? "" : " and ") + std::string("the stores reading ") + slot(detail::kOut, c.o_slot, false, is.wait[2]);
        return "waits for " + w;
      }
      return "waits for the array (compute unit): " + std::to_string(is.beats_issued) + " beats read, " +
             std::to_string(is.rows_written) + " of " + std::to_string(x.ws ? c.m : uint32_t(x.R)) +
             " output rows written";
    }
    const bool store = c.op == firmware::Opcode::Store || c.op == firmware::Opcode::PostProcess;
    if (!is.started) {
      if (store) return "waits for the computes writing " + slot(detail::kOut, c.slot, true, is.wait_b);
      const int b = c.op == firmware::Opcode::LoadActivations ? detail::kIn : detail::kW;
      return "waits for the computes reading " + slot(b, c.slot, false, is.wait_b);
    }
    return "waits for the DMA: " + std::to_string(is.latency_left) + " latency cycles and " +
           std::to_string(is.bytes_left) + " bytes left";
  }
  std::string watchdog_message() const {
    const detail::Issued* a = dma.front();
    const detail::Issued* b = cu.front();
    const detail::Issued* old = !a ? b : !b ? a : (a->index < b->index ? a : b);
    std::string m = "watchdog: no command completed for " + std::to_string(x.cfg.watchdog_cycles) +
                    " cycles (cycle " + std::to_string(x.now) + ", [controller] watchdog_cycles): ";
    if (!old) {
      const Command& c = ctl.current();
      return m + "command " + std::to_string(ctl.pc()) + " (" + firmware::opcode_name(c.op) + ", layer " +
             std::to_string(c.layer) + ", tile " + std::to_string(c.tile) + ") is not dispatched";
    }
    m += "command " + std::to_string(old->index) + " (" + firmware::opcode_name(old->c.op) + ", layer " +
         std::to_string(old->c.layer) + ", tile " + std::to_string(old->c.tile) + ", " +
         (old == b ? "compute unit" : "DMA") + ") " + waits_for(*old);
    return m;
  }

  std::unique_ptr<detail::VectorDram> own_dram;
  detail::Ctx x;
  detail::ComputeUnit cu;
  detail::Dma dma;
  detail::Controller ctl;

  Impl(const AcceleratorConfig& c, std::unique_ptr<detail::VectorDram> own, DramPort* port, Engine e,
       const ArrayFactory& f)
      : own_dram(std::move(own)), x(c, e, own_dram ? own_dram.get() : port),
        cu(x, f(x.cfg.array, e, ArrayRole::Engine), e == Engine::Rtl ? f(x.cfg.array, e, ArrayRole::ModelTwin) : nullptr),
        dma(cu.array()) {}

  void tick() {
    if (ctl.finished()) return;
    for (detail::Sram& s : x.sram) s.used = 0;
    x.probe.cycle = x.now;
    x.probe.out_valid = cu.array().out_valid();
    cu.tick(x);
    dma.tick(x);
    ctl.tick(x, dma, cu);
    x.sb.end_of_cycle();
    x.probe.pc = static_cast<uint32_t>(ctl.pc());
    x.probe.dma_queue = static_cast<uint32_t>(dma.queued());
    x.probe.compute_queue = static_cast<uint32_t>(cu.queued());
    x.probe.fifo = static_cast<uint32_t>(cu.fifo_size());
    x.probe.out_word0 = cu.out_word0();
    ++x.now;
    x.st.cycles = x.now;
    if (x.cfg.watchdog_cycles && !ctl.finished() && x.now - x.last_completion > x.cfg.watchdog_cycles)
      throw std::runtime_error(watchdog_message());
    // Engine::Rtl: the toggles are counted on the Verilated array's own registers (rtl_array.cpp); the wrap
    // events by the model twin (the RTL has no overflow flag), whose outputs are compared with the RTL's.
    // MX arrays under Engine::Rtl: the model twin's counts (its cell registers are the RTL's, edge for edge:
    // tests/sim/test_mx_array.cpp; the Verilated MX array's cell registers are not made public).
    x.st.toggles = (x.cfg.array.mx ? cu.counting_array() : cu.array()).toggles();
    x.st.acc_wraps = cu.counting_array().wraps() + cu.buffer_wraps();
  }
};

Accelerator::Accelerator(const AcceleratorConfig& cfg, uint64_t dram_bytes, Engine engine, const ArrayFactory& factory)
    : d_(std::make_unique<Impl>(cfg, std::make_unique<detail::VectorDram>(dram_bytes), nullptr, engine, factory)) {}
Accelerator::Accelerator(const AcceleratorConfig& cfg, DramPort& dram, Engine engine, const ArrayFactory& factory)
    : d_(std::make_unique<Impl>(cfg, nullptr, &dram, engine, factory)) {}
Accelerator::~Accelerator() = default;
std::vector<uint8_t>& Accelerator::dram() {
  if (!d_->own_dram) throw std::logic_error("Accelerator::dram(): this accelerator uses an external DramPort");
  return d_->own_dram->bytes();
}
DramPort& Accelerator::dram_port() { return *d_->x.dram; }
void Accelerator::load_program(std::vector<Command> cmds) { d_->ctl.load(std::move(cmds)); }
void Accelerator::tick() { d_->tick(); }
bool Accelerator::done() const { return d_->ctl.finished(); }
uint64_t Accelerator::cycle() const { return d_->x.now; }
void Accelerator::run(uint64_t max_cycles) {
  while (!d_->ctl.finished()) {
    if (d_->x.now >= max_cycles)
      throw std::runtime_error("simulation did not finish within " + std::to_string(max_cycles) + " cycles");
    if (d_->ctl.pc() >= d_->ctl.size()) throw std::runtime_error("command stream ended without End");
    d_->tick();
  }
}
const Stats& Accelerator::stats() const { return d_->x.st; }
const AcceleratorConfig& Accelerator::config() const { return d_->x.cfg; }
const ArrayCore& Accelerator::array() const { return d_->cu.array(); }
const TraceProbe& Accelerator::probe() const { return d_->x.probe; }
void Accelerator::set_tile_golden_check(bool on) { d_->cu.golden_tiles = on; }

std::vector<model::AccWord> Accelerator::read_output(uint64_t c_addr, int64_t m, int64_t n) const {
  std::vector<model::AccWord> out(size_t(m * n));
  const int wb = d_->x.wb;
  DramPort& mem = *d_->x.dram;
  if (c_addr + uint64_t(m * n * wb) > mem.size()) throw std::out_of_range("read_output beyond DRAM");
  std::vector<uint8_t> bytes(size_t(m * n * wb));
  mem.read(c_addr, bytes.data(), bytes.size());
  for (int64_t i = 0; i < m * n; ++i) {
    uint128 w = 0;
    for (int b = wb - 1; b >= 0; --b) w = (w << 8) | bytes[size_t(i * wb + b)];
    out[size_t(i)] = d_->cu.array().to_acc_word(w);
  }
  return out;
}

std::string Stats::to_text(const AcceleratorConfig& cfg) const {
  std::ostringstream o;
  const int R = cfg.array.rows, C = cfg.array.cols;
  o << "cycles " << cycles << "\n"
    << "array: compute " << array_compute << ", weight_load " << array_weight_load << ", fill_drain "
    << array_fill_drain << ", stall_dram " << array_stall_dram << ", stall_conflict " << array_stall_conflict
    << ", idle " << array_idle << "\n"
    << "dma: busy " << dma_busy << ", conflict " << dma_stall_conflict << ", waiting " << dma_wait_deps << "\n"
    << "macs " << macs << ", PE utilization " << pe_utilization(R, C) << "\n"
    << "bytes: input r/w " << input.bytes_read << "/" << input.bytes_written << ", weight r/w " << weight.bytes_read
    << "/" << weight.bytes_written << ", output r/w " << output.bytes_read << "/" << output.bytes_written
    << ", DRAM r/w " << dram_read << "/" << dram_written << "\n"
    << "toggles: a " << toggles.a_regs << ", b " << toggles.b_regs << ", acc " << toggles.acc_regs << "\n";
  for (const auto& [id, L] : layers)
    o << "layer " << id << ": cycles " << L.cycles() << ", macs " << L.macs << ", DRAM r/w " << L.dram_read << "/"
      << L.dram_written << ", commands " << L.commands << "\n";
  return o.str();
}

}  // namespace fp8sim::sim
