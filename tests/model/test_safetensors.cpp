// safetensors reader/writer: round trips, and a corpus of malformed files (generated here, one per rule)
// each of which must be refused with a message that names the file and the problem.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "fp8sim/model/format.h"
#include "fp8sim/model/fp8.h"
#include "fp8sim/model/safetensors.h"
#include "test_paths.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using namespace fp8sim::model;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using fp8sim::test::TempDir;

namespace {


std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return s;
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// A file with the given header text and `data_bytes` zero bytes of data.
std::string st_file(const std::string& header, size_t data_bytes) {
  return le64(header.size()) + header + std::string(data_bytes, '\0');
}

void require_error(const fs::path& p, const std::string& needle) {
  INFO("file " << p << ", expecting: " << needle);
  REQUIRE_THROWS_WITH(SafetensorsFile(p), StartsWith(p.string() + ": ") && Contains(needle));
}

struct BadCase {
  const char* name;
  std::string bytes;
  const char* expect;
};

std::vector<BadCase> bad_corpus() {
  const std::string f32_4 = R"({"dtype":"F32","shape":[4],"data_offsets":)";
  const std::string valid = R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  const std::string whole = st_file(valid, 16);
  return {
      {"empty", "", "file is empty"},
      {"seven_bytes", std::string(7, '\x01'), "file is 7 bytes, too short for the 8-byte header length"},
      {"header_len_zero", le64(0) + "{}", "header length is 0"},
      {"header_over_100MB", le64(100'000'001) + "{}", "header length 100000001 exceeds the limit of 100000000 bytes"},
      {"header_len_huge", le64(~uint64_t{0}) + "{}", "exceeds the limit"},
      {"header_past_eof", le64(100) + "{}", "header length 100 runs past the end of the file (10 bytes"},
      {"truncated_in_header", whole.substr(0, 30), "runs past the end of the file"},
      {"truncated_in_data", whole.substr(0, whole.size() - 4),
       "tensor \"a\": data offsets [0, 16) run past the end of the data section (12 bytes)"},
      {"not_json", st_file("{not json", 0), "header is not valid JSON"},
      {"json_then_garbage", st_file("{} x", 0), "header is not valid JSON"},
      {"whitespace_only", st_file("        ", 0), "header is not valid JSON"},
      {"invalid_utf8", st_file("{\"\xff\xfe\":{}}", 0), "header is not valid JSON"},
      {"json_array", st_file("[1,2]", 0), "header is not a JSON object (it is an array)"},
      {"json_string", st_file("\"abc\"", 0), "header is not a JSON object (it is a string)"},
      {"json_number", st_file("42", 0), "header is not a JSON object (it is a number)"},
      {"entry_not_object", st_file(R"({"a":5})", 0), "tensor \"a\": entry is 5, not a JSON object"},
      {"missing_dtype", st_file(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4), "tensor \"a\": missing \"dtype\""},
      {"missing_shape", st_file(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4), "tensor \"a\": missing \"shape\""},
      {"missing_offsets", st_file(R"({"a":{"dtype":"F32","shape":[1]}})", 4), "tensor \"a\": missing \"data_offsets\""},
      {"unknown_dtype", st_file(R"({"a":{"dtype":"F7","shape":[1],"data_offsets":[0,1]}})", 1),
       "tensor \"a\": unknown dtype \"F7\""},
      {"lowercase_dtype", st_file(R"({"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", 4),
       "unknown dtype \"f32\""},
      {"dtype_not_string", st_file(R"({"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", 4),
       "tensor \"a\": dtype 4 is not a string"},
      {"shape_not_array", st_file(R"({"a":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", 4),
       "tensor \"a\": shape \"1\" is not an array"},
      {"shape_negative", st_file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
       "tensor \"a\": shape entry 0 is -1, not a non-negative integer"},
      {"shape_float", st_file(R"({"a":{"dtype":"F32","shape":[1,2.0],"data_offsets":[0,8]}})", 8),
       "tensor \"a\": shape entry 1 is 2.0, not a non-negative integer"},
      {"shape_string_entry", st_file(R"({"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", 8),
       "shape entry 0 is \"2\", not a non-negative integer"},
      {"shape_beyond_u64", st_file(R"({"a":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,0]}})", 0),
       "shape entry 0 is"},
      {"shape_beyond_i64", st_file(R"({"a":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,0]}})", 0),
       "shape entry 0 is 9223372036854775808, not a non-negative integer"},
      {"shape_product_overflow",
       st_file(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}})", 0),
       "tensor \"a\": shape [4294967296,4294967296,16] x F32 overflows a 64-bit byte count"},
      {"shape_times_size_overflow",
       st_file(R"({"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}})", 0),
       "overflows a 64-bit byte count"},
      {"offsets_not_array", st_file(R"({"a":)" + f32_4 + R"("0-16"}})", 16),
       "tensor \"a\": data_offsets \"0-16\" is not a pair [begin, end]"},
      {"offsets_one_entry", st_file(R"({"a":)" + f32_4 + R"([16]}})", 16), "data_offsets [16] is not a pair"},
      {"offsets_three_entries", st_file(R"({"a":)" + f32_4 + R"([0,8,16]}})", 16), "is not a pair"},
      {"offsets_strings", st_file(R"({"a":)" + f32_4 + R"(["0","16"]}})", 16),
       "tensor \"a\": data_offsets entry 0 is \"0\", not a non-negative integer"},
      {"offsets_float", st_file(R"({"a":)" + f32_4 + R"([0,16.0]}})", 16),
       "data_offsets entry 1 is 16.0, not a non-negative integer"},
      {"offsets_negative", st_file(R"({"a":)" + f32_4 + R"([-16,0]}})", 16), "data_offsets entry 0 is -16"},
      {"offsets_reversed", st_file(R"({"a":)" + f32_4 + R"([16,0]}})", 16),
       "tensor \"a\": data offsets [16, 0) are reversed (begin > end)"},
      {"offsets_out_of_range", st_file(R"({"a":)" + f32_4 + R"([0,400]}})", 16),
       "tensor \"a\": data offsets [0, 400) run past the end of the data section (16 bytes)"},
      {"offsets_huge", st_file(R"({"a":)" + f32_4 + R"([18446744073709551600,18446744073709551615]}})", 16),
       "run past the end of the data section"},
      {"size_mismatch", st_file(R"({"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", 12),
       "tensor \"x\": data offsets [0, 12) (12 bytes) do not match shape [2,2] x F32 = 16 bytes"},
      {"size_mismatch_dtype", st_file(R"({"x":{"dtype":"BF16","shape":[4],"data_offsets":[0,16]}})", 16),
       "do not match shape [4] x BF16 = 8 bytes"},
      {"overlap",
       st_file(R"({"a":)" + f32_4 + R"([0,16]},"b":)" + f32_4 + R"([8,24]}})", 24),
       "tensors \"a\" [0, 16) and \"b\" [8, 24) overlap"},
      {"same_range_twice",
       st_file(R"({"a":)" + f32_4 + R"([0,16]},"b":)" + f32_4 + R"([0,16]}})", 16), "overlap"},
      {"hole",
       st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}})",
               24),
       "data section bytes [8, 16) belong to no tensor (the format forbids holes)"},
      {"hole_at_start", st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16),
       "data section bytes [0, 8) belong to no tensor"},
      {"trailing_data", st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 12),
       "data section bytes [8, 12) after the last tensor belong to no tensor"},
      {"data_without_tensors", st_file("{}", 4), "data section bytes [0, 4) after the last tensor"},
      {"duplicate_name",
       st_file(R"({"a":)" + f32_4 + R"([0,16]},"a":)" + f32_4 + R"([16,32]}})", 32),
       "duplicate tensor name \"a\" in header"},
      {"duplicate_field", st_file(R"({"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}})", 4),
       "duplicate key \"dtype\" in the entry for \"a\""},
      {"duplicate_metadata", st_file(R"({"__metadata__":{},"__metadata__":{}})", 0),
       "duplicate key \"__metadata__\" in header"},
      {"duplicate_metadata_key", st_file(R"({"__metadata__":{"k":"1","k":"2"}})", 0),
       "duplicate key \"k\" in the entry for \"__metadata__\""},
      {"metadata_not_object", st_file(R"({"__metadata__":["k","v"]})", 0), "__metadata__ is not a JSON object"},
      {"metadata_value_number", st_file(R"({"__metadata__":{"k":1}})", 0),
       "__metadata__ value for key \"k\" is 1, not a string"},
      {"metadata_value_null", st_file(R"({"__metadata__":{"k":null}})", 0), "value for key \"k\" is null, not a string"},
      {"deep_nesting", st_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":)" + std::string(100000, '[') +
                                   std::string(100000, ']') + "}}",
                               4),
       "header JSON nests deeper than 64 levels"},
      {"deep_nesting_unclosed", st_file(std::string(1, '{') + "\"a\":" + std::string(1 << 20, '['), 0),
       "nests deeper than 64 levels"},
  };
}

}  // namespace

