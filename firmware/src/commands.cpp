#include "fp8sim/firmware/commands.h"

#include <cstring>
#include <sstream>
#include <stdexcept>

namespace fp8sim::firmware {
namespace {

const char* const kNames[kOpcodeCount] = {"nop",     "load_weights", "load_activations", "compute",
                                          "postprocess", "store",    "barrier",          "end"};

// Every field, in one fixed order: the text form lists them all so dumps diff line by line.
template <typename F>
void for_each_field(Command& c, F&& f) {
  uint64_t v;
#define FIELD(name)                 \
  v = static_cast<uint64_t>(c.name); \
  if (f(#name, v)) c.name = static_cast<decltype(c.name)>(v);
  FIELD(flags) FIELD(layer) FIELD(tile) FIELD(dram_addr) FIELD(dram_stride) FIELD(rows) FIELD(cols)
  FIELD(buf_rows) FIELD(buf_cols) FIELD(buf_addr) FIELD(slot) FIELD(a_slot) FIELD(w_slot) FIELD(o_slot)
  FIELD(a_addr) FIELD(w_addr) FIELD(o_addr) FIELD(m) FIELD(k) FIELD(n) FIELD(scale_addr) FIELD(bias_addr)
  FIELD(out_fmt) FIELD(out_scale) FIELD(row_scale_addr) FIELD(conv_in_h) FIELD(conv_in_w) FIELD(conv_in_c)
  FIELD(conv_kh) FIELD(conv_kw) FIELD(conv_stride) FIELD(conv_pad) FIELD(gather_m0) FIELD(gather_k0) FIELD(pad_code)
#undef FIELD
}

// Field widths (uint8 flags/slots, uint16 layer, uint64 dram_addr, else uint32), to reject values that
// would be truncated.
uint64_t field_max(const std::string& s) {
  if (s == "flags" || s == "slot" || s == "a_slot" || s == "w_slot" || s == "o_slot" || s == "out_fmt" ||
      s == "pad_code") return 0xFF;
  if (s == "layer") return 0xFFFF;
  if (s == "dram_addr" || s == "scale_addr" || s == "bias_addr" || s == "row_scale_addr") return ~uint64_t{0};
  return 0xFFFFFFFFu;
}

}  // namespace

bool operator==(const Command& x, const Command& y) {
  if (x.op != y.op) return false;
  Command a = x, b = y;
  bool eq = true;
  std::vector<uint64_t> va;
  for_each_field(a, [&](const char*, uint64_t& v) { va.push_back(v); return false; });
  size_t i = 0;
  for_each_field(b, [&](const char*, uint64_t& v) { eq = eq && va[i++] == v; return false; });
  return eq;
}

const char* opcode_name(Opcode op) {
  const auto i = static_cast<unsigned>(op);
  return i < kOpcodeCount ? kNames[i] : "?";
}

std::string gather_geometry_error(const Command& c) {
  if (c.conv_in_h < 1 || c.conv_in_w < 1 || c.conv_in_c < 1 || c.conv_kh < 1 || c.conv_kw < 1 || c.conv_stride < 1)
    return "gather: conv_in_h/w/c, conv_kh/kw and conv_stride must be >= 1";
  for (uint32_t v : {c.conv_in_h, c.conv_in_w, c.conv_in_c, c.conv_kh, c.conv_kw, c.conv_stride, c.conv_pad})
    if (v > 65535) return "gather: convolution geometry fields must be <= 65535";
  const int64_t ph = int64_t{c.conv_in_h} + 2 * int64_t{c.conv_pad}, pw = int64_t{c.conv_in_w} + 2 * int64_t{c.conv_pad};
  if (ph < c.conv_kh || pw < c.conv_kw) return "gather: kernel larger than the padded input";
  if (uint64_t{c.gather_k0} + c.cols > uint64_t{c.conv_kh} * c.conv_kw * c.conv_in_c)
    return "gather: k range beyond kh * kw * in_c";
  // The input offsets of the last image the pixel range reaches must fit in 62 bits.
  const uint64_t oh = (uint64_t(ph) - c.conv_kh) / c.conv_stride + 1, ow = (uint64_t(pw) - c.conv_kw) / c.conv_stride + 1;
  const uint64_t image = uint64_t{c.conv_in_h} * c.conv_in_w * c.conv_in_c;
  const uint64_t last_image = (uint64_t{c.gather_m0} + (c.rows ? c.rows - 1 : 0)) / (oh * ow);
  if (last_image + 1 > (uint64_t{1} << 62) / image) return "gather: input offsets beyond 2^62";
  return "";
}

int64_t gather_offset(const Command& c, uint32_t r, uint32_t q) {
  const int64_t oh = (int64_t{c.conv_in_h} + 2 * c.conv_pad - c.conv_kh) / c.conv_stride + 1;
  const int64_t ow = (int64_t{c.conv_in_w} + 2 * c.conv_pad - c.conv_kw) / c.conv_stride + 1;
  const int64_t p = int64_t{c.gather_m0} + r, k = int64_t{c.gather_k0} + q;
  const int64_t b = p / (oh * ow), y = p / ow % oh, x = p % ow;
  const int64_t ci = k % c.conv_in_c, tap = k / c.conv_in_c, dy = tap / c.conv_kw, dx = tap % c.conv_kw;
  const int64_t iy = y * c.conv_stride + dy - c.conv_pad, ix = x * c.conv_stride + dx - c.conv_pad;
  if (iy < 0 || iy >= c.conv_in_h || ix < 0 || ix >= c.conv_in_w) return -1;
  return ((b * c.conv_in_h + iy) * c.conv_in_w + ix) * c.conv_in_c + ci;
}

std::string command_to_text(const Command& c) {
  std::ostringstream os;
  os << opcode_name(c.op);
  Command copy = c;
  for_each_field(copy, [&](const char* name, uint64_t& v) {
    os << ' ' << name << '=' << v;
    return false;
  });
  return os.str();
}

std::string commands_to_text(const std::vector<Command>& cmds) {
  std::string s;
  for (const Command& c : cmds) s += command_to_text(c) + '\n';
  return s;
}

std::vector<Command> parse_commands(const std::string& text, const std::string& origin) {
  std::vector<Command> out;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream ls(line);
    std::string word;
    if (!(ls >> word)) continue;
    const std::string where = origin + ":" + std::to_string(lineno) + ": ";
    Command c;
    int op = -1;
    for (int i = 0; i < kOpcodeCount; ++i)
      if (word == kNames[i]) op = i;
    if (op < 0) throw std::runtime_error(where + "unknown opcode '" + word + "'");
    c.op = static_cast<Opcode>(op);
    while (ls >> word) {
      const auto eq = word.find('=');
      if (eq == std::string::npos) throw std::runtime_error(where + "expected key=value, got '" + word + "'");
      const std::string key = word.substr(0, eq), val = word.substr(eq + 1);
      uint64_t v = 0;
      size_t used = 0;
      try {
        v = std::stoull(val, &used, 0);
      } catch (const std::exception&) {
        used = 0;
      }
      if (val.empty() || used != val.size() || val[0] == '-')
        throw std::runtime_error(where + "field '" + key + "': not an unsigned integer: '" + val + "'");
      bool known = false;
      for_each_field(c, [&](const char* name, uint64_t& f) {
        if (key != name) return false;
        known = true;
        f = v;
        return true;
      });
      if (!known) throw std::runtime_error(where + "unknown field '" + key + "'");
      if (v > field_max(key))
        throw std::runtime_error(where + "field '" + key + "': value " + val + " out of range");
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace fp8sim::firmware
