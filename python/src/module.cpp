// _fp8sim: the compiled half of the fp8sim Python module (python/fp8sim/__init__.py is the other half).
// Casts between numpy arrays and every number format of model/ (the one numerics source), the strict
// configuration loader of sim/, and simrun's workload run and sweep (the code of the simrun executable,
// library fp8sim_simrun), returning the JSON the command line would write.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <boost/program_options.hpp>
#include <cmath>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.h"
#include "fp8sim/model/bf16.h"
#include "fp8sim/model/format.h"
#include "fp8sim/model/fp8.h"
#include "fp8sim/model/int8.h"
#include "fp8sim/report/report.h"
#include "fp8sim/sim/config.h"
#include "workload_options.h"

namespace py = pybind11;
using namespace fp8sim;

namespace {

const model::Fp8Format& format_named(const std::string& name) {
  const auto k = model::fp8_kind_from_name(name);
  if (!k) {
    std::string all;
    for (int i = 0; i < model::kFp8KindCount; ++i)
      all += (i ? ", " : "") + std::string(model::fp8_format(static_cast<model::Fp8Kind>(i)).name);
    throw py::value_error("unknown FP8 format '" + name + "' (one of " + all + ")");
  }
  return model::fp8_format(*k);
}

template <typename T>
using Arr = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <typename Out, typename In>
py::array_t<Out> like(const Arr<In>& in) {
  return py::array_t<Out>(std::vector<py::ssize_t>(in.shape(), in.shape() + in.ndim()));
}

model::Overflow policy(bool saturate) { return saturate ? model::Overflow::Saturate : model::Overflow::NonSaturating; }

py::array_t<uint8_t> to_fp8(py::array x, const std::string& fmt, bool saturate) {
  const model::Fp8Format& f = format_named(fmt);
  if (py::isinstance<py::array_t<double>>(x)) {  // float64: rounded once, directly (no float32 detour)
    const Arr<double> in(x);
    auto out = like<uint8_t>(in);
    const double* s = in.data();
    uint8_t* d = out.mutable_data();
    py::gil_scoped_release nogil;
    for (py::ssize_t i = 0; i < in.size(); ++i) d[i] = model::fp8_encode(f, s[i], policy(saturate));
    return out;
  }
  const Arr<float> in(x);
  auto out = like<uint8_t>(in);
  const float* s = in.data();
  uint8_t* d = out.mutable_data();
  const size_t n = size_t(in.size());
  py::gil_scoped_release nogil;
  model::fp8_encode_array(f, policy(saturate), s, d, n);
  return out;
}

py::array_t<float> from_fp8(const Arr<uint8_t>& codes, const std::string& fmt) {
  const model::Fp8Format& f = format_named(fmt);
  auto out = like<float>(codes);
  const uint8_t* s = codes.data();
  float* d = out.mutable_data();
  const size_t n = size_t(codes.size());
  py::gil_scoped_release nogil;
  model::fp8_decode_array(f, s, d, n);
  return out;
}

void check_scale(double scale) {
  if (!(std::isfinite(scale) && scale > 0)) throw py::value_error("INT8 scale must be finite and > 0");
}

py::array_t<int8_t> to_int8(py::array x, double scale, bool allow_minus_128) {
  check_scale(scale);
  model::Int8Options o;
  o.allow_minus_128 = allow_minus_128;
  auto fail_nan = [] { throw py::value_error("to_int8: the input holds NaN (INT8 has no NaN code)"); };
  if (py::isinstance<py::array_t<double>>(x)) {
    const Arr<double> in(x);
    auto out = like<int8_t>(in);
    for (py::ssize_t i = 0; i < in.size(); ++i) {
      if (std::isnan(in.data()[i])) fail_nan();
      out.mutable_data()[i] = model::int8_quantize(in.data()[i], scale, o);
    }
    return out;
  }
  const Arr<float> in(x);
  const float fscale = static_cast<float>(scale);
  check_scale(fscale);
  for (py::ssize_t i = 0; i < in.size(); ++i)
    if (std::isnan(in.data()[i])) fail_nan();
  auto out = like<int8_t>(in);
  model::int8_quantize_array(in.data(), out.mutable_data(), size_t(in.size()), fscale, o);
  return out;
}

py::array_t<float> from_int8(const Arr<int8_t>& q, double scale) {
  check_scale(scale);
  auto out = like<float>(q);
  for (py::ssize_t i = 0; i < q.size(); ++i) out.mutable_data()[i] = model::int8_dequantize(q.data()[i], float(scale));
  return out;
}

py::array_t<uint16_t> to_bf16(const Arr<float>& x) {
  auto out = like<uint16_t>(x);
  model::bf16_from_f32_array(x.data(), out.mutable_data(), size_t(x.size()));
  return out;
}

py::array_t<float> from_bf16(const Arr<uint16_t>& h) {
  auto out = like<float>(h);
  for (py::ssize_t i = 0; i < h.size(); ++i) out.mutable_data()[i] = model::bf16_to_f32(h.data()[i]);
  return out;
}

py::list format_table() {
  py::list l;
  for (int i = 0; i < model::kFp8KindCount; ++i) {
    const model::Fp8Format& f = model::fp8_format(static_cast<model::Fp8Kind>(i));
    py::dict d;
    d["name"] = std::string(f.name);
    d["exp_bits"] = f.exp_bits;
    d["man_bits"] = f.man_bits;
    d["bias"] = f.bias;
    d["has_inf"] = f.has_inf();
    d["has_negative_zero"] = f.has_negative_zero();
    d["max"] = model::fp8_decode(f, f.max_finite_code());
    l.append(d);
  }
  return l;
}

// The strict loader of sim/ on TOML text: the configuration as it will be simulated (ValueError naming the
// key otherwise).
py::dict check_config(const std::string& text, const std::string& origin) {
  sim::AcceleratorConfig c;
  try {
    c = sim::parse_config(text, origin);
    c.validate();
  } catch (const std::exception& e) {
    throw py::value_error(e.what());
  }
  py::dict d;
  d["name"] = c.name;
  d["clock_mhz"] = c.clock_mhz;
  d["word_bytes"] = c.word_bytes();
  d["numerics"] = c.array.numerics().describe();
  return d;
}

// Runs a simrun subcommand function with std::cout captured; returns what it printed.
std::string captured(const std::function<void()>& fn) {
  std::ostringstream out;
  std::streambuf* old = std::cout.rdbuf(out.rdbuf());
  try {
    fn();
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  return out.str();
}

// Bad arguments (simrun's exit status 2) become ValueError; everything else RuntimeError.
template <typename F>
auto translate(F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const simrun::UsageError& e) {
    throw py::value_error(e.what());
  } catch (const boost::program_options::error& e) {
    throw py::value_error(e.what());
  }
}

// simrun --workload ARGS... without the printing: the JSON report (report::to_json) it would write with
// --report-json; the report's command line is "simrun ARGS...".
std::string run_json(const std::vector<std::string>& args) {
  return translate([&] {
    namespace po = boost::program_options;
    po::options_description d("options");
    simrun::add_run_options(d);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(d).run(), vm);
    po::notify(vm);
    const simrun::RunRequest q = simrun::parse_run_request(vm, "");
    if (!q.json_path.empty() || !q.html_path.empty())
      throw simrun::UsageError("--report-json / --report-html: fp8sim.run returns the report; write it yourself");
    py::gil_scoped_release nogil;
    const simrun::PreparedRun p = simrun::prepare_run(q);
    std::vector<std::string> formats{q.format};
    formats.insert(formats.end(), q.compare.begin(), q.compare.end());
    const auto outs = simrun::run_formats(q, p, q.overrides, formats, false);
    std::string command = "simrun";
    for (const std::string& a : args) command += " " + a;
    return report::to_json(simrun::build_report(q, p, command, outs));
  });
}

