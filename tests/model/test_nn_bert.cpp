// BERT: layer outputs of a tiny model against a hand-checkable case and against an independent naive
// double-precision implementation written here; the WordPiece tokenizer on hand-made vocabularies; Spearman.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "fp8sim/model/nn/bert.h"
#include "fp8sim/model/nn/rng.h"
#include "fp8sim/model/nn/stsb.h"
#include "fp8sim/model/nn/tokenizer.h"
#include "temp_dir.h"

using namespace fp8sim;

namespace {
nn::BertConfig tiny(int64_t hidden, int64_t heads, int64_t inter, int64_t layers) {
  nn::BertConfig c;
  c.vocab_size = 5, c.hidden = hidden, c.heads = heads, c.intermediate = inter, c.layers = layers;
  c.max_position = 8, c.type_vocab = 2;
  return c;
}

// MPNet's relative-position bucket, derived independently of the float32 formula in bert.cpp: for a key at
// distance n = |query - key| (keys before the query: n = query - key >= 0 in the lower 16 buckets; keys after
// it: the upper 16), buckets 0..7 hold n < 8 exactly, and n >= 8 gets 8 + floor(8 * log(n/8) / log(128/8))
// = 8 + floor(2 * log2(n/8)) = 8 + floor(log2(n^2 / 64)), capped at 15; floor(log2(n^2/64)) is the largest k
// with 64 * 2^k <= n^2, computed here in integers.
int bucket_by_integers(int64_t rel) {
  int64_t n = -rel;
  const int ret = n < 0 ? 16 : 0;
  n = n < 0 ? -n : n;
  if (n < 8) return ret + static_cast<int>(n);
  int k = 0;
  while (64ll << (k + 1) <= n * n) ++k;
  return ret + std::min(8 + k, 15);
}

// Naive reference: double precision, straight from the equations of Devlin et al. / HF BertModel, or of
// HF MPNetModel (Song et al. 2020) when c.kind is MPNet: parameter names attention.attn.{q,k,v,o} and
// attention.LayerNorm, position ids 2, 3, ... (padding_idx 1 + 1), no token types, and the relative bias
// table[bucket(key - query)][head] added to the scaled scores.
std::vector<double> naive_bert(const nn::BertConfig& c, const nn::TensorMap& w, const std::vector<int32_t>& ids) {
  const bool mp = c.kind == nn::EncoderKind::MPNet;
  const int64_t L = static_cast<int64_t>(ids.size()), H = c.hidden, nh = c.heads, d = H / nh;
  auto W = [&](const std::string& n) { return w.get(n).data; };
  auto ln = [&](std::vector<double>& x, const std::string& n) {
    const auto g = W(n + ".weight"), b = W(n + ".bias");
    for (int64_t t = 0; t < L; ++t) {
      double mu = 0, var = 0;
      for (int64_t i = 0; i < H; ++i) mu += x[t * H + i] / H;
      for (int64_t i = 0; i < H; ++i) var += (x[t * H + i] - mu) * (x[t * H + i] - mu) / H;
      for (int64_t i = 0; i < H; ++i) x[t * H + i] = (x[t * H + i] - mu) / std::sqrt(var + c.layer_norm_eps) * g[i] + b[i];
    }
  };
  auto lin = [&](const std::vector<double>& x, const std::string& n, int64_t in, int64_t out) {
    const auto wt = W(n + ".weight"), b = W(n + ".bias");
    std::vector<double> y(static_cast<size_t>(L * out));
    for (int64_t t = 0; t < L; ++t)
      for (int64_t o = 0; o < out; ++o) {
        double s = b[o];
        for (int64_t i = 0; i < in; ++i) s += x[t * in + i] * wt[o * in + i];
        y[t * out + o] = s;
      }
    return y;
  };
  std::vector<double> x(static_cast<size_t>(L * H));
  const auto we = W("embeddings.word_embeddings.weight"), pe = W("embeddings.position_embeddings.weight");
  const auto te = mp ? std::vector<float>(static_cast<size_t>(H), 0.0f) : W("embeddings.token_type_embeddings.weight");
  const auto rb = mp ? W("encoder.relative_attention_bias.weight") : std::vector<float>{};
  const int64_t p0 = mp ? 2 : 0;
  for (int64_t t = 0; t < L; ++t)
    for (int64_t i = 0; i < H; ++i) x[t * H + i] = we[ids[t] * H + i] + pe[(t + p0) * H + i] + te[i];
  ln(x, "embeddings.LayerNorm");
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    const std::string qn = mp ? "attention.attn.q" : "attention.self.query",
                      kn = mp ? "attention.attn.k" : "attention.self.key",
                      vn = mp ? "attention.attn.v" : "attention.self.value",
                      on = mp ? "attention.attn.o" : "attention.output.dense",
                      ln1 = mp ? "attention.LayerNorm" : "attention.output.LayerNorm";
    const auto q = lin(x, p + qn, H, H), k = lin(x, p + kn, H, H), v = lin(x, p + vn, H, H);
    std::vector<double> ctx(x.size());
    for (int64_t h = 0; h < nh; ++h)
      for (int64_t i = 0; i < L; ++i) {
        std::vector<double> s(static_cast<size_t>(L));
        double m = -1e300, z = 0;
        for (int64_t j = 0; j < L; ++j) {
          double dot = 0;
          for (int64_t e = 0; e < d; ++e) dot += q[i * H + h * d + e] * k[j * H + h * d + e];
          s[j] = dot / std::sqrt(static_cast<double>(d));
          if (mp) s[j] += rb[bucket_by_integers(j - i) * nh + h];
          m = std::max(m, s[j]);
        }
        for (double& u : s) z += (u = std::exp(u - m));
        for (int64_t e = 0; e < d; ++e) {
          double acc = 0;
          for (int64_t j = 0; j < L; ++j) acc += s[j] / z * v[j * H + h * d + e];
          ctx[i * H + h * d + e] = acc;
        }
      }
    const auto ao = lin(ctx, p + on, H, H);
    for (size_t i = 0; i < x.size(); ++i) x[i] += ao[i];
    ln(x, p + ln1);
    auto it = lin(x, p + "intermediate.dense", H, c.intermediate);
    for (double& u : it) u = 0.5 * u * (1 + std::erf(u / std::sqrt(2.0)));
    const auto o = lin(it, p + "output.dense", c.intermediate, H);
    for (size_t i = 0; i < x.size(); ++i) x[i] += o[i];
    ln(x, p + "output.LayerNorm");
  }
  return x;
}
}  // namespace

