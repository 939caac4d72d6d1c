#pragma GCC optimize("fp-contract=off")  // the same bits with or without FMA hardware
#include "fp8sim/model/nn/bert.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <cmath>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "fp8sim/model/nn/rng.h"

namespace fp8sim::nn {

BertConfig bert_base_config() {
  BertConfig c;
  c.name = "bert-base";
  return c;
}
BertConfig bert_large_config() {
  BertConfig c;
  c.name = "bert-large";
  c.hidden = 1024, c.layers = 24, c.heads = 16, c.intermediate = 4096;
  return c;
}
BertConfig minilm_l6_config() {
  BertConfig c;
  c.name = "minilm-l6";
  c.hidden = 384, c.layers = 6, c.heads = 12, c.intermediate = 1536;
  return c;
}

BertConfig mpnet_base_config() {
  // all-mpnet-base-v2's config.json (../shared/data/mpnet/README.md): vocab 30527, max_position_embeddings 514,
  // pad_token_id 1, layer_norm_eps 1e-5, relative_attention_num_buckets 32.
  BertConfig c;
  c.name = "mpnet-base";
  c.kind = EncoderKind::MPNet;
  c.vocab_size = 30527, c.max_position = 514, c.type_vocab = 0, c.position_offset = 2;
  c.relative_buckets = 32, c.relative_max_distance = 128;
  c.layer_norm_eps = 1e-5;
  return c;
}

BertConfig bert_config_from_json_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error(path + ": cannot open the model configuration");
  BertConfig c;
  try {
    const auto j = nlohmann::json::parse(f);
    const std::string mt = j.value("model_type", std::string("bert"));
    if (mt == "mpnet") {
      c = mpnet_base_config();
      c.name = "mpnet";
      c.position_offset = j.value("pad_token_id", int64_t{1}) + 1;  // RoBERTa-style: padding_idx + 1
      c.relative_buckets = j.value("relative_attention_num_buckets", c.relative_buckets);
    } else if (mt != "bert") {
      throw std::runtime_error("model_type '" + mt + "' is not supported (bert, mpnet)");
    }
    c.vocab_size = j.value("vocab_size", c.vocab_size);
    c.hidden = j.value("hidden_size", c.hidden);
    c.layers = j.value("num_hidden_layers", c.layers);
    c.heads = j.value("num_attention_heads", c.heads);
    c.intermediate = j.value("intermediate_size", c.intermediate);
    c.max_position = j.value("max_position_embeddings", c.max_position);
    c.type_vocab = j.value("type_vocab_size", c.type_vocab);
    c.layer_norm_eps = j.value("layer_norm_eps", c.layer_norm_eps);
    const std::string act = j.value("hidden_act", std::string("gelu"));
    if (act != "gelu") throw std::runtime_error("hidden_act '" + act + "' is not supported (only gelu, erf form)");
    const std::string pe = j.value("position_embedding_type", std::string("absolute"));
    if (pe != "absolute") throw std::runtime_error("position_embedding_type '" + pe + "' is not supported");
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  if (c.hidden % c.heads != 0) throw std::runtime_error(path + ": hidden_size not divisible by num_attention_heads");
  return c;
}

int mpnet_relative_bucket(int64_t relative_position, int64_t num_buckets, int64_t max_distance) {
  // Hugging Face transformers, src/transformers/models/mpnet/modeling_mpnet.py,
  // MPNetEncoder.relative_position_bucket(relative_position, num_buckets=32, max_distance=128):
  //   n = -relative_position; num_buckets //= 2; ret = (n < 0) * num_buckets; n = abs(n)
  //   max_exact = num_buckets // 2
  //   val_if_large = max_exact + (log(n.float() / max_exact) / math.log(max_distance / max_exact)
  //                               * (num_buckets - max_exact)).to(long), capped at num_buckets - 1
  //   ret += n if n < max_exact else val_if_large
  // with relative_position = memory_position - context_position (MPNetEncoder.compute_position_bias). The
  // logarithm runs on a float32 tensor there; so it does here (the bucket edges n = 16, 32, 64 fall exactly
  // on integers, and float32 gives 2.0, 4.0, 6.0 there, as the test's integer formula expects).
  int64_t n = -relative_position;
  num_buckets /= 2;
  int64_t ret = n < 0 ? num_buckets : 0;
  n = n < 0 ? -n : n;
  const int64_t max_exact = num_buckets / 2;
  if (n < max_exact) return static_cast<int>(ret + n);
  const float lg = std::log(static_cast<float>(n) / static_cast<float>(max_exact));
  const float den = static_cast<float>(std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)));
  const int64_t large = max_exact + static_cast<int64_t>(lg / den * static_cast<float>(num_buckets - max_exact));
  return static_cast<int>(ret + std::min(large, num_buckets - 1));
}

