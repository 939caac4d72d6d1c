// BERT WordPiece tokenization from a checkpoint's vocab.txt, reproducing the Hugging Face `tokenizers`
// pipeline of uncased BERT models (BertNormalizer + BertPreTokenizer + WordPiece + [CLS]/[SEP] template):
//   1. clean: drop NUL, U+FFFD and "Other" (C*) characters except \t \n \r; map whitespace to ' ';
//   2. put spaces around CJK ideographs;
//   3. (uncased) NFD, drop nonspacing marks (accents), lowercase;
//   4. split on whitespace; split off every punctuation character (ASCII punctuation or Unicode P*);
//   5. WordPiece: greedy longest match first, continuation pieces prefixed "##"; a word longer than 100
//      characters or with an unmatchable rest becomes [UNK].
// Unicode properties come from a generated table (scripts/gen_unicode_tables.py).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace fp8sim::nn {

class WordPieceTokenizer {
 public:
  // vocab.txt: one token per line, id = line number. Throws std::runtime_error naming the file when it cannot
  // be read, is empty, or lacks [CLS]/[SEP]/[UNK].
  static WordPieceTokenizer from_vocab_file(const std::string& path, bool lowercase = true);
  WordPieceTokenizer(std::vector<std::string> vocab, bool lowercase = true);

  // Steps 1-4: the words (UTF-8) WordPiece sees.
  std::vector<std::string> pre_tokenize(const std::string& text) const;
  // Steps 1-5 with [CLS] ... [SEP], truncated to at most max_len ids (sentence-transformers' max_seq_length
  // counts the special tokens).
  std::vector<int32_t> encode(const std::string& text, size_t max_len = 512) const;
  std::vector<std::string> wordpiece(const std::string& word) const;  // pieces of one word
  const std::string& token(int32_t id) const { return vocab_.at(static_cast<size_t>(id)); }
  size_t vocab_size() const { return vocab_.size(); }
  int32_t id_of(const std::string& tok) const;  // -1 when absent

 private:
  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int32_t> ids_;
  bool lowercase_;
  int32_t cls_ = -1, sep_ = -1, unk_ = -1;
};

}  // namespace fp8sim::nn
