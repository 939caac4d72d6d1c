#include "fp8sim/model/nn/tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <utf8proc.h>

namespace fp8sim::nn {
namespace {

// Hugging Face tokenizers' BertNormalizer / BertPreTokenizer character classes, from utf8proc's Unicode data.
// Whitespace: Rust's char::is_whitespace (the White_Space property: \t..\r, U+0085, and the Zs, Zl, Zp
// characters, which are exactly White_Space's remaining members).
bool is_whitespace(uint32_t c) {
  if ((c >= 0x09 && c <= 0x0D) || c == 0x85) return true;
  const utf8proc_category_t k = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL || k == UTF8PROC_CATEGORY_ZP;
}
// "Other" (Cc, Cf, Cs, Co, Cn) except \t \n \r.
bool is_control(uint32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
      return true;
    default:
      return false;
  }
}
// ASCII punctuation (Rust's is_ascii_punctuation: all of !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~) or Unicode P*.
bool is_punct(uint32_t c) {
  const bool ascii = (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  if (ascii) return true;
  const utf8proc_category_t k = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}
// The CJK Unified Ideographs blocks the BERT normalizer pads with spaces.
bool is_cjk(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// UTF-8 -> code points; an invalid sequence gives U+FFFD for its first byte (which cleaning then removes).
std::vector<uint32_t> decode_utf8(const std::string& s) {
  std::vector<uint32_t> out;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t i = 0;
  const auto n = static_cast<utf8proc_ssize_t>(s.size());
  while (i < n) {
    utf8proc_int32_t cp = -1;
    const utf8proc_ssize_t len = utf8proc_iterate(p + i, n - i, &cp);
    if (len <= 0 || cp < 0) {
      out.push_back(0xFFFD);
      ++i;
    } else {
      out.push_back(static_cast<uint32_t>(cp));
      i += len;
    }
  }
  return out;
}

void append_utf8(std::string& s, uint32_t cp) {
  utf8proc_uint8_t b[4];
  const utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), b);
  s.append(reinterpret_cast<const char*>(b), static_cast<size_t>(n));
}

// NFD of a code point sequence (canonical decomposition, Hangul included, and canonical reordering).
std::vector<uint32_t> nfd(const std::vector<uint32_t>& cps) {
  std::string utf8;
  for (uint32_t c : cps) append_utf8(utf8, c);
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(utf8.data());
  const auto n = static_cast<utf8proc_ssize_t>(utf8.size());
  std::vector<utf8proc_int32_t> buf(cps.size() + 8);
  for (;;) {
    const utf8proc_ssize_t got =
        utf8proc_decompose(p, n, buf.data(), static_cast<utf8proc_ssize_t>(buf.size()), UTF8PROC_DECOMPOSE);
    if (got < 0) throw std::runtime_error(std::string("tokenizer: utf8proc: ") + utf8proc_errmsg(got));
    if (static_cast<size_t>(got) <= buf.size()) {
      buf.resize(static_cast<size_t>(got));
      break;
    }
    buf.resize(static_cast<size_t>(got));
  }
  return std::vector<uint32_t>(buf.begin(), buf.end());
}

// Rust's char::to_lowercase (tokenizers' NormalizedString::lowercase): the simple lowercase mapping, except
// U+0130 whose full mapping (SpecialCasing.txt, unconditional) is U+0069 U+0307.
void lower(uint32_t c, std::vector<uint32_t>& out) {
  if (c == 0x130) {
    out.push_back(0x69);
    out.push_back(0x307);
    return;
  }
  out.push_back(static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

}  // namespace

namespace {
std::vector<std::string> read_vocab(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error(path + ": cannot open the WordPiece vocabulary");
  std::vector<std::string> vocab;
  std::string line;
  while (std::getline(f, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab.push_back(line);
  }
  return vocab;
}

std::optional<nlohmann::json> read_json(const std::filesystem::path& p) {
  if (!std::filesystem::exists(p)) return std::nullopt;
  std::ifstream f(p);
  try {
    return nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(p.string() + ": " + e.what());
  }
}

// A special token given as a string or as {"content": "..."} (AddedToken).
std::string token_text(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  return j.at("content").get<std::string>();
}

// Options from tokenizer.json (the Hugging Face `tokenizers` file). Throws on parts it cannot represent.
void options_from_tokenizer_json(const nlohmann::json& j, TokenizerOptions& o) {
  const nlohmann::json& model = j.at("model");
  if (model.value("type", std::string()) != "WordPiece")
    throw std::runtime_error("model.type '" + model.value("type", std::string()) + "' is not WordPiece");
  o.unk = model.value("unk_token", o.unk);
  o.continuing_prefix = model.value("continuing_subword_prefix", o.continuing_prefix);
  o.max_input_chars_per_word = model.value("max_input_chars_per_word", o.max_input_chars_per_word);
  const nlohmann::json& norm = j.at("normalizer");
  if (!norm.is_null()) {
    if (norm.value("type", std::string()) != "BertNormalizer")
      throw std::runtime_error("normalizer.type '" + norm.value("type", std::string()) + "' is not BertNormalizer");
    o.lowercase = norm.value("lowercase", true);
    o.clean_text = norm.value("clean_text", true);
    o.handle_chinese_chars = norm.value("handle_chinese_chars", true);
    const nlohmann::json sa = norm.value("strip_accents", nlohmann::json());
    o.strip_accents = sa.is_null() ? o.lowercase : sa.get<bool>();
  }
  const nlohmann::json pre = j.value("pre_tokenizer", nlohmann::json());
  if (!pre.is_null() && pre.value("type", std::string()) != "BertPreTokenizer")
    throw std::runtime_error("pre_tokenizer.type '" + pre.value("type", std::string()) + "' is not BertPreTokenizer");
  const nlohmann::json pp = j.value("post_processor", nlohmann::json());
  if (pp.is_null()) throw std::runtime_error("no post_processor: the sentence template is unknown");
  const std::string t = pp.value("type", std::string());
  if (t == "BertProcessing" || t == "RobertaProcessing") {
    o.cls = pp.at("cls").at(0).get<std::string>();
    o.sep = pp.at("sep").at(0).get<std::string>();
  } else if (t == "TemplateProcessing") {  // single: [SpecialToken cls, Sequence A, SpecialToken sep]
    const nlohmann::json& single = pp.at("single");
    if (single.size() != 3 || !single[0].contains("SpecialToken") || !single[1].contains("Sequence") ||
        !single[2].contains("SpecialToken"))
      throw std::runtime_error("post_processor: only the template '<cls> $A <sep>' is supported");
    o.cls = single[0]["SpecialToken"].at("id").get<std::string>();
    o.sep = single[2]["SpecialToken"].at("id").get<std::string>();
  } else {
    throw std::runtime_error("post_processor.type '" + t + "' is not supported");
  }
}
}  // namespace

WordPieceTokenizer WordPieceTokenizer::from_vocab_file(const std::string& path, bool lowercase) {
  TokenizerOptions o;
  o.lowercase = o.strip_accents = lowercase;
  return from_vocab_file(path, o);
}

WordPieceTokenizer WordPieceTokenizer::from_vocab_file(const std::string& path, const TokenizerOptions& opt) {
  std::vector<std::string> vocab = read_vocab(path);
  try {
    return WordPieceTokenizer(std::move(vocab), opt);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

WordPieceTokenizer WordPieceTokenizer::from_model_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path d(dir);
  TokenizerOptions o;
  fs::path source = d / "tokenizer.json";
  try {
    if (const auto tj = read_json(source)) {
      options_from_tokenizer_json(*tj, o);
    } else {
      source = d / "tokenizer_config.json";
      if (const auto tc = read_json(source)) {
        o.lowercase = tc->value("do_lower_case", o.lowercase);
        const nlohmann::json sa = tc->value("strip_accents", nlohmann::json());
        o.strip_accents = sa.is_null() ? o.lowercase : sa.get<bool>();
        o.handle_chinese_chars = tc->value("tokenize_chinese_chars", true);
        if (tc->contains("cls_token")) o.cls = token_text(tc->at("cls_token"));
        if (tc->contains("sep_token")) o.sep = token_text(tc->at("sep_token"));
        if (tc->contains("unk_token")) o.unk = token_text(tc->at("unk_token"));
      }
      source = d / "special_tokens_map.json";
      if (const auto sm = read_json(source)) {
        if (sm->contains("cls_token")) o.cls = token_text(sm->at("cls_token"));
        if (sm->contains("sep_token")) o.sep = token_text(sm->at("sep_token"));
        if (sm->contains("unk_token")) o.unk = token_text(sm->at("unk_token"));
      }
    }
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    throw std::runtime_error(m.rfind(source.string(), 0) == 0 ? m : source.string() + ": " + m);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(source.string() + ": " + e.what());
  }
  return from_vocab_file((d / "vocab.txt").string(), o);
}

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, bool lowercase)
    : WordPieceTokenizer(std::move(vocab), [&] {
        TokenizerOptions o;
        o.lowercase = o.strip_accents = lowercase;
        return o;
      }()) {}

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, TokenizerOptions opt)
    : vocab_(std::move(vocab)), opt_(std::move(opt)) {
  for (size_t i = 0; i < vocab_.size(); ++i) ids_.emplace(vocab_[i], static_cast<int32_t>(i));  // first wins
  cls_ = id_of(opt_.cls), sep_ = id_of(opt_.sep), unk_ = id_of(opt_.unk);
  if (vocab_.empty() || cls_ < 0 || sep_ < 0 || unk_ < 0)
    throw std::runtime_error("vocabulary lacks " + opt_.cls + ", " + opt_.sep + " or " + opt_.unk);
}

int32_t WordPieceTokenizer::id_of(const std::string& tok) const {
  auto it = ids_.find(tok);
  return it == ids_.end() ? -1 : it->second;
}

std::vector<std::string> WordPieceTokenizer::pre_tokenize(const std::string& text) const {
  // Normalizer.
  std::vector<uint32_t> cps;
  for (uint32_t c : decode_utf8(text)) {
    if (opt_.clean_text) {
      if (c == 0 || c == 0xFFFD || is_control(c)) continue;
      if (is_whitespace(c)) c = ' ';
    }
    if (opt_.handle_chinese_chars && is_cjk(c)) {
      cps.push_back(' ');
      cps.push_back(c);
      cps.push_back(' ');
    } else {
      cps.push_back(c);
    }
  }
  if (opt_.strip_accents) {  // NFD, then drop the nonspacing marks (Mn)
    std::vector<uint32_t> kept;
    for (uint32_t c : nfd(cps))
      if (utf8proc_category(static_cast<utf8proc_int32_t>(c)) != UTF8PROC_CATEGORY_MN) kept.push_back(c);
    cps.swap(kept);
  }
  if (opt_.lowercase) {
    std::vector<uint32_t> lowered;
    for (uint32_t c : cps) lower(c, lowered);
    cps.swap(lowered);
  }
  // Pre-tokenizer: whitespace separates words; punctuation characters are words of their own.
  std::vector<std::string> words;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) words.push_back(cur), cur.clear();
  };
  for (uint32_t c : cps) {
    if (is_whitespace(c)) {
      flush();
    } else if (is_punct(c)) {
      flush();
      append_utf8(cur, c);
      flush();
    } else {
      append_utf8(cur, c);
    }
  }
  flush();
  return words;
}

