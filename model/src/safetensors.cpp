#include "fp8sim/model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <system_error>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "fp8sim/model/bf16.h"
#include "fp8sim/model/format.h"
#include "fp8sim/model/fp8.h"

// The data section is little-endian; F32/F64 are copied with memcpy, which is only right on such a host.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes a little-endian host");

namespace fp8sim::model {

namespace {

using json = nlohmann::json;

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::BOOL, "BOOL", 1}, {DType::U8, "U8", 1},     {DType::I8, "I8", 1},
    {DType::F8_E5M2, "F8_E5M2", 1}, {DType::F8_E4M3, "F8_E4M3", 1}, {DType::I16, "I16", 2},
    {DType::U16, "U16", 2},   {DType::F16, "F16", 2},   {DType::BF16, "BF16", 2},
    {DType::I32, "I32", 4},   {DType::U32, "U32", 4},   {DType::F32, "F32", 4},
    {DType::F64, "F64", 8},   {DType::I64, "I64", 8},   {DType::U64, "U64", 8},
};

const DTypeInfo& info(DType d) {
  for (const auto& i : kDTypes)
    if (i.dtype == d) return i;
  throw std::invalid_argument("invalid DType value " + std::to_string(static_cast<int>(d)));
}

std::string errno_text(int err) { return std::generic_category().message(err); }

// A name or JSON value for an error message: JSON-quoted (so control bytes cannot garble a terminal) and
// cut short, since a hostile header may hold a name of many megabytes.
std::string quote_name(const std::string& s) {
  std::string q = json(s).dump(-1, ' ', false, json::error_handler_t::replace);
  if (q.size() > 120) q = q.substr(0, 100) + "...\" (" + std::to_string(s.size()) + " bytes)";
  return q;
}
std::string shown(const json& v) {
  std::string t = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return t.size() > 80 ? t.substr(0, 77) + "..." : t;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

// product(shape) * elem_size, or nullopt when it does not fit in 64 bits.
std::optional<uint64_t> byte_count(const std::vector<int64_t>& shape, size_t elem_size) {
  uint64_t n = elem_size;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return std::nullopt;
  return n;
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  if (e == 0) {  // zero or subnormal: m * 2^-24 is exact in float32
    const float v = std::ldexp(static_cast<float>(m), -24);
    return sign ? -v : v;
  }
  const uint32_t bits = e == 31 ? (sign | 0x7F800000u | (m << 13))  // Inf, NaN keeping its payload
                                : (sign | ((e + 112u) << 23) | (m << 13));
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// SAX handler that builds the header while rejecting what nlohmann's DOM parser would silently accept:
// duplicate keys (it keeps the last) and unbounded nesting. The top-level object is kept as a vector
// so that header order survives and a header with millions of entries is not inserted quadratically.
class HeaderSax : public json::json_sax_t {
 public:
  std::vector<std::pair<std::string, json>> entries;
  std::string error;

  bool null() override { return value(json(nullptr)); }
  bool boolean(bool v) override { return value(json(v)); }
  bool number_integer(number_integer_t v) override { return value(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return value(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return value(json(v)); }
  bool string(string_t& v) override { return value(json(std::move(v))); }
  bool binary(binary_t&) override { return fail("header contains binary data"); }

  bool start_object(std::size_t) override {
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    return open(json::object());
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) return fail("header is not a JSON object (it is an array)");
    return open(json::array());
  }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    if (stack_.empty()) {
      if (!names_.insert(k).second)
        return fail(k == "__metadata__" ? "duplicate key \"__metadata__\" in header"
                                        : "duplicate tensor name " + quote_name(k) + " in header");
      top_key_ = std::move(k);
    } else {
      if (stack_.back()->contains(k))
        return fail("duplicate key " + quote_name(k) + " in the entry for " + quote_name(top_key_));
      keys_.back() = std::move(k);
    }
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) override {
    std::string what = ex.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: the reader wants the position and reason.
    if (const auto end = what.find("] "); what.rfind("[json.exception.", 0) == 0 && end != std::string::npos)
      what.erase(0, end + 2);
    if (what.size() > 300) what = what.substr(0, 297) + "...";
    return fail("header is not valid JSON: " + what);
  }

 private:
  bool fail(std::string msg) {
    if (error.empty()) error = std::move(msg);
    return false;
  }

  // Places v where the parser is; returns its address for open().
  json* place(json v) {
    if (stack_.empty()) {
      entries.emplace_back(top_key_, std::move(v));
      return &entries.back().second;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    json& slot = parent[keys_.back()];
    slot = std::move(v);
    return &slot;
  }

  bool value(json v) {
    if (depth_ == 0) return fail("header is not a JSON object (it is a " + std::string(v.type_name()) + ")");
    place(std::move(v));
    return true;
  }

  bool open(json container) {
    if (depth_ >= SafetensorsFile::kMaxJsonDepth)
      return fail("header JSON nests deeper than " + std::to_string(SafetensorsFile::kMaxJsonDepth) + " levels");
    stack_.push_back(place(std::move(container)));
    keys_.emplace_back();
    ++depth_;
    return true;
  }

  bool close() {
    if (!stack_.empty()) {
      stack_.pop_back();
      keys_.pop_back();
    }
    --depth_;
    return true;
  }

  int depth_ = 0;
  std::vector<json*> stack_;  // open containers below the top-level object (pointers stay valid: a
                              // container only grows while none of its children is open)
  std::vector<std::string> keys_;
  std::string top_key_;
  std::unordered_set<std::string> names_;
};

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// A non-negative JSON integer; nlohmann types negative numbers number_integer and fractions number_float.
bool as_u64(const json& v, uint64_t& out) {
  if (!v.is_number_unsigned()) return false;
  out = v.get<uint64_t>();
  return true;
}

}  // namespace

size_t dtype_size(DType d) { return info(d).size; }
std::string_view dtype_name(DType d) { return info(d).name; }
std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& i : kDTypes)
    if (i.name == name) return i.dtype;
  return std::nullopt;
}
bool dtype_is_wide_float(DType d) {
  return d == DType::F16 || d == DType::BF16 || d == DType::F32 || d == DType::F64;
}

