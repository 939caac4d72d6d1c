// A minimal float tensor and a named collection of them: the currency of the reference networks.
// Row-major, shape in outermost-first order (PyTorch's convention for weights).
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace fp8sim::nn {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  Tensor() = default;
  Tensor(std::vector<int64_t> s, std::vector<float> d) : shape(std::move(s)), data(std::move(d)) {}
  explicit Tensor(std::vector<int64_t> s, float fill = 0.0f) : shape(std::move(s)), data(numel_of(shape), fill) {}

  static size_t numel_of(const std::vector<int64_t>& s) {
    size_t n = 1;
    for (int64_t d : s) n *= static_cast<size_t>(d);
    return n;
  }
  size_t numel() const { return data.size(); }
  int64_t dim(size_t i) const { return shape.at(i); }
  std::string shape_str() const;
};

// Parameters by name (e.g. "layer1.0.conv1.weight"), as in a PyTorch state dict / safetensors file.
class TensorMap {
 public:
  void set(const std::string& name, Tensor t) { map_[name] = std::move(t); }
  bool has(const std::string& name) const { return map_.count(name) != 0; }
  // Throws std::runtime_error naming the tensor when missing or when its shape differs from `shape`
  // (an empty `shape` skips the check).
  const Tensor& get(const std::string& name, const std::vector<int64_t>& shape = {}) const;
  const std::map<std::string, Tensor>& all() const { return map_; }
  size_t size() const { return map_.size(); }

 private:
  std::map<std::string, Tensor> map_;
};

// Loads every tensor of a safetensors file as float32 (F32/F16/BF16 converted). Throws std::runtime_error
// with the file name and the reason on any problem.
TensorMap load_safetensors_floats(const std::string& path);

}  // namespace fp8sim::nn
