// A BERT encoder (Devlin et al. 2019) with Hugging Face BertModel parameter names
// (embeddings.word_embeddings.weight, encoder.layer.N.attention.self.query.weight, ...; a "bert." prefix, as
// BertForSequenceClassification checkpoints have, is accepted), so any BERT-family safetensors checkpoint
// loads: post-LayerNorm blocks, absolute position embeddings, GELU (erf form), attention over one unpadded
// sequence. Every linear layer and both attention matmuls (Q.K^T as "<layer>.attention.self.matmul_qk",
// P.V as "<layer>.attention.self.matmul_pv") run through the Executor; softmax, GELU, LayerNorm and the
// residual adds are rounded to BF16 in the quantized modes (FP8-BERT's recipe).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fp8sim/model/nn/tensor.h"
#include "fp8sim/model/quant/executor.h"

namespace fp8sim::nn {

struct BertConfig {
  std::string name = "bert";
  int64_t vocab_size = 30522, hidden = 768, layers = 12, heads = 12, intermediate = 3072;
  int64_t max_position = 512, type_vocab = 2;
  double layer_norm_eps = 1e-12;
  int64_t num_labels = 0;  // > 0: classification head (pooler + classifier) expected in the weights
};
BertConfig bert_base_config();   // 12 layers, hidden 768, 12 heads, FFN 3072
BertConfig bert_large_config();  // 24 layers, hidden 1024, 16 heads, FFN 4096
BertConfig minilm_l6_config();   // all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads, FFN 1536
// Reads a Hugging Face config.json (hidden_size, num_hidden_layers, ...); throws std::runtime_error.
BertConfig bert_config_from_json_file(const std::string& path);

class Bert {
 public:
  Bert(const BertConfig& cfg, const TensorMap& weights);
  const BertConfig& config() const { return cfg_; }
  // Final hidden states [ids.size()][hidden] (token type 0 for every token).
  std::vector<float> forward(quant::Executor& ex, const std::vector<int32_t>& ids) const;
  // Mean of the final hidden states over the tokens (sentence-transformers' mean pooling; one unpadded
  // sequence, so the attention mask is all ones).
  std::vector<float> mean_pooled(quant::Executor& ex, const std::vector<int32_t>& ids) const;
  // Classification logits: tanh(pooler.dense(h[CLS])) -> classifier. Throws if the checkpoint has no head.
  std::vector<float> classify(quant::Executor& ex, const std::vector<int32_t>& ids) const;
  bool has_classifier() const { return !classifier_.weight.empty(); }
  std::vector<const quant::LinearParams*> gemm_layers() const;
  // Parameters that are not GEMM weights (embeddings, LayerNorms), by their checkpoint names.
  const TensorMap& other_params() const { return other_; }

 private:
  struct Layer {
    quant::LinearParams q, k, v, attn_out, inter, out;
    std::vector<float> ln1_g, ln1_b, ln2_g, ln2_b;
    std::string prefix;
  };
  void layer_norm(const quant::Executor& ex, std::vector<float>& x, int64_t rows, const std::vector<float>& g,
                  const std::vector<float>& b) const;
  BertConfig cfg_;
  std::vector<float> word_, pos_, type_, emb_ln_g_, emb_ln_b_;
  std::vector<Layer> layers_;
  quant::LinearParams pooler_, classifier_;
  TensorMap other_;
};

// Synthetic BERT-like weights for a configuration, seeded and deterministic: N(0, 0.02) matrices and
// embeddings (BERT's initializer range), small biases, LayerNorm gains near 1; plus a few outlier hidden
// dimensions whose LayerNorm gain and bias are large in every layer, which makes the residual stream carry a
// few dimensions of much larger magnitude, as trained BERT models do (Bondarenko et al. 2021, "Understanding
// and Overcoming the Challenges of Efficient Transformer Quantization"; Kovaleva et al. 2021, "BERT Busters").
// SYNTHETIC: not a trained model; only output-level error against FP32 means anything with it.
TensorMap synthetic_bert_weights(const BertConfig& cfg, uint64_t seed, std::vector<int64_t>* outlier_dims = nullptr);

}  // namespace fp8sim::nn
