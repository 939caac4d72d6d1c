// Task metrics on per-item results and their bootstrap intervals (workloads/metrics.h, issue #11 item 4).
#include <catch2/catch.hpp>

#include <cmath>

#include "fp8sim/workloads/metrics.h"

using namespace fp8sim::workloads;

namespace {
ItemScores top1(size_t n, size_t correct_every) {  // item i correct unless i % correct_every == 0
  ItemScores s;
  s.metric = "top1";
  for (size_t i = 0; i < n; ++i) s.correct.push_back(i % correct_every == 0 ? 0.0 : 1.0);
  return s;
}
}  // namespace

TEST_CASE("metric_on: top-1 percent and Spearman on all items or a resample", "[unit][metrics]") {
  const ItemScores t = top1(10, 5);  // items 0 and 5 wrong: 80 %
  CHECK(metric_on(t) == 80.0);
  const std::vector<size_t> idx{0, 0, 1, 2};  // wrong, wrong, right, right
  CHECK(metric_on(t, &idx) == 50.0);
  ItemScores s;
  s.metric = "spearman";
  s.pred = {0.1, 0.2, 0.3, 0.4};
  s.gold = {1, 2, 3, 4};
  CHECK(metric_on(s) == Approx(1.0));
  s.gold = {4, 3, 2, 1};
  CHECK(metric_on(s) == Approx(-1.0));
  ItemScores bad;
  bad.metric = "sqnr_db";
  CHECK_THROWS_AS(metric_on(bad), std::invalid_argument);
}

TEST_CASE("bootstrap interval: deterministic, contains the estimate, width as the binomial predicts", "[unit][metrics]") {
  // p = 0.8 over n = 1000 items: the standard error is sqrt(0.8 * 0.2 / 1000) = 1.265 points, so a 95 %
  // interval is about 2 x 1.96 x 1.265 = 4.96 points wide (normal approximation, independent of the code).
  const ItemScores t = top1(1000, 5);
  const Interval a = bootstrap_ci(t, 7), b = bootstrap_ci(t, 7), c = bootstrap_ci(t, 8);
  CHECK(a.low == b.low);
  CHECK(a.high == b.high);  // same seed, same bits (reports are byte-identical)
  CHECK((a.low != c.low || a.high != c.high));
  CHECK(a.low < 80.0);
  CHECK(a.high > 80.0);
  CHECK(a.high - a.low > 4.0);
  CHECK(a.high - a.low < 6.0);
  // Every item correct: no resample can differ.
  ItemScores perfect;
  perfect.metric = "top1";
  perfect.correct.assign(40, 1.0);
  const Interval p = bootstrap_ci(perfect, 1);
  CHECK((p.low == 100.0 && p.high == 100.0));
}

TEST_CASE("paired bootstrap: the same items for both runs", "[unit][metrics]") {
  // a is right on every item, b wrong on every 10th: a - b = 10 points exactly. Paired, each resample's
  // difference is the share of b's wrong items in it: binomial with p = 0.1, n = 500, standard error
  // sqrt(0.1 * 0.9 / 500) = 1.34 points, interval about 5.3 points wide around 10.
  ItemScores a;
  a.metric = "top1";
  a.correct.assign(500, 1.0);
  const ItemScores b = top1(500, 10);
  const Interval d = paired_bootstrap_diff(a, b, 3);
  CHECK(d.low > 6.0);
  CHECK(d.high < 14.0);
  CHECK(d.low < 10.0);
  CHECK(d.high > 10.0);
  // A run against itself: every resample's difference is exactly 0.
  const Interval z = paired_bootstrap_diff(b, b, 3);
  CHECK((z.low == 0.0 && z.high == 0.0));
  // Different item lists are refused.
  CHECK_THROWS_AS(paired_bootstrap_diff(a, top1(499, 10), 3), std::invalid_argument);
}

TEST_CASE("percentile interval: ranks floor(0.025 r) and ceil(0.975 r) - 1", "[unit][metrics]") {
  std::vector<double> v;
  for (int i = 0; i < 2000; ++i) v.push_back(1999 - i);  // 0 .. 1999, reversed
  const Interval i = percentile_interval(v);
  CHECK(i.low == 50.0);    // floor(0.025 * 2000) = 50
  CHECK(i.high == 1949.0); // ceil(0.975 * 2000) - 1 = 1949
  CHECK_THROWS_AS(percentile_interval({}), std::invalid_argument);
}
