// Task metrics applied to per-item results, with seeded bootstrap confidence intervals (issue #11 item 4).
// The evaluation (runner.cpp) produces per-item results; everything here is arithmetic on them, so every
// accuracy figure, its interval and the difference between formats come from the same item list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fp8sim::workloads {

struct Interval {
  double low = 0, high = 0;
};

// Per-item results of one run of a task, in item order.
//   top1:     correct[i] is 1 when the argmax of item i's logits is its label (NaN logits: 0), else 0
//   spearman: pred[i] is the cosine similarity of pair i's two embeddings, gold[i] its gold score
struct ItemScores {
  std::string metric;  // "top1" (percent) or "spearman"
  std::vector<double> correct;
  std::vector<double> pred, gold;
  size_t size() const { return metric == "top1" ? correct.size() : pred.size(); }
};

// Bootstrap resamples per interval; fixed so that the reports of the same command and seed are identical.
constexpr size_t kBootstrapResamples = 2000;
// Fewer pairs than this: a Spearman correlation is not reported as a result (the threshold).
constexpr size_t kMinSpearmanPairs = 30;

// The metric over the items idx (with repetitions: a bootstrap resample), or over all items when idx is null.
// top1: percent correct. spearman: rank correlation (average ranks for ties). Throws std::invalid_argument for
// an unknown metric, no items, or (spearman) fewer than 2.
double metric_on(const ItemScores& s, const std::vector<size_t>* idx = nullptr);

// Calls fn with each of the `reps` resampled index lists of a percentile bootstrap: n indices drawn with
// replacement from [0, n) by std::mt19937_64(seed) (raw draws modulo n: the same lists on every platform).
void for_each_resample(size_t n, uint64_t seed, size_t reps, const std::function<void(const std::vector<size_t>&)>& fn);

// 95 % percentile-bootstrap confidence interval of metric_on(s): the metric on each resample, sorted; the
// values at ranks floor(0.025 reps) and ceil(0.975 reps) - 1 (0-based).
Interval bootstrap_ci(const ItemScores& s, uint64_t seed, size_t reps = kBootstrapResamples);

// Paired bootstrap: the same resampled items for both runs (which must hold the same items in the same order,
// e.g. two formats on one item list): 95 % interval of metric_on(a) - metric_on(b).
Interval paired_bootstrap_diff(const ItemScores& a, const ItemScores& b, uint64_t seed,
                               size_t reps = kBootstrapResamples);

// The 2.5th / 97.5th percentile pair of `values` as defined above (sorts a copy).
Interval percentile_interval(std::vector<double> values);

}  // namespace fp8sim::workloads