std::vector<std::string> WordPieceTokenizer::wordpiece(const std::string& word) const {
  const std::vector<uint32_t> cps = decode_utf8(word);
  if (cps.size() > opt_.max_input_chars_per_word) return {opt_.unk};
  // Byte offset of each code point, to cut substrings.
  std::vector<size_t> off;
  {
    size_t i = 0;
    for (uint32_t c : cps) {
      off.push_back(i);
      i += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;  // decode_utf8 of a word we built: valid UTF-8
    }
    off.push_back(i);
  }
  std::vector<std::string> pieces;
  size_t start = 0;
  while (start < cps.size()) {
    size_t end = cps.size();
    std::string found;
    while (end > start) {
      std::string sub = word.substr(off[start], off[end] - off[start]);
      if (start > 0) sub = opt_.continuing_prefix + sub;
      if (ids_.count(sub)) {
        found = std::move(sub);
        break;
      }
      --end;
    }
    if (found.empty()) return {opt_.unk};
    pieces.push_back(std::move(found));
    start = end;
  }
  return pieces;
}

std::vector<int32_t> WordPieceTokenizer::encode(const std::string& text, size_t max_len) const {
  if (max_len < 2)
    throw std::invalid_argument("encode: max_len must be at least 2 (" + opt_.cls + " and " + opt_.sep + ")");
  std::vector<int32_t> ids = {cls_};
  for (const std::string& w : pre_tokenize(text))
    for (const std::string& p : wordpiece(w)) ids.push_back(ids_.at(p));
  if (ids.size() > max_len - 1) ids.resize(max_len - 1);
  ids.push_back(sep_);
  return ids;
}

}  // namespace fp8sim::nn
