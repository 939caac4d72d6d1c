#include "fp8sim/model/quant/export.h"

#include <stdexcept>

#include "fp8sim/model/safetensors.h"

namespace fp8sim::quant {

void export_quantized(const std::string& path, Executor& ex, const std::vector<ExportLayer>& layers,
                      const nn::TensorMap& other_params, const std::map<std::string, std::string>& metadata) {
  const Recipe& r = ex.recipe();
  if (r.act_granularity == Granularity::PerTensor && !ex.calibrated())
    throw std::logic_error("export: static activation scales need calibration first");
  // Keep every buffer alive until the write.
  std::vector<std::vector<float>> floats;
  floats.reserve(4 * layers.size() + 2 * ex.gemm_order().size() + other_params.size() + 8);
  std::vector<model::TensorData> out;
  auto add_f32 = [&](const std::string& name, std::vector<int64_t> shape, std::vector<float> v) {
    floats.push_back(std::move(v));
    out.push_back({{name, model::DType::F32, std::move(shape)}, floats.back().data(), floats.back().size() * 4});
  };
  nlohmann::json table = nlohmann::json::array();
  for (const ExportLayer& el : layers) {
    const LinearParams& p = *el.params;
    Format f = r.format_for(p.name);
    nlohmann::json row = el.extra.is_object() ? el.extra : nlohmann::json::object();
    if (!row.contains("kind")) row["kind"] = "linear";
    row["name"] = p.name;
    row["n"] = p.n;
    row["k"] = p.k;
    row["format"] = to_string(f);
    if (f == Format::FP32) {
      add_f32(p.name + ".weight", {p.n, p.k}, p.weight);
    } else {
      const QTensor& q = ex.prepare_weight(p);
      const model::DType dt = f == Format::INT8 ? model::DType::I8
                              : f == Format::E4M3 ? model::DType::F8_E4M3
                                                  : model::DType::F8_E5M2;
      out.push_back({{p.name + ".weight", dt, {p.n, p.k}}, q.codes.data(), q.codes.size()});
      add_f32(p.name + ".weight_scale", {static_cast<int64_t>(q.scales.size())}, q.scales);
      row["weight_granularity"] = q.scales.size() == 1 ? "per-tensor" : "per-channel";
      if (r.act_granularity == Granularity::PerTensor) {
        const GemmQuantInfo& gi = ex.info(p.name);
        add_f32(p.name + ".input_scale", {1}, {gi.a_scale});
        row["input_amax"] = gi.a_amax;
      }
      row["act_granularity"] = to_string(r.act_granularity);
    }
    if (!p.bias.empty()) add_f32(p.name + ".bias", {p.n}, p.bias);
    table.push_back(row);
  }
  for (const std::string& name : ex.gemm_order()) {
    const GemmQuantInfo& gi = ex.info(name);
    if (!gi.act_act) continue;
    nlohmann::json row = {{"name", name}, {"kind", "matmul"}, {"format", to_string(gi.format)}};
    if (gi.format != Format::FP32 && r.act_granularity == Granularity::PerTensor) {
      add_f32(name + ".a_scale", {1}, {gi.a_scale});
      add_f32(name + ".b_scale", {1}, {gi.b_scale});
    }
    table.push_back(row);
  }
  for (const auto& [name, t] : other_params.all()) add_f32(name, t.shape, t.data);
  std::map<std::string, std::string> meta = metadata;
  meta["format"] = "pt";
  meta["fp8sim.recipe"] = r.to_json().dump();
  meta["fp8sim.layers"] = table.dump();
  model::write_safetensors(path, out, meta);
}

}  // namespace fp8sim::quant