void decode_to_float(DType dtype, const uint8_t* in, float* out, size_t n) {
  switch (dtype) {
    case DType::F32:
      if (n) std::memcpy(out, in, n * 4);
      return;
    case DType::F64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, in + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      return;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) out[i] = f16_to_f32(static_cast<uint16_t>(in[2 * i] | (in[2 * i + 1] << 8)));
      return;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) out[i] = bf16_to_f32(static_cast<uint16_t>(in[2 * i] | (in[2 * i + 1] << 8)));
      return;
    case DType::F8_E4M3:
    case DType::F8_E5M2: {
      const auto kind = fp8_kind_from_safetensors_dtype(dtype_name(dtype));
      if (!kind) throw std::invalid_argument("no FP8 format for dtype " + std::string(dtype_name(dtype)));
      fp8_decode_array(fp8_format(*kind), in, out, n);
      return;
    }
    default:
      throw std::invalid_argument("dtype " + std::string(dtype_name(dtype)) + " is not a floating-point type");
  }
}

// ---------------------------------------------------------------------------------------------------
// SafetensorsFile

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw SafetensorsError(path_, "cannot open: " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw SafetensorsError(path_, "cannot stat: " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw SafetensorsError(path_, "not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ > 0) {
    // Read-only private mapping: a 400 MB checkpoint is paged in on demand and never copied. (If another
    // process truncates the file while it is mapped, touching the lost pages raises SIGBUS.)
    void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw SafetensorsError(path_, "cannot map into memory: " + errno_text(err));
    }
    map_ = m;
  }
  ::close(fd);

  try {
    const auto* base = static_cast<const uint8_t*>(map_);
    if (size_ == 0) throw SafetensorsError(path_, "file is empty (no 8-byte header length)");
    if (size_ < 8)
      throw SafetensorsError(path_, "file is " + std::to_string(size_) + " bytes, too short for the 8-byte header length");
    const uint64_t n = read_u64_le(base);
    if (n == 0) throw SafetensorsError(path_, "header length is 0 (the header must be a JSON object)");
    if (n > kMaxHeaderBytes)
      throw SafetensorsError(path_, "header length " + std::to_string(n) + " exceeds the limit of " +
                                        std::to_string(kMaxHeaderBytes) + " bytes");
    if (n > size_ - 8)
      throw SafetensorsError(path_, "header length " + std::to_string(n) + " runs past the end of the file (" +
                                        std::to_string(size_) + " bytes, so at most " + std::to_string(size_ - 8) +
                                        " header bytes)");
    header_size_ = n;
    const char* hdr = reinterpret_cast<const char*>(base + 8);
    const uint8_t* data = base + 8 + n;
    const uint64_t data_size = size_ - 8 - n;

    HeaderSax sax;
    if (!json::sax_parse(hdr, hdr + n, &sax, nlohmann::detail::input_format_t::json, true, false))
      throw SafetensorsError(path_, sax.error.empty() ? "header is not valid JSON" : sax.error);

    for (auto& [name, entry] : sax.entries) {
      if (name == "__metadata__") {
        if (!entry.is_object()) throw SafetensorsError(path_, "__metadata__ is not a JSON object");
        for (auto& [k, v] : entry.items()) {
          if (!v.is_string())
            throw SafetensorsError(path_, "__metadata__ value for key " + quote_name(k) + " is " + shown(v) +
                                              ", not a string");
          metadata_.emplace(k, v.get<std::string>());
        }
        continue;
      }
      const std::string what = "tensor " + quote_name(name);
      if (!entry.is_object()) throw SafetensorsError(path_, what + ": entry is " + shown(entry) + ", not a JSON object");
      for (const char* field : {"dtype", "shape", "data_offsets"})
        if (!entry.contains(field)) throw SafetensorsError(path_, what + ": missing \"" + field + "\"");

      TensorView t;
      t.name = name;
      const json& jd = entry["dtype"];
      if (!jd.is_string()) throw SafetensorsError(path_, what + ": dtype " + shown(jd) + " is not a string");
      const auto dt = dtype_from_name(jd.get<std::string>());
      if (!dt) throw SafetensorsError(path_, what + ": unknown dtype " + shown(jd));
      t.dtype = *dt;

      const json& js = entry["shape"];
      if (!js.is_array()) throw SafetensorsError(path_, what + ": shape " + shown(js) + " is not an array");
      for (size_t i = 0; i < js.size(); ++i) {
        uint64_t d;
        if (!as_u64(js[i], d) || d > static_cast<uint64_t>(INT64_MAX))
          throw SafetensorsError(path_, what + ": shape entry " + std::to_string(i) + " is " + shown(js[i]) +
                                            ", not a non-negative integer");
        t.shape.push_back(static_cast<int64_t>(d));
      }

      const json& jo = entry["data_offsets"];
      if (!jo.is_array() || jo.size() != 2)
        throw SafetensorsError(path_, what + ": data_offsets " + shown(jo) + " is not a pair [begin, end]");
      for (size_t i = 0; i < 2; ++i)
        if (!as_u64(jo[i], i == 0 ? t.data_begin : t.data_end))
          throw SafetensorsError(path_, what + ": data_offsets entry " + std::to_string(i) + " is " + shown(jo[i]) +
                                            ", not a non-negative integer");
      const std::string range = "[" + std::to_string(t.data_begin) + ", " + std::to_string(t.data_end) + ")";
      if (t.data_begin > t.data_end)
        throw SafetensorsError(path_, what + ": data offsets " + range + " are reversed (begin > end)");
      if (t.data_end > data_size)
        throw SafetensorsError(path_, what + ": data offsets " + range + " run past the end of the data section (" +
                                          std::to_string(data_size) + " bytes)");
      const std::string sx = "shape " + shape_text(t.shape) + " x " + std::string(dtype_name(t.dtype));
      const auto want = byte_count(t.shape, dtype_size(t.dtype));
      if (!want) throw SafetensorsError(path_, what + ": " + sx + " overflows a 64-bit byte count");
      if (*want != t.data_end - t.data_begin)
        throw SafetensorsError(path_, what + ": data offsets " + range + " (" + std::to_string(t.data_end - t.data_begin) +
                                          " bytes) do not match " + sx + " = " + std::to_string(*want) + " bytes");
      t.data = data + t.data_begin;
      t.nbytes = static_cast<size_t>(*want);
      index_.emplace(t.name, tensors_.size());
      tensors_.push_back(std::move(t));
    }

    // The tensors must tile the data section exactly, as the reference implementation requires: sorted
    // by offset, each begins where the previous ended and the last ends at the end of the file. Header
    // order may differ from data order.
    std::vector<size_t> order(tensors_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const auto& x = tensors_[a];
      const auto& y = tensors_[b];
      return std::tie(x.data_begin, x.data_end, a) < std::tie(y.data_begin, y.data_end, b);
    });
    uint64_t covered = 0;
    const TensorView* prev = nullptr;
    for (size_t i : order) {
      const TensorView& t = tensors_[i];
      if (t.data_begin < covered)
        throw SafetensorsError(path_, "tensors " + quote_name(prev->name) + " [" + std::to_string(prev->data_begin) + ", " +
                                          std::to_string(prev->data_end) + ") and " + quote_name(t.name) + " [" +
                                          std::to_string(t.data_begin) + ", " + std::to_string(t.data_end) +
                                          ") overlap");
      if (t.data_begin > covered)
        throw SafetensorsError(path_, "data section bytes [" + std::to_string(covered) + ", " +
                                          std::to_string(t.data_begin) +
                                          ") belong to no tensor (the format forbids holes)");
      covered = t.data_end;
      if (t.data_end > t.data_begin || !prev) prev = &t;
    }
    if (covered != data_size)
      throw SafetensorsError(path_, "data section bytes [" + std::to_string(covered) + ", " + std::to_string(data_size) +
                                        ") after the last tensor belong to no tensor");
  } catch (...) {
    release();
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() { release(); }

SafetensorsFile::SafetensorsFile(SafetensorsFile&& o) noexcept
    : path_(std::move(o.path_)),
      map_(std::exchange(o.map_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      header_size_(o.header_size_),
      tensors_(std::move(o.tensors_)),
      index_(std::move(o.index_)),
      metadata_(std::move(o.metadata_)) {}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
    map_ = std::exchange(o.map_, nullptr);
    size_ = std::exchange(o.size_, 0);
    header_size_ = o.header_size_;
    tensors_ = std::move(o.tensors_);
    index_ = std::move(o.index_);
    metadata_ = std::move(o.metadata_);
  }
  return *this;
}

void SafetensorsFile::release() noexcept {
  if (map_) ::munmap(map_, size_);
  map_ = nullptr;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& t : tensors_) out.push_back(t.name);
  return out;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorView& SafetensorsFile::at(std::string_view name) const {
  if (const TensorView* t = find(name)) return *t;
  throw SafetensorsError(path_, "no tensor named " + quote_name(std::string(name)));
}

std::vector<float> SafetensorsFile::read_float(std::string_view name) const {
  const TensorView& t = at(name);
  if (!dtype_is_wide_float(t.dtype) && t.dtype != DType::F8_E4M3 && t.dtype != DType::F8_E5M2)
    throw SafetensorsError(path_, "tensor " + quote_name(t.name) + " has dtype " + std::string(dtype_name(t.dtype)) +
                                      ", which is not a floating-point type");
  std::vector<float> out(t.numel());
  decode_to_float(t.dtype, t.data, out.data(), out.size());
  return out;
}

// ---------------------------------------------------------------------------------------------------
// SafetensorsWriter

SafetensorsWriter::SafetensorsWriter(const std::filesystem::path& path, const std::vector<TensorSpec>& tensors,
                                     const std::map<std::string, std::string>& metadata)
    : path_(path) {
  auto q = [&](const std::string& s, const std::string& what) {
    try {
      return json(s).dump();
    } catch (const json::exception&) {
      throw SafetensorsError(path_, what + " is not valid UTF-8");
    }
  };
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      header += (first ? "" : ",") + q(k, "a metadata key") + ":" + q(v, "metadata value of " + quote_name(k));
      first = false;
    }
    header += "}";
  }
  std::unordered_set<std::string> seen;
  for (const auto& t : tensors) {
    const std::string what = "tensor " + quote_name(t.name);
    if (t.name == "__metadata__") throw SafetensorsError(path_, "a tensor may not be named \"__metadata__\"");
    if (!seen.insert(t.name).second) throw SafetensorsError(path_, "duplicate tensor name " + quote_name(t.name));
    for (int64_t d : t.shape)
      if (d < 0) throw SafetensorsError(path_, what + ": negative dimension in shape " + shape_text(t.shape));
    const auto n = byte_count(t.shape, dtype_size(t.dtype));
    if (!n || __builtin_add_overflow(data_total_, *n, &data_total_))
      throw SafetensorsError(path_, what + ": byte count overflows 64 bits");
    const uint64_t begin = data_total_ - *n;
    header += (header.size() > 1 ? "," : "") + q(t.name, what) + ":{\"dtype\":\"" + std::string(dtype_name(t.dtype)) +
              "\",\"shape\":" + shape_text(t.shape) + ",\"data_offsets\":[" + std::to_string(begin) + "," +
              std::to_string(data_total_) + "]}";
  }
  header += "}";
  // Spaces (valid JSON whitespace) pad the header so the data section starts 8-byte aligned.
  header.append((8 - header.size() % 8) % 8, ' ');
  if (header.size() > SafetensorsFile::kMaxHeaderBytes)
    throw SafetensorsError(path_, "header would be " + std::to_string(header.size()) + " bytes, over the limit of " +
                                      std::to_string(SafetensorsFile::kMaxHeaderBytes));

  // The temporary sits beside the destination so that the final rename cannot cross file systems.
  static std::atomic<unsigned> counter{0};
  for (int attempt = 0; fd_ < 0; ++attempt) {
    tmp_ = path_;
    tmp_ += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && (errno != EEXIST || attempt > 100))
      throw SafetensorsError(path_, "cannot create temporary file " + tmp_.string() + ": " + errno_text(errno));
  }
  try {
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i));
    write_all(len, 8);
    write_all(header.data(), header.size());
  } catch (...) {
    abandon();
    throw;
  }
}

