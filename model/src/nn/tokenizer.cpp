#include "fp8sim/model/nn/tokenizer.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace fp8sim::nn {
namespace {

struct CpRange {
  uint32_t lo, hi;
};
struct CpMap {
  uint32_t cp;
  uint8_t n;
  uint32_t seq[3];
};
#include "unicode_tables.inc"

template <size_t N>
bool in_ranges(const CpRange (&r)[N], uint32_t cp) {
  auto it = std::upper_bound(std::begin(r), std::end(r), cp, [](uint32_t c, const CpRange& x) { return c < x.lo; });
  return it != std::begin(r) && cp <= std::prev(it)->hi;
}
template <size_t N>
const CpMap* find_map(const CpMap (&m)[N], uint32_t cp) {
  auto it = std::lower_bound(std::begin(m), std::end(m), cp, [](const CpMap& x, uint32_t c) { return x.cp < c; });
  return (it != std::end(m) && it->cp == cp) ? &*it : nullptr;
}

// Unicode White_Space property (PropList.txt), which Rust's char::is_whitespace implements.
bool is_whitespace(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}
bool is_control(uint32_t c) { return c != '\t' && c != '\n' && c != '\r' && in_ranges(kOther, c); }
bool is_punct(uint32_t c) {
  const bool ascii = (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  return ascii || in_ranges(kPunct, c);
}
// The CJK Unified Ideographs blocks the BERT normalizer pads with spaces.
bool is_cjk(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// UTF-8 -> code points; an invalid sequence gives U+FFFD (which cleaning then removes).
std::vector<uint32_t> decode_utf8(const std::string& s) {
  std::vector<uint32_t> out;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      const unsigned char c = static_cast<unsigned char>(s[i + k]);
      if ((c >> 6) != 2) ok = false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (!ok || cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void append_utf8(std::string& s, uint32_t cp) {
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// NFD with nonspacing marks removed. Hangul syllables: Unicode 3.12 arithmetic decomposition into jamo.
void nfd_strip(uint32_t c, std::vector<uint32_t>& out) {
  if (c >= 0xAC00 && c <= 0xD7A3) {
    const uint32_t s = c - 0xAC00;
    out.push_back(0x1100 + s / 588);
    out.push_back(0x1161 + (s % 588) / 28);
    if (s % 28) out.push_back(0x11A7 + s % 28);
    return;
  }
  if (const CpMap* m = find_map(kNfdStripped, c)) {
    for (int i = 0; i < m->n; ++i) out.push_back(m->seq[i]);
    return;
  }
  if (!in_ranges(kMarkNonspacing, c)) out.push_back(c);
}

void lower(uint32_t c, std::vector<uint32_t>& out) {
  if (const CpMap* m = find_map(kLower, c)) {
    for (int i = 0; i < m->n; ++i) out.push_back(m->seq[i]);
  } else {
    out.push_back(c);
  }
}

}  // namespace

WordPieceTokenizer WordPieceTokenizer::from_vocab_file(const std::string& path, bool lowercase) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error(path + ": cannot open the WordPiece vocabulary");
  std::vector<std::string> vocab;
  std::string line;
  while (std::getline(f, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab.push_back(line);
  }
  try {
    return WordPieceTokenizer(std::move(vocab), lowercase);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, bool lowercase)
    : vocab_(std::move(vocab)), lowercase_(lowercase) {
  for (size_t i = 0; i < vocab_.size(); ++i) ids_.emplace(vocab_[i], static_cast<int32_t>(i));  // first wins
  cls_ = id_of("[CLS]"), sep_ = id_of("[SEP]"), unk_ = id_of("[UNK]");
  if (vocab_.empty() || cls_ < 0 || sep_ < 0 || unk_ < 0)
    throw std::runtime_error("vocabulary lacks [CLS], [SEP] or [UNK]");
}

int32_t WordPieceTokenizer::id_of(const std::string& tok) const {
  auto it = ids_.find(tok);
  return it == ids_.end() ? -1 : it->second;
}

std::vector<std::string> WordPieceTokenizer::pre_tokenize(const std::string& text) const {
  // Normalizer.
  std::vector<uint32_t> cps;
  for (uint32_t c : decode_utf8(text)) {
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c)) c = ' ';
    if (is_cjk(c)) {
      cps.push_back(' ');
      cps.push_back(c);
      cps.push_back(' ');
    } else {
      cps.push_back(c);
    }
  }
  if (lowercase_) {
    std::vector<uint32_t> stripped, lowered;
    for (uint32_t c : cps) nfd_strip(c, stripped);
    for (uint32_t c : stripped) lower(c, lowered);
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
  if (cps.size() > 100) return {"[UNK]"};
  // Byte offset of each code point, to cut substrings.
  std::vector<size_t> off;
  {
    size_t i = 0;
    for (uint32_t c : cps) {
      off.push_back(i);
      i += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
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
      if (start > 0) sub = "##" + sub;
      if (ids_.count(sub)) {
        found = std::move(sub);
        break;
      }
      --end;
    }
    if (found.empty()) return {"[UNK]"};
    pieces.push_back(std::move(found));
    start = end;
  }
  return pieces;
}

std::vector<int32_t> WordPieceTokenizer::encode(const std::string& text, size_t max_len) const {
  if (max_len < 2) throw std::invalid_argument("encode: max_len must be at least 2 ([CLS] and [SEP])");
  std::vector<int32_t> ids = {cls_};
  for (const std::string& w : pre_tokenize(text))
    for (const std::string& p : wordpiece(w)) ids.push_back(p == "[UNK]" ? unk_ : ids_.at(p));
  if (ids.size() > max_len - 1) ids.resize(max_len - 1);
  ids.push_back(sep_);
  return ids;
}

}  // namespace fp8sim::nn
