// The Verilated RTL array (rtl/systolic_array.v, built by rtl/ into fp8sim_rtl_arrays) behind the same
// ArrayCore interface as the modelled array, for --engine rtl.
#pragma once

#include <memory>

#include "fp8sim/sim/systolic_array.h"

namespace fp8sim::sim {
// Throws std::invalid_argument when no Verilated array matches the parameters (or RTL is not built).
std::unique_ptr<ArrayCore> make_rtl_array(const ArrayParams& p);
}  // namespace fp8sim::sim