namespace {
// Checkpoint names of one encoder layer's parts (after "encoder.layer.N."), per layout.
struct LayerNames {
  const char *q, *k, *v, *o, *ln1, *inter, *out, *ln2, *attention;
};
LayerNames layer_names(EncoderKind kind) {
  if (kind == EncoderKind::MPNet)
    return {"attention.attn.q",    "attention.attn.k", "attention.attn.v", "attention.attn.o", "attention.LayerNorm",
            "intermediate.dense", "output.dense",     "output.LayerNorm", "attention.attn"};
  return {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
          "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm", "attention.self"};
}

std::string detect_prefix(const TensorMap& w, EncoderKind kind) {
  const char* model = kind == EncoderKind::MPNet ? "mpnet." : "bert.";
  if (w.has("embeddings.word_embeddings.weight")) return "";
  if (w.has(std::string(model) + "embeddings.word_embeddings.weight")) return model;
  throw std::runtime_error(std::string("weights: no 'embeddings.word_embeddings.weight' (nor with a '") + model +
                           "' prefix): not a " + (kind == EncoderKind::MPNet ? "MPNet" : "BERT") + " checkpoint");
}
quant::LinearParams linear(const TensorMap& w, const std::string& pre, const std::string& name, int64_t n, int64_t k) {
  quant::LinearParams p;
  p.name = name;
  p.n = n, p.k = k;
  p.weight = w.get(pre + name + ".weight", {n, k}).data;
  p.bias = w.get(pre + name + ".bias", {n}).data;
  return p;
}
}  // namespace

Bert::Bert(const BertConfig& cfg, const TensorMap& w) : cfg_(cfg) {
  if (cfg.hidden % cfg.heads != 0) throw std::invalid_argument("bert: hidden not divisible by heads");
  if (cfg.kind == EncoderKind::MPNet && cfg.relative_buckets <= 0)
    throw std::invalid_argument("bert: an MPNet configuration needs relative_buckets > 0");
  const std::string pre = detect_prefix(w, cfg.kind);
  const LayerNames nm = layer_names(cfg.kind);
  const int64_t h = cfg.hidden;
  auto keep = [&](const std::string& name, const std::vector<int64_t>& shape) -> const std::vector<float>& {
    const Tensor& t = w.get(pre + name, shape);
    other_.set(name, t);
    return t.data;
  };
  word_ = keep("embeddings.word_embeddings.weight", {cfg.vocab_size, h});
  pos_ = keep("embeddings.position_embeddings.weight", {cfg.max_position, h});
  if (cfg.type_vocab > 0) type_ = keep("embeddings.token_type_embeddings.weight", {cfg.type_vocab, h});
  if (cfg.relative_buckets > 0)
    rel_bias_ = keep("encoder.relative_attention_bias.weight", {cfg.relative_buckets, cfg.heads});
  emb_ln_g_ = keep("embeddings.LayerNorm.weight", {h});
  emb_ln_b_ = keep("embeddings.LayerNorm.bias", {h});
  for (int64_t l = 0; l < cfg.layers; ++l) {
    Layer L;
    L.prefix = "encoder.layer." + std::to_string(l) + ".";
    const std::string& p = L.prefix;
    L.matmul_qk = p + nm.attention + ".matmul_qk";
    L.matmul_pv = p + nm.attention + ".matmul_pv";
    L.q = linear(w, pre, p + nm.q, h, h);
    L.k = linear(w, pre, p + nm.k, h, h);
    L.v = linear(w, pre, p + nm.v, h, h);
    L.attn_out = linear(w, pre, p + nm.o, h, h);
    L.inter = linear(w, pre, p + nm.inter, cfg.intermediate, h);
    L.out = linear(w, pre, p + nm.out, h, cfg.intermediate);
    L.ln1_g = keep(p + nm.ln1 + ".weight", {h});
    L.ln1_b = keep(p + nm.ln1 + ".bias", {h});
    L.ln2_g = keep(p + nm.ln2 + ".weight", {h});
    L.ln2_b = keep(p + nm.ln2 + ".bias", {h});
    layers_.push_back(std::move(L));
  }
  if (cfg.num_labels > 0) {
    pooler_ = linear(w, pre, "pooler.dense", h, h);
    classifier_ = linear(w, "", "classifier", cfg.num_labels, h);
  }
}

