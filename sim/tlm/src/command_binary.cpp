#include "fp8sim/tlm/command_binary.h"

#include <stdexcept>
#include <string>

namespace fp8sim::vp {
namespace {

template <typename T>
void put(uint8_t* p, size_t off, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) p[off + i] = static_cast<uint8_t>(uint64_t(v) >> (8 * i));
}
template <typename T>
T get(const uint8_t* p, size_t off) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= uint64_t(p[off + i]) << (8 * i);
  return static_cast<T>(v);
}

constexpr uint8_t kKnownFlags =
    firmware::kFlagTranspose | firmware::kFlagAccumulate | firmware::kFlagBias | firmware::kFlagRowScales |
    firmware::kFlagGather;

}  // namespace

void encode_command(const firmware::Command& c, uint8_t* p) {
  for (size_t i = 0; i < kCommandBytes; ++i) p[i] = 0;
  put<uint8_t>(p, 0, static_cast<uint8_t>(c.op));
  put<uint8_t>(p, 1, c.flags);
  put<uint16_t>(p, 2, c.layer);
  put<uint32_t>(p, 4, c.tile);
  put<uint64_t>(p, 8, c.dram_addr);
  put<uint32_t>(p, 16, c.dram_stride);
  put<uint32_t>(p, 20, c.rows);
  put<uint32_t>(p, 24, c.cols);
  put<uint32_t>(p, 28, c.buf_rows);
  put<uint32_t>(p, 32, c.buf_cols);
  put<uint32_t>(p, 36, c.buf_addr);
  put<uint8_t>(p, 40, c.slot);
  put<uint8_t>(p, 41, c.a_slot);
  put<uint8_t>(p, 42, c.w_slot);
  put<uint8_t>(p, 43, c.o_slot);
  put<uint32_t>(p, 44, c.a_addr);
  put<uint32_t>(p, 48, c.w_addr);
  put<uint32_t>(p, 52, c.o_addr);
  put<uint32_t>(p, 56, c.m);
  put<uint32_t>(p, 60, c.k);
  put<uint32_t>(p, 64, c.n);
  put<uint8_t>(p, 68, c.out_fmt);
  put<uint32_t>(p, 72, c.out_scale);
  put<uint64_t>(p, 80, c.scale_addr);
  put<uint64_t>(p, 88, c.bias_addr);
  put<uint64_t>(p, 96, c.row_scale_addr);
  put<uint32_t>(p, 104, c.conv_in_h);
  put<uint32_t>(p, 108, c.conv_in_w);
  put<uint32_t>(p, 112, c.conv_in_c);
  put<uint32_t>(p, 116, c.conv_kh);
  put<uint32_t>(p, 120, c.conv_kw);
  put<uint32_t>(p, 124, c.conv_stride);
  put<uint32_t>(p, 128, c.conv_pad);
  put<uint32_t>(p, 132, c.gather_m0);
  put<uint32_t>(p, 136, c.gather_k0);
  put<uint8_t>(p, 140, c.pad_code);
}

std::vector<uint8_t> encode_commands(const std::vector<firmware::Command>& cmds) {
  std::vector<uint8_t> out(cmds.size() * kCommandBytes);
  for (size_t i = 0; i < cmds.size(); ++i) encode_command(cmds[i], out.data() + i * kCommandBytes);
  return out;
}

firmware::Command decode_command(const uint8_t* p, size_t index) {
  auto fail = [&](const std::string& why) {
    throw std::runtime_error("command record " + std::to_string(index) + " (byte " +
                             std::to_string(index * kCommandBytes) + "): " + why);
  };
  firmware::Command c;
  const uint8_t op = p[0];
  if (op >= firmware::kOpcodeCount) fail("unknown opcode " + std::to_string(op));
  c.op = static_cast<firmware::Opcode>(op);
  c.flags = p[1];
  if (c.flags & ~kKnownFlags) fail("unknown flag bits (flags = " + std::to_string(c.flags) + ")");
  for (size_t off = 0; off < kCommandBytes; ++off)
    if ((off == 69 || off == 70 || off == 71 || (off >= 76 && off < 80) || off >= 141) && p[off])
      fail("reserved byte " + std::to_string(off) + " is not 0");
  c.layer = get<uint16_t>(p, 2);
  c.tile = get<uint32_t>(p, 4);
  c.dram_addr = get<uint64_t>(p, 8);
  c.dram_stride = get<uint32_t>(p, 16);
  c.rows = get<uint32_t>(p, 20);
  c.cols = get<uint32_t>(p, 24);
  c.buf_rows = get<uint32_t>(p, 28);
  c.buf_cols = get<uint32_t>(p, 32);
  c.buf_addr = get<uint32_t>(p, 36);
  c.slot = p[40];
  c.a_slot = p[41];
  c.w_slot = p[42];
  c.o_slot = p[43];
  c.a_addr = get<uint32_t>(p, 44);
  c.w_addr = get<uint32_t>(p, 48);
  c.o_addr = get<uint32_t>(p, 52);
  c.m = get<uint32_t>(p, 56);
  c.k = get<uint32_t>(p, 60);
  c.n = get<uint32_t>(p, 64);
  c.out_fmt = p[68];
  c.out_scale = get<uint32_t>(p, 72);
  c.scale_addr = get<uint64_t>(p, 80);
  c.bias_addr = get<uint64_t>(p, 88);
  c.row_scale_addr = get<uint64_t>(p, 96);
  c.conv_in_h = get<uint32_t>(p, 104);
  c.conv_in_w = get<uint32_t>(p, 108);
  c.conv_in_c = get<uint32_t>(p, 112);
  c.conv_kh = get<uint32_t>(p, 116);
  c.conv_kw = get<uint32_t>(p, 120);
  c.conv_stride = get<uint32_t>(p, 124);
  c.conv_pad = get<uint32_t>(p, 128);
  c.gather_m0 = get<uint32_t>(p, 132);
  c.gather_k0 = get<uint32_t>(p, 136);
  c.pad_code = p[140];
  return c;
}

std::vector<firmware::Command> decode_commands(const uint8_t* data, size_t bytes) {
  if (bytes % kCommandBytes)
    throw std::runtime_error("command stream of " + std::to_string(bytes) + " bytes is not a whole number of " +
                             std::to_string(kCommandBytes) + "-byte records");
  std::vector<firmware::Command> cmds(bytes / kCommandBytes);
  for (size_t i = 0; i < cmds.size(); ++i) cmds[i] = decode_command(data + i * kCommandBytes, i);
  return cmds;
}

}  // namespace fp8sim::vp
