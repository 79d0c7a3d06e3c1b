// linli.gateway.v1.ElderAppService: the elder and family app. Reads the registry and scheduling
// for one elder (the gate has checked the caller is that elder or acts for them); the page view
// calls both backends concurrently, each call with the caller's deadline (capped by the backend
// timeout), and returns what it could read, naming the missing parts.
#ifndef LINLI_SERVICES_GATEWAY_ELDER_APP_SERVICE_H_
#define LINLI_SERVICES_GATEWAY_ELDER_APP_SERVICE_H_

#include <memory>

#include "absl/time/time.h"
#include "common/clock.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/gateway/v1/elder_app.grpc.pb.h"
#include "services/gateway/event_loop.h"
#include "services/gateway/gate.h"

namespace linli::gateway {

class ElderAppServiceImpl final : public v1::ElderAppService::Service, private GatewayService {
 public:
  explicit ElderAppServiceImpl(const Backends& backends) : GatewayService(backends) {}

  grpc::Status GetElderPage(grpc::ServerContext* context, const v1::GetElderPageRequest* request,
                            v1::GetElderPageResponse* response) override;
  grpc::Status ListMyCommitments(grpc::ServerContext* context,
                                 const v1::ListMyCommitmentsRequest* request,
                                 v1::ListMyCommitmentsResponse* response) override;
  grpc::Status ListMyUpcomingVisits(grpc::ServerContext* context,
                                    const v1::ListMyUpcomingVisitsRequest* request,
                                    v1::ListMyUpcomingVisitsResponse* response) override;
  grpc::Status ListMyFamily(grpc::ServerContext* context, const v1::ListMyFamilyRequest* request,
                            v1::ListMyFamilyResponse* response) override;
  grpc::Status SubmitVisitFeedback(grpc::ServerContext* context,
                                   const v1::SubmitVisitFeedbackRequest* request,
                                   v1::SubmitVisitFeedbackResponse* response) override;
  grpc::Status RaiseComplaint(grpc::ServerContext* context,
                              const v1::RaiseComplaintRequest* request,
                              v1::RaiseComplaintResponse* response) override;
  grpc::Status GetMyComplaint(grpc::ServerContext* context,
                              const v1::GetMyComplaintRequest* request,
                              v1::GetMyComplaintResponse* response) override;
  grpc::Status ListMyComplaints(grpc::ServerContext* context,
                                const v1::ListMyComplaintsRequest* request,
                                v1::ListMyComplaintsResponse* response) override;
  grpc::Status ListMyNotices(grpc::ServerContext* context, const v1::ListMyNoticesRequest* request,
                             feedback::v1::ListNoticesResponse* response) override;
  grpc::Status MarkMyNoticesRead(grpc::ServerContext* context,
                                 const v1::MarkMyNoticesReadRequest* request,
                                 feedback::v1::MarkNoticesReadResponse* response) override;
  // The elder's missed visit (read first: another elder's is NOT_FOUND) made good.
  grpc::Status MakeUpMyVisit(grpc::ServerContext* context, const v1::MakeUpMyVisitRequest* request,
                             scheduling::v1::MakeUpVisitResponse* response) override;
  // The decline of the elder's missed visit's make-up (read first, as MakeUpMyVisit).
  grpc::Status DeclineMyMakeUp(grpc::ServerContext* context,
                               const v1::DeclineMyMakeUpRequest* request,
                               scheduling::v1::DeclineMakeUpResponse* response) override;
  grpc::Status GetMyNoticePreferences(
      grpc::ServerContext* context, const v1::GetMyNoticePreferencesRequest* request,
      feedback::v1::GetNoticePreferencesResponse* response) override;
  grpc::Status SetMyNoticePreferences(
      grpc::ServerContext* context, const v1::SetMyNoticePreferencesRequest* request,
      feedback::v1::SetNoticePreferencesResponse* response) override;
  // OK when `visit` (named in request field `field`) is `elder`'s; otherwise the reply given
  // (INVALID_ARGUMENT, NOT_FOUND for another elder's visit, the backend's error).
  grpc::Status CheckMyVisit(grpc::ServerContext* context, const auth::Principal& who,
                            const std::string& elder, const std::string& visit, const char* field);
  // WatchMyNotices on an event loop: long reads of feedback's notices (kNoticeWait each), each
  // new notice written as it comes, until the client goes, the gateway stops or kMaxWatch.
  grpc::Status WatchMyNoticesOnLoop(grpc::ServerContext* context,
                                    const v1::WatchMyNoticesRequest* request,
                                    ResponseStream<feedback::v1::Notice>* stream);
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_ELDER_APP_SERVICE_H_
