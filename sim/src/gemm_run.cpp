#include "fp8sim/sim/gemm_run.h"

#include <algorithm>
#include <cmath>

#include <cstring>
#include <stdexcept>

#include "fp8sim/model/fp8.h"
#include "fp8sim/model/requant.h"
#include "fp8sim/sim/mx_array.h"

namespace fp8sim::sim {

std::vector<uint8_t> random_codes(const model::GemmNumerics& num, bool b_operand, int64_t count, std::mt19937_64& rng,
                                  unsigned special_per_mille) {
  std::vector<uint8_t> v(static_cast<size_t>(count));
  const model::Fp8Format& f = model::fp8_format(b_operand ? num.b_kind : num.a_kind);
  for (auto& x : v) {
    x = static_cast<uint8_t>(rng());
    if (num.int8) continue;
    const bool allow_special = rng() % 1000 < special_per_mille;
    while (!allow_special && (model::fp8_is_nan(f, x) || model::fp8_is_inf(f, x))) x = static_cast<uint8_t>(rng());
  }
  return v;
}

MxScales random_mx_operands(const ArrayParams& p, int64_t m, int64_t k, int64_t n, std::mt19937_64& rng,
                            std::vector<uint8_t>& a, std::vector<uint8_t>& b) {
  if (!p.mx) throw std::invalid_argument("random_mx_operands: not an MX array");
  const model::MxConfig cfg{p.mx_kind, p.mx_block};
  const int64_t bs = p.mx_block, nb = (k + bs - 1) / bs;
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(k));
  auto fill = [&]() {
    for (int64_t b0 = 0; b0 < k; b0 += bs) {
      const int e = static_cast<int>(rng() % 25) - 12;
      for (int64_t i = b0; i < std::min(k, b0 + bs); ++i) v[size_t(i)] = std::ldexp(nd(rng), e);
    }
  };
  MxScales s;
  a.assign(size_t(m * k), 0);
  b.assign(size_t(k * n), 0);
  s.a.assign(size_t(m * nb), 0);
  s.b.assign(size_t(n * nb), 0);
  for (int64_t i = 0; i < m; ++i) {
    fill();
    model::mx_quantize(cfg, v.data(), size_t(k), a.data() + i * k, s.a.data() + i * nb);
  }
  std::vector<uint8_t> col(static_cast<size_t>(k));
  for (int64_t j = 0; j < n; ++j) {
    fill();
    model::mx_quantize(cfg, v.data(), size_t(k), col.data(), s.b.data() + j * nb);
    for (int64_t kk = 0; kk < k; ++kk) b[size_t(kk * n + j)] = col[size_t(kk)];
  }
  return s;
}

