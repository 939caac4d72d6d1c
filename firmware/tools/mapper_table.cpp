// mapper_table: prints, for GEMM shapes (and convolutions, implicit im2col) on one array target, the fixed
// order's and the mapper's estimates (DRAM bytes exact, cycles from the mapper's model) for each objective.
//   mapper_table [--rows R --cols C --dataflow ws|os --in BYTES --w BYTES --out BYTES --word BYTES
//                 --dram-bpc B --dram-latency L --post int8|bf16|f32] [MxKxN ...]
//                [conv:HxWxCIN:COUT:KHxKW:STRIDE:PAD ...]
// --post: the outputs leave through the post-processing unit (column scales and biases read, one output of
// that format written per element) instead of as accumulator words.
// Defaults: default32 (sim/configs/default32.toml) and bert-base's GEMM shapes plus resnet20's convolutions.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fp8sim/firmware/mapper.h"
#include "fp8sim/model/requant.h"

using namespace fp8sim::firmware;

int main(int argc, char** argv) {
  ArrayTarget t{32, 32, Dataflow::WeightStationary, 262144, 65536, 262144, 8, 0};
  t.dram_bytes_per_cycle = 64, t.dram_latency = 100;
  t.input_width_bytes = 64, t.weight_width_bytes = 64, t.output_width_bytes = 256;
  std::vector<std::string> shapes;
  int post_fmt = -1;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return argv[++i];
      };
      if (a == "--help" || a == "-h") {
        std::cout << "usage: mapper_table [--rows R --cols C --dataflow ws|os --in B --w B --out B --word B "
                     "--dram-bpc B --dram-latency L --post int8|bf16|f32] [MxKxN ...] [conv:HxWxCIN:COUT:KHxKW:STRIDE:PAD ...]\n"
                     "Prints the fixed order's and the mapper's estimates (DRAM bytes exact, cycles from the mapper's "
                     "model)\nper objective; defaults: default32, bert-base's GEMM shapes and resnet20's convolutions.\n";
        return 0;
      } else if (a == "--rows") t.rows = std::stoi(next());
      else if (a == "--cols") t.cols = std::stoi(next());
      else if (a == "--dataflow") t.dataflow = next() == "os" ? Dataflow::OutputStationary : Dataflow::WeightStationary;
      else if (a == "--in") t.input_buffer_bytes = std::stoll(next());
      else if (a == "--w") t.weight_buffer_bytes = std::stoll(next());
      else if (a == "--out") t.output_buffer_bytes = std::stoll(next());
      else if (a == "--word") t.word_bytes = std::stoi(next());
      else if (a == "--dram-bpc") t.dram_bytes_per_cycle = std::stoi(next());
      else if (a == "--dram-latency") t.dram_latency = std::stoi(next());
      else if (a == "--post") {
        const std::string f = next();
        if (f == "int8") post_fmt = 0;
        else if (f == "bf16") post_fmt = int(fp8sim::model::OutFormat::Bf16);
        else if (f == "f32") post_fmt = int(fp8sim::model::OutFormat::F32);
        else throw std::invalid_argument("--post must be int8, bf16 or f32");
      }
      else if (!a.empty() && a[0] == '-') throw std::invalid_argument("unknown option " + a);
      else shapes.push_back(a);
    }
    if (shapes.empty())
      shapes = {"128x768x768", "128x768x3072", "128x3072x768", "conv:32x32x16:16:3x3:1:1", "conv:16x16x32:32:3x3:1:1",
                "conv:8x8x64:64:3x3:1:1"};
    std::printf("%-28s %-8s %14s %14s %12s  %s\n", "shape", "mapping", "DRAM read", "DRAM written", "cycles~",
                "description");
    for (const std::string& s : shapes) {
      GemmSpec g;
      int64_t explicit_a = -1;
      if (s.rfind("conv:", 0) == 0) {
        ConvSpec c;
        long h, w, ci, co, kh, kw, st, pd;
        if (std::sscanf(s.c_str(), "conv:%ldx%ldx%ld:%ld:%ldx%ld:%ld:%ld", &h, &w, &ci, &co, &kh, &kw, &st, &pd) != 8)
          throw std::invalid_argument("bad convolution '" + s + "'");
        c.in_h = h, c.in_w = w, c.in_c = ci, c.out_c = co, c.kh = kh, c.kw = kw, c.stride = st, c.pad = pd;
        g = conv_as_gemm(c, 0, 0, 0, 0, true);
        explicit_a = g.m * g.k;
      } else {
        long m, k, n;
        if (std::sscanf(s.c_str(), "%ldx%ldx%ld", &m, &k, &n) != 3) throw std::invalid_argument("bad shape '" + s + "'");
        g.m = m, g.k = k, g.n = n;
      }
      if (post_fmt >= 0) {
        g.post.enabled = true;
        g.post.out_fmt = uint8_t(post_fmt);
        g.post.has_bias = true;
      }
      auto row = [&](const char* name, const Mapping& m) {
        std::printf("%-28s %-8s %14llu %14llu %12llu  %s\n", s.c_str(), name, (unsigned long long)m.est.dram_read,
                    (unsigned long long)m.est.dram_written, (unsigned long long)m.est.cycles, m.describe(g).c_str());
      };
      if (explicit_a >= 0) {  // the explicit im2col matrix in DRAM, fixed order
        GemmSpec ge = g;
        ge.gather.enabled = false;
        row("expl.fix", fixed_mapping(t, ge));
      }
      row("fixed", fixed_mapping(t, g));
      row("dram", choose_mapping(t, g, MappingObjective::DramBytes));
      row("cycles", choose_mapping(t, g, MappingObjective::Cycles));
      row("energy", choose_mapping(t, g, MappingObjective::Energy));
    }
  } catch (const std::exception& e) {
    std::cerr << "mapper_table: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
