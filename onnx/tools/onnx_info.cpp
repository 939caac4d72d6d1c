// fp8sim-onnx-info MODEL.onnx: what the importer reads from a model: inputs (dynamic dims as -1 and their
// names), outputs, op counts in the file, and the GEMM layers (name, N, K) after BatchNorm / bias folding.
#include <iostream>

#include "fp8sim/onnx/model.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fp8sim-onnx-info MODEL.onnx\n";
    return 2;
  }
  try {
    const auto m = fp8sim::onnx_import::Model::load(argv[1]);
    std::cout << "opset " << m.opset() << "\n";
    for (const auto& in : m.inputs()) {
      std::cout << "input  " << in.name << " " << fp8sim::onnx_import::to_string(in.type) << " [";
      for (size_t d = 0; d < in.shape.size(); ++d)
        std::cout << (d ? "," : "") << (in.shape[d] >= 0 ? std::to_string(in.shape[d]) : in.dim_names[d]);
      std::cout << "]\n";
    }
    for (const auto& o : m.outputs()) std::cout << "output " << o << "\n";
    for (const auto& [op, c] : m.op_counts()) std::cout << "op     " << op << " " << c << "\n";
    for (const auto* g : m.gemm_layers())
      std::cout << "gemm   " << g->name << " n=" << g->n << " k=" << g->k << (g->bias.empty() ? "" : " +bias") << "\n";
  } catch (const std::exception& e) {
    std::cerr << "fp8sim-onnx-info: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