TEST_CASE("tiny BERT, hand-checked: with hidden size 2 every LayerNorm output is +-gamma + beta", "[nn][bert]") {
  // LayerNorm over two values a != b gives (+-1, -+1) (up to eps): the final hidden state of each token is
  // gamma * (s, -s) + beta with s the sign of x0 - x1 before the last LayerNorm. The FFN output bias (10, -10)
  // dominates the residual stream, so s = +1 for every token: output (2 * 1 + 0.5, 3 * -1 - 0.5).
  nn::BertConfig c = tiny(2, 1, 2, 1);
  nn::TensorMap w = nn::synthetic_bert_weights(c, 3);
  w.set("encoder.layer.0.output.dense.weight", nn::Tensor({2, 2}, std::vector<float>{0, 0, 0, 0}));
  w.set("encoder.layer.0.output.dense.bias", nn::Tensor({2}, std::vector<float>{10.0f, -10.0f}));
  w.set("encoder.layer.0.output.LayerNorm.weight", nn::Tensor({2}, std::vector<float>{2.0f, 3.0f}));
  w.set("encoder.layer.0.output.LayerNorm.bias", nn::Tensor({2}, std::vector<float>{0.5f, -0.5f}));
  nn::Bert bert(c, w);
  quant::Executor ex;
  const std::vector<float> h = bert.forward(ex, {1, 4, 2});
  REQUIRE(h.size() == 6);
  for (int t = 0; t < 3; ++t) {
    CHECK(h[t * 2] == Approx(2.5).margin(1e-5));
    CHECK(h[t * 2 + 1] == Approx(-3.5).margin(1e-5));
  }
  const std::vector<float> pooled = bert.mean_pooled(ex, {1, 4, 2});
  CHECK(pooled[0] == Approx(2.5).margin(1e-5));
}

