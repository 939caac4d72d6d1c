// The on-disk pieces of a sharded sweep (simrun sweep --shard I/N --out DIR, simrun sweep merge DIR...):
// one design point's outcome as JSON that reads back into the very same values (every double exactly, NaN and
// infinities included), the --shard syntax, and the hash that names a point's folder.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "pipeline.h"

namespace fp8sim::simrun {

// Every field of the outcome that a sweep's CSV, JSON and HTML read (wall-clock seconds excluded): doubles as
// JSON numbers in their shortest round-trip form, non-finite ones as the strings "nan", "inf", "-inf".
nlohmann::json outcome_to_json(const FormatOutcome& o);
// The inverse; throws std::runtime_error naming the field that is missing or of the wrong type.
FormatOutcome outcome_from_json(const nlohmann::json& j);

// "I/N" with 0 <= I < N, both decimal integers; throws UsageError ("sweep: --shard '...': ...").
struct ShardSpec {
  size_t index = 0, count = 1;
};
ShardSpec parse_shard(const std::string& text);

// 64-bit FNV-1a, as 16 lowercase hex digits (names folders; the full key is stored and compared as well).
std::string fnv1a64_hex(const std::string& bytes);
// The hash of a file's bytes (files over 64 MiB: their size and first and last MiB); "" when unreadable.
std::string file_digest(const std::string& path);

// The tool version compiled in: the project version and `git describe --always --dirty` of the source tree at
// build time; for a "-dirty" tree also a digest of the running executable (size and FNV-1a of its bytes).
const char* tool_version();

}  // namespace fp8sim::simrun