TEST_CASE("dtype table: sizes and names round trip", "[safetensors]") {
  const std::pair<DType, size_t> sizes[] = {
      {DType::BOOL, 1}, {DType::U8, 1},   {DType::I8, 1},   {DType::F8_E5M2, 1}, {DType::F8_E4M3, 1},
      {DType::I16, 2},  {DType::U16, 2},  {DType::F16, 2},  {DType::BF16, 2},    {DType::I32, 4},
      {DType::U32, 4},  {DType::F32, 4},  {DType::F64, 8},  {DType::I64, 8},     {DType::U64, 8},
  };
  for (auto [d, size] : sizes) {
    CHECK(dtype_size(d) == size);
    CHECK(dtype_from_name(dtype_name(d)) == d);
  }
  CHECK(dtype_name(DType::F8_E4M3) == "F8_E4M3");
  CHECK(dtype_name(DType::BF16) == "BF16");
  CHECK_FALSE(dtype_from_name("F8_E4M3FN").has_value());
  CHECK_FALSE(dtype_from_name("").has_value());
  // The FP8 dtypes must name rows of the format table, which the decoder relies on.
  CHECK(fp8_kind_from_safetensors_dtype(dtype_name(DType::F8_E4M3)) == Fp8Kind::E4M3);
  CHECK(fp8_kind_from_safetensors_dtype(dtype_name(DType::F8_E5M2)) == Fp8Kind::E5M2);
}

