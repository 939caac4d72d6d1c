#include "fp8sim/firmware/mapper.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "fp8sim/model/requant.h"
#include "lowering_internal.h"

namespace fp8sim::firmware {

using detail::u32;

namespace {

int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Today's tile sizes (lower_gemm(t, g)): WS m_tile, OS k_tile.
int64_t fixed_ws_m_tile(const ArrayTarget& t, const GemmSpec& g) {
  return std::min({g.m, t.input_buffer_bytes / (2 * t.rows), t.output_buffer_bytes / (2 * int64_t{t.cols} * t.word_bytes)});
}
int64_t fixed_os_k_tile(const ArrayTarget& t, const GemmSpec& g) {
  int64_t kt = std::min({g.k, t.input_buffer_bytes / (2 * t.rows), t.weight_buffer_bytes / (2 * int64_t{t.cols})});
  if (t.os_k_tile > 0) kt = std::min(kt, t.os_k_tile);
  return kt;
}

// The block geometry of a (non-fixed) mapping.
struct Geo {
  bool ws = true;
  int64_t R = 0, C = 0, wb = 0, kt = 0, KT = 0, NT = 0;
  int64_t Mb = 0, rt = 0, mb = 0, nb = 0, kb = 0;  // rt: rows per Compute region; mb: row tiles per block
  int64_t row_tiles = 0;                           // over the whole M
  int64_t BM = 0, BN = 0, BK = 0;
  int64_t a_tile = 0, w_tile = 0, o_tile = 0;      // bytes of one tile region
  int64_t a_half = 0, w_half = 0, o_half = 0;      // bytes of one block region (one half)
  int a_halves = 2, w_halves = 2, o_halves = 2;
  bool fits = false;
  std::string why;  // when it does not fit

