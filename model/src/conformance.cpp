#include "fp8sim/model/conformance.h"

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "fp8sim/model/fp8.h"
#include "fp8sim/model/gemm.h"
#include "fp8sim/model/mx.h"

namespace fp8sim::model {
namespace {

using json = nlohmann::json;

std::string i128_dec(int128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  uint128 u = neg ? static_cast<uint128>(-(v + 1)) + 1 : static_cast<uint128>(v);
  std::string s;
  while (u) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  return neg ? "-" + s : s;
}

std::string hex_bits(uint128 v, int bits) {
  std::string s;
  const int digits = (bits + 3) / 4;
  for (int d = digits - 1; d >= 0; --d) s += "0123456789abcdef"[static_cast<int>((v >> (4 * d)) & 0xF)];
  return "0x" + s;
}

json codes_json(const std::vector<uint8_t>& c) {
  json j = json::array();
  for (uint8_t x : c) j.push_back(hex_bits(x, 8));
  return j;
}

const char* class_name(ValueClass c) {
  switch (c) {
    case ValueClass::Finite: return "finite";
    case ValueClass::PosInf: return "+inf";
    case ValueClass::NegInf: return "-inf";
    case ValueClass::NaN: return "nan";
  }
  return "?";
}

json f32_word(uint32_t bits) {
  json r;
  r["word"] = hex_bits(bits, 32);
  const float v = f32_from_bits(bits);
  if (std::isnan(v))
    r["value"] = "nan";
  else if (std::isinf(v))
    r["value"] = v > 0 ? "+inf" : "-inf";
  else
    r["value"] = static_cast<double>(v);
  return r;
}

GemmNumerics fp8_num(Fp8Kind a, Fp8Kind b, const std::string& sem) {
  GemmNumerics n;
  n.a_kind = a;
  n.b_kind = b;
  const std::string err = parse_mac_semantics(sem, n);
  if (!err.empty()) throw std::logic_error(err);
  return n;
}

json fp8_vector(const std::string& id, const std::string& note, Fp8Kind ak, Fp8Kind bk, const std::vector<uint8_t>& a,
                const std::vector<uint8_t>& b, const std::vector<std::string>& sems) {
  json v;
  v["id"] = id;
  if (!note.empty()) v["note"] = note;
  v["operands"] = "fp8";
  v["a_format"] = fp8_format(ak).name;
  v["b_format"] = fp8_format(bk).name;
  const int64_t k = static_cast<int64_t>(a.size());
  v["k"] = k;
  v["a"] = codes_json(a);
  v["b"] = codes_json(b);
  json res = json::array();
  for (const auto& s : sems) {
    const GemmNumerics n = fp8_num(ak, bk, s);
    const AccWord w = golden_gemm(n, AccumulationOrder{}, 1, k, 1, a.data(), b.data()).at(0);
    json r;
    r["semantics"] = mac_semantics_name(n);
    if (n.acc == AccumulatorKind::FixedPoint) {
      const int width = n.fixed_width(k);
      r["word"] = hex_bits(static_cast<uint128>(w.raw) & ((uint128{1} << width) - 1), width);
      r["word_bits"] = width;
      r["raw"] = i128_dec(w.raw);
      r["lsb_exp"] = n.lsb_exp();
      r["class"] = class_name(w.cls);
      r["value"] = w.cls == ValueClass::Finite ? json(acc_word_value(n, w)) : json(class_name(w.cls));
    } else {
      r.update(f32_word(static_cast<uint32_t>(w.raw)));
    }
    res.push_back(r);
  }
  v["results"] = res;
  return v;
}

std::string mx_sem_name(const MxGemmNumerics& n) {
  switch (n.acc) {
    case AccumulatorKind::FixedPoint: return "mx-exact";
    case AccumulatorKind::Float32: return "mx-fp32";
    case AccumulatorKind::BlockFp32: return "mx-block-fp32";
    case AccumulatorKind::PromoteFp32:
      return "mx-promote-" + std::to_string(n.promote_n) + "(p" + std::to_string(n.narrow_precision) + ")";
    default: return "?";
  }
}

json mx_vector(const std::string& id, const std::string& note, MxKind ak, MxKind bk, int bs,
               const std::vector<uint8_t>& a, const std::vector<uint8_t>& as, const std::vector<uint8_t>& b,
               const std::vector<uint8_t>& bsc, const std::vector<MxGemmNumerics>& sems) {
  json v;
  v["id"] = id;
  if (!note.empty()) v["note"] = note;
  v["operands"] = "mx";
  v["a_format"] = mx_format(ak).name;
  v["b_format"] = mx_format(bk).name;
  v["block_size"] = bs;
  const int64_t k = static_cast<int64_t>(a.size());
  v["k"] = k;
  v["a"] = codes_json(a);
  v["a_scales"] = codes_json(as);
  v["b"] = codes_json(b);
  v["b_scales"] = codes_json(bsc);
  json res = json::array();
  for (MxGemmNumerics n : sems) {
    n.a_kind = ak;
    n.b_kind = bk;
    n.block_size = bs;
    const AccWord w = golden_gemm_mx(n, AccumulationOrder{}, 1, k, 1, a.data(), as.data(), b.data(), bsc.data()).at(0);
    json r;
    r["semantics"] = mx_sem_name(n);
    r.update(f32_word(static_cast<uint32_t>(w.raw)));
    res.push_back(r);
  }
  v["results"] = res;
  return v;
}

MxGemmNumerics mxs(AccumulatorKind acc, int promote_n = 128, int p = 14) {
  MxGemmNumerics n;
  n.acc = acc;
  n.promote_n = promote_n;
  n.narrow_precision = p;
  return n;
}

// Random finite codes of a format (NaN/Inf codes skipped).
std::vector<uint8_t> random_codes(std::mt19937& rng, const Fp8Format& f, size_t n) {
  std::uniform_int_distribution<int> d(0, (1 << f.bits()) - 1);
  std::vector<uint8_t> c;
  while (c.size() < n) {
    const auto x = static_cast<uint8_t>(d(rng));
    if (!fp8_is_nan(f, x) && !fp8_is_inf(f, x)) c.push_back(x);
  }
  return c;
}

}  // namespace

json conformance_vectors(uint32_t seed, int random_per_format) {
  json out;
  out["fp8sim_conformance"] = 1;
  out["schema"] = {
      {"vector", "a dot product sum_k a[k] * b[k] (one output of a 1 x K x 1 GEMM); codes are hex bytes, narrow "
                 "element codes right-aligned (FP6 0b00SEEMMM, FP4 0b0000SEEM)"},
      {"fp8", "a_format/b_format: rows of fp8sim's format table (e4m3 = OCP E4M3, e5m2 = OCP E5M2, ...)"},
      {"mx", "a: K element codes with a_scales: ceil(K / block_size) E8M0 codes (block j covers k in "
             "[j*block_size, (j+1)*block_size)); b likewise; a_format/b_format: MX format names"},
      {"word", "fixed point (exact): the accumulator register, word_bits wide two's complement, value = raw * "
               "2^lsb_exp, class for NaN/Inf; float semantics: the float32 bit pattern (NaN 0x7fc00000)"},
  };
  out["semantics"] = {
      {"exact", "exact fixed-point (Kulisch) sum of all products; word = the register"},
      {"fp32", "acc = fl32(acc + p) after every product, acc starts at +0, k increasing"},
      {"block-fp32(B)", "each block of B consecutive products summed exactly, rounded once to float32, added "
                        "to a float32 accumulator: acc = fl32(acc + fl32(S_b))"},
      {"promote-N(pP)", "narrow float accumulator of P significand bits (float32 exponent range, RNE, one "
                        "rounding of the exact sum per product), added to a float32 accumulator after every N "
                        "products and after the last, then reset to +0"},
      {"mx-*", "MX: each block pair's products summed exactly and scaled by 2^((sa-127)+(sb-127)) exactly; "
               "mx-block-fp32: acc = fl32(acc + fl32(block)); mx-exact: exact sum of all blocks rounded once "
               "to float32; mx-fp32: every scaled product rounded to float32 and added in float32; "
               "mx-promote-N(pP): the narrow accumulator over scaled products"},
      {"rounding", "round to nearest, ties to even, subnormals kept, overflow to +-Inf"},
  };
  json vecs = json::array();
  const std::vector<std::string> hand_sems = {"exact", "fp32", "block-fp32:2", "promote:2:14"};
  // Worked example of the README: products 2^16, 2^-8, -2^16, 3 * 2^-9 (E4M3: 256*256, 2^-4*2^-4,
  // -256*256, 0.75*2^-7).
  const std::vector<uint8_t> wa = {0x78, 0x18, 0xF8, 0x34}, wb = {0x78, 0x18, 0x78, 0x04};
  vecs.push_back(fp8_vector("fp8-worked", "README worked example; hand-derived in test_mac_semantics.cpp",
                            Fp8Kind::E4M3, Fp8Kind::E4M3, wa, wb, hand_sems));
  // The same codes as MX blocks of 2: scales 2^3/2^-3 and 2^-2/2^2 cancel (same results as FP8), then
  // a scale of 2 on block 0 of A.
  const std::vector<MxGemmNumerics> mx_hand = {mxs(AccumulatorKind::FixedPoint), mxs(AccumulatorKind::Float32),
                                               mxs(AccumulatorKind::BlockFp32), mxs(AccumulatorKind::PromoteFp32, 2, 14)};
  vecs.push_back(mx_vector("mx-worked-cancel", "scales multiply exactly: 2^3 * 2^-3 and 2^-2 * 2^2",
                           MxKind::MXFP8_E4M3, MxKind::MXFP8_E4M3, 2, wa, {130, 125}, wb, {124, 129}, mx_hand));
  vecs.push_back(mx_vector("mx-worked-scaled", "block 0 of A scaled by 2 (E8M0 128)", MxKind::MXFP8_E4M3,
                           MxKind::MXFP8_E4M3, 2, wa, {128, 127}, wb, {127, 127}, mx_hand));
  // Special values.
  vecs.push_back(fp8_vector("fp8-e5m2-inf", "+Inf * 1 + 1 * 1 = +Inf", Fp8Kind::E5M2, Fp8Kind::E5M2, {0x7C, 0x3C},
                            {0x3C, 0x3C}, hand_sems));
  vecs.push_back(fp8_vector("fp8-e5m2-inf-minus-inf", "+Inf + -Inf = NaN", Fp8Kind::E5M2, Fp8Kind::E5M2,
                            {0x7C, 0xFC}, {0x3C, 0x3C}, hand_sems));
  vecs.push_back(fp8_vector("fp8-e4m3-nan", "NaN operand", Fp8Kind::E4M3, Fp8Kind::E4M3, {0x7F, 0x38},
                            {0x38, 0x38}, hand_sems));
  vecs.push_back(mx_vector("mx-nan-scale", "E8M0 0xFF makes its block NaN", MxKind::MXFP4, MxKind::MXFP4, 2,
                           {0x2, 0x2, 0x2, 0x2}, {127, 0xFF}, {0x2, 0x2, 0x2, 0x2}, {127, 127}, mx_hand));
  vecs.push_back(mx_vector("mx-extreme-scales", "scales 2^127 * 2^127 and 2^-127 * 2^-127: float32 overflow in "
                           "one block, far below float32 in the other", MxKind::MXINT8, MxKind::MXINT8, 1,
                           {0x40, 0x40}, {254, 0}, {0x40, 0x40}, {254, 0}, mx_hand));

  std::mt19937 rng(seed);
  const std::vector<std::string> rand_sems = {"exact", "fp32", "block-fp32:16", "block-fp32:32", "promote:32:14",
                                              "promote:128:14"};
  const std::pair<Fp8Kind, Fp8Kind> pairs[] = {{Fp8Kind::E4M3, Fp8Kind::E4M3}, {Fp8Kind::E5M2, Fp8Kind::E5M2},
                                               {Fp8Kind::E4M3, Fp8Kind::E5M2}};
  for (const auto& [ak, bk] : pairs)
    for (int i = 0; i < random_per_format; ++i) {
      const auto a = random_codes(rng, fp8_format(ak), 64), b = random_codes(rng, fp8_format(bk), 64);
      vecs.push_back(fp8_vector("fp8-random-" + std::string(fp8_format(ak).name) + "x" +
                                    std::string(fp8_format(bk).name) + "-" + std::to_string(i),
                                "", ak, bk, a, b, rand_sems));
    }
  const std::vector<MxGemmNumerics> mx_rand = {mxs(AccumulatorKind::FixedPoint), mxs(AccumulatorKind::Float32),
                                               mxs(AccumulatorKind::BlockFp32), mxs(AccumulatorKind::PromoteFp32, 32, 14)};
  std::uniform_int_distribution<int> sc(117, 137);
  for (int mk = 0; mk < kMxKindCount; ++mk)
    for (int i = 0; i < random_per_format; ++i) {
      const MxFormat& f = mx_format(MxKind(mk));
      const auto a = random_codes(rng, f.elem(), 64), b = random_codes(rng, f.elem(), 64);
      std::vector<uint8_t> as(2), bs(2);
      for (auto& s : as) s = static_cast<uint8_t>(sc(rng));
      for (auto& s : bs) s = static_cast<uint8_t>(sc(rng));
      vecs.push_back(mx_vector("mx-random-" + std::string(f.name) + "-" + std::to_string(i), "", MxKind(mk),
                               MxKind(mk), 32, a, as, b, bs, mx_rand));
    }
  out["vectors"] = vecs;
  return out;
}

}  // namespace fp8sim::model
