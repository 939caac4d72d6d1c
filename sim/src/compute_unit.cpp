// Compute unit: the beat feeder, the systolic array and the accumulating writer.
//   feeder  reads one beat (WS: a weight row or an activation row; OS: one A column and one B row) per cycle
//           once the command's scoreboard dependencies hold, the data arriving `latency` cycles later; up to
//           latency + 1 beats in flight.
//           WS with shadow weights: two reads per cycle, one weight row (weight buffer) on the array's weight
//           channel, typically for the next Compute while this one's activation rows stream, and one
//           activation row (input buffer); a Compute's first row carries the swap (feeder_shadow).
//   array   (systolic_array.h) takes a ready beat whenever in_ready.
//   writer  writes each output row into the accumulator buffer (Accumulate: read, add with the PE's adder,
//           write: two accesses) and back-pressures the array when the buffer has no free port. A Compute
//           completes when its last output row is written.
// Engine::Rtl: the model twin runs beside the Verilated array; every output row is compared, and (unless
// switched off) every tile is checked against golden_gemm of the operands as they entered the array.
#include <algorithm>
#include <stdexcept>

#include "fp8sim/model/gemm.h"
#include "units.h"

namespace fp8sim::sim::detail {

ComputeUnit::ComputeUnit(Ctx& x, std::unique_ptr<ArrayCore> array, std::unique_ptr<ArrayCore> twin)
    : arr_(std::move(array)), twin_(std::move(twin)) {
  outrow_.resize(size_t(x.C));
  twin_row_.resize(size_t(x.C));
  max_latency_ = std::max(x.cfg.input_buffer.latency, x.cfg.weight_buffer.latency);
  shadow_w_ = x.ws && x.cfg.array.shadow_weights;
}

void ComputeUnit::check(const Ctx& x, const Issued& is) const {
  const Command& c = is.c;
  const int R = x.R, C = x.C;
  const uint64_t beats = x.ws ? uint64_t(R) + c.m : c.k;
  // MX: the tile's scales follow its codes (ceil(k / block) rows after k rounded up to whole blocks)
  const uint64_t mxb = uint64_t(x.cfg.array.mx_block), mx_rows = (c.k + mxb - 1) / mxb * (mxb + 1);
  const uint64_t a_end = c.a_addr + (x.ws ? uint64_t(c.m) * R : (x.cfg.array.mx ? mx_rows : uint64_t(c.k)) * R);
  const uint64_t w_end = c.w_addr + (x.ws ? uint64_t(R) * C : (x.cfg.array.mx ? mx_rows : uint64_t(c.k)) * C);
  const uint64_t o_end = c.o_addr + uint64_t(x.ws ? c.m : R) * C * x.wb;
  if (beats == 0 || c.k == 0 || c.n == 0 || c.m == 0) x.error(is, "empty tile");
  if (x.ws ? c.k > uint32_t(R) : c.m > uint32_t(R)) x.error(is, "tile larger than the array");
  if (c.n > uint32_t(C)) x.error(is, "tile wider than the array");
  if (a_end > x.inbuf.size()) x.error(is, "activation tile outside the input buffer");
  if (w_end > x.wbuf.size()) x.error(is, "weight tile outside the weight buffer");
  if (o_end > x.obuf.size() * x.wb || c.o_addr % x.wb) x.error(is, "output tile outside the accumulator buffer");
}

bool ComputeUnit::deps_ok(const Ctx& x, const Issued& is) const {
  const Scoreboard& sb = x.sb;
  return sb.w_done[kIn][is.c.a_slot] >= is.wait[0] && sb.w_done[kW][is.c.w_slot] >= is.wait[1] &&
         sb.r_done[kOut][is.c.o_slot] >= is.wait[2];
}

void ComputeUnit::tick(Ctx& x) {
  ArrayInputs in;
  bool out_ready = true, conflict = false;
  Sram& obuf = x.sram[kOut];
  const bool ov = arr_->out_valid();
  if (ov) {
    if (tags_.empty()) throw std::logic_error("array output without a tag");
    const Issued& owner = by_seq(tags_.front().cmd);
    const bool acc = owner.c.flags & firmware::kFlagAccumulate;
    if (acc && !rmw_read_) {
      // read half of read-add-write; with two free ports both halves happen this cycle
      if (obuf.take()) rmw_read_ = true;
    }
    if (acc && !rmw_read_) out_ready = false;
    else if (!obuf.take()) out_ready = false;
    if (!out_ready) {
      conflict = true;
      ++obuf.st->conflicts;
      ++x.cstats(owner).stall_cycles;
    }
    arr_->out_words(outrow_.data());
  }
  if (twin_) compare_twin(x, ov, ov && out_ready);
  // Input beat.
  Beat* head = (!fifo_.empty() && fifo_.front().ready_at <= x.now) ? &fifo_.front() : nullptr;
  Beat* whead = (!wfifo_.empty() && wfifo_.front().ready_at <= x.now) ? &wfifo_.front() : nullptr;
  in.out_ready = out_ready;
  bool fired = false, wfired = false;
  if (head && arr_->in_ready(head->wload, out_ready, head->swap, head->last)) {
    in.valid = true;
    in.wload = head->wload;
    in.last = head->last;
    in.swap = head->swap;
    in.a = head->a.empty() ? nullptr : head->a.data();
    in.b = head->b.empty() ? nullptr : head->b.data();
    in.mx_first = head->mx_first;
    in.mx_blk_last = head->mx_blk_last;
    in.mx_fin = head->mx_fin;
    in.sa = head->sa.empty() ? nullptr : head->sa.data();
    in.sb = head->sb.empty() ? nullptr : head->sb.data();
    fired = true;
  }
  if (whead && arr_->w_ready(out_ready)) {  // shadow weights: the weight channel, beside the compute row
    in.wvalid = true;
    in.b = whead->b.data();
    wfired = true;
  }
  arr_->edge(in);
  if (twin_) twin_->edge(in);
  x.probe.in_valid = head != nullptr || whead != nullptr;
  x.probe.in_wload = wfired || (head && head->wload);
  x.probe.in_ready = fired || wfired;
  x.probe.out_ready = out_ready;
  if (wfired) {
    const Beat& bt = wfifo_.front();
    Issued& is = by_seq(bt.cmd);
    if (!any_beat_) {
      any_beat_ = true;
      x.st.first_beat_cycle = x.now;
    }
    if (x.engine == Engine::Rtl && golden_tiles) {
      is.tile_b.resize(size_t(x.R) * x.C);
      std::copy(bt.b.begin(), bt.b.end(), is.tile_b.begin() + size_t(x.R - 1 - is.wrows_fired) * x.C);
    }
    ++is.wrows_fired;
    recycle(wfifo_.front());
    wfifo_.pop_front();
  }
  if (fired) {
    const Beat& bt = fifo_.front();
    Issued& is = by_seq(bt.cmd);
    if (!any_beat_) {
      any_beat_ = true;
      x.st.first_beat_cycle = x.now;
    }
    if (x.engine == Engine::Rtl && golden_tiles && !x.cfg.array.mx) record_operands(x, is, bt);
    if (bt.wload) {
      ++x.st.array_weight_load;
    } else {
      if (x.st.array_compute == 0) x.st.first_compute_cycle = x.now;
      ++x.st.array_compute;
      if (x.ws) {
        tags_.push_back({bt.cmd, is.rows_fired++});
      } else if (x.cfg.array.mx ? bt.mx_fin : bt.last) {
        for (int r = x.R - 1; r >= 0; --r) tags_.push_back({bt.cmd, uint32_t(r)});
      }
    }
    // MX: a Compute followed by more K tiles of its product (kFlagMxMore) writes no rows; it completes when its
    // last beat has entered the array (the PEs hold its sums).
    const bool mx_more_done = x.cfg.array.mx && bt.last && (is.c.flags & firmware::kFlagMxMore);
    recycle(fifo_.front());
    fifo_.pop_front();
    if (mx_more_done) {
      while (feed_ < q_.size() && q_[feed_].beats_issued == beats_of(x, q_[feed_].c)) ++feed_;
      finish_compute(x, is);
    }
  }
  if (ov && out_ready) write_row(x);
  const bool feeder_lost_port = shadow_w_ ? feeder_shadow(x) : feeder(x);
  if (fired) return;  // counted above as compute / weight_load
  if (wfired) {        // shadow weights: a weight row entered while no compute row did
    ++x.st.array_weight_load;
    return;
  }
  if (ov && out_ready) ++x.st.array_fill_drain;  // an output row leaves while no beat enters: draining
  else classify_idle(x, conflict || feeder_lost_port, head != nullptr || whead != nullptr);
}

void ComputeUnit::classify_idle(Ctx& x, bool conflict, bool head_ready) {
  if (conflict) ++x.st.array_stall_conflict;
  else if (counting_array().active() || head_ready || !fifo_.empty() || !wfifo_.empty()) ++x.st.array_fill_drain;
  else if (feed_ < q_.size()) ++x.st.array_stall_dram;  // the next Compute waits for its loads
  else ++x.st.array_idle;
}

void ComputeUnit::write_row(Ctx& x) {
  const OutTag t = tags_.front();
  tags_.pop_front();
  rmw_read_ = false;
  Issued& is = by_seq(t.cmd);
  const Command& c = is.c;
  const int C = x.C;
  const bool acc = c.flags & firmware::kFlagAccumulate;
  uint128* dst = &x.obuf[c.o_addr / x.wb + size_t(t.row) * C];
  buffer_wraps_ += arr_->add_row(dst, outrow_.data(), C, acc);
  x.st.output.bytes_written += uint64_t(C) * x.wb;
  if (acc) {
    x.st.output.bytes_read += uint64_t(C) * x.wb;
    x.st.buffer_adds += uint64_t(C);
  }
  if (x.engine == Engine::Rtl && golden_tiles) {
    is.tile_out.resize(size_t(x.ws ? c.m : x.R) * C);
    std::copy(outrow_.begin(), outrow_.end(), is.tile_out.begin() + size_t(t.row) * C);
  }
  x.st.last_output_cycle = x.now;
  ++x.st.array_rows_out;
  ++is.rows_written;
  if (is.rows_written == (x.ws ? c.m : uint32_t(x.R))) finish_compute(x, is);
}

void ComputeUnit::finish_compute(Ctx& x, Issued& is) {
  const Command& c = is.c;
  if (&is != &q_.front()) throw std::logic_error("compute completed out of order");
  if (x.engine == Engine::Rtl && golden_tiles && !x.cfg.array.mx) golden_tile_check(x, is);
  const uint64_t macs = uint64_t(c.m) * c.k * c.n;
  x.st.macs += macs;
  x.layer(c.layer).macs += macs;
  x.cstats(is).end = x.now;
  x.last_completion = x.now;
  x.sb.write_done(kOut, c.o_slot);
  q_.pop_front();
  ++seq_base_;
  --feed_;
  if (wfeed_ > 0) --wfeed_;
}

// Issues at most one beat read; returns true when a read was due but lost its buffer port.
bool ComputeUnit::feeder(Ctx& x) {
  while (feed_ < q_.size() && q_[feed_].beats_issued == beats_of(x, q_[feed_].c)) ++feed_;
  if (feed_ >= q_.size()) return false;
  Issued& is = q_[feed_];
  if (fifo_.size() >= size_t(max_latency_ + 1)) return false;
  if (!deps_ok(x, is)) return false;
  const Command& c = is.c;
  const int R = x.R, C = x.C;
  const uint32_t j = is.beats_issued;
  Sram &in = x.sram[kIn], &w = x.sram[kW];
  Beat bt;
  bt.cmd = feed_ + seq_base_;
  if (x.ws) {
    if (j < uint32_t(R)) {
      if (!w.take()) return true;
      bt.wload = true;
      const size_t row = size_t(R - 1 - j);  // last weight row first: it ends in array row R-1
      bt.b = take_row();
      bt.b.assign(x.wbuf.begin() + c.w_addr + row * C, x.wbuf.begin() + c.w_addr + (row + 1) * C);
      bt.ready_at = x.now + x.cfg.weight_buffer.latency;
      x.st.weight.bytes_read += C;
    } else {
      if (!in.take()) return true;
      const size_t m = j - R;
      bt.a = take_row();
      bt.a.assign(x.inbuf.begin() + c.a_addr + m * R, x.inbuf.begin() + c.a_addr + (m + 1) * R);
      bt.ready_at = x.now + x.cfg.input_buffer.latency;
      x.st.input.bytes_read += R;
    }
  } else {
    if (!in.free() || !w.free()) return true;
    in.take();
    w.take();
    bt.a = take_row();
    bt.a.assign(x.inbuf.begin() + c.a_addr + size_t(j) * R, x.inbuf.begin() + c.a_addr + size_t(j + 1) * R);
    bt.b = take_row();
    bt.b.assign(x.wbuf.begin() + c.w_addr + size_t(j) * C, x.wbuf.begin() + c.w_addr + size_t(j + 1) * C);
    bt.last = j + 1 == c.k;
    bt.ready_at = x.now + std::max(x.cfg.input_buffer.latency, x.cfg.weight_buffer.latency);
    x.st.input.bytes_read += R;
    x.st.weight.bytes_read += C;
    if (x.cfg.array.mx) mx_beat(x, c, j, bt);
  }
  if (j == 0) x.cstats(is).start = x.now;
  ++is.beats_issued;
  if (is.beats_issued == beats_of(x, c)) {
    x.sb.read_done(kIn, c.a_slot);
    x.sb.read_done(kW, c.w_slot);
  }
  fifo_.push_back(std::move(bt));
  return false;
}

// MX beat j of Compute c (OS): the flags, and on a block's last beat the block's scales, read in the same
// buffer access as the codes (config validate(): an access carries 2R / 2C bytes). The tile's scales follow its
// codes: ceil(k / B) rows of R (A) / C (B) scales at a_addr + roundup(k, B) * R (w_addr + roundup(k, B) * C).
void ComputeUnit::mx_beat(Ctx& x, const Command& c, uint32_t j, Beat& bt) {
  const int R = x.R, C = x.C;
  const uint32_t B = uint32_t(x.cfg.array.mx_block), kp = (c.k + B - 1) / B * B;
  bt.mx_first = j == 0 && !(c.flags & firmware::kFlagMxCont);
  bt.mx_blk_last = j % B == B - 1 || j + 1 == c.k;
  bt.mx_fin = j + 1 == c.k && !(c.flags & firmware::kFlagMxMore);
  if (!bt.mx_blk_last) return;
  const size_t blk = j / B;
  const size_t ao = c.a_addr + size_t(kp) * R + blk * R, wo = c.w_addr + size_t(kp) * C + blk * C;
  bt.sa.assign(x.inbuf.begin() + ao, x.inbuf.begin() + ao + R);
  bt.sb.assign(x.wbuf.begin() + wo, x.wbuf.begin() + wo + C);
  x.st.input.bytes_read += R;
  x.st.weight.bytes_read += C;
}

// Shadow weights: per cycle at most one weight row read (weight buffer) for the oldest Compute whose weights
// are not all read (typically the next tile's, while the current tile's rows stream) and one activation row
// read (input buffer) for the oldest Compute whose rows are not all read; the array's two channels take them
// independently (a swap row waits in the array's handshake until the shadow registers are full). The weight
// slot is released when its R rows are read, the input slot when its m rows are. Returns true when a due
// read lost its buffer port.
bool ComputeUnit::feeder_shadow(Ctx& x) {
  bool lost = false;
  const int R = x.R, C = x.C;
  const size_t depth = size_t(max_latency_ + 1);
  while (wfeed_ < q_.size() && q_[wfeed_].wrows_issued == uint32_t(R)) ++wfeed_;
  if (wfeed_ < q_.size() && wfifo_.size() < depth) {
    Issued& is = q_[wfeed_];
    const Command& c = is.c;
    if (x.sb.w_done[kW][c.w_slot] >= is.wait[1]) {
      if (!x.sram[kW].take()) {
        lost = true;
      } else {
        Beat bt;
        bt.cmd = wfeed_ + seq_base_;
        bt.wload = true;
        const size_t row = size_t(R - 1 - is.wrows_issued);  // last weight row first: it ends in array row R-1
        bt.b = take_row();
      bt.b.assign(x.wbuf.begin() + c.w_addr + row * C, x.wbuf.begin() + c.w_addr + (row + 1) * C);
        bt.ready_at = x.now + x.cfg.weight_buffer.latency;
        x.st.weight.bytes_read += C;
        if (is.wrows_issued == 0 && is.beats_issued == 0) x.cstats(is).start = x.now;
        if (++is.wrows_issued == uint32_t(R)) x.sb.read_done(kW, c.w_slot);
        wfifo_.push_back(std::move(bt));
      }
    }
  }
  while (feed_ < q_.size() && q_[feed_].beats_issued == q_[feed_].c.m) ++feed_;
  if (feed_ < q_.size() && fifo_.size() < depth) {
    Issued& is = q_[feed_];
    const Command& c = is.c;
    if (deps_ok(x, is)) {
      if (!x.sram[kIn].take()) {
        lost = true;
      } else {
        const size_t m = is.beats_issued;
        Beat bt;
        bt.cmd = feed_ + seq_base_;
        bt.swap = m == 0;
        bt.a = take_row();
      bt.a.assign(x.inbuf.begin() + c.a_addr + m * R, x.inbuf.begin() + c.a_addr + (m + 1) * R);
        bt.ready_at = x.now + x.cfg.input_buffer.latency;
        x.st.input.bytes_read += R;
        if (is.wrows_issued == 0 && is.beats_issued == 0) x.cstats(is).start = x.now;
        if (++is.beats_issued == c.m) x.sb.read_done(kIn, c.a_slot);
        fifo_.push_back(std::move(bt));
      }
    }
  }
  return lost;
}

// ---------------- RTL in the loop ----------------

// leaves: the row is accepted this cycle (a back-pressured row is compared again, counted once).
void ComputeUnit::compare_twin(Ctx& x, bool ov, bool leaves) {
  const bool sv = twin_->out_valid();
  if (sv != ov) {
    ++x.st.rtl_mismatches;
    throw std::runtime_error(std::string("RTL/model mismatch: out_valid: rtl ") + (ov ? "1" : "0") + ", model " +
                             (sv ? "1" : "0") + " at cycle " + std::to_string(x.now));
  }
  if (!ov) return;
  twin_->out_words(twin_row_.data());
  uint64_t differ = 0;
  int first = -1;
  for (int j = 0; j < x.C; ++j)
    if (twin_row_[j] != outrow_[j] && differ++ == 0) first = j;
  if (leaves) {
    ++x.st.rtl_rows_compared;
    x.st.rtl_words_compared += uint64_t(x.C);
  }
  if (differ) {
    x.st.rtl_mismatches += differ;
    {
      const int j = first;
      const OutTag& t = tags_.front();
      const Issued& is = by_seq(t.cmd);
      throw std::runtime_error(
          "RTL/model mismatch: layer " + std::to_string(is.c.layer) + " tile " + std::to_string(is.c.tile) +
          " row " + std::to_string(t.row) + " col " + std::to_string(j) + ": rtl " +
          model::acc_word_to_string(arr_->numerics(), arr_->to_acc_word(outrow_[j])) + ", model " +
          model::acc_word_to_string(arr_->numerics(), arr_->to_acc_word(twin_row_[j])) + " at cycle " +
          std::to_string(x.now));
    }
  }
}

// The tile's operands as the array saw them (captured when the beats entered: the buffer slot may be
// reloaded once the last beat has been read). WS: A is m x R, B is R x C; OS: A is R x k, B is k x C.
void ComputeUnit::record_operands(Ctx& x, Issued& is, const Beat& bt) {
  const Command& c = is.c;
  const int R = x.R, C = x.C;
  const uint32_t j = is.beats_fired++;
  if (x.ws && shadow_w_) {  // compute rows only (weight rows are recorded when the weight channel takes them)
    is.tile_a.resize(size_t(c.m) * R);
    std::copy(bt.a.begin(), bt.a.end(), is.tile_a.begin() + size_t(j) * R);
  } else if (x.ws) {
    is.tile_a.resize(size_t(c.m) * R);
    is.tile_b.resize(size_t(R) * C);
    if (bt.wload) std::copy(bt.b.begin(), bt.b.end(), is.tile_b.begin() + size_t(R - 1 - j) * C);
    else std::copy(bt.a.begin(), bt.a.end(), is.tile_a.begin() + size_t(j - R) * R);
  } else {
    is.tile_a.resize(size_t(R) * c.k);
    is.tile_b.resize(size_t(c.k) * C);
    for (int i = 0; i < R; ++i) is.tile_a[size_t(i) * c.k + j] = bt.a[size_t(i)];
    std::copy(bt.b.begin(), bt.b.end(), is.tile_b.begin() + size_t(j) * C);
  }
}

void ComputeUnit::golden_tile_check(Ctx& x, const Issued& is) {
  const Command& c = is.c;
  const int64_t m = x.ws ? c.m : x.R, k = x.ws ? x.R : c.k, n = x.C;
  const auto gold = model::golden_gemm(arr_->numerics(), model::AccumulationOrder{0}, m, k, n, is.tile_a.data(),
                                       is.tile_b.data());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const model::AccWord have = arr_->to_acc_word(is.tile_out[size_t(i * n + j)]);
      if (have != gold[size_t(i * n + j)])
        throw std::runtime_error("RTL/golden mismatch: layer " + std::to_string(c.layer) + " tile " +
                                 std::to_string(c.tile) + " row " + std::to_string(i) + " col " + std::to_string(j) +
                                 ": rtl " + model::acc_word_to_string(arr_->numerics(), have) + ", golden " +
                                 model::acc_word_to_string(arr_->numerics(), gold[size_t(i * n + j)]) +
                                 " at cycle " + std::to_string(x.now));
    }
}

}  // namespace fp8sim::sim::detail
