// A named accelerator configuration, read from a TOML file under sim/configs/ (a strict subset of TOML:
// [section] headers, key = value with integers, "strings" and true/false, # comments). Unknown sections or
// keys, missing keys, bad types and bad values are rejected with "file:line: key: reason".
#pragma once

#include <cstdint>
#include <string>

#include "fp8sim/firmware/hardware.h"
#include "fp8sim/sim/systolic_array.h"
#include "fp8sim/sim/vector_unit.h"

namespace fp8sim::sim {

struct SramConfig {
  int64_t size_bytes = 0;
  int banks = 1;
  int bank_width_bytes = 8;  // bytes one bank moves per access
  int ports = 1;             // accesses per cycle (array reads/writes and DMA share them; array first)
  int latency = 1;           // cycles from a read access to its data (>= 1)
  int64_t width_bytes() const { return int64_t{banks} * bank_width_bytes; }  // bytes per access
};

struct DramConfig {
  int bytes_per_cycle = 16;
  int latency = 50;          // cycles from a request to its first data
};

// [activation_sram]: the on-chip activation SRAM (a TPU-style unified buffer) where tensors stay between
// operations: a GEMM's activations are loaded from it and its post-processed outputs written to it instead of
// DRAM when the network schedule keeps them on chip (simrun: a tensor that fits; see README "whole network").
// size_bytes = 0: no such SRAM, every tensor goes through DRAM.
struct ActivationSramConfig {
  int64_t size_bytes = 0;
  int bytes_per_cycle = 128;  // bytes per cycle to or from the input/output buffers
  int latency = 4;            // cycles from a request to its first data
  int banks = 16;             // for the cost model (energy per byte and area depend on the bank size)
};

struct AcceleratorConfig {
  std::string name, source;  // name = "...", source = the file it came from
  double clock_mhz = 1000;
  ArrayParams array;
  SramConfig input_buffer, weight_buffer, output_buffer;
  DramConfig dram;
  ActivationSramConfig activation_sram;
  VectorUnitConfig vector;   // [vector]: the BF16 vector unit of the non-GEMM operations
  int64_t os_k_tile = 0;     // lowering: OS K tile (0: as large as the buffers allow)
  int queue_depth = 4;       // commands each unit may hold beyond the one executing
  // [controller] watchdog_cycles: the run stops with an error naming the oldest unfinished command and what it
  // waits for when no command completes for this many cycles (0: off). The default is far above the longest
  // legitimate wait (one DMA transfer of a whole buffer, or one tile through the array).
  uint64_t watchdog_cycles = 1000000;

  int word_bytes() const { return pe_word_bytes(array.numerics()); }
  firmware::ArrayTarget target() const;
  // Checks ranges and that the buffers hold one double-buffered tile and one array row per access;
  // throws std::invalid_argument("<source>: <key>: <reason>").
  void validate() const;
};

AcceleratorConfig load_config(const std::string& path);
AcceleratorConfig parse_config(const std::string& text, const std::string& origin);

}  // namespace fp8sim::sim