std::vector<const quant::LinearParams*> Bert::gemm_layers() const {
  std::vector<const quant::LinearParams*> v;
  for (const Layer& L : layers_)
    for (const quant::LinearParams* p : {&L.q, &L.k, &L.v, &L.attn_out, &L.inter, &L.out}) v.push_back(p);
  if (has_classifier()) v.push_back(&pooler_), v.push_back(&classifier_);
  return v;
}

void Bert::layer_norm(const quant::Executor& ex, std::vector<float>& x, int64_t rows, const std::vector<float>& g,
                      const std::vector<float>& b) const {
  const int64_t h = cfg_.hidden;
  for (int64_t r = 0; r < rows; ++r) {
    float* v = x.data() + r * h;
    double mean = 0.0, var = 0.0;
    for (int64_t i = 0; i < h; ++i) mean += v[i];
    mean /= static_cast<double>(h);
    for (int64_t i = 0; i < h; ++i) var += (v[i] - mean) * (v[i] - mean);
    var /= static_cast<double>(h);  // biased, as torch.nn.LayerNorm
    const double inv = 1.0 / std::sqrt(var + cfg_.layer_norm_eps);
    for (int64_t i = 0; i < h; ++i) v[i] = static_cast<float>((v[i] - mean) * inv * g[i] + b[i]);
  }
  ex.vector_op(quant::VectorOp::LayerNorm, rows, h, x.data());
}