TEST_CASE("tiny BERT equals a naive double-precision implementation", "[nn][bert]") {
  for (auto [hidden, heads, inter, layers] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{4, 2, 8, 1}, {8, 2, 16, 2},
                                               {12, 3, 20, 3}}) {
    const nn::BertConfig c = tiny(hidden, heads, inter, layers);
    // Larger weights than BERT's 0.02 so that attention is far from uniform and GELU far from linear.
    nn::TensorMap w = nn::synthetic_bert_weights(c, 42);
    nn::TensorMap big;
    nn::Rng r(9);
    for (const auto& [name, t] : w.all()) {
      nn::Tensor u = t;
      if (name.find("LayerNorm") == std::string::npos)
        for (float& v : u.data) v = static_cast<float>(r.normal() * 0.5);
      big.set(name, u);
    }
    const std::vector<int32_t> ids = {0, 3, 1, 4, 2, 2};
    nn::Bert bert(c, big);
    quant::Executor ex;
    const std::vector<float> got = bert.forward(ex, ids);
    const std::vector<double> want = naive_bert(c, big, ids);
    REQUIRE(got.size() == want.size());
    INFO("hidden " << hidden << " layers " << layers);
    // float32 vs double: LayerNorm renormalizes each layer, so errors stay at a few float ulps of O(1)
    // values times the depth; 5e-4 absolute is far below any semantic mistake (those are O(1)).
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).margin(5e-4));
  }
}

TEST_CASE("MPNet relative-position buckets: hand-checked values and the integer derivation", "[nn][bert][mpnet]") {
  // rel = key - query. Keys before the query (rel < 0) use buckets 0..15, keys after it 16..31.
  CHECK(nn::mpnet_relative_bucket(0) == 0);
  CHECK(nn::mpnet_relative_bucket(-1) == 1);
  CHECK(nn::mpnet_relative_bucket(1) == 17);
  CHECK(nn::mpnet_relative_bucket(-7) == 7);
  CHECK(nn::mpnet_relative_bucket(-8) == 8);     // 8 + floor(log2(64/64))
  CHECK(nn::mpnet_relative_bucket(-15) == 9);    // 225/64 = 3.5: floor(log2) = 1
  CHECK(nn::mpnet_relative_bucket(-16) == 10);   // 256/64 = 4, exactly on a bucket edge
  CHECK(nn::mpnet_relative_bucket(32) == 28);    // 16 + 8 + 4
  CHECK(nn::mpnet_relative_bucket(-64) == 14);   // 4096/64 = 64: 8 + 6
  CHECK(nn::mpnet_relative_bucket(-90) == 14);   // 8100/64 = 126.6: 8 + 6
  CHECK(nn::mpnet_relative_bucket(-91) == 15);   // 8281/64 = 129.4: 8 + 7
  CHECK(nn::mpnet_relative_bucket(-128) == 15);  // capped
  CHECK(nn::mpnet_relative_bucket(1000) == 31);
  for (int64_t rel = -600; rel <= 600; ++rel) {
    INFO("relative position " << rel);
    CHECK(nn::mpnet_relative_bucket(rel) == bucket_by_integers(rel));
  }
}