GemmJob make_gemm_job(const AcceleratorConfig& cfg, int64_t m, int64_t k, int64_t n, std::vector<uint8_t> a,
                      std::vector<uint8_t> b, Engine engine, const GemmPostJob* post,
                      const firmware::Mapping* mapping, const GemmPlacement& placement, const ConvInput* conv,
                      const MxScales* mx) {
  GemmJob j;
  j.m = m, j.k = k, j.n = n;
  j.a = std::move(a);
  j.b = std::move(b);
  if (mx && (m < 1 || k < 1 || n < 1 || int64_t(j.a.size()) != m * k || int64_t(j.b.size()) != k * n))
    throw std::invalid_argument("make_gemm_job: MX GEMM: A must hold M x K codes and B K x N codes");
  const int64_t mx_block = cfg.array.mx_block, mx_nb = (k + mx_block - 1) / mx_block;
  if (cfg.array.mx != (mx != nullptr))
    throw std::invalid_argument(cfg.array.mx ? "make_gemm_job: the MX array needs the operands' block scales (MxScales)"
                                             : "make_gemm_job: MX scales given, but the configuration's array is not an MX array");
  if (mx) {
    if (int64_t(mx->a.size()) != m * mx_nb || int64_t(mx->b.size()) != n * mx_nb)
      throw std::invalid_argument("make_gemm_job: MX scales must be M x ceil(K/" + std::to_string(mx_block) + ") = " +
                                  std::to_string(m * mx_nb) + " (A) and N x ceil(K/B) = " + std::to_string(n * mx_nb) +
                                  " (B) bytes; got " + std::to_string(mx->a.size()) + " and " + std::to_string(mx->b.size()));
    // The PE's Kulisch register (rtl/mx_pe.v KBLK_BITS = 7) is exact for up to 128 blocks per dot product.
    if (mx_nb > 128)
      throw std::invalid_argument("make_gemm_job: K = " + std::to_string(k) + " has " + std::to_string(mx_nb) +
                                  " MX blocks; the MX PE's accumulator is exact for at most 128");
    if (mapping) throw std::invalid_argument("make_gemm_job: MX GEMMs use the fixed MX lowering (no mapping)");
    j.mx = true;
    j.mx_scales = *mx;
  }
  if (conv) {
    const firmware::ConvSpec& c = conv->conv;
    if (conv->nhwc.size() != size_t(c.batch * c.in_h * c.in_w * c.in_c) || m != c.batch * c.out_h() * c.out_w() ||
        k != c.kh * c.kw * c.in_c || n != c.out_c)
      throw std::invalid_argument("make_gemm_job: the convolution's input or shape does not match the GEMM");
  }
  const auto align = [](uint64_t x) { return (x + 63) / 64 * 64; };
  j.a_addr = 0;
  j.b_addr = align(conv ? uint64_t(conv->nhwc.size()) : uint64_t(m * k));
  j.c_addr = align(j.b_addr + uint64_t(k * n));
  firmware::GemmSpec g;
  if (conv) g = firmware::conv_as_gemm(conv->conv, j.a_addr, j.b_addr, j.c_addr, 0, true, conv->pad_code);
  g.m = m, g.k = k, g.n = n, g.a_addr = j.a_addr, g.b_addr = j.b_addr, g.c_addr = j.c_addr;
  uint64_t dram = j.c_addr + uint64_t(m * n * cfg.word_bytes());
  if (post) {
    if (int64_t(post->col_scales.size()) != n || (!post->row_scales.empty() && int64_t(post->row_scales.size()) != m) ||
        (!post->bias.empty() && int64_t(post->bias.size()) != n))
      throw std::invalid_argument("make_gemm_job: post-processing parameters do not match the GEMM's shape");
    // No accumulator words reach DRAM: the parameters and the outputs take C's place.
    j.post = true;
    j.out_fmt = post->out_fmt;
    g.post.enabled = true;
    g.post.scale_addr = j.c_addr;
    g.post.bias_addr = align(g.post.scale_addr + 4 * uint64_t(n));
    g.post.row_scale_addr = align(g.post.bias_addr + 4 * uint64_t(n));
    g.post.out_addr = j.out_addr = align(g.post.row_scale_addr + 4 * uint64_t(m));
    g.post.out_fmt = post->out_fmt;
    g.post.out_scale = post->out_scale;
    g.post.via_bf16 = post->via_bf16;
    g.post.has_bias = !post->bias.empty();
    g.post.row_scales = !post->row_scales.empty();
    dram = std::max(dram, j.out_addr + uint64_t(m * n * model::out_format_bytes(post->out_fmt)));
    if (post->mx_out) {
      if (!mx) throw std::invalid_argument("make_gemm_job: MX outputs need an MX array");
      j.mx_out = g.post.mx_out = true;
      g.post.out_fmt = j.out_fmt = 0;  // one byte per element code
      j.mx_out_scale_addr = g.post.mx_out_scale_addr = align(j.out_addr + uint64_t(m * n));
      dram = std::max(dram, j.mx_out_scale_addr + uint64_t(m * ((n + mx_block - 1) / mx_block)));
    }
  }
  if (mx) {  // the scales after everything else: A's M x nb, then B's N x nb
    j.a_scale_addr = align(dram);
    j.b_scale_addr = align(j.a_scale_addr + uint64_t(m * mx_nb));
    dram = j.b_scale_addr + uint64_t(n * mx_nb);
    g.mx.enabled = true;
    g.mx.block = int(mx_block);
    g.mx.a_scale_addr = j.a_scale_addr;
    g.mx.b_scale_addr = j.b_scale_addr;
  }
  j.lowered = mapping ? firmware::lower_gemm(cfg.target(), g, *mapping) : firmware::lower_gemm(cfg.target(), g);
  if ((placement.a_on_chip || placement.b_on_chip || placement.out_on_chip) && cfg.activation_sram.size_bytes == 0)
    throw std::invalid_argument("make_gemm_job: on-chip placement, but the configuration has no activation SRAM");
  if (placement.out_on_chip && !post)
    throw std::invalid_argument("make_gemm_job: outputs on chip need on-chip post-processing");
  for (firmware::Command& c : j.lowered.commands)
    if ((c.op == firmware::Opcode::LoadActivations && placement.a_on_chip) ||
        (c.op == firmware::Opcode::LoadWeights && placement.b_on_chip) ||
        (c.op == firmware::Opcode::PostProcess && placement.out_on_chip))
      c.flags |= firmware::kFlagOnChip;
  std::vector<firmware::Command> cmds = j.lowered.commands;
  firmware::finish_stream(cmds);
  j.acc = std::make_unique<Accelerator>(cfg, dram, engine);
  if (conv)
    std::copy(conv->nhwc.begin(), conv->nhwc.end(), j.acc->dram().begin() + j.a_addr);
  else
    std::copy(j.a.begin(), j.a.end(), j.acc->dram().begin() + j.a_addr);
  std::copy(j.b.begin(), j.b.end(), j.acc->dram().begin() + j.b_addr);
  if (mx) {
    std::copy(mx->a.begin(), mx->a.end(), j.acc->dram().begin() + j.a_scale_addr);
    std::copy(mx->b.begin(), mx->b.end(), j.acc->dram().begin() + j.b_scale_addr);
  }
  if (post) {
    auto put = [&](uint64_t addr, const std::vector<float>& v) {
      if (!v.empty()) std::memcpy(j.acc->dram().data() + addr, v.data(), 4 * v.size());
    };
    put(g.post.scale_addr, post->col_scales);
    put(g.post.bias_addr, post->bias);
    put(g.post.row_scale_addr, post->row_scales);
  }
  j.acc->load_program(std::move(cmds));
  return j;
}

