// The parameter specification of `simrun sweep` (also a fuzz target: fuzz/fuzz_sweep_spec.cpp).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace fp8sim::simrun {

// key -> values, in the order given: spec is a file of "key = v, v" lines or inline "key=v,v;key=v". Throws
// UsageError naming the origin (file:line or SPEC) and the problem.
std::map<std::string, std::vector<std::string>> parse_sweep_spec(const std::string& spec);

}  // namespace fp8sim::simrun