TEST_CASE("tiny MPNet equals a naive double-precision implementation (relative bias over 40 tokens)",
          "[nn][bert][mpnet]") {
  for (auto [hidden, heads, layers] : {std::tuple<int64_t, int64_t, int64_t>{4, 2, 1}, {8, 2, 2}}) {
    nn::BertConfig c = nn::mpnet_base_config();
    c.vocab_size = 5, c.hidden = hidden, c.heads = heads, c.intermediate = 2 * hidden, c.layers = layers;
    c.max_position = 44;  // 40 tokens at positions 2..41
    nn::TensorMap w = nn::synthetic_bert_weights(c, 7);
    CHECK_FALSE(w.has("embeddings.token_type_embeddings.weight"));
    nn::TensorMap big;
    nn::Rng r(11);
    for (const auto& [name, t] : w.all()) {
      nn::Tensor u = t;
      if (name.find("LayerNorm") == std::string::npos)
        for (float& v : u.data) v = static_cast<float>(r.normal() * 0.5);
      big.set(name, u);
    }
    // A large bias for far keys (buckets 12..15, 28..31): wrong bucketing or a flipped direction is O(1) off.
    nn::Tensor rb = big.get("encoder.relative_attention_bias.weight");
    for (int b : {12, 13, 14, 15, 28, 29, 30, 31})
      for (int64_t h = 0; h < heads; ++h) rb.data[b * heads + h] = static_cast<float>(3.0 * (b % 3) - 2.0 * h);
    big.set("encoder.relative_attention_bias.weight", rb);
    std::vector<int32_t> ids;
    for (int t = 0; t < 40; ++t) ids.push_back((t * 7 + 3) % 5);
    nn::Bert bert(c, big);
    quant::Executor ex;
    const std::vector<float> got = bert.forward(ex, ids);
    const std::vector<double> want = naive_bert(c, big, ids);
    REQUIRE(got.size() == want.size());
    INFO("hidden " << hidden << " layers " << layers);
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).margin(5e-4));
  }
  nn::BertConfig c = nn::mpnet_base_config();
  c.vocab_size = 5, c.hidden = 4, c.heads = 2, c.intermediate = 8, c.layers = 1, c.max_position = 10;
  nn::Bert bert(c, nn::synthetic_bert_weights(c, 1));
  quant::Executor ex;
  CHECK_NOTHROW(bert.forward(ex, std::vector<int32_t>(8, 1)));  // positions 2..9
  CHECK_THROWS_WITH(bert.forward(ex, std::vector<int32_t>(9, 1)), Catch::Contains("positions start at 2"));
  nn::TensorMap no_bias = nn::synthetic_bert_weights(c, 1);
  nn::TensorMap copy;
  for (const auto& [name, t] : no_bias.all())
    if (name != "encoder.relative_attention_bias.weight") copy.set(name, t);
  CHECK_THROWS_WITH(nn::Bert(c, copy), Catch::Contains("encoder.relative_attention_bias.weight"));
}

TEST_CASE("bert rejects bad checkpoints and inputs with clear errors", "[nn][bert]") {
  const nn::BertConfig c = tiny(4, 2, 8, 1);
  nn::TensorMap w = nn::synthetic_bert_weights(c, 1);
  nn::Bert bert(c, w);
  quant::Executor ex;
  CHECK_THROWS_WITH(bert.forward(ex, {7}), Catch::Contains("out of range"));
  CHECK_THROWS_WITH(bert.forward(ex, {}), Catch::Contains("empty"));
  CHECK_THROWS_WITH(bert.forward(ex, std::vector<int32_t>(9, 1)), Catch::Contains("max_position"));
  nn::BertConfig wrong = c;
  wrong.hidden = 8, wrong.heads = 2;
  CHECK_THROWS_WITH(nn::Bert(wrong, w), Catch::Contains("embeddings.word_embeddings.weight"));
  CHECK_THROWS_WITH(nn::Bert(c, nn::TensorMap{}), Catch::Contains("not a BERT checkpoint"));
}