// simrun sweep ARGS...: what it prints (the CSV lines); the caller passes --json FILE for the points.
std::string sweep_csv(const std::vector<std::string>& args) {
  return translate([&] {
    py::gil_scoped_release nogil;
    return captured([&] { simrun::run_sweep(args); });
  });
}

}  // namespace

PYBIND11_MODULE(_fp8sim, m) {
  m.doc() = "fp8sim compiled core (use the fp8sim package)";
  m.attr("source_dir") = FP8SIM_SOURCE_DIR;
  m.def("format_table", &format_table, "the FP8 format table of model/format.h, one dict per row");
  m.def("to_fp8", &to_fp8, py::arg("x"), py::arg("fmt"), py::arg("saturate") = false,
        "float32/float64 array -> uint8 codes (round to nearest even; saturate: overflow to +-max, else "
        "NaN (E4M3) / Inf (E5M2) as ml_dtypes and OCP's non-saturating mode)");
  m.def("from_fp8", &from_fp8, py::arg("codes"), py::arg("fmt"), "uint8 codes -> float32 values (exact)");
  m.def("to_int8", &to_int8, py::arg("x"), py::arg("scale"), py::arg("allow_minus_128") = false,
        "clamp(round_half_even(x / scale), -127 (or -128), 127); one float32 division for float32 input");
  m.def("from_int8", &from_int8, py::arg("q"), py::arg("scale"), "q * scale in float32");
  m.def("to_bf16", &to_bf16, py::arg("x"), "float32 -> bfloat16 bits (uint16), round to nearest even");
  m.def("from_bf16", &from_bf16, py::arg("bits"), "bfloat16 bits (uint16) -> float32 (exact)");
  m.def("check_config", &check_config, py::arg("text"), py::arg("origin") = "<python>");
  m.def("run_json", &run_json, py::arg("args"));
  m.def("sweep_csv", &sweep_csv, py::arg("args"));
}