std::vector<float> Bert::forward(quant::Executor& ex, const std::vector<int32_t>& ids) const {
  const int64_t L = static_cast<int64_t>(ids.size()), h = cfg_.hidden, nh = cfg_.heads, d = h / nh;
  if (L == 0) throw std::invalid_argument("bert: empty input");
  if (L + cfg_.position_offset > cfg_.max_position)
    throw std::invalid_argument("bert: sequence of " + std::to_string(L) + " tokens exceeds max_position " +
                                std::to_string(cfg_.max_position) +
                                (cfg_.position_offset ? " (positions start at " + std::to_string(cfg_.position_offset) + ")"
                                                      : std::string()));
  std::vector<float> x(static_cast<size_t>(L * h));
  for (int64_t t = 0; t < L; ++t) {
    const int32_t id = ids[t];
    if (id < 0 || id >= cfg_.vocab_size) throw std::invalid_argument("bert: token id " + std::to_string(id) + " out of range");
    const int64_t pos = t + cfg_.position_offset;
    if (type_.empty())
      for (int64_t i = 0; i < h; ++i) x[t * h + i] = word_[id * h + i] + pos_[pos * h + i];
    else
      for (int64_t i = 0; i < h; ++i) x[t * h + i] = word_[id * h + i] + type_[i] + pos_[pos * h + i];
  }
  // MPNet: the bucket of every relative position key - query in [-(L-1), L-1] (index + L - 1).
  std::vector<int> bucket;
  if (!rel_bias_.empty())
    for (int64_t rel = -(L - 1); rel <= L - 1; ++rel)
      bucket.push_back(mpnet_relative_bucket(rel, cfg_.relative_buckets, cfg_.relative_max_distance));
  // The data dependences for an accelerator's timeline (quant::OpIo: tensors by name; "x" the hidden state), and
  // the GEMM outputs read only by another GEMM (set_next_consumer: Q, K, V by the attention matmuls, each head's
  // P.V by the attention output projection), which an accelerator may requantize straight to that GEMM's code.
  ex.set_next_io("x", {"x"});
  layer_norm(ex, x, L, emb_ln_g_, emb_ln_b_);
  std::vector<std::string> heads_out;
  for (int64_t hd = 0; hd < nh; ++hd) heads_out.push_back("o" + std::to_string(hd));
  const float inv_sqrt_d = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  std::vector<float> q(x.size()), k(x.size()), v(x.size()), ctx(x.size()), tmp(x.size());
  std::vector<float> qh(static_cast<size_t>(L * d)), kh(qh.size()), vt(qh.size()), scores(static_cast<size_t>(L * L)),
      oh(qh.size());
  std::vector<float> inter(static_cast<size_t>(L * cfg_.intermediate));
  for (const Layer& ly : layers_) {
    ex.set_next_io("q", {"x"}), ex.set_next_consumer(ly.matmul_qk, false);
    ex.linear(ly.q, x.data(), L, q.data());
    ex.set_next_io("k", {"x"}), ex.set_next_consumer(ly.matmul_qk, true);
    ex.linear(ly.k, x.data(), L, k.data());
    ex.set_next_io("v", {"x"}), ex.set_next_consumer(ly.matmul_pv, true);
    ex.linear(ly.v, x.data(), L, v.data());
    for (int64_t hd = 0; hd < nh; ++hd) {
      for (int64_t t = 0; t < L; ++t)
        for (int64_t i = 0; i < d; ++i) {
          qh[t * d + i] = q[t * h + hd * d + i];
          kh[t * d + i] = k[t * h + hd * d + i];
          vt[i * L + t] = v[t * h + hd * d + i];  // V^T: [d][L], the [n][k] layout matmul wants
        }
      const std::string hs = std::to_string(hd);
      ex.set_next_io("s" + hs, {"q", "k"});
      ex.matmul(ly.matmul_qk, qh.data(), kh.data(), L, d, L, scores.data());
      for (int64_t r = 0; r < L; ++r) {  // softmax(scores / sqrt(d) [+ relative bias]) per row, max-subtracted
        float* s = scores.data() + r * L;
        if (!bucket.empty())
          for (int64_t c = 0; c < L; ++c) s[c] = s[c] * inv_sqrt_d + rel_bias_[bucket[c - r + L - 1] * nh + hd];
        else
          for (int64_t c = 0; c < L; ++c) s[c] *= inv_sqrt_d;
        float m = -INFINITY;
        for (int64_t c = 0; c < L; ++c) m = std::max(m, s[c]);
        double sum = 0.0;
        for (int64_t c = 0; c < L; ++c) sum += (s[c] = std::exp(s[c] - m));
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t c = 0; c < L; ++c) s[c] *= inv;
      }
      ex.set_next_io("p" + hs, {"s" + hs});
      ex.vector_op(quant::VectorOp::Softmax, L, L, scores.data());
      ex.set_next_io(heads_out[size_t(hd)], {"p" + hs, "v"}), ex.set_next_consumer(ly.attn_out.name, false);
      ex.matmul(ly.matmul_pv, scores.data(), vt.data(), L, L, d, oh.data());
      for (int64_t t = 0; t < L; ++t)
        for (int64_t i = 0; i < d; ++i) ctx[t * h + hd * d + i] = oh[t * d + i];
    }
    ex.set_next_io("a", heads_out);
    ex.linear(ly.attn_out, ctx.data(), L, tmp.data());
    for (size_t i = 0; i < x.size(); ++i) x[i] += tmp[i];
    ex.set_next_io("x", {"x", "a"});
    ex.vector_op(quant::VectorOp::Add, L, h, x.data());  // residual
    ex.set_next_io("x", {"x"});
    layer_norm(ex, x, L, ly.ln1_g, ly.ln1_b);
    ex.set_next_io("i", {"x"});
    ex.linear(ly.inter, x.data(), L, inter.data());
    for (float& u : inter) u = static_cast<float>(0.5 * u * (1.0 + std::erf(u / std::sqrt(2.0))));  // GELU, erf form
    ex.set_next_io("g", {"i"});
    ex.vector_op(quant::VectorOp::Gelu, L, static_cast<int64_t>(inter.size()) / L, inter.data());
    ex.set_next_io("f", {"g"});
    ex.linear(ly.out, inter.data(), L, tmp.data());
    for (size_t i = 0; i < x.size(); ++i) x[i] += tmp[i];
    ex.set_next_io("x", {"x", "f"});
    ex.vector_op(quant::VectorOp::Add, L, h, x.data());  // residual
    ex.set_next_io("x", {"x"});
    layer_norm(ex, x, L, ly.ln2_g, ly.ln2_b);
  }
  return x;
}

std::vector<float> Bert::mean_pooled(quant::Executor& ex, const std::vector<int32_t>& ids) const {
  const std::vector<float> hs = forward(ex, ids);
  const int64_t L = static_cast<int64_t>(ids.size()), h = cfg_.hidden;
  std::vector<float> out(static_cast<size_t>(h));
  for (int64_t i = 0; i < h; ++i) {
    double s = 0.0;
    for (int64_t t = 0; t < L; ++t) s += hs[t * h + i];
    out[i] = static_cast<float>(s / static_cast<double>(L));
  }
  return out;
}

std::vector<float> Bert::classify(quant::Executor& ex, const std::vector<int32_t>& ids) const {
  if (!has_classifier()) throw std::logic_error("bert: the model has no classification head (num_labels = 0)");
  const std::vector<float> hs = forward(ex, ids);
  std::vector<float> pooled(static_cast<size_t>(cfg_.hidden)), logits(static_cast<size_t>(cfg_.num_labels));
  ex.linear(pooler_, hs.data(), 1, pooled.data());  // row 0: [CLS]
  for (float& u : pooled) u = std::tanh(u);
  ex.vector_op(quant::VectorOp::Tanh, 1, static_cast<int64_t>(pooled.size()), pooled.data());
  ex.linear(classifier_, pooled.data(), 1, logits.data());
  return logits;
}

