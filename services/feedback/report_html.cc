#include "services/feedback/report_html.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace linli::feedback {
namespace {

std::string Percent(double ratio) { return absl::StrFormat("%.1f%%", 100.0 * ratio); }

void Row(std::string* out, absl::string_view label, absl::string_view value,
         absl::string_view note = "") {
  absl::StrAppend(out, "<tr><th>", HtmlEscape(label), "</th><td>", HtmlEscape(value), "</td><td>",
                  HtmlEscape(note), "</td></tr>\n");
}

// Chart geometry, in SVG user units.
constexpr double kWidth = 640, kHeight = 220, kLeft = 40, kRight = 10, kTop = 10, kBottom = 40;

double X(size_t i, size_t n) {
  const double span = kWidth - kLeft - kRight;
  return n <= 1 ? kLeft + span / 2 : kLeft + span * static_cast<double>(i) / (n - 1);
}

// y of `value` on a 0..`max` axis.
double Y(double value, double max) {
  return kTop + (kHeight - kTop - kBottom) * (1.0 - (max > 0 ? value / max : 0));
}

// The frame, horizontal grid lines at `ticks` and each week's Monday under the x axis.
void Axes(std::string* out, const v1::EvaluationReport& r, const std::vector<double>& ticks,
          double max, const std::vector<double>& xs) {
  for (double t : ticks) {
    absl::StrAppendFormat(out,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "stroke=\"#bbb\" stroke-width=\"0.5\"/>"
                          "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
                          "text-anchor=\"end\">%g</text>\n",
                          kLeft, Y(t, max), kWidth - kRight, Y(t, max), kLeft - 4, Y(t, max) + 3,
                          t);
  }
  for (int i = 0; i < r.weeks_size(); ++i) {
    absl::StrAppendFormat(out,
                          "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" "
                          "text-anchor=\"middle\">%s</text>\n",
                          xs[i], kHeight - kBottom + 14, r.weeks(i).week_start().substr(5));
  }
}

// The weekly index (solid) and promise score (dashed), 0-100, black on white: readable printed.
std::string TrendChart(const v1::EvaluationReport& r) {
  std::string out = absl::StrFormat(
      "<svg class=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
      "width=\"100%%\" role=\"img\" aria-label=\"感受度指数逐周 Weekly index\">\n",
      kWidth, kHeight);
  std::vector<double> xs;
  for (int i = 0; i < r.weeks_size(); ++i) xs.push_back(X(i, r.weeks_size()));
  Axes(&out, r, {0, 25, 50, 75, 100}, 100, xs);
  for (const bool index : {true, false}) {
    std::string points;
    for (int i = 0; i < r.weeks_size(); ++i) {
      const v1::PerceptionIndex& w = r.weeks(i).index();
      if (!w.has_value()) continue;  // a week without data is a gap, not a zero
      const double v = index ? w.value() : w.promise_score();
      absl::StrAppendFormat(&points, "%s%.1f,%.1f", points.empty() ? "" : " ", xs[i], Y(v, 100));
      absl::StrAppendFormat(&out,
                            "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
                            "fill=\"%s\" stroke=\"#000\"/>\n",
                            index ? "index-point" : "promise-point", xs[i], Y(v, 100),
                            index ? "#000" : "#fff");
    }
    if (!points.empty()) {
      absl::StrAppendFormat(&out,
                            "<polyline points=\"%s\" fill=\"none\" stroke=\"#000\" "
                            "stroke-width=\"1.5\"%s/>\n",
                            points, index ? "" : " stroke-dasharray=\"5,3\"");
    }
  }
  absl::StrAppendFormat(&out,
                        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">● 感受度指数 index — "
                        "○ 承诺履约分 promise score (dashed)</text>\n</svg>\n",
                        kLeft, kHeight - 8);
  return out;
}

// Visits due each week as bars: done as promised (white), missed or disputed (black), the rest
// (grey: in progress or verified late).
std::string VisitBars(const v1::EvaluationReport& r) {
  int64_t max = 0;
  for (const auto& w : r.weeks())
    max = std::max<int64_t>(max, w.index().figures().expected_visits());
  const double top = std::max<double>(1, static_cast<double>(max));
  std::string out = absl::StrFormat(
      "<svg class=\"visits\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
      "width=\"100%%\" role=\"img\" aria-label=\"应到访逐周 Visits due each week\">\n",
      kWidth, kHeight);
  const size_t n = std::max(r.weeks_size(), 1);
  const double slot = (kWidth - kLeft - kRight) / static_cast<double>(n);
  std::vector<double> xs;
  for (size_t i = 0; i < static_cast<size_t>(r.weeks_size()); ++i) {
    xs.push_back(kLeft + slot * (static_cast<double>(i) + 0.5));
  }
  Axes(&out, r, {0, top / 2, top}, top, xs);
  for (int i = 0; i < r.weeks_size(); ++i) {
    const v1::PromiseFigures& f = r.weeks(i).index().figures();
    const int64_t bad = f.missed_visits() + f.disputed_visits();
    const int64_t good = std::max<int64_t>(f.done_as_promised(), 0);
    const int64_t rest = std::max<int64_t>(f.expected_visits() - bad - good, 0);
    double base = 0;
    for (const auto& [count, fill, name] :
         {std::tuple{good, "#fff", "kept"}, std::tuple{rest, "#999", "other"},
          std::tuple{bad, "#000", "failed"}}) {
      if (count <= 0) continue;
      const double y0 = Y(base, top), y1 = Y(base + static_cast<double>(count), top);
      absl::StrAppendFormat(&out,
                            "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                            "height=\"%.1f\" fill=\"%s\" stroke=\"#000\"/>\n",
                            name, xs[i] - slot * 0.3, y1, slot * 0.6, y0 - y1, fill);
      base += static_cast<double>(count);
    }
  }
  absl::StrAppendFormat(&out,
                        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">□ 按承诺完成 done as "
                        "promised ■ 未到或有异议 missed or disputed ▒ 其他 other</text>\n</svg>\n",
                        kLeft, kHeight - 8);
  return out;
}

}  // namespace

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderReportHtml(const v1::EvaluationReport& r) {
  const v1::PromiseFigures& f = r.figures();
  const v1::ComplaintFigures& c = r.complaints();
  const std::string title = absl::StrCat(
      r.organisation_display_name().empty() ? r.organisation() : r.organisation_display_name(),
      " 服务评估报告 ", r.from_date(), " — ", r.to_date());
  std::string out;
  absl::StrAppend(&out, R"(<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>)",
                  HtmlEscape(title), R"(</title>
<style>
body{font-family:"PingFang SC","Noto Sans CJK SC",sans-serif;margin:2em;max-width:60em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ddd;padding:.35em .6em;text-align:left}
th{background:#f5f5f5;width:30%}td:nth-child(3){color:#666;font-size:.9em}
.index{font-size:2em;font-weight:bold}
</style></head><body>
<h1>)",
                  HtmlEscape(title), "</h1>\n<p>", HtmlEscape(r.organisation()),
                  " · 政府购买服务评估 (purchase-of-service review)</p>\n");

  const v1::PerceptionIndex& i = r.index();
  absl::StrAppend(&out, "<h2>感受度指数 Perception index</h2>\n<p class=\"index\" id=\"index\">",
                  i.has_value() ? absl::StrFormat("%.1f", i.value()) : std::string("—"),
                  "</p>\n<table>\n");
  Row(&out, "承诺履约分 Promise score", absl::StrFormat("%.1f", i.promise_score()));
  Row(&out, "感受分 Felt care score",
      i.felt_care_answers() > 0 ? absl::StrFormat("%.1f", i.felt_care_score()) : "—");
  Row(&out, "置信度 Confidence", absl::StrFormat("%.2f", i.confidence()),
      absl::StrCat(i.felt_care_answers(), " answers"));
  absl::StrAppend(&out, "</table>\n");

  if (r.weeks_size() > 0) {
    absl::StrAppend(&out, "<h2>逐周趋势 Week by week</h2>\n", TrendChart(r), VisitBars(r));
  }

  absl::StrAppend(&out, "<h2>承诺履约 Promises kept</h2>\n<table>\n");
  Row(&out, "应到访 Expected visits", absl::StrCat(f.expected_visits()));
  Row(&out, "已核验 Verified visits", absl::StrCat(f.verified_visits()));
  Row(&out, "未到 Missed visits", absl::StrCat(f.missed_visits()));
  Row(&out, "有异议 Disputed visits", absl::StrCat(f.disputed_visits()),
      "verified, but the elder said not as promised / nobody came");
  Row(&out, "按承诺完成 Done as promised", absl::StrCat(f.done_as_promised()),
      absl::StrCat(Percent(r.kept_ratio()), " of expected"));
  Row(&out, "准时率 Punctuality", Percent(r.punctuality()),
      absl::StrCat(f.punctual_visits(), " of ", f.verified_visits(), " verified visits on time"));
  Row(&out, "连续性 Continuity", Percent(r.continuity()),
      absl::StrCat(f.familiar_visits(), " of ", f.familiar_eligible_visits(),
                   " visits by the familiar worker"));
  absl::StrAppend(&out, "</table>\n");

  absl::StrAppend(&out, "<h2>老人反馈 Feedback</h2>\n<table>\n");
  Row(&out, "反馈数 Answers", absl::StrCat(f.feedback_answers()));
  Row(&out, "平均笑脸 Mean faces (1-5)",
      f.feedback_answers() > 0 ? absl::StrFormat("%.2f", r.mean_faces()) : "—");
  Row(&out, "按承诺做了吗 Did as promised",
      absl::StrCat("是 ", f.as_promised_yes(), " / 部分 ", f.as_promised_partly(), " / 否 ",
                   f.as_promised_no()));
  Row(&out, "感到被关心吗 Felt cared for",
      absl::StrCat("是 ", f.cared_yes(), " / 部分 ", f.cared_partly(), " / 否 ", f.cared_no()));
  absl::StrAppend(&out, "</table>\n");

  absl::StrAppend(&out, "<h2>投诉工单 Complaints</h2>\n<table>\n");
  Row(&out, "受理 Accepted", absl::StrCat(c.total()));
  Row(&out, "办结 Resolved", absl::StrCat(c.resolved()),
      absl::StrCat(c.resolved_in_time(), " within the deadline"));
  Row(&out, "督办 Escalated", absl::StrCat(c.escalated()));
  Row(&out, "未办结 Still open", absl::StrCat(c.open()));
  Row(&out, "回访满意度 Callback satisfaction (1-5)",
      c.mean_satisfaction() > 0 ? absl::StrFormat("%.2f", c.mean_satisfaction()) : "—");
  absl::StrAppend(&out, "</table>\n");

  absl::StrAppend(&out,
                  "<h2>口径 Definitions</h2>\n<p>Index = (promise score + felt care score) / 2; "
                  "promise score = 100 × weighted mean of kept ratio (0.5), punctuality (0.2), "
                  "continuity (0.15) and “did as promised” (0.15); felt care = 100 × (0.6 × (mean "
                  "faces − 1) / 4 + 0.4 × “felt cared for”); confidence = answers / (answers + "
                  "5).</p>\n</body></html>\n");
  return out;
}

}  // namespace linli::feedback