TEST_CASE("round trip of every dtype with metadata", "[safetensors]") {
  TempDir dir;
  const fs::path p = dir / "all.safetensors";
  std::mt19937 rng(1234);
  const std::vector<std::pair<DType, std::vector<int64_t>>> specs = {
      {DType::F32, {2, 3}}, {DType::F16, {5}},     {DType::BF16, {3, 1, 2}}, {DType::I8, {7}},
      {DType::U8, {3, 3}},  {DType::I32, {2, 2}},  {DType::F8_E4M3, {9}},    {DType::F8_E5M2, {1, 5}},
      {DType::F64, {3}},    {DType::I64, {1}},     {DType::BOOL, {4}},       {DType::I16, {2}},
      {DType::U16, {2}},    {DType::U32, {2}},     {DType::U64, {1}},
  };
  std::vector<std::string> payloads;
  std::vector<TensorData> tensors;
  for (const auto& [dt, shape] : specs) {
    size_t n = dtype_size(dt);
    for (auto d : shape) n *= static_cast<size_t>(d);
    std::string bytes(n, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng() & 0xFF);
    payloads.push_back(bytes);
  }
  // Names chosen so that file order differs from alphabetical order.
  for (size_t i = 0; i < specs.size(); ++i)
    tensors.push_back({{"t" + std::to_string(specs.size() - i) + "." + std::string(dtype_name(specs[i].first)),
                        specs[i].first, specs[i].second},
                       payloads[i].data(),
                       payloads[i].size()});
  tensors.push_back({{"empty", DType::F32, {0, 4}}, nullptr, 0});
  tensors.push_back({{"scalar", DType::F32, {}}, "\x00\x00\x80\x3f", 4});
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "quotes \" and \\ and \xc3\xa9"}};
  write_safetensors(p, tensors, meta);

  SafetensorsFile f(p);
  CHECK(f.metadata() == meta);
  REQUIRE(f.tensors().size() == tensors.size());
  CHECK(f.header_size() % 8 == 0);  // padded so the data section is 8-byte aligned
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorView& t = f.tensors()[i];
    INFO(t.name);
    CHECK(t.name == tensors[i].spec.name);
    CHECK(t.dtype == tensors[i].spec.dtype);
    CHECK(t.shape == tensors[i].spec.shape);
    REQUIRE(t.nbytes == tensors[i].nbytes);
    if (t.nbytes) CHECK(std::memcmp(t.data, tensors[i].data, t.nbytes) == 0);
    CHECK(f.find(t.name) == &t);
  }
  CHECK(f.names().front() == tensors.front().spec.name);
  CHECK(f.at("scalar").numel() == 1);
  CHECK(f.read_float("scalar") == std::vector<float>{1.0f});
  CHECK(f.at("empty").numel() == 0);
  CHECK(f.read_float("empty").empty());
  CHECK(f.find("missing") == nullptr);
  REQUIRE_THROWS_WITH(f.at("missing"), StartsWith(p.string() + ": ") && Contains("no tensor named \"missing\""));
  // Tensors are laid out in the order given.
  uint64_t expected_begin = 0;
  for (const auto& t : f.tensors()) {
    CHECK(t.data_begin == expected_begin);
    expected_begin = t.data_end;
  }
  CHECK(f.file_size() == 8 + f.header_size() + expected_begin);

  // Moving the file keeps the views valid.
  SafetensorsFile g = std::move(f);
  CHECK(g.read_float("scalar") == std::vector<float>{1.0f});
}

