// SchedulingService referrals: the handlers pass the request and the caller (x-linli-actor) to
// referral_use_cases.h, which checks the requests' form.
#include "common/server.h"
#include "services/scheduling/grpc_registry_view.h"
#include "services/scheduling/referral_use_cases.h"
#include "services/scheduling/scheduling_service.h"

namespace linli::scheduling {

grpc::Status SchedulingServiceImpl::CreateReferral(grpc::ServerContext* context,
                                                   const v1::CreateReferralRequest* request,
                                                   v1::CreateReferralResponse* response) {
  GrpcRegistryView registry(*registry_, context, options_.backend_timeout);
  return Reply(*context, scheduling::CreateReferral(db_, clock_, registry, *request,
                                                    Actor(*context), response));
}

grpc::Status SchedulingServiceImpl::GetReferral(grpc::ServerContext* context,
                                                const v1::GetReferralRequest* request,
                                                v1::GetReferralResponse* response) {
  return Reply(*context, scheduling::GetReferral(db_, *request, response));
}

grpc::Status SchedulingServiceImpl::ListReferrals(grpc::ServerContext* context,
                                                  const v1::ListReferralsRequest* request,
                                                  v1::ListReferralsResponse* response) {
  return Reply(*context, scheduling::ListReferrals(db_, *request, response));
}

grpc::Status SchedulingServiceImpl::AnswerReferral(grpc::ServerContext* context,
                                                   const v1::AnswerReferralRequest* request,
                                                   v1::AnswerReferralResponse* response) {
  return Reply(*context,
               scheduling::AnswerReferral(db_, clock_, *request, Actor(*context), response));
}

grpc::Status SchedulingServiceImpl::CompleteReferral(grpc::ServerContext* context,
                                                     const v1::CompleteReferralRequest* request,
                                                     v1::CompleteReferralResponse* response) {
  return Reply(*context,
               scheduling::CompleteReferral(db_, clock_, *request, Actor(*context), response));
}

grpc::Status SchedulingServiceImpl::WithdrawReferral(grpc::ServerContext* context,
                                                     const v1::WithdrawReferralRequest* request,
                                                     v1::WithdrawReferralResponse* response) {
  return Reply(*context,
               scheduling::WithdrawReferral(db_, clock_, *request, Actor(*context), response));
}

}  // namespace linli::scheduling
