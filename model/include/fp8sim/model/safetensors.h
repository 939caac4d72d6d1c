// Reading and writing the safetensors format (huggingface/safetensors):
//   [8-byte little-endian header length N][N bytes of JSON header][data section]
// The header is a JSON object mapping tensor names to {"dtype", "shape", "data_offsets": [begin, end]},
// offsets relative to the start of the data section, plus an optional "__metadata__" string->string object.
//
// SafetensorsFile memory-maps the file read-only and validates the whole header before anything is
// returned, so every TensorView it hands out points at bytes that lie inside the file and match the
// tensor's shape and dtype. Any violation throws SafetensorsError whose message is "<path>: <problem>".
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fp8sim::model {

// Element types of the format (the names are the ones the reference implementation writes).
enum class DType : uint8_t {
  BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64,
};

size_t dtype_size(DType dtype);                   // bytes per element
std::string_view dtype_name(DType dtype);         // "F32", "F8_E4M3", ...
std::optional<DType> dtype_from_name(std::string_view name);
// F16, BF16, F32 and F64: the types a cast to FP8/INT8 reads (the 8-bit float types are not included).
bool dtype_is_wide_float(DType dtype);

class SafetensorsError : public std::runtime_error {
 public:
  SafetensorsError(const std::filesystem::path& path, const std::string& problem)
      : std::runtime_error(path.string() + ": " + problem) {}
};

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;    // empty for a scalar
  uint64_t data_begin = 0;       // data_offsets, relative to the data section
  uint64_t data_end = 0;
  const uint8_t* data = nullptr; // into the mapping; valid while the SafetensorsFile lives
  size_t nbytes = 0;             // == numel() * dtype_size(dtype), checked on open

  size_t numel() const { return nbytes / dtype_size(dtype); }
};

// Widens n little-endian elements of F32/F16/BF16/F64/F8_E4M3/F8_E5M2 to float32. Exact for every type
// but F64 (rounded to nearest). Throws std::invalid_argument for the other dtypes.
void decode_to_float(DType dtype, const uint8_t* in, float* out, size_t n);

class SafetensorsFile {
 public:
  static constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // as the reference implementation
  static constexpr int kMaxJsonDepth = 64;                  // deeper headers are rejected, not recursed into

  explicit SafetensorsFile(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile&& other) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&& other) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  uint64_t file_size() const { return size_; }
  uint64_t header_size() const { return header_size_; }

  const std::vector<TensorView>& tensors() const { return tensors_; }  // in header order
  std::vector<std::string> names() const;                              // in header order
  const TensorView* find(std::string_view name) const;                 // nullptr when absent
  const TensorView& at(std::string_view name) const;                   // throws SafetensorsError when absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // The tensor converted to float32 (see decode_to_float); throws SafetensorsError for other dtypes.
  std::vector<float> read_float(std::string_view name) const;

 private:
  void release() noexcept;

  std::filesystem::path path_;
  void* map_ = nullptr;
  uint64_t size_ = 0;
  uint64_t header_size_ = 0;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// One tensor as the writer declares it.
struct TensorSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
};

// Streams a safetensors file: the header is fixed by the specs given to the constructor, then the raw
// little-endian bytes of the tensors are appended in that order with write() (in any chunking), and
// commit() renames the temporary file "<path>.tmp.<pid>.<n>" onto <path>. Until commit() succeeds the
// destination is untouched; an uncommitted writer deletes its temporary file. The header is padded with
// spaces to a multiple of 8 bytes, as the reference implementation does, and __metadata__ comes first.
class SafetensorsWriter {
 public:
  SafetensorsWriter(const std::filesystem::path& path, const std::vector<TensorSpec>& tensors,
                    const std::map<std::string, std::string>& metadata = {});
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  void write(const void* data, size_t nbytes);  // throws if it runs past the declared total
  uint64_t bytes_expected() const { return data_total_; }
  uint64_t bytes_written() const { return data_written_; }
  void commit();  // throws if fewer bytes than declared were written

 private:
  void write_all(const void* data, size_t nbytes);
  void abandon() noexcept;

  std::filesystem::path path_;
  std::filesystem::path tmp_;
  int fd_ = -1;
  uint64_t data_total_ = 0;
  uint64_t data_written_ = 0;
};

// A whole tensor in memory, for write_safetensors.
struct TensorData {
  TensorSpec spec;
  const void* data = nullptr;
  size_t nbytes = 0;
};

// Writes all tensors at once (a convenience over SafetensorsWriter).
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace fp8sim::model
