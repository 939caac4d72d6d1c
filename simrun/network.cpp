#include "network.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace fp8sim::simrun {

void NetworkSchedule::spill(const std::string& tensor, uint64_t bytes, bool read_back, bool by_vector_unit) {
  ++spilled_;
  spilled_bytes_ += bytes;
  if (by_vector_unit) (read_back ? spill_read_ : spill_written_) += bytes;
  report::SpillRow& r = spills_[tensor];
  r.tensor = tensor;
  ++r.calls;
  r.bytes += bytes;
}

void NetworkSchedule::add_op(Op op, const quant::OpIo* io) {
  const size_t i = ops_.size();
  if (!io) {
    op.barrier = true;
    last_barrier_ = i;
  } else {
    for (const std::string& t : io->in) {
      const auto it = last_writer_.find(t);
      if (it != last_writer_.end()) op.deps.push_back(it->second);
    }
    if (last_barrier_ != SIZE_MAX) op.deps.push_back(last_barrier_);
    last_writer_[io->out] = i;
  }
  ops_.push_back(std::move(op));
}

NetworkSchedule::GemmPhases NetworkSchedule::phases(const sim::Stats& st) {
  GemmPhases p;
  p.cycles = st.cycles;
  uint64_t first_act = UINT64_MAX, first_compute = UINT64_MAX, last_compute_end = 0;
  for (const sim::CommandStats& c : st.commands) {
    if (c.op == firmware::Opcode::LoadActivations) first_act = std::min(first_act, c.start);
    if (c.op == firmware::Opcode::Compute) {
      first_compute = std::min(first_compute, c.start);
      last_compute_end = std::max(last_compute_end, c.end);
    }
  }
  if (first_compute == UINT64_MAX) return p;  // no Compute: nothing to overlap
  p.weight_head = std::min(first_act, first_compute);
  // The DMA (one transfer at a time, sim/src/dma.cpp) is idle from the end of its last transfer that started
  // before the last Compute ended until that end.
  uint64_t dma_busy_until = 0;
  for (const sim::CommandStats& c : st.commands) {
    const bool dma = c.op == firmware::Opcode::LoadActivations || c.op == firmware::Opcode::LoadWeights ||
                     c.op == firmware::Opcode::Store || c.op == firmware::Opcode::PostProcess;
    if (dma && c.start < last_compute_end) dma_busy_until = std::max(dma_busy_until, std::min(c.end, last_compute_end));
  }
  p.dma_idle_tail = last_compute_end - dma_busy_until;
  return p;
}

NetworkSchedule::Decision NetworkSchedule::gemm(const std::string& name, bool act_act, int64_t m, int64_t k,
                                                int64_t n, int out_bytes, int64_t a_bytes, const quant::OpIo* io,
                                                bool requantized, const OpOrder* order) {
  std::lock_guard<std::mutex> lock(mu_);
  Decision d;
  d.index = gemms_++;
  phases_.emplace_back();
  Op op;
  op.gemm = true;
  op.gemm_index = d.index;
  if (order) op.order = *order, op.io = io ? std::optional<quant::OpIo>(*io) : std::nullopt;
  add_op(std::move(op), io);
  if (requantized) requantized_outputs_ += uint64_t(m * n);
  // Operands written by a producer's post-processing unit as this GEMM's codes (no vector unit in between):
  // a linear's A when every tensor it reads is one; a matmul's A (B) when its first (second) tensor is one.
  bool a_ppu = false, b_ppu = false;
  if (io && !io->in.empty()) {
    const auto req = [&](const std::string& t) { return requantized_tensors_.count(t) > 0; };
    if (act_act) {
      a_ppu = req(io->in[0]);
      b_ppu = io->in.size() > 1 && req(io->in[1]);
    } else {
      a_ppu = std::all_of(io->in.begin(), io->in.end(), req);
    }
  }
  if (io) {
    if (requantized) requantized_tensors_.insert(io->out);
    else requantized_tensors_.erase(io->out);
  }
  // Weights: every distinct weight tensor once (the DRAM floor); attention's second operand is an activation.
  if (!act_act && weights_seen_.insert(name).second) weight_bytes_ += uint64_t(k * n);
  // Without an activation SRAM (size 0) every tensor spills: nothing fits in half of nothing.
  const auto place = [&](const std::string& tensor, uint64_t bytes, bool is_output, bool by_vector_unit, bool& on_chip) {
    on_chip = int64_t(bytes) <= half_;
    if (on_chip) {
      ++resident_;
      resident_bytes_ += bytes;
    } else {
      // A spilled output is read back from DRAM by the vector unit; a spilled input was written there by it
      // (not when the producer's post-processing unit wrote the consumer's codes: the GEMMs' own loads and
      // stores, counted in their simulations, move it).
      spill(tensor, bytes, is_output, by_vector_unit);
    }
  };
  place(name + ".input", uint64_t(a_bytes >= 0 ? a_bytes : m * k), false, !a_ppu, d.placement.a_on_chip);
  if (act_act) place(name + ".input_b", uint64_t(k * n), false, !b_ppu, d.placement.b_on_chip);
  if (out_bytes > 0) place(name + ".output", uint64_t(m * n * out_bytes), true, !requantized, d.placement.out_on_chip);
  return d;
}

