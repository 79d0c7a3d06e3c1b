#include "services/feedback/report_html.h"

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
