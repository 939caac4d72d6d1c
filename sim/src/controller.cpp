// Controller: fetches one command per cycle, in order, into the queue of the unit that executes it (DMA:
// loads and stores; compute unit: Compute) when that queue has room, and records in the scoreboard what the
// command must wait for. Barrier waits until every unit is idle; End finishes the run once every unit is idle.
#include "fp8sim/model/requant.h"
#include "units.h"

namespace fp8sim::sim::detail {

void Controller::tick(Ctx& x, Dma& dma, ComputeUnit& cu) {
  if (finished_ || pc_ >= prog_.size()) return;
  const Command& c = prog_[pc_];
  Issued is;
  is.c = c;
  is.index = pc_;
  auto slot_ok = [&](int s) {
    if (s >= kSlots) x.error(is, "slot out of range");
    return s;
  };
  Scoreboard& sb = x.sb;
  const bool all_idle = dma.idle() && cu.idle();
  switch (c.op) {
    case Opcode::Nop: break;
    case Opcode::LoadActivations:
    case Opcode::LoadWeights: {
      if (!dma.has_room(x)) return;
      const int b = c.op == Opcode::LoadActivations ? kIn : kW, s = slot_ok(c.slot);
      is.wait_b = sb.r_issued[b][s];
      ++sb.w_issued[b][s];
      dma.push(std::move(is));
      break;
    }
    case Opcode::PostProcess:
      if (c.out_fmt >= model::kOutFormatCodeCount) x.error(is, "unknown output format " + std::to_string(c.out_fmt));
      [[fallthrough]];
    case Opcode::Store: {
      if (!dma.has_room(x)) return;
      const int s = slot_ok(c.slot);
      is.wait_b = sb.w_issued[kOut][s];
      ++sb.r_issued[kOut][s];
      dma.push(std::move(is));
      break;
    }
    case Opcode::Compute: {
      if (!cu.has_room(x)) return;
      is.wait[0] = sb.w_issued[kIn][slot_ok(c.a_slot)];
      is.wait[1] = sb.w_issued[kW][slot_ok(c.w_slot)];
      is.wait[2] = sb.r_issued[kOut][slot_ok(c.o_slot)];
      ++sb.r_issued[kIn][c.a_slot];
      ++sb.r_issued[kW][c.w_slot];
      ++sb.w_issued[kOut][c.o_slot];
      cu.check(x, is);
      cu.push(std::move(is));
      break;
    }
    case Opcode::Barrier:
      if (!all_idle) return;
      break;
    case Opcode::End:
      if (!all_idle) return;
      finished_ = true;
      break;
  }
  CommandStats cs;
  cs.index = pc_;
  cs.op = c.op;
  cs.layer = c.layer;
  cs.tile = c.tile;
  cs.dispatch = cs.start = cs.end = x.now;
  x.st.commands.push_back(cs);
  if (c.op == Opcode::Nop || c.op == Opcode::Barrier || c.op == Opcode::End) x.last_completion = x.now;
  if (c.op != Opcode::End && c.op != Opcode::Nop) ++x.layer(c.layer).commands;  // End belongs to no layer
  ++pc_;
}

}  // namespace fp8sim::sim::detail
