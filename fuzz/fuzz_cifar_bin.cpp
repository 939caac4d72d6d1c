// Fuzz target: the CIFAR-10 binary reader, and every record decoded to an image.
#include <stdexcept>

#include "fuzz_common.h"
#include "fp8sim/model/nn/resnet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const fp8sim::nn::CifarSet s = fp8sim::nn::load_cifar_bin(fp8sim::fuzz::input_file(data, size, ".bin"));
    for (size_t i = 0; i < s.size(); ++i) {
      if (s.labels[i] > 9) __builtin_trap();  // labels outside 0..9 must have been refused
      volatile float v = fp8sim::nn::cifar_image(s, i).data.at(0);
      (void)v;
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
