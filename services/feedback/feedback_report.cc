// FeedbackService: the evaluation report of a provider over a period.
#include "absl/strings/match.h"
#include "common/errors.h"
#include "common/server.h"
#include "common/text.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/report_html.h"

namespace linli::feedback {

grpc::Status FeedbackServiceImpl::GetEvaluationReport(grpc::ServerContext* context,
                                                      const v1::GetEvaluationReportRequest* request,
                                                      v1::GetEvaluationReportResponse* response) {
  FieldViolations v;
  if (!absl::StartsWith(request->organisation(), "organisations/") ||
      !IsSlug(request->organisation().substr(14), 64)) {
    v.Add("organisation", "must look like \"organisations/ID\"");
  }
  int64_t from = 0;
  int64_t to = 0;
  const bool from_ok = ParseDay(request->from_date(), &from);
  const bool to_ok = ParseDay(request->to_date(), &to);
  if (!from_ok) v.Add("from_date", "must be a date \"YYYY-MM-DD\"");
  if (!to_ok) v.Add("to_date", "must be a date \"YYYY-MM-DD\"");
  if (from_ok && to_ok && (to < from || to - from > 366)) {
    v.Add("to_date", "must be on or after from_date and at most 366 days after it");
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  RegistryDirectory registry = Registry(context);
  absl::StatusOr<v1::EvaluationReport> report = perception_.Report(*request, from, to, registry);
  if (!report.ok()) return Reply(*context, report.status());
  *response->mutable_report() = *std::move(report);
  response->set_html(RenderReportHtml(response->report()));
  return Reply(*context, absl::OkStatus());
}

}  // namespace linli::feedback