GemmJob make_conv_job(const AcceleratorConfig& cfg, const firmware::ConvSpec& c, const std::vector<uint8_t>& input_nhwc,
                      std::vector<uint8_t> b, Engine engine, const firmware::Mapping* mapping, uint8_t pad_code) {
  if (cfg.array.mx)
    throw std::invalid_argument("make_conv_job: an MX array needs block scales: use make_gemm_job with ConvInput and MxScales");
  if (input_nhwc.size() != size_t(c.batch * c.in_h * c.in_w * c.in_c))
    throw std::invalid_argument("make_conv_job: input size differs from batch * in_h * in_w * in_c");
  GemmJob j;
  j.a = firmware::im2col(c, input_nhwc.data(), pad_code);  // host side only, for golden()
  j.m = c.batch * c.out_h() * c.out_w(), j.k = c.kh * c.kw * c.in_c, j.n = c.out_c;
  if (b.size() != size_t(j.k * j.n)) throw std::invalid_argument("make_conv_job: weights are not K x out_c");
  j.b = std::move(b);
  const auto align = [](uint64_t x) { return (x + 63) / 64 * 64; };
  j.a_addr = 0;
  j.b_addr = align(input_nhwc.size());
  j.c_addr = align(j.b_addr + j.b.size());
  const uint64_t dram = j.c_addr + uint64_t(j.m * j.n * cfg.word_bytes());
  const firmware::GemmSpec g = firmware::conv_as_gemm(c, j.a_addr, j.b_addr, j.c_addr, 0, true, pad_code);
  j.lowered = mapping ? firmware::lower_gemm(cfg.target(), g, *mapping) : firmware::lower_gemm(cfg.target(), g);
  std::vector<firmware::Command> cmds = j.lowered.commands;
  firmware::finish_stream(cmds);
  j.acc = std::make_unique<Accelerator>(cfg, dram, engine);
  std::copy(input_nhwc.begin(), input_nhwc.end(), j.acc->dram().begin() + j.a_addr);
  std::copy(j.b.begin(), j.b.end(), j.acc->dram().begin() + j.b_addr);
  j.acc->load_program(std::move(cmds));
  return j;
}

std::vector<uint8_t> GemmJob::outputs() const {
  if (!post) throw std::logic_error("GemmJob::outputs: the job has no post-processing");
  std::vector<uint8_t> v(size_t(m * n * model::out_format_bytes(out_fmt)));
  acc->dram_port().read(out_addr, v.data(), v.size());
  return v;
}

std::vector<uint8_t> GemmJob::outputs_mx_scales() const {
  if (!mx_out) throw std::logic_error("GemmJob::outputs_mx_scales: the job has no MX outputs");
  const int64_t bs = acc->config().array.mx_block;
  std::vector<uint8_t> v(size_t(m * ((n + bs - 1) / bs)));
  acc->dram_port().read(mx_out_scale_addr, v.data(), v.size());
  return v;
}

std::vector<model::AccWord> GemmJob::output() const { return acc->read_output(c_addr, m, n); }

std::vector<model::AccWord> GemmJob::golden() const {
  if (mx) {  // the MX array's semantics; golden_gemm_mx takes B's scales as ceil(K/B) x N
    const model::MxGemmNumerics num = mx_gemm_numerics(acc->config().array);
    const int64_t nb = (k + num.block_size - 1) / num.block_size;
    std::vector<uint8_t> bs(mx_scales.b.size());
    for (int64_t j = 0; j < n; ++j)
      for (int64_t kb = 0; kb < nb; ++kb) bs[size_t(kb * n + j)] = mx_scales.b[size_t(j * nb + kb)];
    return model::golden_gemm_mx(num, model::AccumulationOrder{0}, m, k, n, a.data(), mx_scales.a.data(), b.data(),
                                 bs.data());
  }
  return model::golden_gemm(acc->array().numerics(), model::AccumulationOrder{lowered.k_chunk}, m, k, n, a.data(),
                            b.data());
}

size_t GemmJob::compare(std::string* report) const {
  const auto have = output(), want = golden();
  size_t bad = 0;
  for (size_t i = 0; i < have.size(); ++i) {
    if (have[i] == want[i]) continue;
    if (++bad <= 3 && report)
      *report += "C[" + std::to_string(int64_t(i) / n) + "][" + std::to_string(int64_t(i) % n) + "]: sim " +
                 model::acc_word_to_string(acc->array().numerics(), have[i]) + ", golden " +
                 model::acc_word_to_string(acc->array().numerics(), want[i]) + "\n";
  }
  return bad;
}

}  // namespace fp8sim::sim
