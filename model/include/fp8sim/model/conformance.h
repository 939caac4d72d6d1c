// Conformance vectors for the declared MAC semantics (model/gemm.h) and the MX block dot product
// (model/mx.h): dot products with their inputs (codes, scales) and the expected accumulator word for each
// semantics, as JSON, so other tools (RTL testbenches, other simulators, GPU kernels) can test against them.
// Exported by `fp8sim-conformance`; the schema is documented in the output's "schema" field and in README.md.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

namespace fp8sim::model {

// The worked examples of the README (hand-derived in tests/model/test_mac_semantics.cpp), special-value
// vectors, and `random_per_format` random dot products per operand format (seeded: the same seed gives the
// same file).
nlohmann::json conformance_vectors(uint32_t seed = 1, int random_per_format = 4);

}  // namespace fp8sim::model
