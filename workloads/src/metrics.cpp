#include "fp8sim/workloads/metrics.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <stdexcept>

#include "fp8sim/model/nn/stsb.h"

namespace fp8sim::workloads {

double metric_on(const ItemScores& s, const std::vector<size_t>* idx) {
  const size_t n = idx ? idx->size() : s.size();
  if (s.metric == "top1") {
    if (!n) throw std::invalid_argument("top1: no items");
    double ok = 0;
    for (size_t j = 0; j < n; ++j) ok += s.correct.at(idx ? (*idx)[j] : j);
    return 100.0 * ok / static_cast<double>(n);
  }
  if (s.metric == "spearman") {
    if (s.pred.size() != s.gold.size()) throw std::invalid_argument("spearman: pred and gold differ in length");
    if (!idx) return nn::spearman(s.pred, s.gold);
    std::vector<double> p(n), g(n);
    for (size_t j = 0; j < n; ++j) p[j] = s.pred.at((*idx)[j]), g[j] = s.gold.at((*idx)[j]);
    return nn::spearman(p, g);
  }
  throw std::invalid_argument("metric '" + s.metric + "' has no per-item definition (top1, spearman)");
}

void for_each_resample(size_t n, uint64_t seed, size_t reps, const std::function<void(const std::vector<size_t>&)>& fn) {
  if (!n) throw std::invalid_argument("bootstrap: no items");
  std::mt19937_64 rng(seed);
  std::vector<size_t> idx(n);
  for (size_t r = 0; r < reps; ++r) {
    for (size_t& i : idx) i = static_cast<size_t>(rng() % n);
    fn(idx);
  }
}

Interval percentile_interval(std::vector<double> v) {
  if (v.empty()) throw std::invalid_argument("percentile_interval: no values");
  std::sort(v.begin(), v.end());
  const size_t r = v.size();
  const size_t lo = static_cast<size_t>(std::floor(0.025 * static_cast<double>(r)));
  const size_t hi = std::max<size_t>(1, static_cast<size_t>(std::ceil(0.975 * static_cast<double>(r)))) - 1;
  return {v[std::min(lo, r - 1)], v[std::min(hi, r - 1)]};
}

Interval bootstrap_ci(const ItemScores& s, uint64_t seed, size_t reps) {
  std::vector<double> vals;
  vals.reserve(reps);
  for_each_resample(s.size(), seed, reps, [&](const std::vector<size_t>& idx) { vals.push_back(metric_on(s, &idx)); });
  return percentile_interval(std::move(vals));
}

Interval paired_bootstrap_diff(const ItemScores& a, const ItemScores& b, uint64_t seed, size_t reps) {
  if (a.metric != b.metric || a.size() != b.size())
    throw std::invalid_argument("paired bootstrap: the two runs must have the same metric and items");
  if (a.metric == "spearman" && a.gold != b.gold)
    throw std::invalid_argument("paired bootstrap: the two runs' gold scores differ (not the same items)");
  std::vector<double> vals;
  vals.reserve(reps);
  for_each_resample(a.size(), seed, reps, [&](const std::vector<size_t>& idx) {
    vals.push_back(metric_on(a, &idx) - metric_on(b, &idx));
  });
  return percentile_interval(std::move(vals));
}

}  // namespace fp8sim::workloads
