#include "services/feedback/registry_directory.h"

#include "absl/strings/str_cat.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/server.h"

namespace linli::feedback {

std::string RegistryDirectory::EscalationTarget(const std::string& street) {
  if (street.empty()) return "";
  for (registry::v1::OrganisationKind kind :
       {registry::v1::ORGANISATION_KIND_STREET_OFFICE_DEPARTMENT,
        registry::v1::ORGANISATION_KIND_STREET_OFFICE}) {
    registry::v1::ListOrganisationsRequest request;
    request.set_region(street);
    request.set_kind(kind);
    request.set_page_size(1000);
    registry::v1::ListOrganisationsResponse response;
    auto ctx = NewClientContext(parent_, timeout_);
    if (!registry_.ListOrganisations(ctx.get(), request, &response).ok()) return "";
    for (const registry::v1::Organisation& o : response.organisations()) {
      if (kind == registry::v1::ORGANISATION_KIND_STREET_OFFICE) return o.name();
      for (const std::string& line : o.lines()) {
        if (line == "lines/civil-affairs") return o.name();
      }
    }
  }
  return "";
}

absl::StatusOr<std::string> RegistryDirectory::Supervisor(const std::string& organisation) {
  if (organisation.empty()) return std::string();
  std::string token;
  do {
    registry::v1::ListRelationsRequest request;
    request.set_organisation(organisation);
    request.set_page_size(1000);
    request.set_page_token(token);
    registry::v1::ListRelationsResponse response;
    auto ctx = NewClientContext(parent_, timeout_);
    grpc::Status s = registry_.ListRelations(ctx.get(), request, &response);
    if (!s.ok()) {
      return WithReason(absl::UnavailableError("the registry cannot be asked for relations"),
                        common::v1::ERROR_REASON_BACKEND_UNAVAILABLE);
    }
    for (const registry::v1::Relation& r : response.relations()) {
      if (r.type() == registry::v1::RELATION_TYPE_LINE_GUIDANCE && r.source() == organisation) {
        return r.target();
      }
    }
    token = response.next_page_token();
  } while (!token.empty());
  registry::v1::GetOrganisationRequest request;
  request.set_name(organisation);
  registry::v1::GetOrganisationResponse response;
  auto ctx = NewClientContext(parent_, timeout_);
  grpc::Status s = registry_.GetOrganisation(ctx.get(), request, &response);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) return std::string();
  if (!s.ok()) {
    return WithReason(absl::UnavailableError("the registry cannot be asked for the organisation"),
                      common::v1::ERROR_REASON_BACKEND_UNAVAILABLE);
  }
  return response.organisation().parent();
}

std::string RegistryDirectory::DisplayName(const std::string& organisation) {
  registry::v1::GetOrganisationRequest request;
  request.set_name(organisation);
  registry::v1::GetOrganisationResponse response;
  auto ctx = NewClientContext(parent_, timeout_);
  if (!registry_.GetOrganisation(ctx.get(), request, &response).ok()) return "";
  return response.organisation().display_name();
}

absl::StatusOr<std::string> RegistryDirectory::PhoneToReach(const std::string& elder,
                                                            const std::string& actor,
                                                            const std::string& reason) {
  registry::v1::GetElderRequest request;
  request.set_name(elder);
  request.set_view(registry::v1::ELDER_VIEW_FULL);
  request.set_reason(reason);
  registry::v1::GetElderResponse response;
  auto ctx = NewClientContext(parent_, timeout_);
  ctx->AddMetadata(kActorKey, actor);  // the audit log names who read the phone
  grpc::Status s = registry_.GetElder(ctx.get(), request, &response);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) return NotFound(elder);
  if (!s.ok()) {
    return WithReason(absl::UnavailableError(absl::StrCat("the registry cannot be asked for the "
                                                          "phone of ",
                                                          elder, ": ", s.error_message())),
                      common::v1::ERROR_REASON_BACKEND_UNAVAILABLE);
  }
  if (!response.elder().phone().empty()) return response.elder().phone();
  for (const registry::v1::Contact& contact : response.elder().contacts()) {
    if (contact.proxy() && !contact.phone().empty()) return contact.phone();
  }
  return std::string();
}

}  // namespace linli::feedback
