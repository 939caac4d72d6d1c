// The HTML writer: one self-contained page (inline CSS and SVG; no scripts, external styles or fonts).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "fp8sim/report/report.h"

namespace fp8sim::report {
namespace {

std::string esc(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

// SVG coordinates with a fixed format, so the page is byte-identical run to run.
std::string px(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", std::abs(v) < 0.05 ? 0.0 : v);
  return b;
}

// Long labels keep their head and tail (layer names differ at the end: "L0.attention.self.query"), with
// BERT's "encoder.layer." written as "L".
std::string shorten(std::string s, size_t n) {
  if (s.rfind("encoder.layer.", 0) == 0) s = "L" + s.substr(14);
  if (s.size() <= n) return s;
  const size_t head = (n - 1) / 3, tail = n - 1 - head;
  return s.substr(0, head) + "\xE2\x80\xA6" + s.substr(s.size() - tail);
}

// 1, 2 or 5 times a power of ten, so that about `n` ticks cover [0, max].
double nice_step(double max, int n) {
  if (!(max > 0)) return 1;
  const double raw = max / n, p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

// Chart labels with SI suffixes (1.644G rather than 1.644e+09): read at a glance; the tables keep full figures.
std::string si(double v, int digits) {
  const char* suffix[] = {"", "k", "M", "G", "T", "P", "E"};
  int k = 0;
  double a = std::abs(v);
  while (a >= 1000 && k < 6) a /= 1000, v /= 1000, ++k;
  return fmt_sig(v, digits) + suffix[k];
}

const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f"};

struct Series {
  std::string name;
  std::string color;
};

std::string legend(const std::vector<Series>& s, double x, double y) {
  std::ostringstream o;
  for (const auto& it : s) {
    o << "<rect x=\"" << px(x) << "\" y=\"" << px(y - 9) << "\" width=\"10\" height=\"10\" fill=\"" << it.color
      << "\"/><text x=\"" << px(x + 14) << "\" y=\"" << px(y) << "\">" << esc(it.name) << "</text>";
    x += 24 + 7.0 * static_cast<double>(it.name.size());
  }
  return o.str();
}

// Horizontal stacked bars: one bar per label, one segment per series; the total printed at the bar's end.
std::string hbar_chart(const std::string& title, const std::vector<std::string>& labels,
                       const std::vector<std::vector<double>>& values, const std::vector<Series>& series,
                       const std::string& unit, const std::string& css_class) {
  const double label_w = 170, plot_w = 520, row_h = 18, top = 52, right_pad = 90;
  const double width = label_w + plot_w + right_pad;
  const double height = top + row_h * static_cast<double>(labels.size()) + 34;
  double max = 0;
  for (const auto& v : values) {
    double t = 0;
    for (double x : v) t += std::max(0.0, x);
    max = std::max(max, t);
  }
  const double step = nice_step(max, 5);
  const double axis_max = max > 0 ? std::ceil(max / step) * step : 1;
  std::ostringstream o;
  o << "<svg class=\"chart " << css_class << "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(width)
    << "\" height=\"" << px(height) << "\" viewBox=\"0 0 " << px(width) << " " << px(height) << "\" role=\"img\">";
  o << "<title>" << esc(title) << "</title>";
  o << "<text class=\"ctitle\" x=\"4\" y=\"16\">" << esc(title) << "</text>";
  o << legend(series, label_w, 38);
  const double y_axis = top + row_h * static_cast<double>(labels.size());
  for (double t = 0; t <= axis_max * (1 + 1e-9); t += step) {
    const double x = label_w + plot_w * t / axis_max;
    o << "<line class=\"grid\" x1=\"" << px(x) << "\" y1=\"" << px(top - 4) << "\" x2=\"" << px(x) << "\" y2=\""
      << px(y_axis) << "\"/><text class=\"tick\" x=\"" << px(x) << "\" y=\"" << px(y_axis + 14)
      << "\" text-anchor=\"middle\">" << esc(si(t, 3)) << "</text>";
  }
  o << "<text class=\"tick\" x=\"" << px(label_w + plot_w) << "\" y=\"" << px(y_axis + 28)
    << "\" text-anchor=\"end\">" << esc(unit) << "</text>";
  for (size_t i = 0; i < labels.size(); ++i) {
    const double y = top + row_h * static_cast<double>(i);
    o << "<text class=\"label\" x=\"" << px(label_w - 6) << "\" y=\"" << px(y + row_h - 5)
      << "\" text-anchor=\"end\"><title>" << esc(labels[i]) << "</title>" << esc(shorten(labels[i], 26)) << "</text>";
    double x = label_w, total = 0;
    for (size_t s = 0; s < series.size() && s < values[i].size(); ++s) {
      const double v = std::max(0.0, values[i][s]);
      const double w = plot_w * v / axis_max;
      total += v;
      if (w > 0)
        o << "<rect x=\"" << px(x) << "\" y=\"" << px(y + 2) << "\" width=\"" << px(w) << "\" height=\""
          << px(row_h - 4) << "\" fill=\"" << series[s].color << "\"><title>" << esc(labels[i]) << ", "
          << esc(series[s].name) << ": " << esc(fmt_sig(v, 6)) << " " << esc(unit) << "</title></rect>";
      x += w;
    }
    o << "<text class=\"value\" x=\"" << px(x + 4) << "\" y=\"" << px(y + row_h - 5) << "\">"
      << esc(si(total, 4)) << "</text>";
  }
  o << "</svg>";
  return o.str();
}

// Grouped horizontal bars of each metric relative to the chosen format (= 1), with the absolute values.
struct Metric {
  std::string name;
  std::vector<double> values;  // per format
  std::string unit;
};
std::string compare_chart(const std::string& title, const std::vector<std::string>& formats,
                          const std::vector<Metric>& metrics) {
  const double label_w = 170, plot_w = 420, bar_h = 14, gap = 12, top = 52, right_pad = 200;
  const double group_h = bar_h * static_cast<double>(formats.size()) + gap;
  const double width = label_w + plot_w + right_pad;
  const double height = top + group_h * static_cast<double>(metrics.size()) + 20;
  std::vector<Series> series;
  for (size_t i = 0; i < formats.size(); ++i)
    series.push_back({formats[i] + (i == 0 ? " (chosen)" : ""), kPalette[i % 8]});
  double max_rel = 1;
  for (const auto& m : metrics)
    for (double v : m.values)
      if (m.values[0] > 0 && std::isfinite(v)) max_rel = std::max(max_rel, v / m.values[0]);
  const double axis_max = std::ceil(max_rel * 4) / 4;
  std::ostringstream o;
  o << "<svg class=\"chart compare\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(width) << "\" height=\""
    << px(height) << "\" viewBox=\"0 0 " << px(width) << " " << px(height) << "\" role=\"img\">";
  o << "<title>" << esc(title) << "</title><text class=\"ctitle\" x=\"4\" y=\"16\">" << esc(title) << "</text>";
  o << legend(series, label_w, 38);
  const double x1 = label_w + plot_w / axis_max;  // the chosen format's value
  o << "<line class=\"one\" x1=\"" << px(x1) << "\" y1=\"" << px(top - 4) << "\" x2=\"" << px(x1) << "\" y2=\""
    << px(height - 20) << "\"/><text class=\"tick\" x=\"" << px(x1) << "\" y=\"" << px(height - 6)
    << "\" text-anchor=\"middle\">1.0x chosen</text>";
  for (size_t g = 0; g < metrics.size(); ++g) {
    const Metric& m = metrics[g];
    const double y0 = top + group_h * static_cast<double>(g);
    o << "<text class=\"label\" x=\"" << px(label_w - 6) << "\" y=\"" << px(y0 + group_h / 2)
      << "\" text-anchor=\"end\">" << esc(m.name) << "</text>";
    for (size_t f = 0; f < formats.size() && f < m.values.size(); ++f) {
      const double v = m.values[f];
      const double rel = m.values[0] > 0 && std::isfinite(v) ? v / m.values[0] : 0;
      const double y = y0 + bar_h * static_cast<double>(f);
      const double w = plot_w * std::max(0.0, rel) / axis_max;
      o << "<rect x=\"" << px(label_w) << "\" y=\"" << px(y + 1) << "\" width=\"" << px(w) << "\" height=\""
        << px(bar_h - 2) << "\" fill=\"" << kPalette[f % 8] << "\"><title>" << esc(formats[f]) << " " << esc(m.name)
        << ": " << esc(fmt_sig(v, 6)) << " " << esc(m.unit) << "</title></rect>";
      o << "<text class=\"value\" x=\"" << px(label_w + w + 4) << "\" y=\"" << px(y + bar_h - 3) << "\">"
        << esc(si(v, 4)) << " " << esc(m.unit) << " (" << esc(fmt_sig(rel, 3)) << "x)</text>";
    }
  }
  o << "</svg>";
  return o.str();
}

// Accuracy (y) against a cost (x); Pareto-optimal points filled and joined by the front.
std::string scatter_chart(const std::string& title, const SweepTable& s, const std::vector<bool>& front,
                          double DesignPoint::*cost, const std::string& x_unit) {
  const double left = 70, plot_w = 520, top = 56, plot_h = 300, width = left + plot_w + 150,
               height = top + plot_h + 50;
  double xmin = 0, xmax = 0, ymin = 0, ymax = 0;
  bool first = true;
  for (const auto& p : s.points) {
    const double x = p.*cost, y = p.accuracy;
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    if (first) {
      xmin = xmax = x;
      ymin = ymax = y;
      first = false;
    }
    xmin = std::min(xmin, x), xmax = std::max(xmax, x), ymin = std::min(ymin, y), ymax = std::max(ymax, y);
  }
  // Pad the ranges so no point sits on the frame (and a single point still has a range).
  const double xpad = xmax > xmin ? (xmax - xmin) * 0.08 : std::max(1.0, std::abs(xmax) * 0.1);
  const double ypad = ymax > ymin ? (ymax - ymin) * 0.08 : std::max(1e-3, std::abs(ymax) * 0.05);
  xmin -= xpad, xmax += xpad, ymin -= ypad, ymax += ypad;
  auto X = [&](double x) { return left + plot_w * (x - xmin) / (xmax - xmin); };
  auto Y = [&](double y) { return top + plot_h * (1 - (y - ymin) / (ymax - ymin)); };
  std::ostringstream o;
  o << "<svg class=\"chart pareto\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(width) << "\" height=\""
    << px(height) << "\" viewBox=\"0 0 " << px(width) << " " << px(height) << "\" role=\"img\">";
  o << "<title>" << esc(title) << "</title><text class=\"ctitle\" x=\"4\" y=\"16\">" << esc(title) << "</text>";
  o << "<rect class=\"frame\" x=\"" << px(left) << "\" y=\"" << px(top) << "\" width=\"" << px(plot_w)
    << "\" height=\"" << px(plot_h) << "\"/>";
  for (int i = 0; i <= 4; ++i) {
    const double xv = xmin + (xmax - xmin) * i / 4, yv = ymin + (ymax - ymin) * i / 4;
    o << "<text class=\"tick\" x=\"" << px(X(xv)) << "\" y=\"" << px(top + plot_h + 14) << "\" text-anchor=\"middle\">"
      << esc(si(xv, 3)) << "</text>";
    o << "<text class=\"tick\" x=\"" << px(left - 4) << "\" y=\"" << px(Y(yv) + 4) << "\" text-anchor=\"end\">"
      << esc(fmt_sig(yv, 4)) << "</text>";
  }
  o << "<text class=\"tick\" x=\"" << px(left + plot_w / 2) << "\" y=\"" << px(top + plot_h + 32)
    << "\" text-anchor=\"middle\">" << esc(x_unit) << " (lower is better)</text>";
  o << "<text class=\"tick\" x=\"12\" y=\"" << px(top + plot_h / 2) << "\" transform=\"rotate(-90 12 "
    << px(top + plot_h / 2) << ")\" text-anchor=\"middle\">" << esc(s.accuracy_metric)
    << (s.higher_is_better ? " (higher is better)" : " (lower is better)") << "</text>";
  std::vector<size_t> on_front;
  for (size_t i = 0; i < s.points.size(); ++i)
    if (front[i]) on_front.push_back(i);
  std::sort(on_front.begin(), on_front.end(), [&](size_t a, size_t b) {
    const double xa = s.points[a].*cost, xb = s.points[b].*cost;
    return xa != xb ? xa < xb : a < b;
  });
  if (on_front.size() > 1) {
    o << "<polyline class=\"front\" points=\"";
    for (size_t k = 0; k < on_front.size(); ++k)
      o << (k ? " " : "") << px(X(s.points[on_front[k]].*cost)) << "," << px(Y(s.points[on_front[k]].accuracy));
    o << "\"/>";
  }
  for (size_t i = 0; i < s.points.size(); ++i) {
    const auto& p = s.points[i];
    if (!std::isfinite(p.*cost) || !std::isfinite(p.accuracy)) continue;
    const double x = X(p.*cost), y = Y(p.accuracy);
    o << "<circle cx=\"" << px(x) << "\" cy=\"" << px(y) << "\" r=\"5\" class=\"" << (front[i] ? "pf" : "pd")
      << "\"><title>" << esc(p.label) << ": " << esc(s.accuracy_metric) << " " << esc(fmt_sig(p.accuracy, 6)) << ", "
      << esc(fmt_sig(p.*cost, 6)) << " " << esc(x_unit) << (front[i] ? " (Pareto-optimal)" : "")
      << "</title></circle><text class=\"plabel\" x=\"" << px(x + 7) << "\" y=\"" << px(y - 6) << "\">"
      << esc(shorten(p.label, 22)) << "</text>";
  }
  o << "<circle cx=\"" << px(left + 6) << "\" cy=\"34\" r=\"5\" class=\"pf\"/>"
    << "<text x=\"" << px(left + 16) << "\" y=\"38\">Pareto-optimal (joined: the front)</text>"
    << "<circle cx=\"" << px(left + 236) << "\" cy=\"34\" r=\"5\" class=\"pd\"/>"
    << "<text x=\"" << px(left + 246) << "\" y=\"38\">dominated</text>";
  o << "</svg>";
  return o.str();
}

const char* kStyle = R"(body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
.meta{color:#555;font-size:13px}.synthetic{background:#fff3cd;border:2px solid #e0a800;padding:8px 12px;
font-weight:bold;margin:10px 0}.tag{background:#e0a800;color:#fff;border-radius:3px;padding:1px 5px;font-size:11px}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #ccd;border-radius:6px;padding:8px 12px;min-width:150px}
.card .k{font-size:12px;color:#666}.card .v{font-size:18px;font-weight:bold}.ok{color:#2a7d2a}.bad{color:#c0392b}
table{border-collapse:collapse;font-size:12px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 6px}
th{background:#f3f3f6}td.n{text-align:right;font-variant-numeric:tabular-nums}tr.a td{color:#8a5a00}
svg.chart{display:block;margin:10px 0;font-size:11px}svg .ctitle{font-size:13px;font-weight:bold}
svg .grid{stroke:#e3e3e3}svg .one{stroke:#999;stroke-dasharray:4 3}svg .tick{fill:#555}svg .value{fill:#333}
svg .frame{fill:none;stroke:#bbb}svg .front{fill:none;stroke:#e15759;stroke-width:2}
svg .pf{fill:#e15759;stroke:#7a1f20}svg .pd{fill:#fff;stroke:#4e79a7;stroke-width:2}svg .plabel{fill:#333;font-size:10px}
ul.notes{font-size:13px})";

}  // namespace

std::string to_html(const RunReport& r) {
  validate(r);
  const std::string syn = r.synthetic ? " (synthetic data)" : "";
  std::vector<const FormatRun*> runs{&r.run};
  for (const auto& c : r.comparison) runs.push_back(&c);
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>fp8sim report: "
    << esc(r.workload) << esc(syn) << "</title>\n<style>\n" << kStyle << "\n</style>\n</head>\n<body>\n";
  o << "<h1>fp8sim run report: " << esc(r.workload);
  if (r.synthetic) o << " <span class=\"tag\">SYNTHETIC</span>";
  o << "</h1>\n";
  if (r.synthetic)
    o << "<div class=\"synthetic\" id=\"synthetic\">Synthetic data: " << esc(r.synthetic_note)
      << ". Accuracy, toggle counts and energy below are for synthetic inputs, not the real workload.</div>\n";
  o << "<p class=\"meta\">";
  if (!r.command.empty()) o << "command: <code>" << esc(r.command) << "</code><br>";
  if (!r.weights.empty()) o << "weights: " << esc(r.weights) << "<br>";
  if (!r.inputs.empty()) o << "inputs: " << esc(r.inputs) << "<br>";
  o << "engine: " << esc(r.engine) << ", samples " << r.samples << ", seed " << r.seed;
  if (!r.tool_version.empty()) o << ", " << esc(r.tool) << " " << esc(r.tool_version);
  if (!r.timestamp.empty()) o << ", " << esc(r.timestamp);
  o << "<br>";
  for (const FormatRun* f : runs)
    o << "config (" << esc(f->format) << "): " << esc(f->config.name) << ", " << f->config.rows << "x" << f->config.cols
      << " " << esc(f->config.dataflow) << ", " << esc(f->config.pe) << " PEs, " << esc(f->config.accumulator)
      << " accumulator, " << esc(fmt_sig(f->config.clock_mhz, 6)) << " MHz<br>";
  o << "</p>\n";

  // A sweep: the design points first, the details of the first point below.
  if (r.sweep && !r.sweep->points.empty()) {
    const auto pe = pareto_energy(*r.sweep), pa = pareto_area(*r.sweep);
    o << "<h2 id=\"sweep\">Sweep: Pareto fronts" << esc(syn) << "</h2>\n";
    o << scatter_chart(r.sweep->accuracy_metric + " against energy" + syn, *r.sweep, pe,
                       &DesignPoint::energy_pj, "energy of the run (pJ)")
      << "\n";
    o << scatter_chart(r.sweep->accuracy_metric + " against area" + syn, *r.sweep, pa, &DesignPoint::area_um2,
                       "area (um^2)")
      << "\n";
    o << "<table class=\"sweep\"><tr><th>point</th><th>format</th><th>accumulator</th><th>array</th><th>"
      << esc(r.sweep->accuracy_metric) << "</th><th>energy (pJ)</th><th>area (um^2)</th><th>cycles</th>"
      << "<th>Pareto (energy)</th><th>Pareto (area)</th></tr>\n";
    for (size_t i = 0; i < r.sweep->points.size(); ++i) {
      const auto& p = r.sweep->points[i];
      o << "<tr><td>" << esc(p.label) << "</td><td>" << esc(p.format) << "</td><td>" << esc(p.accumulator)
        << "</td><td>" << p.rows << "x" << p.cols << "</td><td class=\"n\">" << esc(fmt_sig(p.accuracy, 6))
        << "</td><td class=\"n\">" << esc(fmt_sig(p.energy_pj, 6)) << "</td><td class=\"n\">"
        << esc(fmt_sig(p.area_um2, 6)) << "</td><td class=\"n\">" << fmt_count(p.cycles) << "</td><td>"
        << (pe[i] ? "yes" : "") << "</td><td>" << (pa[i] ? "yes" : "") << "</td></tr>\n";
    }
    o << "</table>\n<p class=\"meta\">The sections below show the first design point (" << esc(r.run.format) << ", "
      << r.run.config.rows << "x" << r.run.config.cols << ").</p>\n";
  }


  // Summary cards of the chosen format.
  const FormatRun& c = r.run;
  uint64_t mism = 0, checked = 0;
  for (const auto& v : c.verification) mism += v.mismatches, checked += v.checked_outputs;
  auto card = [&](const std::string& k, const std::string& v, const std::string& cls = "") {
    o << "<div class=\"card\"><div class=\"k\">" << esc(k) << "</div><div class=\"v" << (cls.empty() ? "" : " " + cls)
      << "\">" << esc(v) << "</div></div>";
  };
  o << "<h2>Summary: " << esc(c.format) << esc(syn) << "</h2>\n<div class=\"cards\">";
  auto acc_text = [](const Accuracy& a, double v, const std::optional<Interval>& ci) {
    if (!a.withheld.empty()) return std::string("withheld");
    return fmt_sig(v, 5) + (ci ? " [" + fmt_sig(ci->low, 4) + ", " + fmt_sig(ci->high, 4) + "]" : std::string());
  };
  card(c.accuracy.metric + (r.synthetic ? " (synthetic)" : ""), acc_text(c.accuracy, c.accuracy.value, c.accuracy.ci95));
  if (c.accuracy.fp32_value)
    card("FP32 " + c.accuracy.metric, acc_text(c.accuracy, *c.accuracy.fp32_value, c.accuracy.fp32_ci95));
  if (c.accuracy.items)
    card("items (simulated + golden)", fmt_count(c.accuracy.items) + " (" + fmt_count(c.accuracy.items_simulated) +
                                           " + " + fmt_count(c.accuracy.items_golden) + ")");
  card("cycles", fmt_count(c.totals.cycles));
  card("latency", fmt_sig(latency_s(c) * 1e6, 5) + " us");
  card("energy / inference", fmt_sig(c.totals.energy_pj.total() * 1e-6, 5) + " uJ");
  card("energy / MAC", fmt_sig(energy_per_mac_pj(c), 4) + " pJ");
  card("TOPS/W", fmt_sig(tops_per_w(c), 4));
  card("area", fmt_sig(c.totals.area.total_um2() * 1e-6, 4) + " mm^2");
  card("verified outputs", fmt_count(checked) + ", " + fmt_count(mism) + " mismatches", mism ? "bad" : "ok");
  o << "</div>\n";

  // Side by side.
  if (!r.comparison.empty()) {
    std::vector<std::string> formats;
    for (const FormatRun* f : runs) formats.push_back(f->format);
    auto metric = [&](const std::string& name, const std::string& unit, auto get) {
      Metric m{name, {}, unit};
      for (const FormatRun* f : runs) m.values.push_back(get(*f));
      return m;
    };
    std::vector<Metric> ms;
    const bool same_metric = std::all_of(runs.begin(), runs.end(), [&](const FormatRun* f) {
      return f->accuracy.metric == c.accuracy.metric;
    });
    if (same_metric && c.accuracy.withheld.empty())
      ms.push_back(metric(c.accuracy.metric, "", [](const FormatRun& f) { return f.accuracy.value; }));
    ms.push_back(metric("energy / inference", "pJ", [](const FormatRun& f) { return f.totals.energy_pj.total(); }));
    ms.push_back(metric("energy / MAC", "pJ", [](const FormatRun& f) { return energy_per_mac_pj(f); }));
    ms.push_back(metric("array area", "um^2", [](const FormatRun& f) { return f.totals.area.array_um2; }));
    ms.push_back(metric("total area", "um^2", [](const FormatRun& f) { return f.totals.area.total_um2(); }));
    ms.push_back(metric("cycles", "", [](const FormatRun& f) { return static_cast<double>(f.totals.cycles); }));
    std::string vs;
    for (size_t i = 1; i < formats.size(); ++i) vs += (i > 1 ? ", " : "") + formats[i];
    o << "<h2>" << esc(c.format) << " against " << esc(vs) << esc(syn) << "</h2>\n";
    o << compare_chart("Accuracy, energy, area and cycles relative to " + c.format + syn, formats, ms) << "\n";
    std::vector<std::string> labels;
    std::vector<std::vector<double>> ev, av;
    for (const FormatRun* f : runs) {
      labels.push_back(f->format);
      ev.push_back({f->totals.energy_pj.mac, f->totals.energy_pj.sram, f->totals.energy_pj.dram,
                    f->totals.energy_pj.leakage});
      av.push_back({f->totals.area.array_um2, f->totals.area.buffers_um2});
    }
    o << hbar_chart("Energy by component (whole run)" + syn, labels, ev,
                    {{"MAC", kPalette[0]}, {"SRAM", kPalette[1]}, {"DRAM", kPalette[2]}, {"leakage", kPalette[3]}},
                    "pJ", "energy-split")
      << "\n";
    o << hbar_chart("Area by component", labels, av, {{"PE array", kPalette[4]}, {"SRAM buffers", kPalette[6]}},
                    "um^2", "area-split")
      << "\n";
  }

  // The comparison table (also for a single format: it is the totals table).
  o << "<table class=\"totals\"><tr><th>quantity</th>";
  for (const FormatRun* f : runs) o << "<th>" << esc(f->format) << (f == &r.run ? " (chosen)" : "") << "</th>";
  o << "</tr>\n";
  auto trow = [&](const std::string& name, auto get) {
    o << "<tr><td>" << esc(name) << "</td>";
    for (const FormatRun* f : runs) o << "<td class=\"n\">" << esc(get(*f)) << "</td>";
    o << "</tr>\n";
  };
  auto optf = [](const std::optional<double>& v) { return v ? fmt_sig(*v, 6) : std::string("-"); };
  trow("accuracy metric", [](const FormatRun& f) { return f.accuracy.metric; });
  trow("accuracy" + syn + " [95 % CI]", [&](const FormatRun& f) { return acc_text(f.accuracy, f.accuracy.value, f.accuracy.ci95); });
  trow("FP32 accuracy [95 % CI]", [&](const FormatRun& f) {
    return f.accuracy.fp32_value ? acc_text(f.accuracy, *f.accuracy.fp32_value, f.accuracy.fp32_ci95) : std::string("-");
  });
  trow("SQNR vs FP32 (dB)", [&](const FormatRun& f) { return optf(f.accuracy.sqnr_db); });
  trow("cosine vs FP32", [&](const FormatRun& f) { return optf(f.accuracy.cosine); });
  trow("cycles", [](const FormatRun& f) { return fmt_count(f.totals.cycles); });
  trow("latency (us)", [](const FormatRun& f) { return fmt_sig(latency_s(f) * 1e6, 6); });
  trow("MACs", [](const FormatRun& f) { return fmt_count(f.totals.macs); });
  trow("stall cycles", [](const FormatRun& f) { return fmt_count(f.totals.stalls.total()); });
  trow("energy (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.total(), 6); });
  trow("MAC energy (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.mac, 6); });
  trow("SRAM energy (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.sram, 6); });
  trow("post-processing energy (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.post_processing, 6); });
  trow("accumulator adder energy (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.accumulator_adders, 6); });
  trow("vector unit energy (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.vector_unit, 6); });
  trow("DRAM energy (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.dram, 6); });
  trow("leakage energy (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.leakage, 6); });
  trow("energy per MAC (pJ)", [](const FormatRun& f) { return fmt_sig(energy_per_mac_pj(f), 6); });
  trow("TOPS/W", [](const FormatRun& f) { return fmt_sig(tops_per_w(f), 6); });
  trow("TOPS/mm^2", [](const FormatRun& f) { return fmt_sig(tops_per_mm2(f), 6); });
  trow("array area (um^2)", [](const FormatRun& f) { return fmt_sig(f.totals.area.array_um2, 6); });
  trow("buffer area (um^2)", [](const FormatRun& f) { return fmt_sig(f.totals.area.buffers_um2, 6); });
  trow("total area (um^2)", [](const FormatRun& f) { return fmt_sig(f.totals.area.total_um2(), 6); });
  trow("NAND2 equivalents", [](const FormatRun& f) { return fmt_sig(f.totals.area.nand2_eq, 6); });
  o << "</table>\n";
  if (!c.accuracy.withheld.empty()) o << "<p class=\"meta\">Accuracy withheld: " << esc(c.accuracy.withheld) << "</p>\n";
  if (!r.differences.empty()) {
    o << "<h2>Differences between formats (paired bootstrap)</h2>\n<table class=\"totals\"><tr><th>difference</th>"
         "<th>" << esc(c.accuracy.metric) << "</th><th>95 % interval</th><th>items</th></tr>\n";
    for (const Difference& d : r.differences)
      o << "<tr><td>" << esc(d.a + " - " + d.b) << "</td><td class=\"n\">" << esc(fmt_sig(d.value, 4))
        << "</td><td class=\"n\">[" << esc(fmt_sig(d.ci95.low, 4)) << ", " << esc(fmt_sig(d.ci95.high, 4))
        << "]</td><td class=\"n\">" << esc(fmt_count(d.items)) << "</td></tr>\n";
    o << "</table>\n";
  }

  // Per layer: charts and table for the chosen format, tables for the compared ones.
  for (const FormatRun* f : runs) {
    if (f->layers.empty()) continue;
    o << "<h2>Per layer: " << esc(f->format) << (f == &r.run ? " (chosen)" : "") << esc(syn) << "</h2>\n";
    if (f == &r.run) {
      std::vector<std::string> labels;
      std::vector<std::vector<double>> cyc, en;
      for (const auto& l : f->layers) {
        labels.push_back(l.name);
        const double busy = static_cast<double>(l.cycles - std::min(l.cycles, l.stalls.total()));
        cyc.push_back({busy, static_cast<double>(l.stalls.dram_wait), static_cast<double>(l.stalls.buffer_conflict),
                       static_cast<double>(l.stalls.fill_drain)});
        en.push_back({l.energy_pj.mac, l.energy_pj.sram, l.energy_pj.dram, l.energy_pj.leakage});
      }
      o << hbar_chart("Cycles per layer (" + f->format + ")" + syn, labels, cyc,
                      {{"busy", kPalette[0]}, {"DRAM wait", kPalette[2]}, {"buffer conflict", kPalette[5]},
                       {"fill/drain", kPalette[7]}},
                      "cycles", "layer-cycles")
        << "\n";
      o << hbar_chart("Energy per layer (" + f->format + ")" + syn, labels, en,
                      {{"MAC", kPalette[0]}, {"SRAM", kPalette[1]}, {"DRAM", kPalette[2]}, {"leakage", kPalette[3]}},
                      "pJ", "layer-energy")
        << "\n";
    }
    o << "<table class=\"layers\"><tr><th>layer</th><th>M</th><th>K</th><th>N</th><th>cycles</th><th>stall DRAM</th>"
         "<th>stall buffer</th><th>stall fill/drain</th><th>PE util.</th><th>MACs</th><th>SRAM bytes</th>"
         "<th>DRAM bytes</th><th>energy (pJ)</th></tr>\n";
    for (const auto& l : f->layers)
      o << "<tr><td>" << esc(l.name) << "</td><td class=\"n\">" << fmt_count(l.m) << "</td><td class=\"n\">"
        << fmt_count(l.k) << "</td><td class=\"n\">" << fmt_count(l.n) << "</td><td class=\"n\">" << fmt_count(l.cycles)
        << "</td><td class=\"n\">" << fmt_count(l.stalls.dram_wait) << "</td><td class=\"n\">"
        << fmt_count(l.stalls.buffer_conflict) << "</td><td class=\"n\">" << fmt_count(l.stalls.fill_drain)
        << "</td><td class=\"n\">" << esc(fmt_sig(l.pe_utilization * 100, 4)) << "%</td><td class=\"n\">"
        << fmt_count(l.macs) << "</td><td class=\"n\">" << fmt_count(l.traffic.sram_read + l.traffic.sram_written)
        << "</td><td class=\"n\">" << fmt_count(l.traffic.dram_read + l.traffic.dram_written) << "</td><td class=\"n\">"
        << esc(fmt_sig(l.energy_pj.total(), 6)) << "</td></tr>\n";
    o << "</table>\n";
  }

  o << "<h2 id=\"verification\">Verification</h2>\n<table class=\"verification\"><tr><th>format</th><th>reference</th>"
       "<th>checked outputs</th><th>of</th><th>mismatches</th></tr>\n";
  for (const FormatRun* f : runs)
    for (const auto& v : f->verification)
      o << "<tr><td>" << esc(f->format) << "</td><td>" << esc(v.reference) << "</td><td class=\"n\">"
        << fmt_count(v.checked_outputs) << "</td><td class=\"n\">" << fmt_count(v.total_outputs)
        << "</td><td class=\"n " << (v.mismatches ? "bad" : "ok") << "\">" << fmt_count(v.mismatches) << "</td></tr>\n";
  o << "</table>\n";

  if (!r.notes.empty()) {
    o << "<h2 id=\"notes\">Notes and approximations</h2>\n<ul class=\"notes\">";
    for (const auto& n : r.notes) o << "<li>" << esc(n) << "</li>";
    o << "</ul>\n";
  }
  if (!r.cost_model.empty()) {
    o << "<h2 id=\"cost-model\">Cost model: figures and sources</h2>\n<p class=\"meta\">Rows in brown are assumptions or derived "
         "from assumptions, not published figures.</p>\n<table class=\"model\"><tr><th>figure</th><th>value</th>"
         "<th>unit</th><th>source</th></tr>\n";
    for (const auto& f : r.cost_model)
      o << "<tr" << (f.assumption ? " class=\"a\"" : "") << "><td>" << esc(f.name) << "</td><td class=\"n\">"
        << (f.unit.empty() && f.value == 0 ? "" : esc(fmt_sig(f.value, 6))) << "</td><td>" << esc(f.unit)
        << "</td><td>" << (f.assumption ? "assumption: " : "") << esc(f.source) << "</td></tr>\n";
    o << "</table>\n";
  }
  o << "</body>\n</html>\n";
  return o.str();
}

}  // namespace fp8sim::report