TEST_CASE("writer output matches the reference layout byte for byte", "[safetensors]") {
  TempDir dir;
  const fs::path p = dir / "one.safetensors";
  const float v = 2.0f;
  write_safetensors(p, {{{"a", DType::F32, {1}}, &v, 4}});
  const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  const std::string padded = header + std::string((8 - header.size() % 8) % 8, ' ');
  CHECK(read_bytes(p) == le64(padded.size()) + padded + std::string("\x00\x00\x00\x40", 4));

  write_safetensors(p, {}, {{"k", "v"}});
  const std::string meta_header = R"({"__metadata__":{"k":"v"}})";  // 26 bytes, padded to 32
  CHECK(read_bytes(p) == le64(32) + meta_header + std::string(6, ' '));
  SafetensorsFile f(p);
  CHECK(f.tensors().empty());
  CHECK(f.metadata().at("k") == "v");
}

TEST_CASE("reader accepts what the format allows", "[safetensors]") {
  TempDir dir;
  SECTION("data order differs from header order, unpadded header, unknown fields ignored") {
    const fs::path p = dir / "order.safetensors";
    write_bytes(p, st_file(R"({"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5],"extra":{"x":[1]}},)"
                           R"("a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}})",
                           0) +
                       "\x01\x02\x03\x04\x05");
    SafetensorsFile f(p);
    CHECK(f.names() == std::vector<std::string>{"b", "a"});
    CHECK(std::string(reinterpret_cast<const char*>(f.at("b").data), 2) == "\x04\x05");
    CHECK(std::string(reinterpret_cast<const char*>(f.at("a").data), 3) == "\x01\x02\x03");
  }
  SECTION("zero-size tensors anywhere, several at one offset") {
    const fs::path p = dir / "zero.safetensors";
    write_bytes(p, st_file(R"({"z0":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                           R"("z1":{"dtype":"I8","shape":[3,0,2],"data_offsets":[0,0]},)"
                           R"("a":{"dtype":"I8","shape":[2],"data_offsets":[0,2]},)"
                           R"("z2":{"dtype":"F64","shape":[0],"data_offsets":[2,2]}})",
                           2));
    SafetensorsFile f(p);
    CHECK(f.tensors().size() == 4);
    CHECK(f.at("z1").nbytes == 0);
    CHECK(f.at("z2").data_begin == 2);
  }
  SECTION("empty header object, no data") {
    const fs::path p = dir / "empty.safetensors";
    write_bytes(p, st_file("{}", 0));
    SafetensorsFile f(p);
    CHECK(f.tensors().empty());
    CHECK(f.metadata().empty());
  }
  SECTION("many tensors parse in linear time") {
    const fs::path p = dir / "many.safetensors";
    std::vector<TensorData> ts;
    for (int i = 0; i < 50000; ++i) ts.push_back({{"t" + std::to_string(i), DType::U8, {0}}, nullptr, 0});
    write_safetensors(p, ts);
    SafetensorsFile f(p);
    CHECK(f.tensors().size() == 50000);
    CHECK(f.tensors()[49999].name == "t49999");
  }
}

