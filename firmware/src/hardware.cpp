#include "fp8sim/firmware/hardware.h"

#include <stdexcept>

namespace fp8sim::firmware {

void ArrayTarget::validate() const {
  if (rows < 1 || cols < 1) throw std::invalid_argument("array target: rows and cols must be >= 1");
  if (input_buffer_bytes < 1 || weight_buffer_bytes < 1 || output_buffer_bytes < 1)
    throw std::invalid_argument("array target: buffer sizes must be >= 1");
  if (word_bytes != 4 && word_bytes != 8 && word_bytes != 16)
    throw std::invalid_argument("array target: word_bytes must be 4, 8 or 16");
  if (os_k_tile < 0) throw std::invalid_argument("array target: os_k_tile must be >= 0");
}

}  // namespace fp8sim::firmware
