// The MX array's cycle model (sim/mx_array.h, make_mx_array) at the array level: exact beat/output timing
// derived from rtl/mx_array.v's header, output words against model::golden_gemm_mx (exact semantics), and
// (with the Verilated MX arrays built) the RTL's cell words, out_valid and output words edge by edge.
#include <catch2/catch.hpp>

#include <random>

#include "fp8sim/model/gemm.h"
#include "fp8sim/sim/mx_array.h"
#include "test_mx_util.h"

using namespace fp8sim;
using namespace fp8sim::sim;

namespace {

struct Product {
  int64_t k = 0;
  simtest::MxOperands op;  // A: R x K, B: K x C
};

// Drives `products` back to back through `arrays` (the same inputs to each): a beat whenever in_ready, never
// back-pressured. Records, per array, the cycle of every output row and the rows' words; after every edge the
// arrays must agree on in_ready, out_valid, the output words and (compare_cells) every cell's Kulisch word.
struct Trace {
  std::vector<uint64_t> first_beat, out_cycles;
  std::vector<std::vector<uint128>> rows;
};
std::vector<Trace> drive(const std::vector<ArrayCore*>& arrays, const std::vector<Product>& products, int B,
                         bool compare_cells, uint64_t max_cycles = 5000) {
  const int R = arrays[0]->params().rows, C = arrays[0]->params().cols;
  std::vector<Trace> tr(arrays.size());
  size_t p = 0;
  int64_t k = 0;
  std::vector<uint8_t> a(static_cast<size_t>(R)), b(static_cast<size_t>(C)), sa(static_cast<size_t>(R)), sb(static_cast<size_t>(C));
  std::vector<uint128> w(static_cast<size_t>(C)), w0(static_cast<size_t>(C));
  for (uint64_t t = 0; t < max_cycles; ++t) {
    ArrayInputs in;
    const bool ready = arrays[0]->in_ready(false, true);
    for (ArrayCore* x : arrays) REQUIRE(x->in_ready(false, true) == ready);
    const bool ov = arrays[0]->out_valid();
    for (size_t i = 0; i < arrays.size(); ++i) {
      REQUIRE(arrays[i]->out_valid() == ov);
      if (!ov) continue;
      arrays[i]->out_words(w.data());
      tr[i].out_cycles.push_back(t);
      tr[i].rows.push_back(w);
      if (i == 0) w0 = w;
      else REQUIRE(w == w0);
    }
    if (p < products.size() && ready) {
      const Product& pr = products[p];
      const int64_t nb = (pr.k + B - 1) / B, kb = k / B;
      for (int r = 0; r < R; ++r) a[size_t(r)] = pr.op.a[size_t(r * pr.k + k)], sa[size_t(r)] = pr.op.s.a[size_t(r * nb + kb)];
      for (int c = 0; c < C; ++c) b[size_t(c)] = pr.op.b[size_t(k * C + c)], sb[size_t(c)] = pr.op.s.b[size_t(c * nb + kb)];
      in.valid = true;
      in.a = a.data(), in.b = b.data(), in.sa = sa.data(), in.sb = sb.data();
      in.mx_first = k == 0;
      in.mx_blk_last = k % B == B - 1 || k + 1 == pr.k;
      in.mx_fin = k + 1 == pr.k;
      if (k == 0)
        for (Trace& x : tr) x.first_beat.push_back(t);
      if (++k == pr.k) k = 0, ++p;
    }
    for (ArrayCore* x : arrays) x->edge(in);
    if (compare_cells)
      for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) {
          const auto ref = mx_cell_words(*arrays[0], r, c);
          for (size_t i = 1; i < arrays.size(); ++i) REQUIRE(mx_cell_words(*arrays[i], r, c) == ref);
        }
    if (p == products.size() && tr[0].out_cycles.size() == products.size() * size_t(R) && !arrays[0]->active()) break;
  }
  return tr;
}

// golden_gemm_mx, exact semantics, of one product (R x K by K x C).
std::vector<model::AccWord> golden(const ArrayParams& p, const Product& pr) {
  const auto bs = simtest::mx_b_scales_kn(pr.op.s, pr.k, p.cols, p.mx_block);
  return model::golden_gemm_mx(mx_gemm_numerics(p), model::AccumulationOrder{0}, p.rows, pr.k, p.cols, pr.op.a.data(),
                               pr.op.s.a.data(), pr.op.b.data(), bs.data());
}

void check_words(const ArrayParams& p, const Trace& tr, const std::vector<Product>& products) {
  const int R = p.rows, C = p.cols;
  for (size_t q = 0; q < products.size(); ++q) {
    const auto g = golden(p, products[q]);
    for (int i = 0; i < R; ++i) {
      const int row = R - 1 - i;  // bottom row first
      for (int c = 0; c < C; ++c) {
        INFO("product " << q << " row " << row << " col " << c);
        REQUIRE(static_cast<uint32_t>(tr.rows[q * size_t(R) + size_t(i)][size_t(c)]) ==
                static_cast<uint32_t>(g[size_t(row * C + c)].raw));
      }
    }
  }
}

}  // namespace