void NetworkSchedule::vector_op(uint64_t cycles, const quant::OpIo* io, const OpOrder* order) {
  std::lock_guard<std::mutex> lock(mu_);
  Op op;
  op.vector_cycles = cycles;
  if (order) op.order = *order, op.io = io ? std::optional<quant::OpIo>(*io) : std::nullopt;
  add_op(std::move(op), io);
}

void NetworkSchedule::simulated(size_t index, const GemmPhases& ph) {
  std::lock_guard<std::mutex> lock(mu_);
  if (index < phases_.size()) phases_[index] = ph;
}

namespace {
// The schedule of network.h: returns the end of the last operation (0 for none).
uint64_t schedule(const std::vector<NetworkSchedule::GemmPhases>& ph, const std::vector<bool>& is_gemm,
                  const std::vector<size_t>& gemm_index, const std::vector<uint64_t>& vcycles,
                  const std::vector<bool>& barrier, const std::vector<std::vector<size_t>>& deps,
                  uint64_t* hidden_prefetch) {
  const size_t n = is_gemm.size();
  std::vector<uint64_t> end(n, 0);
  std::vector<bool> done(n, false);
  std::vector<size_t> gemms, vecs;
  for (size_t i = 0; i < n; ++i) (is_gemm[i] ? gemms : vecs).push_back(i);
  // first_undone: every op before it is scheduled; prefix_end: the latest end among them (a barrier at i waits
  // for every op before it: first_undone == i, as every later op depends on the barrier).
  size_t first_undone = 0;
  uint64_t prefix_end = 0;
  const auto ready = [&](size_t i, uint64_t* t) {
    uint64_t r = 0;
    if (barrier[i]) {
      if (first_undone < i) return false;
      r = prefix_end;
    }
    for (size_t d : deps[i]) {
      if (!done[d]) return false;
      r = std::max(r, end[d]);
    }
    *t = r;
    return true;
  };
  const auto mark = [&](size_t i, uint64_t e) {
    done[i] = true;
    end[i] = e;
    while (first_undone < n && done[first_undone]) prefix_end = std::max(prefix_end, end[first_undone++]);
  };
  uint64_t engine_free = 0, vector_free = 0, last_tail = 0, latency = 0;
  size_t gi = 0, vi = 0;
  while (first_undone < n) {
    bool progress = false;
    for (uint64_t t; vi < vecs.size() && ready(vecs[vi], &t); ++vi) {  // the vector unit, in program order
      const uint64_t s = std::max(vector_free, t);
      vector_free = s + vcycles[vecs[vi]];
      mark(vecs[vi], vector_free);
      latency = std::max(latency, vector_free);
      progress = true;
    }
    while (gi < gemms.size() && done[gemms[gi]]) ++gi;
    // The engine: the first waiting GEMM or the next one after it (reorder window of two).
    size_t best = SIZE_MAX;
    uint64_t best_s = 0, best_hidden = 0;
    for (size_t c = gi, seen = 0; c < gemms.size() && seen < 2; ++c) {
      const size_t i = gemms[c];
      if (done[i]) continue;
      ++seen;
      uint64_t t;
      if (!ready(i, &t)) continue;
      const NetworkSchedule::GemmPhases& p = ph[gemm_index[i]];
      const uint64_t hide = std::min(p.weight_head, last_tail);  // the weight head inside the previous tail
      uint64_t s = engine_free - std::min(hide, engine_free);
      if (t > p.weight_head) s = std::max(s, t - p.weight_head);  // its activations once the producers are done
      // Hidden: the part of the weight head [s, s + W) before the previous GEMM ended or the producers finished
      // (another operation was running then).
      const uint64_t busy_until = std::min(s + p.weight_head, std::max(engine_free, t));
      if (best == SIZE_MAX || s < best_s) best = i, best_s = s, best_hidden = busy_until > s ? busy_until - s : 0;
    }
    if (best != SIZE_MAX) {
      const NetworkSchedule::GemmPhases& p = ph[gemm_index[best]];
      *hidden_prefetch += best_hidden;
      engine_free = best_s + p.cycles;
      last_tail = p.dma_idle_tail;
      mark(best, engine_free);
      latency = std::max(latency, engine_free);
      progress = true;
    }
    if (!progress) throw std::logic_error("network timeline: no operation can be scheduled");
  }
  return latency;
}
}  // namespace