TensorMap synthetic_bert_weights(const BertConfig& cfg, uint64_t seed, std::vector<int64_t>* outlier_dims) {
  TensorMap w;
  const int64_t h = cfg.hidden;
  // A few outlier dimensions (Bondarenko et al. 2021 find a handful in BERT-base, e.g. 308 and 381).
  std::vector<int64_t> outl;
  {
    Rng r(Rng::mix(seed, "outlier_dims"));
    const size_t want = static_cast<size_t>(std::min<int64_t>(3, h / 4));  // none for toy sizes
    while (outl.size() < want) {
      const int64_t dim = static_cast<int64_t>(r.next_u64() % static_cast<uint64_t>(h));
      if (std::find(outl.begin(), outl.end(), dim) == outl.end()) outl.push_back(dim);
    }
  }
  if (outlier_dims) *outlier_dims = outl;
  // Each normal tensor draws from its own generator (seeded by its name), so they are filled in parallel
  // below (the same values whatever the thread count) and stored once all are done.
  struct NormalJob {
    std::string name;
    std::vector<int64_t> shape;
    double std;
    std::vector<float> v;
  };
  std::vector<NormalJob> jobs;
  auto normal = [&](const std::string& name, std::vector<int64_t> shape, double std) {
    jobs.push_back(NormalJob{name, std::move(shape), std, {}});
  };
  auto ln = [&](const std::string& name) {
    Rng r(Rng::mix(seed, name.c_str()));
    std::vector<float> g(static_cast<size_t>(h)), b(static_cast<size_t>(h));
    for (int64_t i = 0; i < h; ++i) {
      g[i] = static_cast<float>(1.0 + 0.05 * r.normal());
      b[i] = static_cast<float>(0.02 * r.normal());
    }
    for (size_t j = 0; j < outl.size(); ++j) {  // the outliers: large gain and bias, alternating sign
      g[outl[j]] = static_cast<float>(8.0 + 4.0 * j);
      b[outl[j]] = static_cast<float>(j % 2 ? -3.0 : 3.0);
    }
    w.set(name + ".weight", Tensor({h}, g));
    w.set(name + ".bias", Tensor({h}, b));
  };
  auto lin = [&](const std::string& name, int64_t n, int64_t k) {
    normal(name + ".weight", {n, k}, 0.02);
    normal(name + ".bias", {n}, 0.02);
  };
  normal("embeddings.word_embeddings.weight", {cfg.vocab_size, h}, 0.02);
  normal("embeddings.position_embeddings.weight", {cfg.max_position, h}, 0.02);
  if (cfg.type_vocab > 0) normal("embeddings.token_type_embeddings.weight", {cfg.type_vocab, h}, 0.02);
  if (cfg.relative_buckets > 0) normal("encoder.relative_attention_bias.weight", {cfg.relative_buckets, cfg.heads}, 1.0);
  ln("embeddings.LayerNorm");
  const LayerNames nm = layer_names(cfg.kind);
  for (int64_t l = 0; l < cfg.layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    lin(p + nm.q, h, h);
    lin(p + nm.k, h, h);
    lin(p + nm.v, h, h);
    lin(p + nm.o, h, h);
    ln(p + nm.ln1);
    lin(p + nm.inter, cfg.intermediate, h);
    lin(p + nm.out, h, cfg.intermediate);
    ln(p + nm.ln2);
  }
  if (cfg.num_labels > 0) {
    lin("pooler.dense", h, h);
    lin("classifier", cfg.num_labels, h);
  }
  {
    std::atomic<size_t> next{0};
    const auto fill = [&] {
      for (size_t i; (i = next++) < jobs.size();) {
        NormalJob& j = jobs[i];
        Rng r(Rng::mix(seed, j.name.c_str()));
        j.v.resize(Tensor::numel_of(j.shape));
        for (float& x : j.v) x = static_cast<float>(j.std * r.normal());
      }
    };
    const unsigned threads = std::max(1u, std::min(std::thread::hardware_concurrency(), 8u));
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(fill);
    fill();
    for (auto& t : pool) t.join();
  }
  for (NormalJob& j : jobs) w.set(j.name, Tensor(std::move(j.shape), std::move(j.v)));
  return w;
}

}  // namespace fp8sim::nn