// Timing, derived from rtl/mx_array.v's header (not from the model): beat k enters at the edge ending cycle k;
// cell (r, c) registers it at edge k + r + c and its PE takes it at edge k + r + c + 1; a block closed at
// edge t is in the accumulator after edge t + 1, where the PE's acc_done register also rises. The last beat
// (k = K - 1) closes the final block of the last cell (R-1, C-1) at edge (K-1) + (R-1) + (C-1) + 1 = K+R+C-2,
// so acc_done is high in cycle K + R + C: the output stage (sim/mx_array.h) presents row R-1 then, and rows
// R-2 .. 0 in the next R - 1 cycles (never back-pressured): rows in cycles K+R+C .. K+2R+C-1. in_ready is low
// from cycle K (after the in_fin beat) until the last row has left, so the next product's first beat enters in
// cycle K + 2R + C: T products of K beats take T (K + 2R + C) cycles.
TEST_CASE("mx array: stall-free beat and output timing, words equal golden_gemm_mx (exact)", "[sim][mx]") {
  std::mt19937_64 rng(1301);
  for (auto kind : {model::MxKind::MXFP8_E4M3, model::MxKind::MXINT8, model::MxKind::MXFP4, model::MxKind::MXFP8_E5M2}) {
    ArrayParams p;
    p.rows = 3, p.cols = 5;
    set_mx_array(p, kind, 32);
    const int R = p.rows, C = p.cols;
    std::vector<Product> prods;
    for (int64_t k : {70, 32, 5}) prods.push_back({k, simtest::mx_random_operands(kind, 32, R, k, C, rng)});
    auto arr = make_mx_array(p);
    const auto tr = drive({arr.get()}, prods, 32, false);
    REQUIRE(tr[0].out_cycles.size() == prods.size() * size_t(R));
    uint64_t start = 0;
    for (size_t q = 0; q < prods.size(); ++q) {
      const uint64_t K = uint64_t(prods[q].k);
      REQUIRE(tr[0].first_beat[q] == start);
      for (int i = 0; i < R; ++i) REQUIRE(tr[0].out_cycles[q * size_t(R) + size_t(i)] == start + K + R + C + i);
      start += K + 2 * R + C;
    }
    check_words(p, tr[0], prods);
  }
}

TEST_CASE("mx array: block sizes other than 32 and specials (NaN scale, zero blocks)", "[sim][mx]") {
  std::mt19937_64 rng(1302);
  ArrayParams p;
  p.rows = 2, p.cols = 3;
  set_mx_array(p, model::MxKind::MXFP8_E4M3, 8);
  std::vector<Product> prods;
  prods.push_back({20, simtest::mx_random_operands(model::MxKind::MXFP8_E4M3, 8, 2, 20, 3, rng)});
  prods.push_back({20, simtest::mx_random_operands(model::MxKind::MXFP8_E4M3, 8, 2, 20, 3, rng)});
  prods[1].op.s.a[1] = model::kE8M0NaN;  // row 0, block 1: NaN scale -> row 0 all NaN
  auto arr = make_mx_array(p);
  const auto tr = drive({arr.get()}, prods, 8, false);
  check_words(p, tr[0], prods);
  // rows leave bottom first: product 1's row 0 is the 4th row out
  for (int c = 0; c < 3; ++c) REQUIRE(static_cast<uint32_t>(tr[0].rows[3][size_t(c)]) == model::kCanonicalNaN32);
}

TEST_CASE("mx array: cycle model and fast array against the Verilated rtl/mx_array.v, cell words every edge", "[sim][mx][rtl]") {
  ArrayParams p;
  p.rows = 8, p.cols = 8;
  set_mx_array(p, model::MxKind::MXFP8_E4M3, 32);
  if (!rtl_mx_array_available(p)) {
    WARN("no Verilated MX arrays in this build: skipped");
    return;
  }
  std::mt19937_64 rng(1303);
  for (auto kind : {model::MxKind::MXFP8_E4M3, model::MxKind::MXINT8}) {
    set_mx_array(p, kind, 32);
    std::vector<Product> prods;
    for (int64_t k : {96, 40, 1}) prods.push_back({k, simtest::mx_random_operands(kind, 32, 8, k, 8, rng)});
    auto model_arr = make_mx_array(p);
    auto rtl_arr = make_rtl_mx_array(p);
    auto fast_arr = make_mx_fast_array(p);  // the fast engine's array beside them (sim/src/mx_fast_array.cpp)
    const auto tr = drive({model_arr.get(), rtl_arr.get(), fast_arr.get()}, prods, 32, true);
    REQUIRE(tr[1].out_cycles == tr[0].out_cycles);
    REQUIRE(tr[2].out_cycles == tr[0].out_cycles);
    check_words(p, tr[1], prods);
    check_words(p, tr[2], prods);
  }
}