TEST_CASE("basic tokenizer: cleaning, accents, lowercase, punctuation, CJK", "[nn][tokenizer]") {
  const nn::WordPieceTokenizer tok({"[PAD]", "[UNK]", "[CLS]", "[SEP]"});
  using V = std::vector<std::string>;
  CHECK(tok.pre_tokenize("Hello, WORLD!") == V{"hello", ",", "world", "!"});
  CHECK(tok.pre_tokenize("Naïve CAFÉ  résumé") == V{"naive", "cafe", "resume"});
  CHECK(tok.pre_tokenize("a\tb\nc\x01" "d") == V{"a", "b", "cd"});             // control character dropped
  CHECK(tok.pre_tokenize("don't \xE2\x80\x9Cquote\xE2\x80\x9D") == V{"don", "'", "t", "\xE2\x80\x9C", "quote", "\xE2\x80\x9D"});
  CHECK(tok.pre_tokenize("\xE4\xB8\xAD\xE6\x96\x87" "ab") == V{"\xE4\xB8\xAD", "\xE6\x96\x87", "ab"});  // CJK split
  CHECK(tok.pre_tokenize("\xCE\x9A\xCE\xB1\xCE\xBB\xCE\xAE") == V{"\xCE\xBA\xCE\xB1\xCE\xBB\xCE\xB7"});  // Greek: Καλή -> καλη
  CHECK(tok.pre_tokenize("bad\xFF utf8") == V{"bad", "utf8"});                  // invalid byte -> U+FFFD -> dropped
  CHECK(tok.pre_tokenize("$5.00") == V{"$", "5", ".", "00"});
}

TEST_CASE("WordPiece: greedy longest match, ## continuations, [UNK]", "[nn][tokenizer]") {
  const nn::WordPieceTokenizer tok({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "aff", "a", "##a", "!"});
  using V = std::vector<std::string>;
  CHECK(tok.wordpiece("unaffable") == V{"un", "##aff", "##able"});
  CHECK(tok.wordpiece("affable") == V{"aff", "##able"});
  CHECK(tok.wordpiece("aaa") == V{"a", "##a", "##a"});
  CHECK(tok.wordpiece("unx") == V{"[UNK]"});  // an unmatchable rest makes the whole word unknown
  CHECK(tok.wordpiece(std::string(101, 'a')) == V{"[UNK]"});  // longer than 100 characters
  CHECK(tok.encode("Unaffable!") == std::vector<int32_t>{2, 4, 5, 6, 10, 3});
  CHECK(tok.encode("aaa aaa", 4) == std::vector<int32_t>{2, 8, 9, 3});  // truncated, [SEP] kept
  CHECK_THROWS_WITH(nn::WordPieceTokenizer({"a", "b"}), Catch::Contains("[CLS]"));
  CHECK_THROWS_WITH(nn::WordPieceTokenizer::from_vocab_file("/nonexistent/vocab.txt"), Catch::Contains("/nonexistent/vocab.txt"));
}

