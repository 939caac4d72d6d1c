// Writes the synthetic example report (example_report.h) as report.txt, report.json and report.html into
// the folder given on the command line: for the HTML check in CTest and for rendering it with
// scripts/render_report_png.sh.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "example_report.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: report_example OUT_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
    std::cerr << "report_example: " << dir << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  try {
    const auto r = fp8sim::test::example_report();
    fp8sim::report::write_file_atomic(dir + "/report.txt", fp8sim::report::to_text(r));
    fp8sim::report::write_file_atomic(dir + "/report.json", fp8sim::report::to_json(r));
    fp8sim::report::write_file_atomic(dir + "/report.html", fp8sim::report::to_html(r));
  } catch (const std::exception& e) {
    std::cerr << "report_example: " << e.what() << "\n";
    return 1;
  }
  std::cout << "wrote " << dir << "/report.{txt,json,html}\n";
  return 0;
}
