// fp8sim-conformance: writes the MAC-semantics conformance vectors (model/conformance.h) as JSON.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "fp8sim/model/conformance.h"

namespace {
const char* kUsage =
    "usage: fp8sim-conformance [--out FILE] [--seed N] [--random N]\n"
    "  Writes dot-product conformance vectors as JSON: inputs (FP8 codes, or MX element codes with E8M0 scales)\n"
    "  and the expected accumulator word for each declared MAC semantics (exact, fp32, block-fp32(B),\n"
    "  promote-N(pP), and the MX semantics). Default output: standard output.\n"
    "  --seed N    seed of the random vectors (default 1; same seed, same file)\n"
    "  --random N  random vectors per operand format (default 4)\n";

bool parse_uint(const std::string& s, unsigned long& out) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::stoul(s);
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  std::string out;
  unsigned long seed = 1, random = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if ((a == "--out" || a == "--seed" || a == "--random") && i + 1 < argc) {
      const std::string v = argv[++i];
      if (a == "--out") {
        out = v;
      } else if (!parse_uint(v, a == "--seed" ? seed : random) || (a == "--random" && random > 10000)) {
        std::cerr << "fp8sim-conformance: error: " << a << " needs a non-negative integer"
                  << (a == "--random" ? " <= 10000" : "") << ", got '" << v << "'\n";
        return 2;
      }
      continue;
    }
    std::cerr << "fp8sim-conformance: error: unknown or incomplete argument '" << a << "'\n" << kUsage;
    return 2;
  }
  try {
    const auto j = fp8sim::model::conformance_vectors(static_cast<uint32_t>(seed), static_cast<int>(random));
    if (out.empty()) {
      std::cout << j.dump(1) << "\n";
    } else {
      std::ofstream f(out);
      if (!f) {
        std::cerr << "fp8sim-conformance: error: cannot write " << out << "\n";
        return 1;
      }
      f << j.dump(1) << "\n";
      if (!f.flush()) {
        std::cerr << "fp8sim-conformance: error: writing " << out << " failed\n";
        return 1;
      }
      std::cerr << "fp8sim-conformance: " << j["vectors"].size() << " vectors written to " << out << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "fp8sim-conformance: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
