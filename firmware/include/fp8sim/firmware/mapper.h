// The mapper: for one GEMM (or a convolution as a GEMM, implicit im2col included) on one array target, the
// loop order and block sizes within the buffer capacities that minimise an objective (DRAM bytes by
// default, the cycle model, or the energy model), and the lowering of that choice into a command stream.
//
// The schedule family (both dataflows). The output is cut into blocks of m_block rows x n_tiles * C columns;
// K into blocks of k_tiles K tiles (WS: R; OS: k_tile). One step per (output block, K block):
//   load the A block (m_block x k_tiles K tiles) unless it is still resident, load the W block
//   (k_tiles x n_tiles tiles) unless it is still resident, then for each output tile of the block, for each
//   K tile in increasing k: Compute (Accumulate unless k = 0). After the last K block the block's output tiles
//   are stored. Output blocks run in `order`: MOuter (for each row block, every column block) or NOuter.
// An operand block is still resident when K is one block and the previous step used the same block: so
//   MOuter with one K block keeps the A block across all column blocks  -> "act-resident";
//   NOuter with one K block keeps the W panel across all row blocks     -> "weight-resident";
//   several K blocks keep the output block in the accumulator buffer    -> "k-blocked" (output-resident).
// Partial sums never leave the accumulator buffer (there is no load into it), so an output block stays
// until its last K block. Each output accumulates its K tiles in increasing k, so the accumulation order is
// AccumulationOrder{k_chunk = the K tile} exactly as in the fixed order.
// Double buffering per operand and for the outputs is part of the mapping (a block region has two halves
// or one); the next step's loads into the other half are interleaved with this step's computes.
//
// `fixed` is today's order (lower_gemm(t, g)): for each output tile, for each K tile, load both tiles.
//
// Estimates (MappingEstimate): DRAM bytes are counted exactly (a test checks them against the stream's loads
// and stores). The cycle model (approximate, for ranking; documented in firmware/README.md):
//   array  = sum over Computes of the fold cost: WS 2R + C + m - 2 (R weight rows, m activation rows, the
//            drain), OS k + R + C - 1 + R (k beats, the drain, R output rows);
//   dma    = sum over transfers of dram_latency + bytes / min(dram_bytes_per_cycle, buffer access width);
//   cycles = the first step's loads + sum over steps of max(step's array cycles, its transfers) + the
//            transfers that cannot overlap (loads into a single-buffered region, stores of a single-buffered
//            output block); a step's transfers are its A and W block loads and, at its last K block, the
//            output block's stores.
// The energy model: DRAM bytes x dram_pj_per_byte + buffer bytes moved (loads, array beats, output rows,
// stores) x sram_pj_per_byte (MappingCosts; MACs are the same under every mapping and left out).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fp8sim/firmware/lowering.h"

namespace fp8sim::firmware {

enum class MappingObjective : uint8_t { DramBytes = 0, Cycles = 1, Energy = 2 };
enum class LoopOrder : uint8_t { MOuter = 0, NOuter = 1 };

// "dram" | "cycles" | "energy"; throws std::invalid_argument naming the accepted values.
MappingObjective parse_mapping_objective(const std::string& s);
const char* mapping_objective_name(MappingObjective o);

// Per-byte energies of the energy objective. Defaults: DRAM 243.75 pJ/byte (cost/data/energy_45nm.json:
// midpoint of Horowitz ISSCC 2014's 1.3-2.6 nJ per 64-bit access); SRAM 2.5 pJ/byte (the same table's 20 pJ
// per 64-bit access of a 32 KB SRAM; assumption: one figure for all three buffers). Callers with the cost
// model at hand pass its figures.
struct MappingCosts {
  double dram_pj_per_byte = 243.75;
  double sram_pj_per_byte = 2.5;
};

struct MappingEstimate {
  uint64_t dram_read = 0, dram_written = 0;  // exact: the stream's load and store bytes
  uint64_t sram_bytes = 0;                   // buffer bytes moved (model)
  uint64_t computes = 0, loads = 0, stores = 0;
  uint64_t array_cycles = 0, dma_cycles = 0, cycles = 0;  // the cycle model
  double energy_pj = 0;
  uint64_t dram_bytes() const { return dram_read + dram_written; }
};

struct Mapping {
  bool fixed = true;  // today's order; the fields below are then filled in for the description only
  LoopOrder order = LoopOrder::MOuter;
  int64_t m_block = 0;  // output rows per block (WS: rows per Compute; OS: a multiple of R, or M)
  int64_t n_tiles = 1;  // output-column tiles (C columns each) per block
  int64_t k_tiles = 1;  // K tiles per block
  int64_t k_tile = 0;   // WS: R; OS: beats per Compute (the accumulation chunk)
  bool a_double = true, w_double = true, o_double = true;  // two halves per block region, or one
  MappingEstimate est;

  // "fixed", "act-resident", "weight-resident" or "k-blocked" (needs the GEMM: K blocks).
  std::string kind(const GemmSpec& g) const;
  // One line for reports: kind, rows per block, column tiles per block, K per block, K tile, loop order,
  // single-buffered regions, the estimates; e.g. "act-resident m=128 n-tiles=1 k=768, K tile 32 (24 K tiles),
  // M-outer, DRAM 688128 r + 786432 w bytes, ~135204 cycles (model)".
  std::string describe(const GemmSpec& g) const;
};

// Today's order with its estimate.
Mapping fixed_mapping(const ArrayTarget& t, const GemmSpec& g, const MappingCosts& costs = {});
// Every candidate the mapper considers (fixed first), feasible within the buffers, with estimates; in a
// fixed, deterministic order.
std::vector<Mapping> enumerate_mappings(const ArrayTarget& t, const GemmSpec& g, const MappingCosts& costs = {});
// The candidate with the least objective; ties: the next criterion (DRAM bytes -> cycles -> energy, energy ->
// cycles), then the earliest candidate (fixed first). Cycles: the candidates whose estimate is within
// kCyclesTolerance of the least count as equally fast (the model's accuracy against the simulator is about
// that, see firmware/README.md), and among them the least DRAM bytes wins (then cycles, the earliest).
inline constexpr double kCyclesTolerance = 0.02;
Mapping choose_mapping(const ArrayTarget& t, const GemmSpec& g, MappingObjective obj = MappingObjective::DramBytes,
                       const MappingCosts& costs = {});
// The estimate of a mapping (throws std::invalid_argument if it does not fit the buffers).
MappingEstimate estimate_mapping(const ArrayTarget& t, const GemmSpec& g, const Mapping& m,
                                 const MappingCosts& costs = {});
// Lowers the GEMM with the mapping (fixed: exactly lower_gemm(t, g)). LoweredGemm::m_tile is the rows per
// Compute, k_tile the K tile, k_chunk the accumulation order.
LoweredGemm lower_gemm(const ArrayTarget& t, const GemmSpec& g, const Mapping& m);

}  // namespace fp8sim::firmware
