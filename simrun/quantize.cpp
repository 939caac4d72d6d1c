// simrun quantize: two modes.
//   --granularity none (default): casts the float tensors of a safetensors file to FP8 or INT8, scale 1.
//   --granularity per-tensor|per-channel --workload NAME: post-training quantization of a workload's network
//     by the PTQ quantizer (model/quant, through workloads/'s runner): weight scales per tensor or per output
//     channel, static activation scales calibrated on the workload's calibration items, exported as the
//     safetensors file the simulator imports (layout: model/include/fp8sim/model/quant/export.h).
#include <algorithm>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"
#include "fp8sim/model/format.h"
#include "fp8sim/model/fp8.h"
#include "fp8sim/model/int8.h"
#include "fp8sim/model/mx.h"
#include "fp8sim/model/safetensors.h"
#include "fp8sim/workloads/runner.h"

namespace fp8sim::simrun {

namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace fp8sim::model;

constexpr const char* kUsage =
    "usage: simrun quantize IN.safetensors OUT.safetensors --format e4m3|e5m2|int8 [options]\n"
    "       simrun quantize IN.safetensors OUT.safetensors --format mxfp8|mxfp8-e5m2|mxfp6-e3m2|mxfp6-e2m3|mxfp4|mxint8\n"
    "                       [--block-size B]\n"
    "       simrun quantize [WEIGHTS] OUT.safetensors --format e4m3|e5m2|int8 --granularity per-tensor|per-channel\n"
    "                       --workload NAME|FILE.json [--calibration minmax|percentile|mse] [--percentile P]\n"
    "                       [--calib-count N] [--act-granularity per-tensor|per-token] [--weight-calibration minmax|mse]";

constexpr const char* kAbout =
    "With --granularity none (the default), casts every F32, F16, BF16 and F64 tensor of IN to the chosen\n"
    "8-bit format with scale 1 (no calibration) and writes OUT. F16 and BF16 values are first widened to float32, which is exact; F64\n"
    "values are rounded once, directly to the target. Tensors of every other dtype (I8, U8, I16, I32, I64,\n"
    "U16, U32, U64, BOOL, and F8_E4M3/F8_E5M2 even when they differ from --format) are copied unchanged.\n"
    "OUT keeps IN's tensor order and __metadata__ entries, and records the recipe in __metadata__ as\n"
    "fp8sim.format, fp8sim.granularity and fp8sim.overflow (plus fp8sim.int8_range for int8). OUT is\n"
    "written to a temporary file beside it and renamed into place, so a failed run leaves no partial OUT.\n"
    "\n"
    "With --granularity per-tensor or per-channel, runs post-training quantization of a workload's network\n"
    "(--workload: a name from workloads/*.json, e.g. resnet20-cifar10, minilm-l6, or a path to such a file;\n"
    "WEIGHTS, if given, replaces the workload's weight source). Only the GEMMs are quantized (linear layers,\n"
    "convolutions with BatchNorm folded in, attention matmuls). Weights get one scale per tensor or per output\n"
    "channel (amax / format max); activations get static per-tensor scales calibrated on the workload's first\n"
    "--calib-count items with --calibration (min/max, percentile of |x|, or MSE-optimal), or per-token dynamic\n"
    "scales (--act-granularity per-token, no calibration). FP8 saturates, INT8 clamps to [-127, 127]. OUT is the\n"
    "file the simulator imports: <layer>.weight codes [N, K], <layer>.weight_scale, <layer>.input_scale,\n"
    "<layer>.bias, attention <matmul>.a_scale/.b_scale, all other parameters F32; __metadata__ holds the recipe\n"
    "(fp8sim.recipe), the layer table (fp8sim.layers) and whether the weights are synthetic (fp8sim.synthetic).\n"
    "Missing workload data (../shared, the MiniLM package) is an error naming what is missing (exit status 1).\n"
    "\n"
    "With an MX --format (OCP Microscaling v1.0, --granularity none), every F32/F16/BF16/F64 tensor X [..., K]\n"
    "becomes X.blocks (U8 [..., ceil(K/B), B], mxfp4: [..., ceil(K/B), B/2] with two E2M1 codes per byte, the\n"
    "first in the low nibble, as OpenAI's gpt-oss MXFP4 checkpoints) and X.scales (U8 [..., ceil(K/B)], E8M0):\n"
    "blocks of B (--block-size, default 32) along the last axis, the last one zero-padded. Scale = 2^(floor(\n"
    "log2 max|x|) - emax of the element), elements rounded to nearest even and clamped to the element's\n"
    "maximum; a block holding NaN or Inf gets the NaN scale 0xff. F64 values are rounded to float32 first.\n"
    "__metadata__: fp8sim.format, fp8sim.mx.element, fp8sim.mx.block_size, fp8sim.mx.layout and\n"
    "fp8sim.mx.shape.X (the original shape). Per tensor: blocks, values clamped, NaN blocks, values zeroed.\n";

constexpr const char* kDetails =
    "Rounding (both modes) is to nearest, ties to even, before the overflow test (OCP OFP8). E4M3: largest\n"
    "finite 448, no Inf. E5M2: largest finite 57344, has Inf. The --overflow modes (--granularity none only):\n"
    "  --overflow saturate       values beyond the largest finite value, and +-Inf, become +-max.\n"
    "  --overflow nonsaturating  they become Inf (E5M2) or NaN (E4M3), as ml_dtypes' astype does.\n"
    "NaN stays NaN in FP8. INT8 rounds to nearest even and clamps to [-127, 127] ([-128, 127] with\n"
    "--int8-allow-minus128); INT8 has no NaN, so a tensor holding a NaN is an error (exit status 1).\n"
    "\n"
    "Output (--granularity none): one line per tensor (name, shape, dtype in -> out, values saturated, or\n"
    "overflowed with --overflow nonsaturating, NaN values, and non-zero values that became zero: with scale 1,\n"
    "INT8 zeroes every |x| <= 0.5), then a totals line. PTQ: the workload, its\n"
    "weights (SYNTHETIC where they are), the recipe, the calibration items and any warnings, then a totals line.\n"
    "Exit status: 0 success, 1 I/O, file-format or data error, 2 bad arguments.\n";

struct Recipe {
  bool int8 = false;
  std::optional<MxKind> mx;  // MX: element blocks + E8M0 scales along the last axis
  int block_size = kMxDefaultBlockSize;
  const Fp8Format* fp8 = nullptr;  // when !int8
  DType out_dtype = DType::I8;
  std::string format_name;
  Overflow overflow = Overflow::Saturate;
  Int8Options int8_opt;
  bool quiet = false;
};

struct Counts {
  uint64_t values = 0;
  uint64_t overflowed = 0;  // saturated, or turned into Inf/NaN when non-saturating
  uint64_t nan = 0;
  uint64_t zeroed = 0;  // non-zero inputs that became zero (underflow: |x| below half the smallest step)
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

[[noreturn]] void nan_for_int8(const fs::path& in, const TensorView& t, size_t index) {
  throw std::runtime_error(in.string() + ": tensor \"" + t.name + "\" holds NaN (element " + std::to_string(index) +
                           "); INT8 has no NaN, so it cannot be cast (the FP8 formats keep NaN)");
}

// Elements converted per step: bounds the scratch memory whatever the tensor size.
constexpr size_t kChunk = size_t{1} << 16;

Counts cast_tensor(const fs::path& in, const TensorView& t, const Recipe& r, SafetensorsWriter& out) {
  Counts c;
  const size_t n = t.numel(), esize = dtype_size(t.dtype);
  std::vector<float> wide(std::min(n, kChunk));
  std::vector<uint8_t> codes(wide.size()), probe(wide.size());
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t m = std::min(kChunk, n - base);
    const uint8_t* src = t.data + base * esize;
    if (t.dtype == DType::F64) {
      // Rounded once from double: going through float32 first could round twice.
      for (size_t j = 0; j < m; ++j) {
        double x;
        std::memcpy(&x, src + 8 * j, 8);
        if (std::isnan(x)) {
          if (r.int8) nan_for_int8(in, t, base + j);
          ++c.nan;
        }
        if (r.int8) {
          if (int8_saturates(x, 1.0, r.int8_opt)) ++c.overflowed;
          codes[j] = static_cast<uint8_t>(int8_quantize(x, 1.0, r.int8_opt));
          if (x != 0 && codes[j] == 0) ++c.zeroed;
        } else {
          codes[j] = fp8_encode(*r.fp8, x, r.overflow);
          if (x != 0 && !std::isnan(x) && fp8_decode(*r.fp8, codes[j]) == 0) ++c.zeroed;
          const uint8_t ns = r.overflow == Overflow::NonSaturating ? codes[j] : fp8_encode(*r.fp8, x, Overflow::NonSaturating);
          if (!std::isnan(x) && (fp8_is_nan(*r.fp8, ns) || fp8_is_inf(*r.fp8, ns))) ++c.overflowed;
        }
      }
    } else {
      decode_to_float(t.dtype, src, wide.data(), m);  // exact for F32/F16/BF16
      if (r.int8) {
        for (size_t j = 0; j < m; ++j) {
          if (std::isnan(wide[j])) nan_for_int8(in, t, base + j);
          if (int8_saturates(wide[j], 1.0f, r.int8_opt)) ++c.overflowed;
        }
        int8_quantize_array(wide.data(), reinterpret_cast<int8_t*>(codes.data()), m, 1.0f, r.int8_opt);
        for (size_t j = 0; j < m; ++j) c.zeroed += wide[j] != 0 && codes[j] == 0;
      } else {
        fp8_encode_array(*r.fp8, r.overflow, wide.data(), codes.data(), m);
        // Overflow is whatever the non-saturating cast sends to Inf/NaN from a non-NaN input; asking the
        // model rather than re-deriving the rounding threshold here keeps the two from drifting apart.
        const uint8_t* ns = codes.data();
        if (r.overflow != Overflow::NonSaturating) {
          fp8_encode_array(*r.fp8, Overflow::NonSaturating, wide.data(), probe.data(), m);
          ns = probe.data();
        }
        for (size_t j = 0; j < m; ++j) {
          if (std::isnan(wide[j]))
            ++c.nan;
          else if (fp8_is_nan(*r.fp8, ns[j]) || fp8_is_inf(*r.fp8, ns[j]))
            ++c.overflowed;
          else if (wide[j] != 0 && fp8_decode(*r.fp8, codes[j]) == 0)
            ++c.zeroed;
        }
      }
    }
    out.write(codes.data(), m);
  }
  c.values = n;
  return c;
}

// ---- MX (issue #13): element blocks + E8M0 scales, the layout of OpenAI's gpt-oss MXFP4 checkpoints ----
// A tensor X of shape [..., K] becomes X.blocks U8 [..., nb, B'] and X.scales U8 [..., nb], nb = ceil(K / B):
// the blocks run along the last axis (a PyTorch weight's [out][in]: along the contraction dimension), the
// last block zero-padded when B does not divide K. B' = B / 2 for mxfp4 (two E2M1 codes per byte, the first
// element in the low nibble), else B (one code per byte, FP6 right-aligned 0b00SEEMMM). 0-d tensors count as
// [1]. Conversion: model/mx.h (OCP MX v1.0; NaN/Inf in a block -> scale 0xFF).
struct MxShapes {
  std::vector<int64_t> blocks, scales;
  int64_t rows = 1, k = 1, nb = 1, bytes_per_block = 1;
};

MxShapes mx_shapes(const std::vector<int64_t>& shape, const Recipe& r) {
  MxShapes s;
  s.k = shape.empty() ? 1 : shape.back();
  for (size_t i = 0; i + 1 < shape.size(); ++i) s.rows *= shape[i];
  s.nb = (s.k + r.block_size - 1) / r.block_size;
  s.bytes_per_block = *r.mx == MxKind::MXFP4 ? r.block_size / 2 : r.block_size;
  s.scales.assign(shape.begin(), shape.empty() ? shape.end() : shape.end() - 1);
  s.scales.push_back(s.nb);
  s.blocks = s.scales;
  s.blocks.push_back(s.bytes_per_block);
  return s;
}

struct MxCounts {
  uint64_t values = 0, blocks = 0, nan_blocks = 0, clamped = 0, zeroed = 0;
};

MxCounts cast_tensor_mx(const TensorView& t, const Recipe& r, SafetensorsWriter& out) {
  const MxShapes sh = mx_shapes(t.shape, r);
  const MxFormat& fmt = mx_format(*r.mx);
  const Fp8Format& ef = fmt.elem();
  const size_t esize = dtype_size(t.dtype), k = static_cast<size_t>(sh.k), bs = static_cast<size_t>(r.block_size);
  MxCounts c;
  std::vector<uint8_t> scales(static_cast<size_t>(sh.rows * sh.nb));
  std::vector<float> row(k), blk(bs);
  std::vector<double> wide(k);
  std::vector<uint8_t> codes(bs), packed(static_cast<size_t>(sh.bytes_per_block));
  for (int64_t i = 0; i < sh.rows; ++i) {
    const uint8_t* src = t.data + static_cast<size_t>(i) * k * esize;
    if (t.dtype == DType::F64) {
      // MX converts float32 blocks (model/mx.h): F64 values are rounded to float32 first (nearest even).
      for (size_t j = 0; j < k; ++j) {
        double x;
        std::memcpy(&x, src + 8 * j, 8);
        row[j] = static_cast<float>(x);
      }
    } else {
      decode_to_float(t.dtype, src, row.data(), k);
    }
    for (int64_t b = 0; b < sh.nb; ++b) {
      const size_t k0 = static_cast<size_t>(b) * bs, len = std::min(bs, k - k0);
      std::fill(blk.begin(), blk.end(), 0.0f);
      std::copy(row.begin() + k0, row.begin() + k0 + len, blk.begin());
      const uint8_t s = mx_quantize_block(fmt, blk.data(), bs, codes.data());
      scales[static_cast<size_t>(i * sh.nb + b)] = s;
      ++c.blocks;
      if (e8m0_is_nan(s)) {
        ++c.nan_blocks;
      } else {
        for (size_t j = 0; j < len; ++j) {
          const double scaled = std::ldexp(static_cast<double>(blk[j]), -e8m0_exponent(s));
          if (std::fabs(scaled) > ef.max_finite()) ++c.clamped;
          if (blk[j] != 0 && mx_element_decode(ef, codes[j]) == 0) ++c.zeroed;
        }
      }
      if (*r.mx == MxKind::MXFP4) {
        for (size_t j = 0; j < packed.size(); ++j)
          packed[j] = static_cast<uint8_t>((codes[2 * j] & 0x0F) | ((codes[2 * j + 1] & 0x0F) << 4));
        out.write(packed.data(), packed.size());
      } else {
        out.write(codes.data(), bs);
      }
    }
    c.values += k;
  }
  out.write(scales.data(), scales.size());
  return c;
}

Recipe parse_recipe(const po::variables_map& vm) {
  Recipe r;
  if (!vm.count("format")) throw UsageError("quantize: missing --format (e4m3, e5m2, int8 or " + mx_format_names() + ")");
  r.format_name = vm["format"].as<std::string>();
  const bool bs_given = vm.count("block-size") && !vm["block-size"].defaulted();
  if (const auto mx = mx_kind_from_name(r.format_name)) {
    r.mx = *mx;
    r.block_size = vm["block-size"].as<int>();
    if (r.block_size < 1 || r.block_size > 4096)
      throw UsageError("quantize: --block-size " + std::to_string(r.block_size) + " is outside [1, 4096]");
    if (*mx == MxKind::MXFP4 && r.block_size % 2)
      throw UsageError("quantize: --format mxfp4 packs two codes per byte; --block-size must be even, got " +
                       std::to_string(r.block_size));
    if (!vm["overflow"].defaulted())
      throw UsageError("quantize: --overflow applies to e4m3/e5m2; MX formats always clamp to the element maximum");
    r.out_dtype = DType::U8;
  } else if (bs_given) {
    throw UsageError("quantize: --block-size applies to the MX formats (" + mx_format_names() + ") only");
  }
  if (r.mx) {
  } else if (r.format_name == "int8") {
    r.int8 = true;
  } else {
    const auto kind = fp8_kind_from_name(r.format_name);
    if (!kind)
      throw UsageError("quantize: --format '" + r.format_name + "' is not one of e4m3, e5m2, int8, " +
                       mx_format_names());
    r.fp8 = &fp8_format(*kind);
    const auto dt = dtype_from_name(r.fp8->safetensors_dtype);
    if (r.fp8->safetensors_dtype.empty() || !dt)
      throw UsageError("quantize: --format '" + r.format_name +
                       "' has no safetensors dtype, so it cannot be written; use e4m3, e5m2 or int8");
    r.out_dtype = *dt;
  }

  const std::string gran = vm["granularity"].as<std::string>();
  if (gran != "none")
    throw UsageError("quantize: --granularity '" + gran + "' is not one of none, per-tensor, per-channel");
  for (const char* ptq_only : {"workload", "calibration", "percentile", "calib-count", "act-granularity",
                               "weight-calibration", "data", "vocab", "input-shape"})
    if (vm.count(ptq_only) && !vm[ptq_only].defaulted())
      throw UsageError(std::string("quantize: --") + ptq_only +
                       " applies to PTQ (--granularity per-tensor|per-channel --workload NAME) only");

  const std::string ovf = vm["overflow"].as<std::string>();
  if (ovf == "saturate")
    r.overflow = Overflow::Saturate;
  else if (ovf == "nonsaturating")
    r.overflow = Overflow::NonSaturating;
  else
    throw UsageError("quantize: --overflow '" + ovf + "' is not one of saturate, nonsaturating");
  if (r.int8 && !r.mx && r.overflow == Overflow::NonSaturating)
    throw UsageError("quantize: --overflow nonsaturating applies to e4m3/e5m2 only; INT8 always clamps");

  r.int8_opt.allow_minus_128 = vm["int8-allow-minus128"].as<bool>();
  if (r.int8_opt.allow_minus_128 && !r.int8)
    throw UsageError("quantize: --int8-allow-minus128 applies to --format int8 only");
  r.quiet = vm["quiet"].as<bool>();
  return r;
}

// --granularity per-tensor|per-channel: the PTQ quantizer on a workload.
int run_ptq(const po::variables_map& vm) {
  if (!vm.count("format")) throw UsageError("quantize: missing --format (e4m3, e5m2 or int8)");
  const std::string fmt = vm["format"].as<std::string>();
  const auto format = quant::format_from_string(fmt);
  if (!format || *format == quant::Format::FP32)
    throw UsageError("quantize: --format '" + fmt + "' is not one of e4m3, e5m2, int8");
  const std::string gran = vm["granularity"].as<std::string>();
  if (!vm.count("workload"))
    throw UsageError("quantize: --granularity " + gran +
                     " needs --workload NAME: the PTQ quantizer calibrates on the workload's network and inputs");
  if (!vm["overflow"].defaulted() && vm["overflow"].as<std::string>() != "saturate")
    throw UsageError("quantize: PTQ always saturates (FP8) or clamps (INT8); --overflow nonsaturating is for "
                     "--granularity none");
  if (vm["int8-allow-minus128"].as<bool>())
    throw UsageError("quantize: PTQ uses the symmetric INT8 range [-127, 127]; --int8-allow-minus128 is for "
                     "--granularity none");
  workloads::RunOptions o;
  o.quantize = true;
  o.recipe.format = *format;
  o.recipe.weight_granularity = *quant::granularity_from_string(gran);
  const std::string ag = vm["act-granularity"].as<std::string>();
  const auto agv = quant::granularity_from_string(ag);
  if (!agv || *agv == quant::Granularity::PerChannel)
    throw UsageError("quantize: --act-granularity '" + ag + "' is not one of per-tensor, per-token");
  o.recipe.act_granularity = *agv;
  const std::string cal = vm["calibration"].as<std::string>();
  const auto calv = quant::calib_from_string(cal);
  if (!calv) throw UsageError("quantize: --calibration '" + cal + "' is not one of minmax, percentile, mse");
  o.recipe.act_calibration = *calv;
  const std::string wcal = vm["weight-calibration"].as<std::string>();
  const auto wcalv = quant::calib_from_string(wcal);
  if (!wcalv || *wcalv == quant::CalibMethod::Percentile)
    throw UsageError("quantize: --weight-calibration '" + wcal + "' is not one of minmax, mse");
  o.recipe.weight_calibration = *wcalv;
  o.recipe.percentile = vm["percentile"].as<double>();
  if (!vm["percentile"].defaulted() && *calv != quant::CalibMethod::Percentile)
    throw UsageError("quantize: --percentile applies to --calibration percentile only");
  if (o.recipe.act_granularity == quant::Granularity::PerToken &&
      (!vm["calibration"].defaulted() || !vm["calib-count"].defaulted()))
    throw UsageError("quantize: --act-granularity per-token has no calibration (--calibration, --calib-count)");
  try {
    o.recipe.validate();
  } catch (const std::exception& e) {
    throw UsageError(std::string("quantize: ") + e.what());
  }
  o.calib_count = vm["calib-count"].as<size_t>();
  o.quiet_warnings = true;

  // Positionals: [WEIGHTS] OUT.
  std::string weights, out;
  if (vm.count("output")) {
    weights = vm["input"].as<std::string>();
    out = vm["output"].as<std::string>();
  } else if (vm.count("input")) {
    out = vm["input"].as<std::string>();
  } else {
    throw UsageError("quantize: expected OUT.safetensors (and optionally WEIGHTS before it)");
  }
  const workloads::Paths paths = workloads::Paths::defaults();
  std::unique_ptr<workloads::Workload> w;
  try {
    const std::string wl = vm["workload"].as<std::string>();
    const bool onnx_model = fs::path(wl).extension() == ".onnx";
    if (!onnx_model && (vm.count("vocab") || vm.count("input-shape")))
      throw UsageError("quantize: --vocab and --input-shape apply to ONNX models (--workload MODEL.onnx)");
    workloads::OnnxInputs oi;
    if (vm.count("vocab")) oi.vocab = vm["vocab"].as<std::string>();
    if (vm.count("input-shape")) oi.input_shape = vm["input-shape"].as<std::string>();
    w = std::make_unique<workloads::Workload>(wl, paths, weights, vm.count("data") ? vm["data"].as<std::string>() : "",
                                              oi);
  } catch (const std::invalid_argument& e) {  // ONNX: --input-shape / --data that do not fit the model
    if (fs::path(vm["workload"].as<std::string>()).extension() == ".onnx")
      throw UsageError(std::string("quantize: ") + e.what());
    throw;
  } catch (const workloads::MissingData& e) {
    throw std::runtime_error(std::string("data missing: ") + e.what());
  }
  // Written beside OUT and renamed into place, as in the cast mode: a failed run leaves no partial OUT.
  const fs::path out_path = out;
  const fs::path tmp = out_path.string() + ".tmp-" + std::to_string(::getpid());
  o.export_path = tmp.string();
  workloads::RunResult r;
  try {
    r = w->quantize_and_export(o);
    fs::rename(tmp, out_path);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  const bool quiet = vm["quiet"].as<bool>();
  if (!quiet) {
    std::cout << "workload     " << w->name() << (w->synthetic() ? " (SYNTHETIC)" : "") << "\n"
              << "weights      " << w->weights_label() << "\n"
              << "recipe       " << o.recipe.describe() << "\n";
    if (o.recipe.act_granularity == quant::Granularity::PerTensor)
    {
      std::cout << "calibration  " << r.calib_items << " items (the workload's first), " << cal;
      if (o.recipe.act_calibration == quant::CalibMethod::Percentile) std::cout << " " << o.recipe.percentile;
      std::cout << "\n";
    }
    std::cout << "warnings     " << r.warnings.size() << "\n";
    for (const std::string& m : r.warnings) std::cout << "  " << m << "\n";
  }
  std::cout << "quantize " << fmt << " " << gran << ": " << w->name() << (w->synthetic() ? " (SYNTHETIC)" : "")
            << ", " << r.calib_items << " calibration items; wrote " << out_path.string() << "\n";
  return 0;
}

int run_quantize_mx(const SafetensorsFile& in, const fs::path& out_path, const Recipe& recipe) {
  const MxFormat& fmt = mx_format(*recipe.mx);
  std::vector<TensorSpec> specs;
  std::map<std::string, std::string> metadata = in.metadata();
  std::set<std::string> names;
  for (const auto& t : in.tensors()) names.insert(t.name);
  for (const auto& t : in.tensors()) {
    if (!dtype_is_wide_float(t.dtype)) {
      specs.push_back({t.name, t.dtype, t.shape});
      continue;
    }
    for (const char* suffix : {".blocks", ".scales"})
      if (names.count(t.name + suffix))
        throw std::runtime_error(in.path().string() + ": tensor \"" + t.name + suffix +
                                 "\" already exists; the MX output of \"" + t.name + "\" would collide with it");
    const MxShapes sh = mx_shapes(t.shape, recipe);
    specs.push_back({t.name + ".blocks", DType::U8, sh.blocks});
    specs.push_back({t.name + ".scales", DType::U8, sh.scales});
    metadata["fp8sim.mx.shape." + t.name] = shape_text(t.shape);
  }
  metadata["fp8sim.format"] = recipe.format_name;
  metadata["fp8sim.granularity"] = "mx-block";
  metadata["fp8sim.mx.element"] = std::string(fmt.elem().name);
  metadata["fp8sim.mx.block_size"] = std::to_string(recipe.block_size);
  metadata["fp8sim.mx.layout"] =
      "tensor X [..., K] -> X.blocks U8 [..., ceil(K/B), " +
      std::string(*recipe.mx == MxKind::MXFP4 ? "B/2] two E2M1 codes per byte, first element in the low nibble"
                                               : "B] one element code per byte, right-aligned") +
      "; X.scales U8 [..., ceil(K/B)] E8M0 (2^(s-127), 0xff NaN); blocks along the last axis, the last block "
      "zero-padded; B = fp8sim.mx.block_size; original shape in fp8sim.mx.shape.X; OCP MX v1.0 conversion "
      "(fp8sim model/mx.h)";
  SafetensorsWriter out(out_path, specs, metadata);
  MxCounts total;
  size_t n_cast = 0, n_copied = 0;
  for (const auto& t : in.tensors()) {
    if (dtype_is_wide_float(t.dtype)) {
      const MxCounts c = cast_tensor_mx(t, recipe, out);
      total.values += c.values;
      total.blocks += c.blocks;
      total.nan_blocks += c.nan_blocks;
      total.clamped += c.clamped;
      total.zeroed += c.zeroed;
      ++n_cast;
      if (!recipe.quiet)
        std::cout << t.name << "  " << shape_text(t.shape) << "  " << dtype_name(t.dtype) << " -> " << recipe.format_name
                  << " (" << c.blocks << " blocks)  clamped " << c.clamped << "  NaN blocks " << c.nan_blocks
                  << "  zeroed " << c.zeroed << "\n";
    } else {
      if (t.nbytes) out.write(t.data, t.nbytes);
      ++n_copied;
      if (!recipe.quiet) std::cout << t.name << "  copied unchanged (not F32/F16/BF16/F64)\n";
    }
  }
  out.commit();
  std::cout << "quantize " << recipe.format_name << " (block " << recipe.block_size << "): " << in.tensors().size()
            << " tensors (" << n_cast << " cast, " << n_copied << " copied unchanged), " << total.values
            << " values in " << total.blocks << " blocks, " << total.clamped << " clamped, " << total.nan_blocks
            << " NaN blocks, " << total.zeroed << " non-zero values became zero; wrote " << out_path.string() << "\n";
  return 0;
}

}  // namespace

int run_quantize(const std::vector<std::string>& args) {
  po::options_description visible("options", 100, 50);
  visible.add_options()
      ("format,f", po::value<std::string>()->value_name("FMT"),
       "target format, required (no default): e4m3 (OCP E4M3, written as F8_E4M3), e5m2 (OCP E5M2, "
       "F8_E5M2), int8 (symmetric INT8, I8), or an OCP MX format: mxfp8, mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3, "
       "mxfp4, mxint8 (X.blocks + X.scales U8 tensors, see below)")
      ("block-size", po::value<int>()->value_name("B")->default_value(kMxDefaultBlockSize),
       "MX formats: elements per E8M0 scale along the last axis (OCP MX v1.0: 32)")
      ("granularity", po::value<std::string>()->value_name("G")->default_value("none"),
       "none: cast with scale 1 (IN -> OUT); per-tensor | per-channel: weight scales of the PTQ quantizer, "
       "needs --workload")
      ("workload", po::value<std::string>()->value_name("NAME"),
       "PTQ: the workload whose network is quantized (workloads/NAME.json, a .json path, or an ONNX model .onnx)")
      ("data", po::value<std::string>()->value_name("FILE"),
       "PTQ: calibration inputs instead of the workload's own (CIFAR-10 .bin, STS-B .tsv); an .onnx model's inputs")
      ("vocab", po::value<std::string>()->value_name("FILE"),
       "PTQ, .onnx with STS-B --data: the model's WordPiece vocab.txt [vocab.txt beside the model]")
      ("input-shape", po::value<std::string>()->value_name("SHAPE"),
       "PTQ, .onnx without --data: calibrate on seeded random inputs (SYNTHETIC) of this shape (e.g. 1x3x32x32)")
      ("calibration", po::value<std::string>()->value_name("M")->default_value("minmax"),
       "PTQ: static activation calibration: minmax | percentile | mse")
      ("percentile", po::value<double>()->value_name("P")->default_value(99.99, "99.99"),
       "PTQ: the percentile of |x| for --calibration percentile, in (0, 100]")
      ("calib-count", po::value<size_t>()->value_name("N")->default_value(0),
       "PTQ: calibration items (images, sentence pairs); 0 = the workload's default (256 images / 128 pairs)")
      ("act-granularity", po::value<std::string>()->value_name("G")->default_value("per-tensor"),
       "PTQ: per-tensor (static, calibrated) | per-token (dynamic, no calibration)")
      ("weight-calibration", po::value<std::string>()->value_name("M")->default_value("minmax"),
       "PTQ: how weight scales are chosen: minmax | mse")
      ("overflow", po::value<std::string>()->value_name("MODE")->default_value("saturate"),
       "saturate | nonsaturating: what FP8 does with values beyond its range (see below); INT8 always "
       "clamps")
      ("int8-allow-minus128", po::bool_switch(),
       "int8 only: clamp to [-128, 127] instead of the default symmetric [-127, 127] (off by default)")
      ("quiet,q", po::bool_switch(), "print only the totals line, not a line per tensor (off by default)")
      ("help,h", "show this help and exit");
  po::options_description hidden;
  hidden.add_options()("input", po::value<std::string>())("output", po::value<std::string>());
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("input", 1).add("output", 1);

  po::variables_map vm;
  // No abbreviated long options: a prefix that works today could become ambiguous as options are added.
  po::store(po::command_line_parser(args)
                .options(all)
                .positional(positional)
                .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
                .run(),
            vm);
  po::notify(vm);

  if (vm.count("help")) {
    std::cout << kUsage << "\n\n" << kAbout << "\n" << visible << "\n" << kDetails;
    return 0;
  }
  const std::string gran = vm["granularity"].as<std::string>();
  if (gran == "per-tensor" || gran == "per-channel") return run_ptq(vm);
  if (!vm.count("input") || !vm.count("output"))
    throw UsageError("quantize: expected two arguments, IN.safetensors and OUT.safetensors");
  const Recipe recipe = parse_recipe(vm);
  const fs::path in_path = vm["input"].as<std::string>();
  const fs::path out_path = vm["output"].as<std::string>();

  const SafetensorsFile in(in_path);

  if (recipe.mx) return run_quantize_mx(in, out_path, recipe);
  std::vector<TensorSpec> specs;
  for (const auto& t : in.tensors())
    specs.push_back({t.name, dtype_is_wide_float(t.dtype) ? recipe.out_dtype : t.dtype, t.shape});
  std::map<std::string, std::string> metadata = in.metadata();
  metadata["fp8sim.format"] = recipe.format_name;
  metadata["fp8sim.granularity"] = "none";
  metadata["fp8sim.overflow"] = recipe.overflow == Overflow::Saturate ? "saturate" : "nonsaturating";
  if (recipe.int8) metadata["fp8sim.int8_range"] = recipe.int8_opt.allow_minus_128 ? "[-128,127]" : "[-127,127]";

  SafetensorsWriter out(out_path, specs, metadata);

  size_t name_width = 4, shape_width = 5;
  for (const auto& t : in.tensors()) {
    name_width = std::max(name_width, std::min<size_t>(t.name.size(), 48));
    shape_width = std::max(shape_width, std::min<size_t>(shape_text(t.shape).size(), 24));
  }
  const char* overflow_word = recipe.int8 || recipe.overflow == Overflow::Saturate ? "saturated" : "overflowed";
  auto pad = [](std::string s, size_t w) { return s.size() < w ? s + std::string(w - s.size(), ' ') : s; };

  Counts total;
  size_t n_cast = 0, n_copied = 0;
  for (const auto& t : in.tensors()) {
    const std::string head = pad(t.name, name_width) + "  " + pad(shape_text(t.shape), shape_width) + "  ";
    const std::string dt(dtype_name(t.dtype));
    if (dtype_is_wide_float(t.dtype)) {
      const Counts c = cast_tensor(in_path, t, recipe, out);
      total.values += c.values;
      total.overflowed += c.overflowed;
      total.nan += c.nan;
      total.zeroed += c.zeroed;
      ++n_cast;
      if (!recipe.quiet)
        std::cout << head << pad(dt + " -> " + std::string(dtype_name(recipe.out_dtype)), 18) << "  " << overflow_word
                  << " " << c.overflowed << "  NaN " << c.nan << "  zeroed " << c.zeroed << "\n";
    } else {
      if (t.nbytes) out.write(t.data, t.nbytes);
      ++n_copied;
      if (!recipe.quiet) std::cout << head << pad(dt + " -> " + dt, 18) << "  copied unchanged (not F32/F16/BF16/F64)\n";
    }
  }
  out.commit();

  std::cout << "quantize " << recipe.format_name << ": " << in.tensors().size() << " tensors (" << n_cast << " cast, "
            << n_copied << " copied unchanged), " << total.values << " values cast, " << total.overflowed << " "
            << overflow_word << ", " << total.nan << " NaN, " << total.zeroed
            << " non-zero values became zero; wrote " << out_path.string() << "\n";
  return 0;
}

}  // namespace fp8sim::simrun