SafetensorsWriter::~SafetensorsWriter() { abandon(); }

void SafetensorsWriter::abandon() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(tmp_.c_str());
  }
}

void SafetensorsWriter::write_all(const void* data, size_t nbytes) {
  const auto* p = static_cast<const char*>(data);
  while (nbytes > 0) {
    const ssize_t w = ::write(fd_, p, std::min<size_t>(nbytes, size_t{1} << 30));
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      abandon();
      throw SafetensorsError(path_, "write failed: " + errno_text(err));
    }
    p += w;
    nbytes -= static_cast<size_t>(w);
  }
}

void SafetensorsWriter::write(const void* data, size_t nbytes) {
  if (fd_ < 0) throw SafetensorsError(path_, "write after the writer was committed or failed");
  if (nbytes > data_total_ - data_written_)
    throw SafetensorsError(path_, "writing " + std::to_string(nbytes) + " more bytes runs past the declared " +
                                      std::to_string(data_total_) + " bytes of tensor data");
  write_all(data, nbytes);
  data_written_ += nbytes;
}

void SafetensorsWriter::commit() {
  if (fd_ < 0) throw SafetensorsError(path_, "commit after the writer was committed or failed");
  if (data_written_ != data_total_) {
    abandon();
    throw SafetensorsError(path_, "only " + std::to_string(data_written_) + " of " + std::to_string(data_total_) +
                                      " bytes of tensor data were written");
  }
  // fsync before rename: otherwise a crash could leave a complete-looking name over incomplete data.
  if (::fsync(fd_) != 0) {
    const int err = errno;
    abandon();
    throw SafetensorsError(path_, "fsync failed: " + errno_text(err));
  }
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    throw SafetensorsError(path_, "close failed: " + errno_text(err));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    throw SafetensorsError(path_, "cannot rename " + tmp_.string() + " into place: " + errno_text(err));
  }
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<TensorSpec> specs;
  specs.reserve(tensors.size());
  for (const auto& t : tensors) specs.push_back(t.spec);
  SafetensorsWriter w(path, specs, metadata);
  for (const auto& t : tensors) {
    const auto want = byte_count(t.spec.shape, dtype_size(t.spec.dtype));
    if (!want || *want != t.nbytes)
      throw SafetensorsError(path, "tensor " + quote_name(t.spec.name) + ": " + std::to_string(t.nbytes) +
                                       " bytes given for shape " + shape_text(t.spec.shape) + " x " +
                                       std::string(dtype_name(t.spec.dtype)));
    if (t.nbytes) w.write(t.data, t.nbytes);
  }
  w.commit();
}

}  // namespace fp8sim::model
