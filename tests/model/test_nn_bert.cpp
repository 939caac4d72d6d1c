// BERT: layer outputs of a tiny model against a hand-checkable case and against an independent naive
// double-precision implementation written here; the WordPiece tokenizer on hand-made vocabularies; Spearman.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "fp8sim/model/nn/bert.h"
#include "fp8sim/model/nn/rng.h"
#include "fp8sim/model/nn/stsb.h"
#include "fp8sim/model/nn/tokenizer.h"

using namespace fp8sim;

namespace {
nn::BertConfig tiny(int64_t hidden, int64_t heads, int64_t inter, int64_t layers) {
  nn::BertConfig c;
  c.vocab_size = 5, c.hidden = hidden, c.heads = heads, c.intermediate = inter, c.layers = layers;
  c.max_position = 8, c.type_vocab = 2;
  return c;
}

// Naive reference: double precision, straight from the equations of Devlin et al. / HF BertModel.
std::vector<double> naive_bert(const nn::BertConfig& c, const nn::TensorMap& w, const std::vector<int32_t>& ids) {
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
  const auto we = W("embeddings.word_embeddings.weight"), pe = W("embeddings.position_embeddings.weight"),
             te = W("embeddings.token_type_embeddings.weight");
  for (int64_t t = 0; t < L; ++t)
    for (int64_t i = 0; i < H; ++i) x[t * H + i] = we[ids[t] * H + i] + pe[t * H + i] + te[i];
  ln(x, "embeddings.LayerNorm");
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    const auto q = lin(x, p + "attention.self.query", H, H), k = lin(x, p + "attention.self.key", H, H),
               v = lin(x, p + "attention.self.value", H, H);
    std::vector<double> ctx(x.size());
    for (int64_t h = 0; h < nh; ++h)
      for (int64_t i = 0; i < L; ++i) {
        std::vector<double> s(static_cast<size_t>(L));
        double m = -1e300, z = 0;
        for (int64_t j = 0; j < L; ++j) {
          double dot = 0;
          for (int64_t e = 0; e < d; ++e) dot += q[i * H + h * d + e] * k[j * H + h * d + e];
          s[j] = dot / std::sqrt(static_cast<double>(d));
          m = std::max(m, s[j]);
        }
        for (double& u : s) z += (u = std::exp(u - m));
        for (int64_t e = 0; e < d; ++e) {
          double acc = 0;
          for (int64_t j = 0; j < L; ++j) acc += s[j] / z * v[j * H + h * d + e];
          ctx[i * H + h * d + e] = acc;
        }
      }
    const auto ao = lin(ctx, p + "attention.output.dense", H, H);
    for (size_t i = 0; i < x.size(); ++i) x[i] += ao[i];
    ln(x, p + "attention.output.LayerNorm");
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

TEST_CASE("Spearman correlation with tied ranks (hand-computed)", "[nn][stsb]") {
  // ranks of b = (1, 2, 3.5, 5, 3.5): sum of products of deviations 8, of squares 10 and 9.5.
  CHECK(nn::spearman({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}) == Approx(8.0 / std::sqrt(95.0)));
  CHECK(nn::spearman({1, 2, 3}, {30, 20, 10}) == Approx(-1.0));
  CHECK_THROWS(nn::spearman({1}, {1}));
}
