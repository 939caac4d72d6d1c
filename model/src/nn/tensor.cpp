#include "fp8sim/model/nn/tensor.h"

#include "fp8sim/model/safetensors.h"

namespace fp8sim::nn {

std::string Tensor::shape_str() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

const Tensor& TensorMap::get(const std::string& name, const std::vector<int64_t>& shape) const {
  auto it = map_.find(name);
  if (it == map_.end()) throw std::runtime_error("weights: missing tensor '" + name + "'");
  if (!shape.empty() && it->second.shape != shape) {
    Tensor want(shape, std::vector<float>{});
    throw std::runtime_error("weights: tensor '" + name + "' has shape " + it->second.shape_str() + ", expected " +
                             want.shape_str());
  }
  return it->second;
}

TensorMap load_safetensors_floats(const std::string& path) {
  model::SafetensorsFile f(path);  // validates; throws with the path on any problem
  TensorMap m;
  for (const auto& tv : f.tensors()) {
    if (!model::dtype_is_wide_float(tv.dtype)) continue;  // integer tensors (e.g. BERT position_ids) are not weights
    m.set(tv.name, Tensor(tv.shape, f.read_float(tv.name)));
  }
  return m;
}

}  // namespace fp8sim::nn
