// The authorisation rule of every method of the public API, in one table. A method missing
// here is refused (PERMISSION_DENIED) and fails the matrix test (gateway_authz_test.cc).
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "google/protobuf/message.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "linli/gateway/v1/console.pb.h"
#include "linli/gateway/v1/elder_app.pb.h"
#include "linli/gateway/v1/partner.pb.h"
#include "linli/gateway/v1/worker_app.pb.h"
#include "services/gateway/gate.h"

namespace linli::gateway {
namespace {

using auth::Principal;
using auth::Role;
namespace reg = registry::v1;
namespace sch = scheduling::v1;
namespace fb = feedback::v1;

const std::vector<Role> kConsole = {Role::kCommitteeStaff, Role::kStreetStaff, Role::kAdmin};
const std::vector<Role> kStreet = {Role::kStreetStaff, Role::kAdmin};
const std::vector<Role> kElderApp = {Role::kElder, Role::kFamily};

template <typename Request>
using Check = std::function<absl::Status(const Relations&, const grpc::ServerContext&,
                                         const Principal&, const Request&)>;

template <typename Request>
Rule Make(std::vector<Role> roles, Check<Request> check, bool unscoped = false) {
  Rule rule;
  rule.roles = std::move(roles);
  rule.unscoped = unscoped;
  rule.check = [check = std::move(check)](const Relations& relations,
                                          const grpc::ServerContext& context, const Principal& who,
                                          const google::protobuf::Message& message) {
    const auto* request = dynamic_cast<const Request*>(&message);
    if (request == nullptr) return absl::PermissionDeniedError("unexpected request type");
    return check(relations, context, who, *request);
  };
  return rule;
}

// A feedback subject: an elder, commitment or organisation the caller may act on, or a region in
// scope. Anything else (workers) only for admins.
absl::Status Subject(const Relations& r, const grpc::ServerContext& c, const Principal& who,
                     const std::string& subject) {
  if (absl::StartsWith(subject, "elders/")) return r.Elder(c, who, subject);
  if (absl::StartsWith(subject, "commitments/")) return r.Commitment(c, who, subject);
  if (absl::StartsWith(subject, "organisations/")) return r.Organisation(c, who, subject);
  if (absl::StartsWith(subject, "regions/")) return r.Region(c, who, subject);
  if (who.role == Role::kAdmin) return absl::OkStatus();
  return absl::PermissionDeniedError("this subject is for admins only");
}

// A region in scope; none named means the caller's own (the handler fills it in), which a token
// without a region does not have (admins: every region).
absl::Status OwnRegionOr(const Relations& r, const grpc::ServerContext& c, const Principal& who,
                         const std::string& region) {
  if (region.empty()) {
    if (who.role == Role::kAdmin || !who.region.empty()) return absl::OkStatus();
    return absl::PermissionDeniedError("your token names no region");
  }
  return r.Region(c, who, region);
}

// Only admins (no request-specific check).
Rule AdminOnly() {
  Rule rule;
  rule.roles = {Role::kAdmin};
  return rule;
}

std::string Console(const char* method) {
  return absl::StrCat("/linli.gateway.v1.ConsoleService/", method);
}
std::string ElderApp(const char* method) {
  return absl::StrCat("/linli.gateway.v1.ElderAppService/", method);
}
std::string WorkerApp(const char* method) {
  return absl::StrCat("/linli.gateway.v1.WorkerAppService/", method);
}
std::string Partner(const char* method) {
  return absl::StrCat("/linli.gateway.v1.PartnerService/", method);
}

// Partners: the key must carry `scope`.
Rule PartnerScope(std::string scope) {
  Rule rule;
  rule.roles = {Role::kPartner};
  rule.unscoped = true;  // the organisation comes from the key, never from the request
  rule.check = [scope = std::move(scope)](const Relations&, const grpc::ServerContext&,
                                          const Principal& who, const google::protobuf::Message&) {
    if (who.HasScope(scope)) return absl::OkStatus();
    return absl::PermissionDeniedError(absl::StrCat("the API key lacks scope ", scope));
  };
  return rule;
}

// Check-in and check-out: the familiar worker of the promise (the visit one of its own from
// yesterday to tomorrow), or a worker booked on the visit of that promise.
absl::Status FamiliarOrBooked(const Relations& r, const grpc::ServerContext& c,
                              const Principal& who, const std::string& commitment,
                              const std::string& visit) {
  absl::Status familiar = r.WorkerCommitment(c, who, commitment, visit);
  if (!absl::IsPermissionDenied(familiar)) return familiar;
  absl::Status booked = r.WorkerVisit(c, who, visit, commitment);
  return absl::IsPermissionDenied(booked) ? familiar : booked;
}

template <typename Request>
Rule ElderScoped(std::vector<Role> roles) {
  return Make<Request>(std::move(roles),
                       [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                          const Request& q) { return r.Elder(c, who, q.elder()); });
}

std::map<std::string, Rule> BuildRules() {
  std::map<std::string, Rule> rules;
  // ConsoleService: staff of a committee or street, within their region; admins everywhere.
  rules[Console("CreateRegion")] = AdminOnly();
  rules[Console("GetRegion")] = Make<v1::GetRegionRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const v1::GetRegionRequest& q) { return r.RegionOrAncestor(c, who, q.name()); });
  rules[Console("ListRegions")] = Make<v1::ListRegionsRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const v1::ListRegionsRequest& q) { return r.Region(c, who, q.parent()); });
  rules[Console("GetMap")] = Make<reg::GetMapRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const reg::GetMapRequest& q) { return r.Region(c, who, q.region()); });
  rules[Console("SearchProviders")] = Make<reg::SearchProvidersRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const reg::SearchProvidersRequest& q) {
        if (!q.elder().empty()) return r.Elder(c, who, q.elder());
        return r.Region(c, who, q.region());
      });
  rules[Console("ListLines")] = Make<reg::ListLinesRequest>(
      kConsole,
      [](const Relations&, const grpc::ServerContext&, const Principal&,
         const reg::ListLinesRequest&) { return absl::OkStatus(); },
      /*unscoped=*/true);
  rules[Console("ListServiceTypes")] = Make<reg::ListServiceTypesRequest>(
      kConsole,
      [](const Relations&, const grpc::ServerContext&, const Principal&,
         const reg::ListServiceTypesRequest&) { return absl::OkStatus(); },
      /*unscoped=*/true);
  rules[Console("ListOrganisations")] = Make<reg::ListOrganisationsRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const reg::ListOrganisationsRequest& q) { return r.Region(c, who, q.region()); });
  rules[Console("GetOrganisation")] = Make<reg::GetOrganisationRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const reg::GetOrganisationRequest& q) { return r.Organisation(c, who, q.name()); });
  rules[Console("ListRelations")] = Make<reg::ListRelationsRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const reg::ListRelationsRequest& q) { return r.Organisation(c, who, q.organisation()); });
  rules[Console("ListOfferings")] = Make<reg::ListOfferingsRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const reg::ListOfferingsRequest& q) { return r.Organisation(c, who, q.organisation()); });
  rules[Console("ListWorkers")] = Make<reg::ListWorkersRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const reg::ListWorkersRequest& q) { return r.Organisation(c, who, q.organisation()); });
  rules[Console("ListElders")] = Make<reg::ListEldersRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const reg::ListEldersRequest& q) { return r.Region(c, who, q.region()); });
  // The full view additionally needs a reason (the registry enforces it and audits the read
  // under the principal's name).
  rules[Console("GetElder")] = Make<reg::GetElderRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const reg::GetElderRequest& q) { return r.Elder(c, who, q.name()); });
  rules[Console("ListAuditEntries")] = Make<reg::ListAuditEntriesRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const reg::ListAuditEntriesRequest& q) {
        if (who.role == Role::kAdmin) return absl::OkStatus();  // the whole log
        return r.Elder(c, who, q.elder());
      });
  rules[Console("ListNoteAuditEntries")] = Make<sch::ListAuditEntriesRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const sch::ListAuditEntriesRequest& q) {
        if (who.role == Role::kAdmin) return absl::OkStatus();  // the whole log
        return r.Elder(c, who, q.elder());
      });
  rules[Console("ListFeedbackAuditEntries")] = Make<fb::ListAuditEntriesRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const fb::ListAuditEntriesRequest& q) {
        if (who.role == Role::kAdmin) return absl::OkStatus();  // the whole log
        return r.Elder(c, who, q.elder());
      });
  rules[Console("GetCommitment")] = Make<sch::GetCommitmentRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const sch::GetCommitmentRequest& q) { return r.Commitment(c, who, q.name()); });
  rules[Console("ListCommitments")] = ElderScoped<sch::ListCommitmentsRequest>(kConsole);
  rules[Console("ProposeFallback")] = Make<sch::ProposeFallbackRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const sch::ProposeFallbackRequest& q) { return r.Commitment(c, who, q.commitment()); });
  // A referral of a promise to an elder in scope (the sender is the caller).
  rules[Console("CreateReferral")] = Make<sch::CreateReferralRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const sch::CreateReferralRequest& q) { return r.Commitment(c, who, q.commitment()); });
  // The referrals, and the unmet needs, of a region in scope (OwnRegionOr). The organisation and
  // promise filters only narrow the region's rows.
  rules[Console("ListReferrals")] = Make<sch::ListReferralsRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const sch::ListReferralsRequest& q) { return OwnRegionOr(r, c, who, q.region()); });
  rules[Console("ListUnmetNeeds")] = Make<sch::ListUnmetNeedsRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const sch::ListUnmetNeedsRequest& q) { return OwnRegionOr(r, c, who, q.region()); });
  rules[Console("ListVisits")] = Make<sch::ListVisitsRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const sch::ListVisitsRequest& q) {
        if (!q.commitment().empty()) {
          absl::Status commitment = r.Commitment(c, who, q.commitment());
          if (!commitment.ok() || q.elder().empty()) return commitment;
        }
        return r.Elder(c, who, q.elder());
      });

  // Feedback in the console: alerts of a committee in scope, indices and ledgers of subjects in
  // scope, work orders about elders in scope (admins: all).
  rules[Console("ListAlerts")] = Make<fb::ListAlertsRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const fb::ListAlertsRequest& q) {
        // Each one named must be in scope; with neither, the handler lists the caller's own
        // region.
        if (q.committee().empty() && q.region().empty() && who.role != Role::kAdmin &&
            who.region.empty()) {
          return absl::PermissionDeniedError("your token names no region");
        }
        if (!q.committee().empty()) {
          if (absl::Status committee = r.Region(c, who, q.committee()); !committee.ok()) {
            return committee;
          }
        }
        return OwnRegionOr(r, c, who, q.region());
      });
  rules[Console("GetPerceptionIndex")] = Make<fb::GetPerceptionIndexRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const fb::GetPerceptionIndexRequest& q) { return Subject(r, c, who, q.subject()); });
  // The promises of a region in scope; with none named, the handler lists the caller's own. The
  // organisation filter only narrows the region's rows.
  rules[Console("ListPromises")] = Make<fb::ListPromisesRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const fb::ListPromisesRequest& q) { return OwnRegionOr(r, c, who, q.region()); });
  rules[Console("GetPerceptionTrend")] = Make<fb::GetPerceptionTrendRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const fb::GetPerceptionTrendRequest& q) { return Subject(r, c, who, q.subject()); });
  rules[Console("GetPromiseLedger")] = Make<fb::GetPromiseLedgerRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const fb::GetPromiseLedgerRequest& q) { return Subject(r, c, who, q.subject()); });
  // A list is scoped by the rows it returns, not by the organisation it names: the handler
  // (ConsoleServiceImpl::ListWorkOrders) has feedback keep only the work orders about elders of
  // `region`, the caller's own region unless they name one in their scope. So the organisation
  // may be one above the caller (a street's care home, for committee staff): they see its work
  // orders about their own elders only. An ancestor region is no list scope.
  rules[Console("ListWorkOrders")] = Make<fb::ListWorkOrdersRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const fb::ListWorkOrdersRequest& q) {
        if (who.role == Role::kAdmin) return absl::OkStatus();
        if (!q.region().empty()) {
          if (absl::Status region = r.Region(c, who, q.region()); !region.ok()) return region;
        } else if (who.region.empty()) {
          return absl::PermissionDeniedError("your token names no region");
        }
        if (!q.elder().empty()) {
          if (absl::Status elder = r.Elder(c, who, q.elder()); !elder.ok()) return elder;
        }
        if (q.responsible_organisation().empty()) return absl::OkStatus();
        return r.Organisation(c, who, q.responsible_organisation());
      });

  // Every elder heard: the queue of a committee or street in scope, and its call list of elders
  // notices have not reached; answers recorded for an elder in scope (the author is the elder or
  // one of their contacts; the feedback backend checks that the visit is theirs and the contact a
  // proxy); complaints filed about a commitment in scope.
  rules[Console("ListVisitsAwaitingAnswer")] = Make<fb::ListVisitsAwaitingAnswerRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const fb::ListVisitsAwaitingAnswerRequest& q) { return r.Region(c, who, q.region()); });
  rules[Console("ListUnreachedElders")] = Make<fb::ListUnreachedEldersRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const fb::ListUnreachedEldersRequest& q) { return r.Region(c, who, q.region()); });
  // The review queue of a region in scope (the handler shows the caller's own region when none is
  // named); the owner organisation only narrows the region's rows.
  rules[Console("ListVisitsAwaitingReview")] = Make<fb::ListVisitsAwaitingReviewRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const fb::ListVisitsAwaitingReviewRequest& q) {
        return OwnRegionOr(r, c, who, q.region());
      });
  // The day board of a region in scope; with none named, the handler shows the caller's own.
  rules[Console("GetDayBoard")] = Make<fb::GetDayBoardRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const fb::GetDayBoardRequest& q) { return OwnRegionOr(r, c, who, q.region()); });
  // The elders' words: of a region in scope and/or an elder in scope; with neither named, the
  // handler lists the caller's own region.
  rules[Console("ListFeedback")] = Make<fb::ListFeedbackRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const fb::ListFeedbackRequest& q) {
        if (q.region().empty() && q.elder().empty()) {
          if (who.role == Role::kAdmin || !who.region.empty()) return absl::OkStatus();
          return absl::PermissionDeniedError("your token names no region");
        }
        if (!q.region().empty()) {
          if (absl::Status s = r.Region(c, who, q.region()); !s.ok()) return s;
        }
        if (!q.elder().empty()) return r.Elder(c, who, q.elder());
        return absl::OkStatus();
      });
  rules[Console("RecordElderFeedback")] = Make<fb::SubmitFeedbackRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const fb::SubmitFeedbackRequest& q) {
        const std::string& author = q.feedback().author();
        if (!absl::StartsWith(author, "elders/")) {
          return InvalidField("feedback.author",
                              "staff record the answer of an elder, \"elders/{id}\", or of the "
                              "proxy contact who answered for them, "
                              "\"elders/{id}/contacts/{index}\"");
        }
        const size_t end = author.find('/', 7);
        return r.Elder(c, who, author.substr(0, end));
      });
  rules[Console("FileWorkOrder")] = Make<fb::CreateWorkOrderRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const fb::CreateWorkOrderRequest& q) {
        if (q.work_order().commitment().empty()) {
          return InvalidField("work_order.commitment",
                              "required: the promise the complaint is about, "
                              "\"commitments/{id}\"");
        }
        return r.Commitment(c, who, q.work_order().commitment());
      });

  // Running the street from the console (writes). Staff act only inside their region: the rule
  // checks what the request names directly (a committee, an elder, a commitment, an
  // organisation); methods naming visits, workers, alerts or work orders pass the role check
  // here and their handler (ConsoleServiceImpl::InScope) resolves each to its elder,
  // organisation or committee and checks it with the same Relations before forwarding.
  rules[Console("RegisterElder")] = Make<reg::CreateElderRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const reg::CreateElderRequest& q) { return r.Region(c, who, q.elder().region()); });
  // The street's map: organisations, relations, offerings and workers of the caller's street;
  // volunteers of the committee's organisations for committee staff.
  rules[Console("CreateOrganisation")] = Make<reg::CreateOrganisationRequest>(
      kStreet, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                  const reg::CreateOrganisationRequest& q) {
        return r.Region(c, who, q.organisation().region());
      });
  rules[Console("CreateRelation")] = Make<reg::CreateRelationRequest>(
      kStreet, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                  const reg::CreateRelationRequest& q) {
        absl::Status source = r.OwnOrganisation(c, who, q.relation().source());
        if (!source.ok()) return source;
        const std::string& target = q.relation().target();
        if (absl::StartsWith(target, "regions/")) return r.Region(c, who, target);
        return r.Organisation(c, who, target);
      });
  rules[Console("CreateServiceType")] = AdminOnly();
  rules[Console("UpdateServiceType")] = AdminOnly();
  rules[Console("RetireServiceType")] = AdminOnly();
  // A roster names its rows' regions and organisations inside the file: the handler passes the
  // caller's region to the registry, which refuses every row outside it (care promises: their
  // elders are found only inside it, their owners checked as CreateCommitment's). Committee
  // staff import elders, volunteers (the handler refuses a row of staff), their elders'
  // promises and their elders' past answers (回访); the map's organisations, ties and offerings,
  // and providers' past visits, are the street's.
  rules[Console("ImportRoster")] = Make<v1::ImportRosterRequest>(
      kConsole,
      [](const Relations&, const grpc::ServerContext&, const Principal& who,
         const v1::ImportRosterRequest& q) {
        if (who.role == Role::kCommitteeStaff && q.kind() != v1::ROSTER_KIND_ELDERS &&
            q.kind() != v1::ROSTER_KIND_WORKERS && q.kind() != v1::ROSTER_KIND_COMMITMENTS &&
            q.kind() != v1::ROSTER_KIND_ANSWERS) {
          return absl::PermissionDeniedError(
              "committee staff import elders, volunteers, promises and elders' answers; the "
              "street imports organisations, relations, offerings and past visits");
        }
        return absl::OkStatus();
      },
      /*unscoped=*/true);
  // An export reads what the caller may list: the region (elders, organisations, relations,
  // offerings) or the organisation (workers) it names, else the caller's own region.
  rules[Console("ExportRoster")] = Make<v1::ExportRosterRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const v1::ExportRosterRequest& q) {
        if (!q.organisation().empty()) {
          absl::Status organisation = r.Organisation(c, who, q.organisation());
          if (!organisation.ok()) return organisation;
        }
        return OwnRegionOr(r, c, who, q.region());
      });
  rules[Console("CreateOffering")] = Make<reg::CreateOfferingRequest>(
      kStreet, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                  const reg::CreateOfferingRequest& q) {
        absl::Status owner = r.OwnOrganisation(c, who, q.offering().organisation());
        if (!owner.ok()) return owner;
        for (const std::string& region : q.offering().covered_regions()) {
          if (absl::Status covered = r.Region(c, who, region); !covered.ok()) return covered;
        }
        return absl::OkStatus();
      });
  // The registry refuses (NOT_FOUND) an offering that is not the named organisation's.
  rules[Console("UpdateOffering")] = Make<reg::UpdateOfferingRequest>(
      kStreet, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                  const reg::UpdateOfferingRequest& q) {
        if (who.role == Role::kAdmin) return absl::OkStatus();
        if (q.organisation().empty()) {
          return absl::PermissionDeniedError(
              "name the offering's organisation (organisation), one of your street's");
        }
        return r.OwnOrganisation(c, who, q.organisation());
      });
  rules[Console("CreateWorker")] = Make<reg::CreateWorkerRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const reg::CreateWorkerRequest& q) {
        if (who.role == Role::kCommitteeStaff && !q.worker().volunteer()) {
          return absl::PermissionDeniedError(
              "committee staff register volunteers; the street registers staff");
        }
        return r.OwnOrganisation(c, who, q.worker().organisation());
      });
  // Upkeep: the stored record decides (Relations reads the organisation's or elder's region from
  // the registry), never what the request says about it.
  rules[Console("UpdateOrganisation")] = Make<reg::UpdateOrganisationRequest>(
      kStreet, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                  const reg::UpdateOrganisationRequest& q) {
        return r.OwnOrganisation(c, who, q.organisation().name());
      });
  rules[Console("RetireOrganisation")] = Make<reg::RetireOrganisationRequest>(
      kStreet,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const reg::RetireOrganisationRequest& q) { return r.OwnOrganisation(c, who, q.name()); });
  // The registry refuses (NOT_FOUND) a relation whose source, or an offering whose owner, is not
  // the organisation staff name.
  rules[Console("RetireRelation")] = Make<reg::RetireRelationRequest>(
      kStreet, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                  const reg::RetireRelationRequest& q) {
        if (who.role == Role::kAdmin) return absl::OkStatus();
        if (q.organisation().empty()) {
          return absl::PermissionDeniedError(
              "name the relation's source organisation (organisation), one of your street's");
        }
        return r.OwnOrganisation(c, who, q.organisation());
      });
  rules[Console("RetireOffering")] = Make<reg::RetireOfferingRequest>(
      kStreet, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                  const reg::RetireOfferingRequest& q) {
        if (who.role == Role::kAdmin) return absl::OkStatus();
        if (q.organisation().empty()) {
          return absl::PermissionDeniedError(
              "name the offering's organisation (organisation), one of your street's");
        }
        return r.OwnOrganisation(c, who, q.organisation());
      });
  // A move to another committee must land in scope too.
  rules[Console("UpdateElder")] = Make<reg::UpdateElderRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const reg::UpdateElderRequest& q) {
        absl::Status elder = r.Elder(c, who, q.elder().name());
        if (!elder.ok()) return elder;
        for (const std::string& path : q.update_mask().paths()) {
          if (path == "region") return r.Region(c, who, q.elder().region());
        }
        return absl::OkStatus();
      });
  rules[Console("RecordConsent")] = Make<reg::RecordConsentRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const reg::RecordConsentRequest& q) { return r.Elder(c, who, q.name()); });
  rules[Console("RetireElder")] = Make<reg::RetireElderRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const reg::RetireElderRequest& q) { return r.Elder(c, who, q.name()); });
  rules[Console("CreateCommitment")] = Make<sch::CreateCommitmentRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const sch::CreateCommitmentRequest& q) {
        absl::Status elder = r.Elder(c, who, q.commitment().elder());
        if (!elder.ok()) return elder;
        return r.Organisation(c, who, q.commitment().owner_organisation());
      });
  rules[Console("CancelCommitment")] = Make<sch::CancelCommitmentRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const sch::CancelCommitmentRequest& q) { return r.Commitment(c, who, q.name()); });
  // Staff materialise one commitment of theirs; every commitment at once is for admins.
  rules[Console("MaterializeVisits")] = Make<sch::MaterializeVisitsRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const sch::MaterializeVisitsRequest& q) {
        if (who.role == Role::kAdmin) return absl::OkStatus();
        return r.Commitment(c, who, q.commitment());
      });
  // Staff plan their own region (named), optionally one owner organisation in scope.
  rules[Console("Plan")] =
      Make<sch::PlanRequest>(kConsole, [](const Relations& r, const grpc::ServerContext& c,
                                          const Principal& who, const sch::PlanRequest& q) {
        absl::Status region = r.Region(c, who, q.region());
        if (!region.ok() || q.owner_organisation().empty()) return region;
        return r.Organisation(c, who, q.owner_organisation());
      });
  auto by_handler = [](const Relations&, const grpc::ServerContext&, const Principal&,
                       const google::protobuf::Message&) { return absl::OkStatus(); };
  for (const char* method :
       {"GetVisit",          "AssignVisit",      "UnassignVisit",    "SwapVisitWorkers",
        "ReviewVisit",       "CancelVisit",      "RescheduleVisit",  "ReleaseWorker",
        "GetAlert",          "AcknowledgeAlert", "ResolveAlert",     "GetWorkOrder",
        "ClassifyWorkOrder", "RouteWorkOrder",   "ResolveWorkOrder", "RecordCallback",
        "CloseWorkOrder",    "UpdateWorker",     "MakeUpVisit",      "WithdrawReferral",
        "RecordVisitCheck",  "DeclineMakeUp"}) {
    Rule rule;
    rule.roles = kConsole;
    rule.check = by_handler;
    rules[Console(method)] = std::move(rule);
  }
  // The sweeps name nothing (they run over every street and are idempotent; the services also
  // run them periodically). A sweep as of another time than now is for admins.
  rules[Console("SweepMissedVisits")] = Make<sch::SweepMissedVisitsRequest>(
      kConsole,
      [](const Relations&, const grpc::ServerContext&, const Principal&,
         const sch::SweepMissedVisitsRequest&) { return absl::OkStatus(); },
      /*unscoped=*/true);
  rules[Console("SweepAlerts")] = Make<fb::SweepAlertsRequest>(
      kConsole,
      [](const Relations&, const grpc::ServerContext&, const Principal& who,
         const fb::SweepAlertsRequest& q) {
        if (q.has_as_of() && who.role != Role::kAdmin) {
          return absl::PermissionDeniedError("a sweep as of another time is for admins");
        }
        return absl::OkStatus();
      },
      /*unscoped=*/true);

  // Notices and webhooks: of a recipient in scope (a committee or street, an organisation, an
  // elder; partners' for admins). Webhooks send notices out of the platform: created and deleted
  // by street staff (the street contracts the message providers), read by committee staff too.
  rules[Console("ListNotices")] = Make<fb::ListNoticesRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const fb::ListNoticesRequest& q) { return Subject(r, c, who, q.recipient()); });
  rules[Console("MarkNoticesRead")] = Make<fb::MarkNoticesReadRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const fb::MarkNoticesReadRequest& q) { return Subject(r, c, who, q.recipient()); });
  rules[Console("GetNoticePreferences")] = Make<fb::GetNoticePreferencesRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const fb::GetNoticePreferencesRequest& q) { return Subject(r, c, who, q.recipient()); });
  rules[Console("SetNoticePreferences")] = Make<fb::SetNoticePreferencesRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const fb::SetNoticePreferencesRequest& q) {
        return Subject(r, c, who, q.preferences().recipient());
      });
  rules[Console("CreateWebhook")] = Make<fb::CreateWebhookRequest>(
      kStreet, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                  const fb::CreateWebhookRequest& q) {
        return Subject(r, c, who, q.webhook().recipient());
      });
  rules[Console("DeleteWebhook")] = Make<fb::DeleteWebhookRequest>(
      kStreet, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                  const fb::DeleteWebhookRequest& q) { return Subject(r, c, who, q.recipient()); });
  rules[Console("ListWebhooks")] = Make<fb::ListWebhooksRequest>(
      kConsole, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                   const fb::ListWebhooksRequest& q) { return Subject(r, c, who, q.recipient()); });
  rules[Console("ListWebhookDeliveries")] = Make<fb::ListWebhookDeliveriesRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const fb::ListWebhookDeliveriesRequest& q) { return Subject(r, c, who, q.recipient()); });
  rules[Console("RetryWebhookDelivery")] = Make<fb::RetryWebhookDeliveryRequest>(
      kConsole,
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const fb::RetryWebhookDeliveryRequest& q) { return Subject(r, c, who, q.recipient()); });

  // ElderAppService: the elder themself and their family or proxies.
  rules[ElderApp("GetElderPage")] = ElderScoped<v1::GetElderPageRequest>(kElderApp);
  rules[ElderApp("ListMyCommitments")] = ElderScoped<v1::ListMyCommitmentsRequest>(kElderApp);
  rules[ElderApp("ListMyUpcomingVisits")] = ElderScoped<v1::ListMyUpcomingVisitsRequest>(kElderApp);
  rules[ElderApp("ListMyFamily")] = ElderScoped<v1::ListMyFamilyRequest>(kElderApp);
  // The visit must be the elder's: the feedback backend refuses an author who is not the
  // visit's elder or their proxy, and the handler reports that as NOT_FOUND.
  rules[ElderApp("SubmitVisitFeedback")] = ElderScoped<v1::SubmitVisitFeedbackRequest>(kElderApp);
  rules[ElderApp("RaiseComplaint")] = Make<v1::RaiseComplaintRequest>(
      kElderApp, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                    const v1::RaiseComplaintRequest& q) {
        absl::Status elder = r.Elder(c, who, q.elder());
        if (!elder.ok()) return elder;
        return r.Commitment(c, who, q.commitment());
      });
  // The handler returns NOT_FOUND for a work order about another elder.
  rules[ElderApp("GetMyComplaint")] = ElderScoped<v1::GetMyComplaintRequest>(kElderApp);
  // The elder's own inbox (feedback reads the recipient the gate checked).
  rules[ElderApp("ListMyNotices")] = ElderScoped<v1::ListMyNoticesRequest>(kElderApp);
  rules[ElderApp("MarkMyNoticesRead")] = ElderScoped<v1::MarkMyNoticesReadRequest>(kElderApp);
  rules[ElderApp("WatchMyNotices")] = ElderScoped<v1::WatchMyNoticesRequest>(kElderApp);
  // The handler returns NOT_FOUND for a visit of another elder.
  rules[ElderApp("MakeUpMyVisit")] = ElderScoped<v1::MakeUpMyVisitRequest>(kElderApp);
  rules[ElderApp("DeclineMyMakeUp")] = ElderScoped<v1::DeclineMyMakeUpRequest>(kElderApp);
  // The elder's own preferences (the handler sets the recipient to the elder the gate checked).
  rules[ElderApp("GetMyNoticePreferences")] =
      ElderScoped<v1::GetMyNoticePreferencesRequest>(kElderApp);
  rules[ElderApp("SetMyNoticePreferences")] =
      ElderScoped<v1::SetMyNoticePreferencesRequest>(kElderApp);
  // Feedback filters by the elder the gate checked.
  rules[ElderApp("ListMyComplaints")] = ElderScoped<v1::ListMyComplaintsRequest>(kElderApp);

  // WorkerAppService: the worker's own bookings; the familiar worker of the promise or a worker
  // booked on the visit.
  rules[WorkerApp("ListMyVisits")] = Make<v1::ListMyVisitsRequest>(
      {Role::kWorker},
      [](const Relations&, const grpc::ServerContext&, const Principal&,
         const v1::ListMyVisitsRequest&) { return absl::OkStatus(); },
      /*unscoped=*/true);  // the handler reads the caller's own bookings, never a named worker's
  rules[WorkerApp("CheckIn")] = Make<v1::WorkerCheckInRequest>(
      {Role::kWorker}, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                          const v1::WorkerCheckInRequest& q) {
        return FamiliarOrBooked(r, c, who, q.commitment(), q.visit());
      });
  rules[WorkerApp("CheckOut")] = Make<v1::WorkerCheckOutRequest>(
      {Role::kWorker}, [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
                          const v1::WorkerCheckOutRequest& q) {
        return FamiliarOrBooked(r, c, who, q.commitment(), q.visit());
      });
  rules[WorkerApp("AddVisitNote")] = Make<v1::AddVisitNoteRequest>(
      {Role::kWorker},
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const v1::AddVisitNoteRequest& q) { return r.WorkerVisit(c, who, q.visit(), ""); });
  rules[WorkerApp("ListVisitNotes")] = Make<v1::ListVisitNotesRequest>(
      {Role::kWorker},
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const v1::ListVisitNotesRequest& q) { return r.WorkerVisit(c, who, q.visit(), ""); });
  rules[WorkerApp("ReportProblem")] = Make<v1::ReportProblemRequest>(
      {Role::kWorker},
      [](const Relations& r, const grpc::ServerContext& c, const Principal& who,
         const v1::ReportProblemRequest& q) { return r.WorkerVisit(c, who, q.visit(), ""); });

  // PartnerService: API keys with the method's scope; the organisation is the key's own. A key
  // acts only on the promises and visits of its own organisation (a referral it accepts becomes
  // its own commitment) and on the referrals sent to it; another organisation's record is
  // NOT_FOUND with the same message as a missing one, decided before anything of it is revealed.
  rules[Partner("ListMyOfferings")] = PartnerScope("offerings.read");
  // The handler checks that the commitment is the key's organisation's before feedback is asked.
  rules[Partner("SubmitWorkOrder")] = PartnerScope("workorders.write");
  // The handler returns NOT_FOUND for a work order the key did not submit about its
  // organisation's promises.
  rules[Partner("GetWorkOrderStatus")] = PartnerScope("workorders.read");
  // The registry refuses (NOT_FOUND) an offering of another organisation.
  rules[Partner("UpdateMyOffering")] = PartnerScope("offerings.write");
  // Scheduling filters by the key's organisation as owner.
  rules[Partner("ListMyDeliveries")] = PartnerScope("visits.read");
  // The handler checks the visit (Relations::PartnerVisit) and the worker's organisation.
  rules[Partner("ReportDelivery")] = PartnerScope("visits.write");
  // Referrals: scheduling filters by, or checks, the key's organisation as the receiver.
  rules[Partner("ListMyReferrals")] = PartnerScope("referrals.read");
  rules[Partner("AnswerReferral")] = PartnerScope("referrals.write");
  rules[Partner("CompleteReferral")] = PartnerScope("referrals.write");
  // The handler checks the visit (Relations::PartnerVisit); a scope of its own, for supervisors.
  rules[Partner("ReviewVisit")] = PartnerScope("visits.review");
  rules[Partner("ListMyNotices")] = PartnerScope("notices.read");
  rules[Partner("MarkMyNoticesRead")] = PartnerScope("notices.read");
  return rules;
}

}  // namespace

const std::map<std::string, Rule>& AuthorisationRules() {
  static const auto* rules = new std::map<std::string, Rule>(BuildRules());
  return *rules;
}

}  // namespace linli::gateway