TEST_CASE("read_float widens F32, F16, BF16, F64 and FP8 exactly", "[safetensors]") {
  TempDir dir;
  const fs::path p = dir / "floats.safetensors";
  const float f32[] = {1.5f, -0.0f, std::numeric_limits<float>::infinity(), 1e-40f};
  // F16: 1, -2, 65504 (max), 2^-24 (min subnormal), -0, +Inf, 0.333251953125, 2^-14 (min normal)
  const uint16_t f16[] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x3555, 0x0400, 0x7E00};
  const uint16_t bf16[] = {0x3F80, 0xC040, 0x7F80, 0x0001};  // 1, -3, Inf, min subnormal
  const double f64[] = {0.1, -4.0};
  const uint8_t e4m3[] = {0x38, 0x7E, 0x01, 0xFF};  // 1, 448, 2^-9, -NaN
  const uint8_t e5m2[] = {0x3C, 0x7B, 0x7C, 0x01};  // 1, 57344, Inf, 2^-16
  write_safetensors(p, {{{"f32", DType::F32, {4}}, f32, sizeof f32},
                        {{"f16", DType::F16, {9}}, f16, sizeof f16},
                        {{"bf16", DType::BF16, {4}}, bf16, sizeof bf16},
                        {{"f64", DType::F64, {2}}, f64, sizeof f64},
                        {{"e4m3", DType::F8_E4M3, {4}}, e4m3, sizeof e4m3},
                        {{"e5m2", DType::F8_E5M2, {4}}, e5m2, sizeof e5m2},
                        {{"i32", DType::I32, {1}}, "\x01\x00\x00\x00", 4}});
  SafetensorsFile f(p);
  const auto a = f.read_float("f32");
  CHECK(std::memcmp(a.data(), f32, sizeof f32) == 0);
  const auto h = f.read_float("f16");
  CHECK(h[0] == 1.0f);
  CHECK(h[1] == -2.0f);
  CHECK(h[2] == 65504.0f);
  CHECK(h[3] == std::ldexp(1.0f, -24));
  CHECK((h[4] == 0.0f && std::signbit(h[4])));
  CHECK(h[5] == std::numeric_limits<float>::infinity());
  CHECK(h[6] == 0.333251953125f);
  CHECK(h[7] == std::ldexp(1.0f, -14));
  CHECK(std::isnan(h[8]));
  const auto b = f.read_float("bf16");
  CHECK(b[0] == 1.0f);
  CHECK(b[1] == -3.0f);
  CHECK(b[2] == std::numeric_limits<float>::infinity());
  CHECK(b[3] == std::ldexp(1.0f, -133));
  const auto d = f.read_float("f64");
  CHECK(d[0] == 0.1f);
  CHECK(d[1] == -4.0f);
  const auto e = f.read_float("e4m3");
  CHECK(e[0] == 1.0f);
  CHECK(e[1] == 448.0f);
  CHECK(e[2] == std::ldexp(1.0f, -9));
  CHECK((std::isnan(e[3]) && std::signbit(e[3])));
  const auto g = f.read_float("e5m2");
  CHECK(g[0] == 1.0f);
  CHECK(g[1] == 57344.0f);
  CHECK(g[2] == std::numeric_limits<float>::infinity());
  CHECK(g[3] == std::ldexp(1.0f, -16));
  REQUIRE_THROWS_WITH(f.read_float("i32"),
                      StartsWith(p.string() + ": ") && Contains("tensor \"i32\" has dtype I32, which is not a floating-point type"));
}

