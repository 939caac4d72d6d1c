// The accelerator: the units of sim/src (units.h) stepped once per clock cycle, and the public API.
#include "fp8sim/sim/accelerator.h"

#include <algorithm>
#include <cstring>
#include <sstream>
#include <stdexcept>

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
  if (engine == Engine::Rtl && role == ArrayRole::Engine) return make_rtl_array(p);
  return make_systolic_array(p);
}

struct Accelerator::Impl {
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
    x.st.toggles = cu.counting_array().toggles();  // RTL engine: its model twin counts (outputs compared in lockstep)
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
