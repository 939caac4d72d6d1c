// WordPiece tokenization from a checkpoint's vocab.txt, reproducing the Hugging Face `tokenizers` pipeline of
// uncased BERT-family models (BertNormalizer + BertPreTokenizer + WordPiece + a one-sentence template):
//   1. clean: drop NUL, U+FFFD and "Other" (C*) characters except \t \n \r; map whitespace to ' ';
//   2. put spaces around CJK ideographs;
//   3. (strip_accents) NFD, drop nonspacing marks (Mn); (lowercase) lowercase;
//   4. split on whitespace; split off every punctuation character (ASCII punctuation or Unicode P*);
//   5. WordPiece: greedy longest match first, continuation pieces prefixed "##"; a word longer than 100
//      characters or with an unmatchable rest becomes the unknown token;
//   6. template: <cls> pieces <sep> (BERT: [CLS] ... [SEP]; MPNet/RoBERTa: <s> ... </s>).
// Unicode properties, NFD and the case mapping come from utf8proc (libutf8proc). The options and the special
// tokens are read from the model's own files by from_model_dir (tokenizer.json, else special_tokens_map.json
// and tokenizer_config.json, else BERT's defaults).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace fp8sim::nn {

struct TokenizerOptions {
  bool lowercase = true;
  bool strip_accents = true;  // Hugging Face's strip_accents null means: as lowercase
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::string cls = "[CLS]", sep = "[SEP]", unk = "[UNK]";  // the template's first and last token, the unknown token
  std::string continuing_prefix = "##";
  size_t max_input_chars_per_word = 100;
};

class WordPieceTokenizer {
 public:
  // vocab.txt: one token per line, id = line number. Throws std::runtime_error naming the file when it cannot
  // be read, is empty, or lacks the special tokens.
  static WordPieceTokenizer from_vocab_file(const std::string& path, bool lowercase = true);
  static WordPieceTokenizer from_vocab_file(const std::string& path, const TokenizerOptions& opt);
  // A model directory with vocab.txt; options and special tokens from tokenizer.json (BertNormalizer,
  // WordPiece model, BertProcessing / RobertaProcessing / TemplateProcessing "<cls> $A <sep>"), else from
  // special_tokens_map.json / tokenizer_config.json (cls_token, sep_token, unk_token, do_lower_case), else
  // BERT's defaults. Throws std::runtime_error naming the file on anything it cannot represent.
  static WordPieceTokenizer from_model_dir(const std::string& dir);
  WordPieceTokenizer(std::vector<std::string> vocab, bool lowercase = true);
  WordPieceTokenizer(std::vector<std::string> vocab, TokenizerOptions opt);

  // Steps 1-4: the words (UTF-8) WordPiece sees.
  std::vector<std::string> pre_tokenize(const std::string& text) const;
  // Steps 1-6, truncated to at most max_len ids (sentence-transformers' max_seq_length counts the special
  // tokens; the final <sep> is kept).
  std::vector<int32_t> encode(const std::string& text, size_t max_len = 512) const;
  std::vector<std::string> wordpiece(const std::string& word) const;  // pieces of one word
  const std::string& token(int32_t id) const { return vocab_.at(static_cast<size_t>(id)); }
  size_t vocab_size() const { return vocab_.size(); }
  int32_t id_of(const std::string& tok) const;  // -1 when absent
  const TokenizerOptions& options() const { return opt_; }

 private:
  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int32_t> ids_;
  TokenizerOptions opt_;
  int32_t cls_ = -1, sep_ = -1, unk_ = -1;
};

}  // namespace fp8sim::nn
