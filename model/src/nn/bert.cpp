#pragma GCC optimize("fp-contract=off")  // the same bits with or without FMA hardware
#include "fp8sim/model/nn/bert.h"

#include <algorithm>
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

BertConfig bert_config_from_json_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error(path + ": cannot open the model configuration");
  BertConfig c;
  try {
    const auto j = nlohmann::json::parse(f);
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

namespace {
std::string detect_prefix(const TensorMap& w) {
  if (w.has("embeddings.word_embeddings.weight")) return "";
  if (w.has("bert.embeddings.word_embeddings.weight")) return "bert.";
  throw std::runtime_error("weights: no 'embeddings.word_embeddings.weight' (nor with a 'bert.' prefix): "
                           "not a BERT checkpoint");
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
  const std::string pre = detect_prefix(w);
  const int64_t h = cfg.hidden;
  auto keep = [&](const std::string& name, const std::vector<int64_t>& shape) -> const std::vector<float>& {
    const Tensor& t = w.get(pre + name, shape);
    other_.set(name, t);
    return t.data;
  };
  word_ = keep("embeddings.word_embeddings.weight", {cfg.vocab_size, h});
  pos_ = keep("embeddings.position_embeddings.weight", {cfg.max_position, h});
  type_ = keep("embeddings.token_type_embeddings.weight", {cfg.type_vocab, h});
  emb_ln_g_ = keep("embeddings.LayerNorm.weight", {h});
  emb_ln_b_ = keep("embeddings.LayerNorm.bias", {h});
  for (int64_t l = 0; l < cfg.layers; ++l) {
    Layer L;
    L.prefix = "encoder.layer." + std::to_string(l) + ".";
    const std::string& p = L.prefix;
    L.q = linear(w, pre, p + "attention.self.query", h, h);
    L.k = linear(w, pre, p + "attention.self.key", h, h);
    L.v = linear(w, pre, p + "attention.self.value", h, h);
    L.attn_out = linear(w, pre, p + "attention.output.dense", h, h);
    L.inter = linear(w, pre, p + "intermediate.dense", cfg.intermediate, h);
    L.out = linear(w, pre, p + "output.dense", h, cfg.intermediate);
    L.ln1_g = keep(p + "attention.output.LayerNorm.weight", {h});
    L.ln1_b = keep(p + "attention.output.LayerNorm.bias", {h});
    L.ln2_g = keep(p + "output.LayerNorm.weight", {h});
    L.ln2_b = keep(p + "output.LayerNorm.bias", {h});
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
  ex.round_nongemm(x.data(), static_cast<size_t>(rows * h));
}

std::vector<float> Bert::forward(quant::Executor& ex, const std::vector<int32_t>& ids) const {
  const int64_t L = static_cast<int64_t>(ids.size()), h = cfg_.hidden, nh = cfg_.heads, d = h / nh;
  if (L == 0) throw std::invalid_argument("bert: empty input");
  if (L > cfg_.max_position)
    throw std::invalid_argument("bert: sequence of " + std::to_string(L) + " tokens exceeds max_position " +
                                std::to_string(cfg_.max_position));
  std::vector<float> x(static_cast<size_t>(L * h));
  for (int64_t t = 0; t < L; ++t) {
    const int32_t id = ids[t];
    if (id < 0 || id >= cfg_.vocab_size) throw std::invalid_argument("bert: token id " + std::to_string(id) + " out of range");
    for (int64_t i = 0; i < h; ++i) x[t * h + i] = word_[id * h + i] + type_[i] + pos_[t * h + i];
  }
  layer_norm(ex, x, L, emb_ln_g_, emb_ln_b_);
  const float inv_sqrt_d = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  std::vector<float> q(x.size()), k(x.size()), v(x.size()), ctx(x.size()), tmp(x.size());
  std::vector<float> qh(static_cast<size_t>(L * d)), kh(qh.size()), vt(qh.size()), scores(static_cast<size_t>(L * L)),
      oh(qh.size());
  std::vector<float> inter(static_cast<size_t>(L * cfg_.intermediate));
  for (const Layer& ly : layers_) {
    ex.linear(ly.q, x.data(), L, q.data());
    ex.linear(ly.k, x.data(), L, k.data());
    ex.linear(ly.v, x.data(), L, v.data());
    for (int64_t hd = 0; hd < nh; ++hd) {
      for (int64_t t = 0; t < L; ++t)
        for (int64_t i = 0; i < d; ++i) {
          qh[t * d + i] = q[t * h + hd * d + i];
          kh[t * d + i] = k[t * h + hd * d + i];
          vt[i * L + t] = v[t * h + hd * d + i];  // V^T: [d][L], the [n][k] layout matmul wants
        }
      ex.matmul(ly.prefix + "attention.self.matmul_qk", qh.data(), kh.data(), L, d, L, scores.data());
      for (int64_t r = 0; r < L; ++r) {  // softmax(scores / sqrt(d)) per row, max-subtracted
        float* s = scores.data() + r * L;
        float m = -INFINITY;
        for (int64_t c = 0; c < L; ++c) m = std::max(m, s[c] *= inv_sqrt_d);
        double sum = 0.0;
        for (int64_t c = 0; c < L; ++c) sum += (s[c] = std::exp(s[c] - m));
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t c = 0; c < L; ++c) s[c] *= inv;
      }
      ex.round_nongemm(scores.data(), scores.size());
      ex.matmul(ly.prefix + "attention.self.matmul_pv", scores.data(), vt.data(), L, L, d, oh.data());
      for (int64_t t = 0; t < L; ++t)
        for (int64_t i = 0; i < d; ++i) ctx[t * h + hd * d + i] = oh[t * d + i];
    }
    ex.linear(ly.attn_out, ctx.data(), L, tmp.data());
    for (size_t i = 0; i < x.size(); ++i) x[i] += tmp[i];
    ex.round_nongemm(x.data(), x.size());
    layer_norm(ex, x, L, ly.ln1_g, ly.ln1_b);
    ex.linear(ly.inter, x.data(), L, inter.data());
    for (float& u : inter) u = static_cast<float>(0.5 * u * (1.0 + std::erf(u / std::sqrt(2.0))));  // GELU, erf form
    ex.round_nongemm(inter.data(), inter.size());
    ex.linear(ly.out, inter.data(), L, tmp.data());
    for (size_t i = 0; i < x.size(); ++i) x[i] += tmp[i];
    ex.round_nongemm(x.data(), x.size());
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
  ex.round_nongemm(pooled.data(), pooled.size());
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
  auto normal = [&](const std::string& name, std::vector<int64_t> shape, double std) {
    Rng r(Rng::mix(seed, name.c_str()));
    std::vector<float> v(Tensor::numel_of(shape));
    for (float& x : v) x = static_cast<float>(std * r.normal());
    w.set(name, Tensor(std::move(shape), std::move(v)));
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
  normal("embeddings.token_type_embeddings.weight", {cfg.type_vocab, h}, 0.02);
  ln("embeddings.LayerNorm");
  for (int64_t l = 0; l < cfg.layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    lin(p + "attention.self.query", h, h);
    lin(p + "attention.self.key", h, h);
    lin(p + "attention.self.value", h, h);
    lin(p + "attention.output.dense", h, h);
    ln(p + "attention.output.LayerNorm");
    lin(p + "intermediate.dense", cfg.intermediate, h);
    lin(p + "output.dense", h, cfg.intermediate);
    ln(p + "output.LayerNorm");
  }
  if (cfg.num_labels > 0) {
    lin("pooler.dense", h, h);
    lin("classifier", cfg.num_labels, h);
  }
  return w;
}

}  // namespace fp8sim::nn
