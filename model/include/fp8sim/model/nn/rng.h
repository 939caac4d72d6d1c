// A small deterministic random source for synthetic weights and inputs: SplitMix64 (Steele, Lea, Flood 2014)
// and Box-Muller normals computed here, so that the same seed gives the same values with every compiler and
// standard library (std::normal_distribution is implementation-defined).
#pragma once

#include <cmath>
#include <cstdint>

namespace fp8sim::nn {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next_u64() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal() {
    const double u1 = 1.0 - uniform(), u2 = uniform();  // u1 in (0, 1]
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Derives an independent stream for a named parameter.
  static uint64_t mix(uint64_t seed, const char* name) {
    uint64_t h = 1469598103934665603ull ^ seed;  // FNV-1a over the name
    for (const char* p = name; *p; ++p) h = (h ^ static_cast<unsigned char>(*p)) * 1099511628211ull;
    return h;
  }

 private:
  uint64_t s_;
};

}  // namespace fp8sim::nn