report::NetworkSchedule NetworkSchedule::finish(uint64_t batch, uint64_t inferences) const {
  std::lock_guard<std::mutex> lock(mu_);
  report::NetworkSchedule r;
  r.present = true;
  r.activation_sram_bytes = uint64_t(sram_);
  r.batch = batch;
  r.resident_tensors = resident_, r.spilled_tensors = spilled_;
  r.resident_bytes = resident_bytes_, r.spilled_bytes = spilled_bytes_;
  r.spill_dram_read = spill_read_, r.spill_dram_written = spill_written_;
  // weight_bytes_ counts each distinct weight tensor once over the whole run; a batch reads them once, so a run
  // of `inferences` items in batches of `batch` reads them ceil(inferences / batch) times at least.
  const uint64_t batches = (std::max<uint64_t>(inferences, 1) + batch - 1) / batch;
  r.io_dram_read = io_in_ * std::max<uint64_t>(inferences, 1);
  r.io_dram_written = io_out_ * std::max<uint64_t>(inferences, 1);
  r.dram_minimum_bytes = weight_bytes_ * batches + r.io_dram_read + r.io_dram_written;
  r.requantized_outputs = requantized_outputs_;
  for (const GemmPhases& p : phases_) r.serial_cycles += p.cycles;
  for (const Op& o : ops_) r.serial_cycles += o.vector_cycles;
  // An order for some operations but not all: no program order to schedule in.
  const size_t with_order = size_t(std::count_if(ops_.begin(), ops_.end(), [](const Op& o) { return o.order.has_value(); }));
  r.timeline = timeline_ && (with_order == 0 || with_order == ops_.size());
  if (r.timeline) {
    std::vector<bool> is_gemm, barrier;
    std::vector<size_t> gi;
    std::vector<uint64_t> vc;
    std::vector<std::vector<size_t>> deps;
    const bool ordered = !ops_.empty() && std::all_of(ops_.begin(), ops_.end(), [](const Op& o) {
      return o.order.has_value() && !o.order->items.empty();
    });
    if (!ordered) {
      for (const Op& o : ops_) {
        is_gemm.push_back(o.gemm), gi.push_back(o.gemm_index), vc.push_back(o.vector_cycles);
        barrier.push_back(o.barrier), deps.push_back(o.deps);
      }
    } else {
      // The accelerator's program order (OpOrder above), ties kept in arrival order; dependences per item.
      std::vector<size_t> perm(ops_.size());
      for (size_t i = 0; i < perm.size(); ++i) perm[i] = i;
      std::stable_sort(perm.begin(), perm.end(), [&](size_t a, size_t b) {
        const OpOrder &x = *ops_[a].order, &y = *ops_[b].order;
        return std::tie(x.group, x.pos, x.items.front()) < std::tie(y.group, y.pos, y.items.front());
      });
      std::map<std::pair<uint64_t, std::string>, size_t> writer;  // (item, tensor) -> its last writer
      size_t last_barrier = SIZE_MAX;
      for (size_t j = 0; j < perm.size(); ++j) {
        const Op& o = ops_[perm[j]];
        is_gemm.push_back(o.gemm), gi.push_back(o.gemm_index), vc.push_back(o.vector_cycles);
        std::vector<size_t> d;
        barrier.push_back(!o.io);
        if (o.io) {
          for (uint64_t item : o.order->items)
            for (const std::string& t : o.io->in) {
              const auto it = writer.find({item, t});
              if (it != writer.end()) d.push_back(it->second);
            }
          if (last_barrier != SIZE_MAX) d.push_back(last_barrier);
          for (uint64_t item : o.order->items) writer[{item, o.io->out}] = j;
        } else {
          last_barrier = j;
        }
        deps.push_back(std::move(d));
      }
    }
    r.overlapped_cycles = schedule(phases_, is_gemm, gi, vc, barrier, deps, &r.hidden_prefetch_cycles);
  }
  for (const auto& [name, row] : spills_) r.spills.push_back(row);
  std::sort(r.spills.begin(), r.spills.end(),
            [](const report::SpillRow& a, const report::SpillRow& b) { return a.bytes > b.bytes || (a.bytes == b.bytes && a.tensor < b.tensor); });
  return r;
}

void charge_leakage_over_latency(report::FormatRun& run, double pj_at_latency) {
  if (!run.network.present || !run.network.timeline) return;
  run.network.leakage_correction_pj = pj_at_latency - run.totals.energy_pj.leakage;
  run.totals.energy_pj.leakage = pj_at_latency;
}

}  // namespace fp8sim::simrun
