// The evaluation report of a provider as a self-contained, printable HTML page (UTF-8, no
// scripts, no external resources), for the government's purchase-of-service review.
#ifndef LINLI_SERVICES_FEEDBACK_REPORT_HTML_H_
#define LINLI_SERVICES_FEEDBACK_REPORT_HTML_H_

#include <string>

#include "absl/strings/string_view.h"
#include "linli/feedback/v1/feedback.pb.h"

namespace linli::feedback {

// HTML-escapes text (&, <, >, ", ').
std::string HtmlEscape(absl::string_view text);

std::string RenderReportHtml(const v1::EvaluationReport& report);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_REPORT_HTML_H_
