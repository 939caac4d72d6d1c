// The SystemC shell: a clock and ONE clocked process that ticks the accelerator (which steps every PE of
// the array in one loop). Units are plain C++ objects with a tick() and fixed evaluation order inside the
// cycle, so no delta cycles or per-PE signals are needed.
#include <systemc>

#include <time.h>

#include <exception>

#include "fp8sim/sim/accelerator.h"

namespace fp8sim::sim {
namespace {

SC_MODULE(accelerator_top) {
  sc_core::sc_in<bool> clk;
  std::vector<Accelerator*> jobs;
  size_t cur = 0;
  uint64_t cycles = 0;
  VcdOptions vcd;
  TraceProbe shown;  // sampled copy: changes only inside the VCD window
  uint64_t shown_cycle = 0;
  std::exception_ptr error;
  std::vector<double>* seconds = nullptr;
  double t0 = 0;
  // CPU time of this thread: on a shared machine wall time would count other processes' turns.
  static double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  }

  SC_CTOR(accelerator_top) {
    SC_METHOD(step);
    sensitive << clk.pos();
    dont_initialize();
  }

  void step() {
    if (cur >= jobs.size()) {
      sc_core::sc_stop();
      return;
    }
    try {
      Accelerator* a = jobs[cur];
      a->tick();
      if (!vcd.path.empty() && cycles >= vcd.from && cycles < vcd.to) {
        shown = a->probe();
        shown_cycle = cycles;
      }
      ++cycles;
      if (a->done()) {
        if (seconds) {
          const double t1 = cpu_seconds();
          seconds->push_back(t1 - t0);
          t0 = t1;
        }
        if (++cur == jobs.size()) sc_core::sc_stop();
      }
    } catch (...) {
      error = std::current_exception();
      sc_core::sc_stop();
    }
  }
};

}  // namespace

uint64_t run_systemc(const std::vector<Accelerator*>& jobs, const VcdOptions& vcd, std::vector<double>* seconds) {
  // sc_stop() at the end of the jobs is the normal way out: no "stopped by user" notice.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_clock clk("clk", 1, sc_core::SC_NS);
  accelerator_top top("accelerator");
  top.clk(clk);
  top.jobs = jobs;
  top.vcd = vcd;
  top.seconds = seconds;
  sc_core::sc_trace_file* tf = nullptr;
  if (!vcd.path.empty()) {
    std::string base = vcd.path;
    if (base.size() > 4 && base.substr(base.size() - 4) == ".vcd") base.resize(base.size() - 4);
    tf = sc_core::sc_create_vcd_trace_file(base.c_str());
    sc_core::sc_trace(tf, top.shown_cycle, "cycle");
    sc_core::sc_trace(tf, top.shown.in_valid, "array.in_valid");
    sc_core::sc_trace(tf, top.shown.in_ready, "array.in_fire");
    sc_core::sc_trace(tf, top.shown.in_wload, "array.in_wload");
    sc_core::sc_trace(tf, top.shown.out_valid, "array.out_valid");
    sc_core::sc_trace(tf, top.shown.out_ready, "array.out_ready");
    sc_core::sc_trace(tf, top.shown.out_word0, "array.out_data0");
    sc_core::sc_trace(tf, top.shown.pc, "controller.pc");
    sc_core::sc_trace(tf, top.shown.dma_queue, "dma.queue");
    sc_core::sc_trace(tf, top.shown.compute_queue, "compute.queue");
    sc_core::sc_trace(tf, top.shown.fifo, "compute.beat_fifo");
  }
  top.t0 = accelerator_top::cpu_seconds();
  sc_core::sc_start();
  if (tf) sc_core::sc_close_vcd_trace_file(tf);
  if (top.error) std::rethrow_exception(top.error);
  return top.cycles;
}

}  // namespace fp8sim::sim
