#include "fp8sim/model/quant/recipe.h"

#include <cmath>
#include <stdexcept>

namespace fp8sim::quant {

std::string to_string(Format f) {
  switch (f) {
    case Format::FP32: return "fp32";
    case Format::E4M3: return "e4m3";
    case Format::E5M2: return "e5m2";
    case Format::INT8: return "int8";
  }
  return "?";
}
std::string to_string(Granularity g) {
  switch (g) {
    case Granularity::PerTensor: return "per-tensor";
    case Granularity::PerChannel: return "per-channel";
    case Granularity::PerToken: return "per-token";
  }
  return "?";
}
std::string to_string(CalibMethod c) {
  switch (c) {
    case CalibMethod::MinMax: return "minmax";
    case CalibMethod::Percentile: return "percentile";
    case CalibMethod::MSE: return "mse";
  }
  return "?";
}
std::optional<Format> format_from_string(const std::string& s) {
  for (Format f : {Format::FP32, Format::E4M3, Format::E5M2, Format::INT8})
    if (s == to_string(f)) return f;
  return std::nullopt;
}
std::optional<Granularity> granularity_from_string(const std::string& s) {
  for (Granularity g : {Granularity::PerTensor, Granularity::PerChannel, Granularity::PerToken})
    if (s == to_string(g)) return g;
  return std::nullopt;
}
std::optional<CalibMethod> calib_from_string(const std::string& s) {
  for (CalibMethod c : {CalibMethod::MinMax, CalibMethod::Percentile, CalibMethod::MSE})
    if (s == to_string(c)) return c;
  return std::nullopt;
}

double format_max(Format f) {
  switch (f) {
    case Format::E4M3: return 448.0;    // OCP OFP8: S.1111.110
    case Format::E5M2: return 57344.0;  // OCP OFP8: S.11110.11
    case Format::INT8: return 127.0;    // symmetric range [-127, 127]
    case Format::FP32: return 0.0;
  }
  return 0.0;
}

bool glob_match(const std::string& pattern, const std::string& text) {
  // Iterative wildcard match with backtracking to the last '*'.
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Format Recipe::format_for(const std::string& layer) const {
  for (const auto& [pat, f] : overrides)
    if (glob_match(pat, layer)) return f;
  return format;
}

void Recipe::validate() const {
  if (weight_granularity == Granularity::PerToken)
    throw std::invalid_argument("recipe: weights cannot be quantized per token (use per-tensor or per-channel)");
  if (act_granularity == Granularity::PerChannel)
    throw std::invalid_argument(
        "recipe: activations are quantized per tensor (static) or per token (dynamic), not per channel");
  if (!(percentile > 0.0 && percentile <= 100.0))
    throw std::invalid_argument("recipe: percentile must be in (0, 100], got " + std::to_string(percentile));
  for (const auto& [pat, f] : overrides)
    if (pat.empty()) throw std::invalid_argument("recipe: empty layer pattern in overrides");
}

nlohmann::json Recipe::to_json() const {
  nlohmann::json j;
  j["format"] = to_string(format);
  j["weight_granularity"] = to_string(weight_granularity);
  j["act_granularity"] = to_string(act_granularity);
  j["act_calibration"] = to_string(act_calibration);
  j["weight_calibration"] = to_string(weight_calibration);
  j["percentile"] = percentile;
  j["quantize_attention_matmuls"] = quantize_attention_matmuls;
  j["nongemm_bf16"] = nongemm_bf16;
  j["overrides"] = nlohmann::json::array();
  for (const auto& [pat, f] : overrides) j["overrides"].push_back({{"layer", pat}, {"format", to_string(f)}});
  return j;
}

namespace {
template <class T, class F>
T parse_field(const nlohmann::json& j, const char* key, T def, F parse) {
  if (!j.contains(key)) return def;
  if (!j[key].is_string()) throw std::invalid_argument(std::string("recipe: '") + key + "' must be a string");
  auto v = parse(j[key].get<std::string>());
  if (!v) throw std::invalid_argument(std::string("recipe: unknown ") + key + " '" + j[key].get<std::string>() + "'");
  return *v;
}
}  // namespace

Recipe Recipe::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("recipe: expected a JSON object");
  Recipe r;
  r.format = parse_field(j, "format", r.format, format_from_string);
  r.weight_granularity = parse_field(j, "weight_granularity", r.weight_granularity, granularity_from_string);
  r.act_granularity = parse_field(j, "act_granularity", r.act_granularity, granularity_from_string);
  r.act_calibration = parse_field(j, "act_calibration", r.act_calibration, calib_from_string);
  r.weight_calibration = parse_field(j, "weight_calibration", r.weight_calibration, calib_from_string);
  try {
    if (j.contains("percentile")) r.percentile = j.at("percentile").get<double>();
    if (j.contains("quantize_attention_matmuls"))
      r.quantize_attention_matmuls = j.at("quantize_attention_matmuls").get<bool>();
    if (j.contains("nongemm_bf16")) r.nongemm_bf16 = j.at("nongemm_bf16").get<bool>();
    if (j.contains("overrides"))
      for (const auto& o : j.at("overrides")) {
        auto f = format_from_string(o.at("format").get<std::string>());
        if (!f) throw std::invalid_argument("recipe: unknown override format '" + o.at("format").get<std::string>() + "'");
        r.overrides.emplace_back(o.at("layer").get<std::string>(), *f);
      }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("recipe: ") + e.what());
  }
  r.validate();
  return r;
}

std::string Recipe::describe() const {
  std::string s = to_string(format) + " w:" + to_string(weight_granularity) + "/" + to_string(weight_calibration) +
                  " a:" + to_string(act_granularity);
  if (act_granularity == Granularity::PerTensor) {
    s += "/" + to_string(act_calibration);
    if (act_calibration == CalibMethod::Percentile) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", percentile);
      s += buf;
    }
  }
  if (!overrides.empty()) s += " overrides:" + std::to_string(overrides.size());
  return s;
}

}  // namespace fp8sim::quant