TEST_CASE("tokenizer: special tokens and template from the model's files (BERT and MPNet layouts)", "[nn][tokenizer]") {
  test::TempDir dir("fp8sim-tok");
  auto write = [&](const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; };
  // An MPNet-style vocabulary: <s>=0 <pad>=1 </s>=2 <unk>=3, WordPiece's unknown token is [UNK] (as in
  // all-mpnet-base-v2's tokenizer.json, where <unk> is not the WordPiece unk_token).
  write("vocab.txt", "<s>\n<pad>\n</s>\n<unk>\n[UNK]\nhello\n##s\n,\n[CLS]\n[SEP]\n");
  write("tokenizer.json", R"({"normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
      "strip_accents": null, "lowercase": true}, "pre_tokenizer": {"type": "BertPreTokenizer"},
      "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0]},
      "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                "max_input_chars_per_word": 100, "vocab": {}}})");
  const nn::WordPieceTokenizer mp = nn::WordPieceTokenizer::from_model_dir(dir.path.string());
  CHECK(mp.encode("HELLOs, zz") == std::vector<int32_t>{0, 5, 6, 7, 4, 2});  // <s> hello ##s , [UNK] </s>
  CHECK(mp.encode("hello hello hello", 3) == std::vector<int32_t>{0, 5, 2});
  // TemplateProcessing "[CLS] $A [SEP]" (BERT's tokenizer.json).
  write("tokenizer.json", R"({"normalizer": {"type": "BertNormalizer", "lowercase": false, "strip_accents": null},
      "pre_tokenizer": {"type": "BertPreTokenizer"},
      "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
          {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}]},
      "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {}}})");
  const nn::WordPieceTokenizer bt = nn::WordPieceTokenizer::from_model_dir(dir.path.string());
  CHECK(bt.encode("hello HELLO") == std::vector<int32_t>{8, 5, 4, 9});  // cased: HELLO is unknown
  CHECK_FALSE(bt.options().strip_accents);                              // null follows lowercase (false)
  // Without tokenizer.json: special_tokens_map.json names them.
  std::filesystem::remove(dir / "tokenizer.json");
  write("special_tokens_map.json", R"({"cls_token": "<s>", "sep_token": "</s>", "unk_token": {"content": "<unk>"}})");
  const nn::WordPieceTokenizer sm = nn::WordPieceTokenizer::from_model_dir(dir.path.string());
  CHECK(sm.encode("hello zz") == std::vector<int32_t>{0, 5, 3, 2});
  // What it cannot represent is a clear error naming the file.
  write("tokenizer.json", R"({"normalizer": null, "post_processor": {"type": "ByteLevel"},
      "model": {"type": "WordPiece", "vocab": {}}})");
  CHECK_THROWS_WITH(nn::WordPieceTokenizer::from_model_dir(dir.path.string()),
                    Catch::Contains("tokenizer.json") && Catch::Contains("ByteLevel"));
  write("tokenizer.json", R"({"model": {"type": "BPE"}})");
  CHECK_THROWS_WITH(nn::WordPieceTokenizer::from_model_dir(dir.path.string()), Catch::Contains("not WordPiece"));
  write("tokenizer.json", "{not json");
  CHECK_THROWS_WITH(nn::WordPieceTokenizer::from_model_dir(dir.path.string()), Catch::Contains("tokenizer.json"));
}

TEST_CASE("config.json: model_type mpnet selects the MPNet layout", "[nn][bert][mpnet]") {
  test::TempDir dir("fp8sim-cfg");
  std::ofstream(dir / "config.json") << R"({"model_type": "mpnet", "hidden_size": 768, "num_hidden_layers": 12,
      "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 514, "pad_token_id": 1,
      "layer_norm_eps": 1e-05, "relative_attention_num_buckets": 32, "vocab_size": 30527, "hidden_act": "gelu"})";
  const nn::BertConfig c = nn::bert_config_from_json_file((dir / "config.json").string());
  CHECK(c.kind == nn::EncoderKind::MPNet);
  CHECK(c.position_offset == 2);
  CHECK(c.type_vocab == 0);
  CHECK(c.relative_buckets == 32);
  CHECK(c.layer_norm_eps == 1e-5);
  CHECK(c.vocab_size == 30527);
  std::ofstream(dir / "config.json") << R"({"model_type": "roberta"})";
  CHECK_THROWS_WITH(nn::bert_config_from_json_file((dir / "config.json").string()),
                    Catch::Contains("config.json") && Catch::Contains("roberta"));
}

TEST_CASE("Spearman correlation with tied ranks (hand-computed)", "[nn][stsb]") {
  // ranks of b = (1, 2, 3.5, 5, 3.5): sum of products of deviations 8, of squares 10 and 9.5.
  CHECK(nn::spearman({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}) == Approx(8.0 / std::sqrt(95.0)));
  CHECK(nn::spearman({1, 2, 3}, {30, 20, 10}) == Approx(-1.0));
  CHECK_THROWS(nn::spearman({1}, {1}));
}
