// The command stream's text form: dump -> parse gives the same commands; bad lines are rejected with the
// line number and reason.
#include <catch2/catch.hpp>

#include "fp8sim/firmware/commands.h"
#include "fp8sim/firmware/lowering.h"

using namespace fp8sim::firmware;

TEST_CASE("command text round trip", "[firmware]") {
  ArrayTarget t{8, 8, Dataflow::OutputStationary, 4096, 4096, 8192, 8, 0};
  GemmSpec g;
  g.m = 13, g.k = 70, g.n = 9, g.a_addr = 0, g.b_addr = 4096, g.c_addr = 1 << 20, g.layer = 3;
  std::vector<Command> cmds = lower_gemm(t, g).commands;
  finish_stream(cmds);
  const std::string text = commands_to_text(cmds);
  const auto back = parse_commands(text);
  REQUIRE(back.size() == cmds.size());
  for (size_t i = 0; i < cmds.size(); ++i) CHECK(back[i] == cmds[i]);
  CHECK(commands_to_text(back) == text);
  // Every field is written, so one changed field shows up in a diff.
  Command c = cmds[2];
  c.k += 1;
  CHECK(command_to_text(c) != command_to_text(cmds[2]));
}

TEST_CASE("command text errors name the line and the reason", "[firmware]") {
  auto msg = [](const std::string& text) {
    try {
      parse_commands(text, "s.cmd");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(msg("compute m=1\nfrobnicate\n") == "s.cmd:2: unknown opcode 'frobnicate'");
  CHECK(msg("store bogus=1") == "s.cmd:1: unknown field 'bogus'");
  CHECK(msg("store rows=-1") == "s.cmd:1: field 'rows': not an unsigned integer: '-1'");
  CHECK(msg("store slot=256") == "s.cmd:1: field 'slot': value 256 out of range");
  CHECK(msg("store rows") == "s.cmd:1: expected key=value, got 'rows'");
  CHECK(parse_commands("# comment only\n\nend  # trailing\n").size() == 1);
}