  Geo(const ArrayTarget& t, const GemmSpec& g, const Mapping& m) {
    ws = t.dataflow == Dataflow::WeightStationary;
    R = t.rows, C = t.cols, wb = t.word_bytes;
    kt = m.k_tile, nb = m.n_tiles, kb = m.k_tiles, Mb = m.m_block;
    if (kt < 1 || nb < 1 || kb < 1 || Mb < 1) {
      why = "block sizes must be >= 1";
      return;
    }
    if (ws && kt != R) {
      why = "WS K tile must be the array rows";
      return;
    }
    if (!ws && Mb % R != 0 && Mb < g.m) {
      why = "OS row block must be a multiple of the array rows";
      return;
    }
    KT = cdiv(g.k, kt), NT = cdiv(g.n, C);
    nb = std::min(nb, NT), kb = std::min(kb, KT), Mb = std::min(Mb, ws ? g.m : cdiv(g.m, R) * R);
    rt = ws ? Mb : R;
    mb = ws ? 1 : cdiv(Mb, R);
    row_tiles = ws ? cdiv(g.m, Mb) : cdiv(g.m, R);
    BM = cdiv(g.m, Mb), BN = cdiv(NT, nb), BK = cdiv(KT, kb);
    a_tile = ws ? Mb * R : kt * R;
    w_tile = ws ? R * C : kt * C;
    o_tile = rt * C * wb;
    a_half = a_tile * mb * kb, w_half = w_tile * kb * nb, o_half = o_tile * mb * nb;
    a_halves = m.a_double ? 2 : 1, w_halves = m.w_double ? 2 : 1, o_halves = m.o_double ? 2 : 1;
    if (a_halves * a_half > t.input_buffer_bytes) why = "input buffer too small for the activation block";
    else if (w_halves * w_half > t.weight_buffer_bytes) why = "weight buffer too small for the weight block";
    else if (o_halves * o_half > t.output_buffer_bytes) why = "output buffer too small for the output block";
    else fits = true;
  }
};

// Slot of tile `pos` of a block region half: 128 slots per half (tiles beyond share a slot: conservative).
uint8_t slot_of(int half, int64_t pos) { return static_cast<uint8_t>(half * 128 + pos % 128); }

double bw(const ArrayTarget& t, int64_t width) {
  const double d = std::max(1, t.dram_bytes_per_cycle);
  return width > 0 ? std::min<double>(d, double(width)) : d;
}

void finish_estimate(MappingEstimate& e, const MappingCosts& costs) {
  e.energy_pj = double(e.dram_bytes()) * costs.dram_pj_per_byte + double(e.sram_bytes) * costs.sram_pj_per_byte;
}

}  // namespace

MappingObjective parse_mapping_objective(const std::string& s) {
  if (s == "dram") return MappingObjective::DramBytes;
  if (s == "cycles") return MappingObjective::Cycles;
  if (s == "energy") return MappingObjective::Energy;
  throw std::invalid_argument("mapping objective '" + s + "': expected dram, cycles or energy");
}

const char* mapping_objective_name(MappingObjective o) {
  switch (o) {
    case MappingObjective::DramBytes: return "dram";
    case MappingObjective::Cycles: return "cycles";
    case MappingObjective::Energy: return "energy";
  }
  return "?";
}

std::string Mapping::kind(const GemmSpec& g) const {
  if (fixed) return "fixed";
  if (k_tiles * k_tile < g.k) return "k-blocked";
  return order == LoopOrder::MOuter ? "act-resident" : "weight-resident";
}

std::string Mapping::describe(const GemmSpec& g) const {
  std::ostringstream o;
  o << kind(g) << " m=" << std::min(m_block, g.m) << " n-tiles=" << n_tiles << " k=" << std::min(g.k, k_tiles * k_tile)
    << ", K tile " << k_tile << " (" << (g.k + k_tile - 1) / k_tile << " K tiles)";
  if (!fixed) {
    o << ", " << (order == LoopOrder::MOuter ? "M-outer" : "N-outer");
    if (!(a_double && w_double && o_double))
      o << ", single-buffered " << (a_double ? "" : "A") << (w_double ? "" : "W") << (o_double ? "" : "O");
  }
  o << ", DRAM " << est.dram_read << " r + " << est.dram_written << " w bytes, ~" << est.cycles << " cycles (model)";
  return o.str();
}

MappingEstimate estimate_mapping(const ArrayTarget& t, const GemmSpec& g, const Mapping& m, const MappingCosts& costs) {
  t.validate();
  detail::validate_gemm(g);
  const bool ws = t.dataflow == Dataflow::WeightStationary;
  const int64_t R = t.rows, C = t.cols, wb = t.word_bytes, M = g.m, K = g.k, N = g.n;
  // The fixed order is the block schedule with one tile per block and no reuse at all.
  Mapping mm = m;
  if (m.fixed) {
    mm.order = LoopOrder::MOuter;
    mm.m_block = ws ? fixed_ws_m_tile(t, g) : R;
    mm.k_tile = ws ? R : fixed_os_k_tile(t, g);
    mm.n_tiles = mm.k_tiles = 1;
    mm.a_double = mm.w_double = mm.o_double = true;
  }
  const Geo G(t, g, mm);
  if (!G.fits) throw std::invalid_argument("mapping does not fit: " + G.why);
  MappingEstimate e;
  // Passes over A and B (see mapper.h: a block is kept only when K is one block and the next step needs it).
  const bool one_k = G.BK == 1 && !m.fixed;
  const int64_t pa = one_k && (mm.order == LoopOrder::MOuter || G.BM == 1) ? 1 : G.BN;
  const int64_t pw = one_k && (mm.order == LoopOrder::NOuter || G.BN == 1) ? 1 : G.BM;
  const int64_t a_bytes = a_pass_bytes(g);
  const int64_t a_loads = pa * G.row_tiles * G.KT, w_loads = pw * G.KT * G.NT;
  e.loads = uint64_t(a_loads + w_loads);
  e.stores = uint64_t(G.row_tiles * G.NT);
  e.computes = uint64_t(G.row_tiles * G.NT * G.KT);
  const bool post = g.post.enabled;
  // Post-processing: each store reads its columns' scales (and biases) and its rows' scales.
  const int64_t out_bytes = post ? model::out_format_bytes(g.post.out_fmt) : wb;
  const int64_t post_reads =
      post ? 4 * N * G.row_tiles * (g.post.has_bias ? 2 : 1) + (g.post.row_scales ? 4 * M * G.NT : 0) : 0;
  e.dram_read = uint64_t(pa * a_bytes + pw * K * N + post_reads);
  e.dram_written = uint64_t(M * N * out_bytes);
  // Buffer traffic (model): load regions written (zero fill included), array beats read, output rows
  // written (and read back when accumulating), stored words read.
  int64_t sram = a_loads * G.a_tile + w_loads * G.w_tile + M * N * wb;
  if (ws) sram += G.NT * G.KT * (G.BM * R * C + M * R) + G.NT * M * C * wb * (2 * G.KT - 1);
  else sram += G.row_tiles * G.NT * (K * (R + C) + R * C * wb * (2 * G.KT - 1));
  e.sram_bytes = uint64_t(sram);
  // Cycle model (mapper.h).
  const double lat = t.dram_latency, bin = bw(t, t.input_width_bytes), bwt = bw(t, t.weight_width_bytes),
               bout = bw(t, t.output_width_bytes);
  const int64_t store_bytes = M * N * out_bytes;
  // Array cycles per tile (tests/sim/test_sim_array.cpp derives them): WS, rows entering after R weight rows and
  // R + C - 2 cycles of skew, 2R + C - 2 + rows; with shadow weights the next tile's weights load under the
  // current one, so tiles follow each other every max(rows, 2R + C - 2) cycles. OS: K beats + 2R + C - 1 drain;
  // with shadow outputs every max(K, 2R + C - 1) cycles.
  const auto ws_tile = [&](int64_t rows) { return t.shadow_weights ? std::max(rows, 2 * R + C - 2) : 2 * R + C - 2 + rows; };
  const auto os_tile = [&](int64_t kr) { return t.shadow_outputs ? std::max(kr, 2 * R + C - 1) : kr + 2 * R + C - 1; };
  e.array_cycles = ws ? uint64_t(G.NT * G.KT * G.BM * ws_tile(std::min(G.Mb, M)))
                      : uint64_t(G.row_tiles * G.NT * G.KT * os_tile(std::min<int64_t>(G.kt, K)));
  const double dma = double(a_loads + w_loads + int64_t(e.stores)) * lat + double(pa * a_bytes) / bin +
                     double(pw * K * N) / bwt + double(store_bytes) / bout;
  e.dma_cycles = uint64_t(std::ceil(dma));
  // Per step (mapper.h): max(array, overlapped transfers) + transfers that cannot overlap (into a
  // single-buffered region the previous step still reads; stores of a single-buffered output block). Steps
  // differ only at the first and last index of each block dimension, so the sum runs over those classes.
  auto classes = [](int64_t B) {
    std::vector<std::pair<int64_t, int64_t>> v{{0, 1}};  // (representative index, count)
    if (B >= 3) v.push_back({1, B - 2});
    if (B >= 2) v.push_back({B - 1, 1});
    return v;
  };
  const double a_density = double(a_bytes) / double(M * K);  // implicit im2col: the non-padding share
  const bool mouter = mm.order == LoopOrder::MOuter;
  double total = 0, first_loads = 0;
  for (const auto& [ib, ci] : classes(G.BM))
    for (const auto& [jb, cj] : classes(G.BN))
      for (const auto& [kbi, ck] : classes(G.BK)) {
        const int64_t rows = std::min(G.Mb, M - ib * G.Mb);
        const int64_t ntv = std::min(G.nb, G.NT - jb * G.nb), ktv = std::min(G.kb, G.KT - kbi * G.kb);
        const int64_t cols = std::min(ntv * C, N - jb * G.nb * C), kr = std::min(ktv * G.kt, K - kbi * G.kb * G.kt);
        const int64_t row_tiles_here = ws ? 1 : (rows + R - 1) / R;
        const double array = ws ? double(ntv * ktv * ws_tile(rows))
                                : double(ntv * row_tiles_here * ktv * os_tile(std::min<int64_t>(G.kt, kr)));
        // The very first step (ib = jb = kbi = 0 in either order) always loads; later steps reuse as above.
        const bool first_of_order = mouter ? jb == 0 : ib == 0;
        const bool a_load = !one_k || (mouter ? first_of_order : (G.BM > 1 || jb == 0));
        const bool w_load = !one_k || (mouter ? (G.BN > 1 || ib == 0) : first_of_order);
        const double a_t = a_load ? double(row_tiles_here * ktv) * lat + double(rows * kr) * a_density / bin : 0;
        const double w_t = w_load ? double(ktv * ntv) * lat + double(kr * cols) / bwt : 0;
        const double o_t = kbi == G.BK - 1 ? double(row_tiles_here * ntv) * lat +
                                                 double(rows * cols * out_bytes) / bout
                                           : 0;
        double overlap = 0, serial = 0;
        (G.a_halves == 1 ? serial : overlap) += a_t;
        (G.w_halves == 1 ? serial : overlap) += w_t;
        (G.o_halves == 1 ? serial : overlap) += o_t;
        total += double(ci * cj * ck) * (std::max(array, overlap) + serial);
        if (ib == 0 && jb == 0 && kbi == 0) first_loads = a_t + w_t;
      }
  // The first step's loads precede every compute.
  e.cycles = uint64_t(std::ceil(total + first_loads));
  finish_estimate(e, costs);
  return e;
}

Mapping fixed_mapping(const ArrayTarget& t, const GemmSpec& g, const MappingCosts& costs) {
  Mapping m;
  m.fixed = true;
  const bool ws = t.dataflow == Dataflow::WeightStationary;
  m.m_block = ws ? fixed_ws_m_tile(t, g) : t.rows;
  m.k_tile = ws ? t.rows : fixed_os_k_tile(t, g);
  m.est = estimate_mapping(t, g, m, costs);
  return m;
}

std::vector<Mapping> enumerate_mappings(const ArrayTarget& t, const GemmSpec& g, const MappingCosts& costs) {
  std::vector<Mapping> out;
  out.push_back(fixed_mapping(t, g, costs));  // throws like lower_gemm when not even one tile fits
  const bool ws = t.dataflow == Dataflow::WeightStationary;
  const int64_t R = t.rows, C = t.cols;
  // Balanced block sizes: ceil(total / parts) for parts 1..16, then powers of two.
  auto splits = [](int64_t total) {
    std::set<int64_t> s;
    for (int64_t p = 1; p <= total; p = p < 16 ? p + 1 : p * 2) s.insert((total + p - 1) / p);
    s.insert(1);
    return std::vector<int64_t>(s.rbegin(), s.rend());  // largest first
  };
  std::vector<int64_t> kts;
  if (ws) {
    kts.push_back(R);
  } else {
    std::set<int64_t> s;
    const int64_t cap = std::min({g.k, t.input_buffer_bytes / R, t.weight_buffer_bytes / C,
                                  t.os_k_tile > 0 ? t.os_k_tile : g.k});
    for (int64_t p = 1; p <= 8; ++p) {
      const int64_t v = cdiv(g.k, p);
      if (v <= cap) s.insert(v);
    }
    s.insert(fixed_os_k_tile(t, g));
    if (cap >= 1) s.insert(cap);
    kts.assign(s.rbegin(), s.rend());
  }
  for (int64_t kt : kts) {
    const int64_t KT = cdiv(g.k, kt), NT = cdiv(g.n, C);
    std::vector<int64_t> mbs;
    if (ws) mbs = splits(g.m);
    else for (int64_t v : splits(cdiv(g.m, R))) mbs.push_back(v * R);
    for (int64_t Mb : mbs)
      for (int64_t nb : splits(NT))
        for (int64_t kb : splits(KT))
          for (int order = 0; order < 2; ++order)
            for (int dbl = 7; dbl >= 0; --dbl) {
              Mapping m;
              m.fixed = false;
              m.order = static_cast<LoopOrder>(order);
              m.m_block = Mb, m.n_tiles = nb, m.k_tiles = kb, m.k_tile = kt;
              m.a_double = dbl & 1, m.w_double = dbl & 2, m.o_double = dbl & 4;
              if (!Geo(t, g, m).fits) continue;
              m.est = estimate_mapping(t, g, m, costs);
              out.push_back(m);
            }
  }
  return out;
}

Mapping choose_mapping(const ArrayTarget& t, const GemmSpec& g, MappingObjective obj, const MappingCosts& costs) {
  const std::vector<Mapping> all = enumerate_mappings(t, g, costs);
  auto key = [&](const Mapping& m) {
    const MappingEstimate& e = m.est;
    switch (obj) {
      case MappingObjective::Cycles: return std::make_tuple(double(e.cycles), double(e.dram_bytes()), e.energy_pj);
      case MappingObjective::Energy: return std::make_tuple(e.energy_pj, double(e.cycles), double(e.dram_bytes()));
      case MappingObjective::DramBytes: break;
    }
    return std::make_tuple(double(e.dram_bytes()), double(e.cycles), e.energy_pj);
  };
  // Cycles: the model is a model (mapper.h); among the candidates within kCyclesTolerance of the fastest
  // estimate, the one with the least DRAM bytes wins (then cycles, energy, the earliest).
  double cycles_cap = 0;
  if (obj == MappingObjective::Cycles) {
    uint64_t best_cycles = all[0].est.cycles;
    for (const Mapping& m : all) best_cycles = std::min(best_cycles, m.est.cycles);
    cycles_cap = double(best_cycles) * (1.0 + kCyclesTolerance);
  }
  auto eligible = [&](const Mapping& m) { return obj != MappingObjective::Cycles || double(m.est.cycles) <= cycles_cap; };
  auto key2 = [&](const Mapping& m) {
    return obj == MappingObjective::Cycles
               ? std::make_tuple(double(m.est.dram_bytes()), double(m.est.cycles), m.est.energy_pj)
               : key(m);
  };
  size_t best = all.size();
  for (size_t i = 0; i < all.size(); ++i)
    if (eligible(all[i]) && (best == all.size() || key2(all[i]) < key2(all[best]))) best = i;  // strict: earliest of equals
  return all[best];
}

LoweredGemm lower_gemm(const ArrayTarget& t, const GemmSpec& g, const Mapping& map) {
  if (map.fixed) return lower_gemm(t, g);
  t.validate();
  detail::validate_gemm(g);
  const Geo G(t, g, map);
  if (!G.fits) throw std::invalid_argument("lower_gemm: mapping does not fit: " + G.why);
  const bool ws = G.ws;
  const int64_t R = G.R, C = G.C, wb = G.wb, kt = G.kt;
  const int64_t b_stride = g.b_stride ? g.b_stride : g.n, c_stride = g.n * wb;
  LoweredGemm L;
  L.k_chunk = kt;
  L.k_tile = kt;
  L.m_tile = G.rt;
  L.n_tile = C;

  struct Step {
    std::vector<Command> loads_a, loads_w, computes, stores;
    int a_half = -1, w_half = -1;            // halves this step reads
    bool loads_a_new = false, loads_w_new = false;
  };
  std::vector<Step> steps;
  uint32_t tile = 0;
  int64_t a_count = 0, w_count = 0, o_count = 0;
  int64_t cur_a_ib = -1, cur_w_jb = -1;
  int cur_a_half = 0, cur_w_half = 0;
  const int64_t outer = map.order == LoopOrder::MOuter ? G.BM : G.BN, inner = map.order == LoopOrder::MOuter ? G.BN : G.BM;
  for (int64_t bo = 0; bo < outer; ++bo)
    for (int64_t bi = 0; bi < inner; ++bi) {
      const int64_t ib = map.order == LoopOrder::MOuter ? bo : bi, jb = map.order == LoopOrder::MOuter ? bi : bo;
      const int o_half = int(o_count++ % G.o_halves);
      const int64_t m_lo = ib * G.Mb, m_hi = std::min(g.m, m_lo + G.Mb);
      const int64_t nt_lo = jb * G.nb, nt_hi = std::min(G.NT, nt_lo + G.nb);
      for (int64_t kbi = 0; kbi < G.BK; ++kbi) {
        Step s;
        const int64_t kt_lo = kbi * G.kb, kt_hi = std::min(G.KT, kt_lo + G.kb);
        // A block.
        if (G.BK == 1 && cur_a_ib == ib) {
          s.a_half = cur_a_half;
        } else {
          s.a_half = cur_a_half = int(a_count++ % G.a_halves);
          cur_a_ib = G.BK == 1 ? ib : -1;
          s.loads_a_new = true;
          for (int64_t kk = kt_lo; kk < kt_hi; ++kk)
            for (int64_t ii = 0; ii < G.mb; ++ii) {
              const int64_t r0 = ws ? m_lo : m_lo + ii * R;
              if (r0 >= m_hi) break;
              const int64_t rv = ws ? m_hi - m_lo : std::min(R, m_hi - r0);
              const int64_t k0 = kk * kt, kv = std::min(kt, g.k - k0);
              const int64_t pos = (kk - kt_lo) * G.mb + ii;
              Command a;
              a.op = Opcode::LoadActivations;
              a.layer = g.layer;
              a.tile = tile;
              detail::set_a_source(a, g, r0, rv, k0, kv);
              if (!ws) a.flags |= kFlagTranspose;
              a.buf_rows = u32(ws ? G.Mb : kt, "rows");
              a.buf_cols = u32(R, "cols");
              a.slot = slot_of(s.a_half, pos);
              a.buf_addr = u32(s.a_half * G.a_half + pos * G.a_tile, "input address");
              s.loads_a.push_back(a);
            }
        }
        // W block.
        if (G.BK == 1 && cur_w_jb == jb) {
          s.w_half = cur_w_half;
        } else {
          s.w_half = cur_w_half = int(w_count++ % G.w_halves);
          cur_w_jb = G.BK == 1 ? jb : -1;
          s.loads_w_new = true;
          for (int64_t nt = nt_lo; nt < nt_hi; ++nt)
            for (int64_t kk = kt_lo; kk < kt_hi; ++kk) {
              const int64_t n0 = nt * C, nv = std::min(C, g.n - n0), k0 = kk * kt, kv = std::min(kt, g.k - k0);
              const int64_t pos = (nt - nt_lo) * G.kb + (kk - kt_lo);
              Command w;
              w.op = Opcode::LoadWeights;
              w.layer = g.layer;
              w.tile = tile;
              w.dram_addr = g.b_addr + static_cast<uint64_t>(k0 * b_stride + n0);
              w.dram_stride = u32(b_stride, "B stride");
              w.rows = u32(kv, "k");
              w.cols = u32(nv, "n");
              w.buf_rows = u32(ws ? R : kt, "rows");
              w.buf_cols = u32(C, "cols");
              w.slot = slot_of(s.w_half, pos);
              w.buf_addr = u32(s.w_half * G.w_half + pos * G.w_tile, "weight address");
              s.loads_w.push_back(w);
            }
        }
        // Computes: for each output tile of the block, the K tiles of this K block in increasing k.
        for (int64_t nt = nt_lo; nt < nt_hi; ++nt)
          for (int64_t ii = 0; ii < G.mb; ++ii) {
            const int64_t r0 = ws ? m_lo : m_lo + ii * R;
            if (r0 >= m_hi) break;
            const int64_t rv = ws ? m_hi - m_lo : std::min(R, m_hi - r0);
            const int64_t n0 = nt * C, nv = std::min(C, g.n - n0);
            const int64_t opos = (nt - nt_lo) * G.mb + ii;
            for (int64_t kk = kt_lo; kk < kt_hi; ++kk) {
              const int64_t kv = std::min(kt, g.k - kk * kt);
              const int64_t apos = (kk - kt_lo) * G.mb + ii, wpos = (nt - nt_lo) * G.kb + (kk - kt_lo);
              Command c;
              c.op = Opcode::Compute;
              c.layer = g.layer;
              c.tile = tile++;
              c.flags = kk > 0 ? kFlagAccumulate : 0;
              c.a_slot = slot_of(s.a_half, apos);
              c.a_addr = u32(s.a_half * G.a_half + apos * G.a_tile, "input address");
              c.w_slot = slot_of(s.w_half, wpos);
              c.w_addr = u32(s.w_half * G.w_half + wpos * G.w_tile, "weight address");
              c.o_slot = slot_of(o_half, opos);
              c.o_addr = u32(o_half * G.o_half + opos * G.o_tile, "output address");
              c.m = u32(rv, "m");
              c.k = u32(kv, "k");
              c.n = u32(nv, "n");
              s.computes.push_back(c);
            }
            if (kbi + 1 < G.BK) continue;
            Command st;
            st.op = Opcode::Store;
            st.layer = g.layer;
            st.tile = tile - 1;
            st.dram_addr = g.c_addr + static_cast<uint64_t>((r0 * g.n + n0) * wb);
            st.dram_stride = u32(c_stride, "C stride");
            st.rows = u32(rv, "m");
            st.cols = u32(nv, "n");
            st.buf_rows = u32(G.rt, "rows");
            st.buf_cols = u32(C, "cols");
            st.slot = slot_of(o_half, opos);
            st.buf_addr = u32(o_half * G.o_half + opos * G.o_tile, "output address");
            // as in lower_gemm(t, g): converted outputs instead of accumulator words
            if (g.post.enabled) detail::set_post_process(st, g, r0, n0);
            s.stores.push_back(st);
          }
        steps.push_back(std::move(s));
      }
    }

  // Emission: the first step's loads; then per step: the previous block's stores, the computes with the next
  // step's loads into the other halves interleaved (evenly, from the first compute on), and the next step's
  // loads into a half this step still reads after the last compute.
  auto emit = [&](const std::vector<Command>& v) { L.commands.insert(L.commands.end(), v.begin(), v.end()); };
  std::vector<Command> pending;
  emit(ws ? steps[0].loads_w : steps[0].loads_a);
  emit(ws ? steps[0].loads_a : steps[0].loads_w);
  for (size_t si = 0; si < steps.size(); ++si) {
    Step& s = steps[si];
    std::vector<Command> early, late;
    if (si + 1 < steps.size()) {
      const Step& nx = steps[si + 1];
      const std::vector<Command>* first = ws ? &nx.loads_w : &nx.loads_a;
      const std::vector<Command>* second = ws ? &nx.loads_a : &nx.loads_w;
      for (const auto* v : {first, second}) {
        const bool is_a = v == &nx.loads_a;
        if (v->empty()) continue;
        const bool other_half = is_a ? nx.a_half != s.a_half : nx.w_half != s.w_half;
        (other_half ? early : late).insert((other_half ? early : late).end(), v->begin(), v->end());
      }
    }
    emit(pending);
    pending.clear();
    const size_t n = s.computes.size(), e = early.size();
    for (size_t i = 0; i < n; ++i) {
      L.commands.push_back(s.computes[i]);
      for (size_t j = (i * e + n - 1) / n; j < ((i + 1) * e + n - 1) / n; ++j) L.commands.push_back(early[j]);
    }
    emit(late);
    pending = s.stores;
  }
  emit(pending);
  L.tiles = tile;
  Command b;
  b.op = Opcode::Barrier;
  b.layer = g.layer;
  L.commands.push_back(b);
  return L;
}

}  // namespace fp8sim::firmware