TEST_CASE("malformed files are refused with a message naming the file and the problem", "[safetensors]") {
  TempDir dir;
  for (const BadCase& c : bad_corpus()) {
    const fs::path p = dir / (std::string(c.name) + ".safetensors");
    write_bytes(p, c.bytes);
    require_error(p, c.expect);
  }
}

TEST_CASE("files that cannot be opened are refused with the reason", "[safetensors]") {
  TempDir dir;
  require_error(dir / "does-not-exist.safetensors", "cannot open: No such file or directory");
  require_error(dir.path, "not a regular file");
}

TEST_CASE("writer refuses bad input and never leaves a partial file", "[safetensors]") {
  TempDir dir;
  const fs::path p = dir / "out.safetensors";
  const float v[2] = {1.0f, 2.0f};
  auto only_file_is = [&](const std::vector<std::string>& names) {
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(dir.path)) found.push_back(e.path().filename().string());
    std::sort(found.begin(), found.end());
    CHECK(found == names);
  };
  REQUIRE_THROWS_WITH(write_safetensors(p, {{{"a", DType::F32, {2}}, v, 8}, {{"a", DType::F32, {2}}, v, 8}}),
                      StartsWith(p.string() + ": ") && Contains("duplicate tensor name \"a\""));
  REQUIRE_THROWS_WITH(write_safetensors(p, {{{"__metadata__", DType::F32, {2}}, v, 8}}),
                      Contains("may not be named \"__metadata__\""));
  REQUIRE_THROWS_WITH(write_safetensors(p, {{{"a", DType::F32, {-2}}, v, 8}}), Contains("negative dimension"));
  REQUIRE_THROWS_WITH(write_safetensors(p, {{{"a", DType::F32, {3}}, v, 8}}),
                      Contains("tensor \"a\": 8 bytes given for shape [3] x F32"));
  REQUIRE_THROWS_WITH(write_safetensors(p, {{{"bad\xff", DType::F32, {2}}, v, 8}}), Contains("is not valid UTF-8"));
  only_file_is({});

  write_safetensors(p, {{{"a", DType::F32, {2}}, v, 8}});
  const std::string before = read_bytes(p);
  {
    SafetensorsWriter w(p, {{"b", DType::F32, {2}}});
    w.write(v, 4);
    REQUIRE_THROWS_WITH(w.write(v, 8), Contains("runs past the declared 8 bytes"));
    REQUIRE_THROWS_WITH(w.commit(), Contains("only 4 of 8 bytes of tensor data were written"));
  }
  {
    SafetensorsWriter w(p, {{"b", DType::F32, {2}}});
    w.write(v, 8);
    // destroyed without commit: as if the process had failed midway
  }
  CHECK(read_bytes(p) == before);
  only_file_is({"out.safetensors"});

  REQUIRE_THROWS_WITH(write_safetensors(dir / "no-such-dir" / "x.safetensors", {}),
                      StartsWith((dir / "no-such-dir" / "x.safetensors").string() + ": ") &&
                          Contains("cannot create temporary file"));
}

TEST_CASE("reads the pretrained ResNet-20 checkpoint from ../shared", "[safetensors]") {
  const std::string rel = "data/resnet-cifar10/resnet20.safetensors";
  if (!fp8sim::test::have_shared(rel)) {
    WARN("skipped: " << (fp8sim::test::shared_dir() / rel) << " not present");
    return;
  }
  SafetensorsFile f(fp8sim::test::shared_dir() / rel);
  const TensorView& w = f.at("conv1.weight");
  CHECK(w.dtype == DType::F32);
  CHECK(w.shape == std::vector<int64_t>{16, 3, 3, 3});
  CHECK(f.names().front() == "conv1.weight");
  CHECK(f.find("linear.weight") != nullptr);
  CHECK(f.at("linear.weight").shape == std::vector<int64_t>{10, 64});
  const auto vals = f.read_float("conv1.weight");
  REQUIRE(vals.size() == 432);
  double sumsq = 0;
  for (float x : vals) {
    REQUIRE(std::isfinite(x));
    sumsq += double(x) * x;
  }
  CHECK(sumsq > 0.1);  // trained weights, not zeros
}
