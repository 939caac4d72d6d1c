// The binary form of the accelerator's command stream: what a host writes into memory and the TLM-2.0
// accelerator (accelerator_tlm.h) fetches through its initiator socket. One command is one record of
// kCommandBytes = 160 bytes, little-endian, fields at fixed offsets (every firmware::Command field, nothing
// else; reserved bytes are 0 and checked):
//
//   offset size field            offset size field
//        0    1 op (Opcode)          44    4 a_addr
//        1    1 flags                48    4 w_addr
//        2    2 layer                52    4 o_addr
//        4    4 tile                 56    4 m
//        8    8 dram_addr            60    4 k
//       16    4 dram_stride          64    4 n
//       20    4 rows                 68    1 out_fmt
//       24    4 cols                 69    3 reserved (0)
//       28    4 buf_rows             72    4 out_scale (float32 bits)
//       32    4 buf_cols             76    4 reserved (0)
//       36    4 buf_addr             80    8 scale_addr
//       40    1 slot                 88    8 bias_addr
//       41    1 a_slot               96    8 row_scale_addr
//       42    1 w_slot              104    4 conv_in_h
//       43    1 o_slot              108    4 conv_in_w
//                                   112    4 conv_in_c
//                                   116    4 conv_kh
//                                   120    4 conv_kw
//                                   124    4 conv_stride
//                                   128    4 conv_pad
//                                   132    4 gather_m0
//                                   136    4 gather_k0
//                                   140    1 pad_code
//                                   141   19 reserved (0)
//
// A stream is the records back to back (its length a multiple of 160 bytes), normally ending with End.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fp8sim/firmware/commands.h"

namespace fp8sim::vp {

inline constexpr size_t kCommandBytes = 160;

void encode_command(const firmware::Command& c, uint8_t* out);  // writes kCommandBytes bytes
std::vector<uint8_t> encode_commands(const std::vector<firmware::Command>& cmds);
// Throws std::runtime_error naming the record ("command record 3 (byte 288): ...") for an unknown opcode,
// unknown flag bits, non-zero reserved bytes, or a length that is not a multiple of kCommandBytes.
firmware::Command decode_command(const uint8_t* in, size_t index = 0);
std::vector<firmware::Command> decode_commands(const uint8_t* data, size_t bytes);

}  // namespace fp8sim::vp
