// The STS Benchmark (Cer et al. 2017) and its metric.
#pragma once

#include <string>
#include <vector>

namespace fp8sim::nn {

struct StsPair {
  double score = 0.0;  // gold similarity 0..5
  std::string s1, s2;
};
// sts-dev.tsv / sts-test.tsv: tab-separated genre, file, year, id, score, sentence1, sentence2 (extra
// columns after them are ignored). Throws std::runtime_error naming the file and line on malformed input.
std::vector<StsPair> load_stsb_tsv(const std::string& path);

// Spearman rank correlation (average ranks for ties, then Pearson on the ranks).
double spearman(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace fp8sim::nn
