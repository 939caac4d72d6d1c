// A BERT-family encoder: one implementation with two parameter layouts, chosen by BertConfig::kind.
//  * Bert (Devlin et al. 2019): Hugging Face BertModel parameter names (embeddings.word_embeddings.weight,
//    encoder.layer.N.attention.self.query.weight, ...; a "bert." prefix, as BertForSequenceClassification
//    checkpoints have, is accepted); absolute position embeddings from position 0, token-type embeddings.
//  * MPNet (Song et al. 2020; e.g. sentence-transformers' all-mpnet-base-v2): Hugging Face MPNetModel names
//    (encoder.layer.N.attention.attn.q/k/v/o, encoder.layer.N.attention.LayerNorm, an "mpnet." prefix
//    accepted); absolute position embeddings with RoBERTa-style position ids (padding_idx + 1, ...), no
//    token-type embeddings, and a relative-position bias added to every head's attention scores (one table
//    [buckets][heads], encoder.relative_attention_bias.weight, shared by all layers).
// Both: post-LayerNorm blocks, GELU (erf form), attention over one unpadded sequence. Every linear layer and
// both attention matmuls (Q.K^T as "<layer>.<attention>.matmul_qk", P.V as "<layer>.<attention>.matmul_pv",
// <attention> = "attention.self" for BERT, "attention.attn" for MPNet) run through the Executor; softmax,
// GELU, LayerNorm and the residual adds are rounded to BF16 in the quantized modes (FP8-BERT's recipe).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fp8sim/model/nn/tensor.h"
#include "fp8sim/model/quant/executor.h"

namespace fp8sim::nn {

enum class EncoderKind { Bert, MPNet };

struct BertConfig {
  std::string name = "bert";
  EncoderKind kind = EncoderKind::Bert;
  int64_t vocab_size = 30522, hidden = 768, layers = 12, heads = 12, intermediate = 3072;
  int64_t max_position = 512;
  int64_t type_vocab = 2;        // token-type embeddings (0: none, as MPNet)
  int64_t position_offset = 0;   // position id of the first token (RoBERTa/MPNet: padding_idx + 1 = 2)
  int64_t relative_buckets = 0;  // > 0: relative-position attention bias with this many buckets (MPNet: 32)
  int64_t relative_max_distance = 128;
  double layer_norm_eps = 1e-12;
  int64_t num_labels = 0;  // > 0: classification head (pooler + classifier) expected in the weights
};
BertConfig bert_base_config();   // 12 layers, hidden 768, 12 heads, FFN 3072
BertConfig bert_large_config();  // 24 layers, hidden 1024, 16 heads, FFN 4096
BertConfig minilm_l6_config();   // all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads, FFN 1536
BertConfig mpnet_base_config();  // all-mpnet-base-v2 (MPNet): 12 x 768, 12 heads, FFN 3072, vocab 30527, 32 buckets
// Reads a Hugging Face config.json (hidden_size, num_hidden_layers, ...; model_type "bert" or absent: BERT,
// "mpnet": MPNet with pad_token_id + 1 as the first position id and relative_attention_num_buckets);
// throws std::runtime_error naming the file.
BertConfig bert_config_from_json_file(const std::string& path);

// MPNet's relative-position bucket of relative_position = key position - query position (bidirectional:
// half the buckets for keys before the query, half for keys after; within each half, distances below a
// quarter of the buckets have their own bucket and larger ones share logarithmically wider buckets up to
// max_distance). Hugging Face transformers, MPNetEncoder.relative_position_bucket
// (src/transformers/models/mpnet/modeling_mpnet.py), computed in float32 as PyTorch does there.
int mpnet_relative_bucket(int64_t relative_position, int64_t num_buckets = 32, int64_t max_distance = 128);

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
    std::string prefix, matmul_qk, matmul_pv;
  };
  void layer_norm(const quant::Executor& ex, std::vector<float>& x, int64_t rows, const std::vector<float>& g,
                  const std::vector<float>& b) const;
  BertConfig cfg_;
  std::vector<float> word_, pos_, type_, emb_ln_g_, emb_ln_b_;
  std::vector<float> rel_bias_;  // MPNet: [relative_buckets][heads]
  std::vector<Layer> layers_;
  quant::LinearParams pooler_, classifier_;
  TensorMap other_;
};

// Synthetic BERT-like weights for a configuration (parameter names of cfg.kind; MPNet: a N(0, 1) relative
// bias table), seeded and deterministic: N(0, 0.02) matrices and
// embeddings (BERT's initializer range), small biases, LayerNorm gains near 1; plus a few outlier hidden
// dimensions whose LayerNorm gain and bias are large in every layer, which makes the residual stream carry a
// few dimensions of much larger magnitude, as trained BERT models do (Bondarenko et al. 2021, "Understanding
// and Overcoming the Challenges of Efficient Transformer Quantization"; Kovaleva et al. 2021, "BERT Busters").
// SYNTHETIC: not a trained model; only output-level error against FP32 means anything with it.
TensorMap synthetic_bert_weights(const BertConfig& cfg, uint64_t seed, std::vector<int64_t>* outlier_dims = nullptr);

}  // namespace fp8sim::nn
