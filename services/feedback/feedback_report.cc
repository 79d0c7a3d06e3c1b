// FeedbackService: the evaluation report of a provider over a period.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/feedback_store.h"
#include "services/feedback/report_html.h"

namespace linli::feedback {
namespace {

// Midnight (Shanghai) starting local day `day`.
absl::Time DayStart(int64_t day) { return absl::FromUnixSeconds(day * 86400 - 8 * 3600); }

bool IsResolved(v1::WorkOrderState s) {
  return s == v1::WORK_ORDER_STATE_RESOLVED || s == v1::WORK_ORDER_STATE_CALLED_BACK ||
         s == v1::WORK_ORDER_STATE_CLOSED;
}

}  // namespace

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

  v1::EvaluationReport* report = response->mutable_report();
  report->set_organisation(request->organisation());
  report->set_from_date(request->from_date());
  report->set_to_date(request->to_date());
  {
    registry::v1::GetOrganisationRequest org_request;
    org_request.set_name(request->organisation());
    registry::v1::GetOrganisationResponse org_response;
    auto ctx = NewClientContext(context, backend_timeout_);
    if (registry_->GetOrganisation(ctx.get(), org_request, &org_response).ok()) {
      report->set_organisation_display_name(org_response.organisation().display_name());
    }
  }
  Figures f;
  std::vector<WorkOrderRow> orders;
  absl::Status status = db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(f, SumCounters(tx, request->organisation(), from, to));
        ASSIGN_OR_RETURN(orders, WorkOrdersOfPeriod(tx, request->organisation(), DayStart(from),
                                                    DayStart(to + 1)));
        return absl::OkStatus();
      },
      {.read_only = true});
  if (!status.ok()) return Reply(*context, status);
  ToProto(f, report->mutable_figures());
  report->set_kept_ratio(KeptRatio(f));
  report->set_punctuality(Punctuality(f));
  report->set_continuity(Continuity(f));
  report->set_mean_faces(MeanFaces(f));
  ToProto(request->organisation(), static_cast<int>(to - from + 1), f, report->mutable_index());
  v1::ComplaintFigures* c = report->mutable_complaints();
  int64_t satisfaction_sum = 0;
  int64_t satisfaction_n = 0;
  for (const WorkOrderRow& row : orders) {
    const v1::WorkOrder& o = row.order;
    c->set_total(c->total() + 1);
    if (IsResolved(o.state())) {
      c->set_resolved(c->resolved() + 1);
      if (o.resolved_in_time()) c->set_resolved_in_time(c->resolved_in_time() + 1);
    } else {
      c->set_open(c->open() + 1);
    }
    for (const v1::WorkOrderTransition& t : o.history()) {
      if (t.to_state() == v1::WORK_ORDER_STATE_ESCALATED) {
        c->set_escalated(c->escalated() + 1);
        break;
      }
    }
    if (o.satisfaction() > 0) {
      satisfaction_sum += o.satisfaction();
      ++satisfaction_n;
    }
  }
  c->set_mean_satisfaction(satisfaction_n > 0 ? static_cast<double>(satisfaction_sum) /
                                                    static_cast<double>(satisfaction_n)
                                              : 0.0);
  response->set_html(RenderReportHtml(*report));
  return Reply(*context, absl::OkStatus());
}

}  // namespace linli::feedback
