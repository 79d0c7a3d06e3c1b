// Registry use cases: lines, organisations, relations, the service taxonomy, offerings, workers.
// The steps of registering each kind of record are shared with ImportRecords
// (registry_app_internal.h, registry_app_records.cc).
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/etag.h"
#include "common/geo.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/pagination.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "common/update_mask.h"
#include "services/registry/catalogue.h"
#include "services/registry/elder.h"
#include "services/registry/region.h"
#include "services/registry/registry_app.h"
#include "services/registry/registry_app_internal.h"
#include "services/registry/registry_store.h"

namespace linli::registry {
namespace {

using storage::Transaction;

constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;

// INVALID_ARGUMENT for a reference to something that does not exist: the request is wrong, not
// the addressed resource missing.
absl::Status MissingReference(const std::string& field, absl::string_view name) {
  return InvalidField(field, absl::StrCat(name, " does not exist"));
}

// Parses "<collection>/<id>" into `id`, recording a violation instead of failing fast.
bool ParseInto(absl::string_view name, absl::string_view collection, const std::string& field,
               FieldViolations& v, std::string* id) {
  absl::StatusOr<std::string> parsed = ParseResourceName(name, collection, field);
  if (!parsed.ok()) {
    v.Add(field, absl::StrCat("must look like \"", collection, "/ID\""));
    return false;
  }
  *id = *parsed;
  return true;
}

bool ParseRegionInto(absl::string_view name, const std::string& field, FieldViolations& v,
                     std::string* code) {
  absl::StatusOr<std::string> parsed = ParseRegionName(name, field);
  if (!parsed.ok()) {
    v.Add(field, "must look like \"regions/310101\"");
    return false;
  }
  *code = *parsed;
  return true;
}

absl::Status RequireRegion(Transaction& tx, const std::string& code, const std::string& field,
                           Region* out = nullptr) {
  ASSIGN_OR_RETURN(std::optional<Region> region, FindRegion(tx, code));
  if (!region.has_value()) return MissingReference(field, RegionName(code));
  if (out != nullptr) *out = *region;
  return absl::OkStatus();
}

// INVALID_ARGUMENT naming `field` unless organisation `id` exists (retired ones too);
// `region_path`, when given, receives the path of its region.
absl::Status RequireOrganisation(Transaction& tx, const std::string& id, const std::string& field,
                                 std::string* region_path = nullptr) {
  ASSIGN_OR_RETURN(std::optional<std::string> path, OrganisationRegionPath(tx, id));
  if (!path.has_value()) return MissingReference(field, "organisations/" + id);
  if (region_path != nullptr) *region_path = std::move(*path);
  return absl::OkStatus();
}

// The line ids of `lines` ("lines/{id}", each once); violations as "organisation.lines[i]".
std::vector<std::string> ParseLineIds(const google::protobuf::RepeatedPtrField<std::string>& lines,
                                      FieldViolations& v) {
  std::vector<std::string> ids;
  for (int i = 0; i < lines.size(); ++i) {
    std::string line_id;
    const std::string field = absl::StrCat("organisation.lines[", i, "]");
    if (ParseInto(lines.Get(i), "lines", field, v, &line_id)) {
      if (std::find(ids.begin(), ids.end(), line_id) != ids.end()) {
        v.Add(field, "repeats an earlier line");
      }
      ids.push_back(line_id);
    }
  }
  return ids;
}

absl::Status RequireLines(Transaction& tx, const std::vector<std::string>& line_ids) {
  for (size_t i = 0; i < line_ids.size(); ++i) {
    ASSIGN_OR_RETURN(bool exists, LineExists(tx, line_ids[i]));
    if (!exists) {
      return MissingReference(absl::StrCat("organisation.lines[", i, "]"), "lines/" + line_ids[i]);
    }
  }
  return absl::OkStatus();
}

// A record as a client creates it: the retirement fields are output only.
template <typename Record>
void ClearRetirement(Record& record) {
  record.clear_retired();
  record.clear_retire_time();
  record.clear_retire_reason();
}

// Retires `record` as of `now` for `reason`, unless it is retired already; a retirement is made
// from the caller's latest read (`etag`). True when the record changed and must be stored.
template <typename Record>
absl::StatusOr<bool> MarkRetired(Record& record, const std::string& etag, const std::string& reason,
                                 absl::Time now) {
  if (record.retired()) return false;
  RETURN_IF_ERROR(CheckEtag(etag, record.etag(), "etag"));
  record.set_retired(true);
  *record.mutable_retire_time() = ToTimestamp(now);
  record.set_retire_reason(reason);
  return true;
}

// Why a record is retired: 4 to 256 characters (the rule elders' reasons follow).
void ValidateRetireReason(const std::string& reason, FieldViolations& v) {
  if (!ValidateReason(reason).ok()) v.Add("reason", "must state why, in 4 to 256 characters");
}

absl::Status RequireServiceType(Transaction& tx, const std::string& code,
                                const std::string& field) {
  ASSIGN_OR_RETURN(bool exists, ServiceTypeExists(tx, code));
  if (!exists) {
    return InvalidField(field,
                        absl::StrCat("serviceTypes/", code, " does not exist or is retired"));
  }
  return absl::OkStatus();
}

}  // namespace

// --- Lines -----------------------------------------------------------------------------------

absl::Status Registry::CreateLine(const v1::CreateLineRequest& request,
                                  v1::CreateLineResponse* response) {
  const v1::Line& in = request.line();
  FieldViolations v;
  if (!IsSlug(in.id(), 32)) v.Add("line.id", "must be 1-32 lowercase letters, digits or '-'");
  ValidateDisplayName(in.display_name(), 64, "line.display_name", v);
  if (!in.color().empty() && !IsColor(in.color())) v.Add("line.color", "must be \"#RRGGBB\"");
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  v1::Line line = in;
  line.set_name("lines/" + in.id());
  return RunIdempotent(
      db_, "CreateLine", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        RETURN_IF_ERROR(InsertLine(tx, line));
        *response->mutable_line() = line;
        return absl::OkStatus();
      },
      clock_);
}

absl::Status Registry::ListLines(const v1::ListLinesRequest&, v1::ListLinesResponse* response) {
  return db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<v1::Line> lines, AllLines(tx));
        response->Clear();
        for (auto& line : lines) *response->add_lines() = std::move(line);
        return absl::OkStatus();
      },
      {.read_only = true});
}

// --- Organisations ---------------------------------------------------------------------------

NewOrganisation PrepareOrganisation(const v1::Organisation& in, absl::Time now,
                                    FieldViolations& v) {
  NewOrganisation org;
  if (!IsSlug(in.id(), 64)) {
    v.Add("organisation.id", "must be 1-64 lowercase letters, digits or '-'");
  }
  ValidateOrganisationTerms(in, v);
  org.row.id = in.id();
  ParseRegionInto(in.region(), "organisation.region", v, &org.row.region_code);
  org.row.line_ids = ParseLineIds(in.lines(), v);
  if (!in.parent().empty()) {
    ParseInto(in.parent(), "organisations", "organisation.parent", v, &org.parent_id);
  }
  org.row.organisation = in;
  ClearRetirement(org.row.organisation);  // output only
  org.row.organisation.set_name("organisations/" + in.id());
  *org.row.organisation.mutable_create_time() = ToTimestamp(now);
  return org;
}

absl::Status ResolveOrganisation(Transaction& tx, NewOrganisation& org,
                                 const std::function<bool(const std::string&)>& earlier) {
  Region region;
  RETURN_IF_ERROR(RequireRegion(tx, org.row.region_code, "organisation.region", &region));
  org.row.region_path = region.path;
  RETURN_IF_ERROR(RequireLines(tx, org.row.line_ids));
  if (!org.parent_id.empty() && !(earlier && earlier(org.parent_id))) {
    RETURN_IF_ERROR(RequireOrganisation(tx, org.parent_id, "organisation.parent"));
  }
  return absl::OkStatus();
}

absl::Status StoreOrganisation(Transaction& tx, const Clock& clock, NewOrganisation& org) {
  RETURN_IF_ERROR(InsertOrganisation(tx, org.row));
  if (!org.parent_id.empty()) {
    v1::Relation admin;
    admin.set_name("relations/" + NewId(clock));
    admin.set_source(org.row.organisation.name());
    admin.set_target("organisations/" + org.parent_id);
    admin.set_type(v1::RELATION_TYPE_ADMINISTRATIVE);
    RETURN_IF_ERROR(InsertRelation(tx, admin.name().substr(10), admin));
  }
  return absl::OkStatus();
}

absl::Status Registry::CreateOrganisation(const v1::CreateOrganisationRequest& request,
                                          v1::CreateOrganisationResponse* response) {
  FieldViolations v;
  NewOrganisation org = PrepareOrganisation(request.organisation(), clock_.Now(), v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  return RunIdempotent(
      db_, "CreateOrganisation", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        RETURN_IF_ERROR(ResolveOrganisation(tx, org));
        RETURN_IF_ERROR(StoreOrganisation(tx, clock_, org));
        *response->mutable_organisation() = org.row.organisation;
        return absl::OkStatus();
      },
      clock_);
}

absl::Status Registry::UpdateOrganisation(const v1::UpdateOrganisationRequest& request,
                                          v1::UpdateOrganisationResponse* response) {
  const v1::Organisation& in = request.organisation();
  FieldViolations v;
  std::string id;
  ParseInto(in.name(), "organisations", "organisation.name", v, &id);
  const std::vector<std::string> paths =
      UpdateMaskPaths(request.update_mask(), kOrganisationUpdatePaths, v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  return RunIdempotent(
      db_, "UpdateOrganisation", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<v1::Organisation> stored,
                         FindOrganisationForUpdate(tx, db_.dialect(), id));
        if (!stored.has_value()) return NotFound(in.name());
        RETURN_IF_ERROR(CheckEtag(in.etag(), stored->etag(), "organisation.etag"));
        if (stored->retired()) {
          return absl::FailedPreconditionError(in.name() + " is retired and cannot be changed");
        }
        v1::Organisation updated = *stored;
        ApplyUpdateMask(in, paths, updated);
        FieldViolations terms;
        ValidateOrganisationTerms(updated, terms);
        const std::vector<std::string> line_ids = ParseLineIds(updated.lines(), terms);
        RETURN_IF_ERROR(terms.ToStatus());
        RETURN_IF_ERROR(RequireLines(tx, line_ids));
        RETURN_IF_ERROR(UpdateOrganisationRow(tx, id, updated, line_ids));
        *response->mutable_organisation() = std::move(updated);
        return absl::OkStatus();
      },
      clock_);
}

absl::Status Registry::RetireOrganisation(const v1::RetireOrganisationRequest& request,
                                          v1::RetireOrganisationResponse* response) {
  FieldViolations v;
  std::string id;
  ParseInto(request.name(), "organisations", "name", v, &id);
  ValidateRetireReason(request.reason(), v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  return RunIdempotent(
      db_, "RetireOrganisation", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<v1::Organisation> stored,
                         FindOrganisationForUpdate(tx, db_.dialect(), id));
        if (!stored.has_value()) return NotFound(request.name());
        ASSIGN_OR_RETURN(bool changed,
                         MarkRetired(*stored, request.etag(), request.reason(), clock_.Now()));
        if (changed) {
          FieldViolations ignored;
          RETURN_IF_ERROR(
              UpdateOrganisationRow(tx, id, *stored, ParseLineIds(stored->lines(), ignored)));
        }
        *response->mutable_organisation() = std::move(*stored);
        return absl::OkStatus();
      },
      clock_);
}

absl::Status Registry::GetOrganisation(const v1::GetOrganisationRequest& request,
                                       v1::GetOrganisationResponse* response) {
  ASSIGN_OR_RETURN(std::string id, ParseResourceName(request.name(), "organisations", "name"));
  return db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(auto org, FindOrganisation(tx, id));
        if (!org.has_value()) return NotFound(request.name());
        *response->mutable_organisation() = std::move(*org);
        return absl::OkStatus();
      },
      {.read_only = true});
}

absl::Status Registry::ListOrganisations(const v1::ListOrganisationsRequest& request,
                                         v1::ListOrganisationsResponse* response) {
  FieldViolations v;
  std::string region_code, line_id;
  if (!request.region().empty()) ParseRegionInto(request.region(), "region", v, &region_code);
  if (!request.line().empty()) ParseInto(request.line(), "lines", "line", v, &line_id);
  if (!v1::OrganisationKind_IsValid(request.kind())) v.Add("kind", "is not a known kind");
  RETURN_IF_ERROR(v.ToStatus());
  ASSIGN_OR_RETURN(Page page,
                   Page::Start(request.page_size(), request.page_token(),
                               absl::StrCat("orgs|", region_code, "|", request.kind(), "|", line_id,
                                            request.show_retired() ? "|retired" : ""),
                               kDefaultPage, kMaxPage));
  return db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        OrganisationFilter filter{"", request.kind(), line_id, request.show_retired()};
        if (!region_code.empty()) {
          ASSIGN_OR_RETURN(auto region, FindRegion(tx, region_code));
          if (!region.has_value()) return NotFound(request.region());
          filter.region_path = region->path;
        }
        ASSIGN_OR_RETURN(auto orgs, QueryOrganisations(tx, filter, page.after, page.limit()));
        response->Clear();
        response->set_next_page_token(
            page.Finish(orgs, [](const v1::Organisation& o) { return o.id(); }));
        for (auto& o : orgs) *response->add_organisations() = std::move(o);
        return absl::OkStatus();
      },
      {.read_only = true});
}

// --- Relations -------------------------------------------------------------------------------

NewRelation PrepareRelation(const v1::Relation& in, FieldViolations& v) {
  NewRelation relation;
  if (in.type() == v1::RELATION_TYPE_UNSPECIFIED || !v1::RelationType_IsValid(in.type())) {
    v.Add("relation.type", "must be one of the RELATION_TYPE_ values");
  }
  ParseInto(in.source(), "organisations", "relation.source", v, &relation.source_id);
  if (in.type() == v1::RELATION_TYPE_SERVES_REGION) {
    ParseRegionInto(in.target(), "relation.target", v, &relation.target_id);
  } else {
    ParseInto(in.target(), "organisations", "relation.target", v, &relation.target_id);
  }
  if (std::optional<size_t> n = Utf8Length(in.note()); !n.has_value() || *n > 256) {
    v.Add("relation.note", "must be valid UTF-8 of at most 256 characters");
  }
  relation.relation = in;
  ClearRetirement(relation.relation);  // output only
  return relation;
}

absl::Status ResolveRelation(Transaction& tx, const NewRelation& relation,
                             const ParentsOf& parents_of, std::string* source_path,
                             std::string* target_path) {
  const v1::Relation& in = relation.relation;
  RETURN_IF_ERROR(RequireOrganisation(tx, relation.source_id, "relation.source", source_path));
  if (in.type() == v1::RELATION_TYPE_SERVES_REGION) {
    Region region;
    RETURN_IF_ERROR(RequireRegion(tx, relation.target_id, "relation.target", &region));
    if (target_path != nullptr) *target_path = region.path;
  } else {
    RETURN_IF_ERROR(RequireOrganisation(tx, relation.target_id, "relation.target", target_path));
  }
  if (in.type() == v1::RELATION_TYPE_ADMINISTRATIVE) {
    ASSIGN_OR_RETURN(bool cycle, WouldCloseCycle(in.source(), in.target(), parents_of));
    if (cycle) {
      return InvalidField("relation.target",
                          "would make an administrative cycle (the target is already "
                          "under the source)");
    }
  }
  return absl::OkStatus();
}

absl::Status StoreRelation(Transaction& tx, const Clock& clock, NewRelation& relation,
                           v1::Relation* out) {
  // The same tie made again after it ended: the retired relation comes back.
  ASSIGN_OR_RETURN(std::optional<v1::Relation> earlier,
                   FindRelationByTriple(tx, relation.relation));
  if (earlier.has_value() && earlier->retired()) {
    earlier->set_retired(false);
    earlier->clear_retire_time();
    earlier->clear_retire_reason();
    earlier->set_note(relation.relation.note());
    RETURN_IF_ERROR(UpdateRelationRow(tx, earlier->name().substr(10), *earlier));
    *out = std::move(*earlier);
    return absl::OkStatus();
  }
  const std::string id = NewId(clock);
  relation.relation.set_name("relations/" + id);
  RETURN_IF_ERROR(InsertRelation(tx, id, relation.relation));
  *out = relation.relation;
  return absl::OkStatus();
}

absl::Status Registry::CreateRelation(const v1::CreateRelationRequest& request,
                                      v1::CreateRelationResponse* response) {
  FieldViolations v;
  NewRelation relation = PrepareRelation(request.relation(), v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  return RunIdempotent(
      db_, "CreateRelation", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        RETURN_IF_ERROR(ResolveRelation(tx, relation, [&](const std::string& node) {
          return AdministrativeParents(tx, node);
        }));
        return StoreRelation(tx, clock_, relation, response->mutable_relation());
      },
      clock_);
}

absl::Status Registry::ListRelations(const v1::ListRelationsRequest& request,
                                     v1::ListRelationsResponse* response) {
  if (!request.organisation().empty()) {
    RETURN_IF_ERROR(
        ParseResourceName(request.organisation(), "organisations", "organisation").status());
  }
  ASSIGN_OR_RETURN(Page page, Page::Start(request.page_size(), request.page_token(),
                                          absl::StrCat("relations|", request.organisation(),
                                                       request.show_retired() ? "|retired" : ""),
                                          kDefaultPage, kMaxPage));
  return db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(auto relations,
                         QueryRelations(tx, request.organisation(), request.show_retired(),
                                        page.after, page.limit()));
        response->Clear();
        response->set_next_page_token(
            page.Finish(relations, [](const v1::Relation& r) { return r.name().substr(10); }));
        for (auto& r : relations) *response->add_relations() = std::move(r);
        return absl::OkStatus();
      },
      {.read_only = true});
}

absl::Status Registry::RetireRelation(const v1::RetireRelationRequest& request,
                                      v1::RetireRelationResponse* response) {
  FieldViolations v;
  std::string id, guard_org;
  ParseInto(request.name(), "relations", "name", v, &id);
  if (!request.organisation().empty()) {
    ParseInto(request.organisation(), "organisations", "organisation", v, &guard_org);
  }
  ValidateRetireReason(request.reason(), v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  return RunIdempotent(
      db_, "RetireRelation", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<v1::Relation> stored,
                         FindRelationForUpdate(tx, db_.dialect(), id));
        // A relation another organisation is the source of is not found: staff cannot learn
        // that it exists.
        if (!stored.has_value() ||
            (!guard_org.empty() && stored->source() != "organisations/" + guard_org)) {
          return NotFound(request.name());
        }
        ASSIGN_OR_RETURN(bool changed,
                         MarkRetired(*stored, request.etag(), request.reason(), clock_.Now()));
        if (changed) RETURN_IF_ERROR(UpdateRelationRow(tx, id, *stored));
        *response->mutable_relation() = std::move(*stored);
        return absl::OkStatus();
      },
      clock_);
}

// --- Service taxonomy --------------------------------------------------------------------------

absl::Status Registry::CreateServiceType(const v1::CreateServiceTypeRequest& request,
                                         v1::CreateServiceTypeResponse* response) {
  const v1::ServiceType& in = request.service_type();
  FieldViolations v;
  if (!IsSlug(in.code(), 32)) {
    v.Add("service_type.code", "must be 1-32 lowercase letters, digits or '-'");
  }
  ValidateServiceTypeTerms(in, v);
  std::string parent_code;
  if (!in.parent().empty()) {
    ParseInto(in.parent(), "serviceTypes", "service_type.parent", v, &parent_code);
  }
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  v1::ServiceType type = in;
  ClearRetirement(type);  // output only
  type.set_name("serviceTypes/" + in.code());
  return RunIdempotent(
      db_, "CreateServiceType", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        if (!parent_code.empty()) {
          RETURN_IF_ERROR(RequireServiceType(tx, parent_code, "service_type.parent"));
        }
        RETURN_IF_ERROR(InsertServiceType(tx, type, in.code(), parent_code));
        *response->mutable_service_type() = type;
        return absl::OkStatus();
      },
      clock_);
}

absl::Status Registry::ListServiceTypes(const v1::ListServiceTypesRequest& request,
                                        v1::ListServiceTypesResponse* response) {
  return db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(auto types, AllServiceTypes(tx, request.show_retired()));
        response->Clear();
        for (auto& t : types) *response->add_service_types() = std::move(t);
        return absl::OkStatus();
      },
      {.read_only = true});
}

absl::Status Registry::UpdateServiceType(const v1::UpdateServiceTypeRequest& request,
                                         v1::UpdateServiceTypeResponse* response) {
  const v1::ServiceType& in = request.service_type();
  FieldViolations v;
  std::string code;
  ParseInto(in.name(), "serviceTypes", "service_type.name", v, &code);
  const std::vector<std::string> paths =
      UpdateMaskPaths(request.update_mask(), kServiceTypeUpdatePaths, v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  return RunIdempotent(
      db_, "UpdateServiceType", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<v1::ServiceType> stored,
                         FindServiceTypeForUpdate(tx, db_.dialect(), code));
        if (!stored.has_value()) return NotFound(in.name());
        RETURN_IF_ERROR(CheckEtag(in.etag(), stored->etag(), "service_type.etag"));
        if (stored->retired()) {
          return absl::FailedPreconditionError(in.name() + " is retired and cannot be changed");
        }
        v1::ServiceType updated = *stored;
        ApplyUpdateMask(in, paths, updated);
        FieldViolations terms;
        ValidateServiceTypeTerms(updated, terms);
        RETURN_IF_ERROR(terms.ToStatus());
        RETURN_IF_ERROR(UpdateServiceTypeRow(tx, code, updated));
        *response->mutable_service_type() = std::move(updated);
        return absl::OkStatus();
      },
      clock_);
}

absl::Status Registry::RetireServiceType(const v1::RetireServiceTypeRequest& request,
                                         v1::RetireServiceTypeResponse* response) {
  FieldViolations v;
  std::string code;
  ParseInto(request.name(), "serviceTypes", "name", v, &code);
  ValidateRetireReason(request.reason(), v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  return RunIdempotent(
      db_, "RetireServiceType", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<v1::ServiceType> stored,
                         FindServiceTypeForUpdate(tx, db_.dialect(), code));
        if (!stored.has_value()) return NotFound(request.name());
        if (!stored->retired()) {
          ASSIGN_OR_RETURN(std::vector<v1::ServiceType> active, AllServiceTypes(tx));
          for (const v1::ServiceType& child : active) {
            if (child.parent() == request.name()) {
              return absl::FailedPreconditionError(absl::StrCat(
                  request.name(), " still has ", child.name(), " under it: retire that first"));
            }
          }
        }
        ASSIGN_OR_RETURN(bool changed,
                         MarkRetired(*stored, request.etag(), request.reason(), clock_.Now()));
        if (changed) RETURN_IF_ERROR(UpdateServiceTypeRow(tx, code, *stored));
        *response->mutable_service_type() = std::move(*stored);
        return absl::OkStatus();
      },
      clock_);
}

// --- Offerings ---------------------------------------------------------------------------------

NewOffering PrepareOffering(const v1::Offering& in, FieldViolations& v) {
  NewOffering offering;
  ParseInto(in.organisation(), "organisations", "offering.organisation", v,
            &offering.organisation_id);
  ParseInto(in.service_type(), "serviceTypes", "offering.service_type", v, &offering.service_code);
  if (in.covered_regions_size() == 0) {
    v.Add("offering.covered_regions", "must name at least one region");
  }
  for (int i = 0; i < in.covered_regions_size(); ++i) {
    std::string code;
    const std::string field = absl::StrCat("offering.covered_regions[", i, "]");
    if (ParseRegionInto(in.covered_regions(i), field, v, &code)) {
      if (std::find(offering.covered.begin(), offering.covered.end(), code) !=
          offering.covered.end()) {
        v.Add(field, "repeats an earlier region");
      }
      offering.covered.push_back(code);
    }
  }
  ValidateOfferingTerms(in, v);
  offering.offering = in;
  ClearRetirement(offering.offering);  // output only
  return offering;
}

absl::Status ResolveOffering(Transaction& tx, const NewOffering& offering,
                             std::vector<Region>* covered_regions) {
  RETURN_IF_ERROR(RequireOrganisation(tx, offering.organisation_id, "offering.organisation"));
  RETURN_IF_ERROR(RequireServiceType(tx, offering.service_code, "offering.service_type"));
  for (size_t i = 0; i < offering.covered.size(); ++i) {
    Region region;
    RETURN_IF_ERROR(RequireRegion(tx, offering.covered[i],
                                  absl::StrCat("offering.covered_regions[", i, "]"), &region));
    if (covered_regions != nullptr) covered_regions->push_back(std::move(region));
  }
  return absl::OkStatus();
}

absl::Status StoreOffering(Transaction& tx, const Clock& clock, NewOffering& offering,
                           v1::Offering* out) {
  const std::string id = NewId(clock);
  offering.offering.set_name("offerings/" + id);
  RETURN_IF_ERROR(InsertOffering(tx, id, offering.organisation_id, offering.service_code,
                                 offering.covered, offering.offering));
  if (out != nullptr) *out = offering.offering;
  return absl::OkStatus();
}

absl::Status Registry::CreateOffering(const v1::CreateOfferingRequest& request,
                                      v1::CreateOfferingResponse* response) {
  FieldViolations v;
  NewOffering offering = PrepareOffering(request.offering(), v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  return RunIdempotent(
      db_, "CreateOffering", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        RETURN_IF_ERROR(ResolveOffering(tx, offering));
        return StoreOffering(tx, clock_, offering, response->mutable_offering());
      },
      clock_);
}

absl::Status Registry::ListOfferings(const v1::ListOfferingsRequest& request,
                                     v1::ListOfferingsResponse* response) {
  FieldViolations v;
  std::string org_id, service_code;
  if (!request.organisation().empty()) {
    ParseInto(request.organisation(), "organisations", "organisation", v, &org_id);
  }
  if (!request.service_type().empty()) {
    ParseInto(request.service_type(), "serviceTypes", "service_type", v, &service_code);
  }
  RETURN_IF_ERROR(v.ToStatus());
  ASSIGN_OR_RETURN(Page page, Page::Start(request.page_size(), request.page_token(),
                                          absl::StrCat("offerings|", org_id, "|", service_code,
                                                       request.show_retired() ? "|retired" : ""),
                                          kDefaultPage, kMaxPage));
  return db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(auto offerings,
                         QueryOfferings(tx, org_id, service_code, request.show_retired(),
                                        page.after, page.limit()));
        response->Clear();
        response->set_next_page_token(
            page.Finish(offerings, [](const v1::Offering& o) { return o.name().substr(10); }));
        for (auto& o : offerings) *response->add_offerings() = std::move(o);
        return absl::OkStatus();
      },
      {.read_only = true});
}

absl::Status Registry::UpdateOffering(const v1::UpdateOfferingRequest& request,
                                      v1::UpdateOfferingResponse* response) {
  const v1::Offering& in = request.offering();
  FieldViolations v;
  std::string id, guard_org;
  ParseInto(in.name(), "offerings", "offering.name", v, &id);
  if (!request.organisation().empty()) {
    ParseInto(request.organisation(), "organisations", "organisation", v, &guard_org);
  }
  const std::vector<std::string> paths = OfferingUpdatePaths(in, request.update_mask(), v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());

  return RunIdempotent(
      db_, "UpdateOffering", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<v1::Offering> stored,
                         FindOfferingForUpdate(tx, db_.dialect(), id));
        // An offering of another organisation than the guard is not found: a partner cannot
        // learn that it exists.
        if (!stored.has_value() ||
            (!guard_org.empty() && stored->organisation() != "organisations/" + guard_org)) {
          return NotFound(in.name());
        }
        if (!in.etag().empty()) {
          RETURN_IF_ERROR(CheckEtag(in.etag(), stored->etag(), "offering.etag"));
        }
        if (stored->retired()) {
          return absl::FailedPreconditionError(in.name() + " is retired and cannot be changed");
        }
        ApplyUpdateMask(in, paths, *stored);
        RETURN_IF_ERROR(UpdateOfferingData(tx, id, *stored));
        *response->mutable_offering() = *stored;
        return absl::OkStatus();
      },
      clock_);
}

absl::Status Registry::RetireOffering(const v1::RetireOfferingRequest& request,
                                      v1::RetireOfferingResponse* response) {
  FieldViolations v;
  std::string id, guard_org;
  ParseInto(request.name(), "offerings", "name", v, &id);
  if (!request.organisation().empty()) {
    ParseInto(request.organisation(), "organisations", "organisation", v, &guard_org);
  }
  ValidateRetireReason(request.reason(), v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  return RunIdempotent(
      db_, "RetireOffering", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<v1::Offering> stored,
                         FindOfferingForUpdate(tx, db_.dialect(), id));
        if (!stored.has_value() ||
            (!guard_org.empty() && stored->organisation() != "organisations/" + guard_org)) {
          return NotFound(request.name());
        }
        ASSIGN_OR_RETURN(bool changed,
                         MarkRetired(*stored, request.etag(), request.reason(), clock_.Now()));
        if (changed) RETURN_IF_ERROR(UpdateOfferingData(tx, id, *stored));
        *response->mutable_offering() = std::move(*stored);
        return absl::OkStatus();
      },
      clock_);
}

// --- Workers -----------------------------------------------------------------------------------

namespace {

std::string WorkerPhoneAad(const std::string& id) { return "workers/" + id + "#phone"; }

// Puts `worker` (its phone in the clear) into `row`: the phone sealed and blind-indexed, the
// record with the phone masked.
absl::Status SealWorker(const pii::FieldCipher& cipher, const v1::Worker& worker, WorkerRow& row) {
  row.worker = MaskedWorker(worker);
  row.sealed_phone.clear();
  row.phone_index.clear();
  if (worker.phone().empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(row.sealed_phone, cipher.Encrypt(worker.phone(), WorkerPhoneAad(row.id)));
  row.phone_index = cipher.BlindIndex(WorkerPhoneKey(worker.phone()));
  return absl::OkStatus();
}

// Records that a worker's phone was written (set, changed or cleared), in the transaction that
// writes it, as a change of an elder's personal data is.
absl::Status AuditWorkerPhone(Transaction& tx, const Caller& caller, absl::Time now,
                              const std::string& worker_name, const std::string& action) {
  return AuditPersonalData(
      tx, caller, now,
      {.elder = "", .resource = worker_name, .fields = "phone", .reason = "", .action = action});
}

}  // namespace

NewWorker PrepareWorker(const v1::Worker& in, FieldViolations& v) {
  NewWorker worker;
  ValidateWorkerTerms(in, v);
  ParseInto(in.organisation(), "organisations", "worker.organisation", v, &worker.organisation_id);
  worker.worker = in;
  ApplyWorkerDefaults(worker.worker);
  return worker;
}

absl::Status ResolveWorker(Transaction& tx, const NewWorker& worker,
                           std::string* organisation_path) {
  return RequireOrganisation(tx, worker.organisation_id, "worker.organisation", organisation_path);
}

absl::Status StoreWorker(Transaction& tx, const Clock& clock, const pii::FieldCipher& cipher,
                         const Caller& caller, absl::Time now, const std::string& action,
                         NewWorker& worker, v1::Worker* out) {
  WorkerRow row;
  row.id = NewId(clock);
  row.organisation_id = worker.organisation_id;
  v1::Worker named = worker.worker;
  named.set_name("workers/" + row.id);
  RETURN_IF_ERROR(SealWorker(cipher, named, row));
  RETURN_IF_ERROR(InsertWorker(tx, row));
  if (!named.phone().empty()) {
    RETURN_IF_ERROR(AuditWorkerPhone(tx, caller, now, named.name(), action));
  }
  if (out != nullptr) *out = row.worker;
  return absl::OkStatus();
}

absl::Status Registry::CreateWorker(const v1::CreateWorkerRequest& request, const Caller& caller,
                                    v1::CreateWorkerResponse* response) {
  FieldViolations v;
  NewWorker worker = PrepareWorker(request.worker(), v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  const absl::Time now = clock_.Now();
  return RunIdempotent(
      db_, "CreateWorker", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        RETURN_IF_ERROR(ResolveWorker(tx, worker));
        return StoreWorker(tx, clock_, cipher_, caller, now, "create", worker,
                           response->mutable_worker());
      },
      clock_);
}

absl::Status Registry::UpdateWorker(const v1::UpdateWorkerRequest& request, const Caller& caller,
                                    v1::UpdateWorkerResponse* response) {
  const v1::Worker& in = request.worker();
  FieldViolations v;
  std::string id, guard_org;
  ParseInto(in.name(), "workers", "worker.name", v, &id);
  if (!request.organisation().empty()) {
    ParseInto(request.organisation(), "organisations", "organisation", v, &guard_org);
  }
  const std::vector<std::string> paths =
      UpdateMaskPaths(request.update_mask(), kWorkerUpdatePaths, v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  const bool phone_named = std::find(paths.begin(), paths.end(), "phone") != paths.end();
  const absl::Time now = clock_.Now();
  return RunIdempotent(
      db_, "UpdateWorker", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<WorkerRow> row, FindWorkerForUpdate(tx, db_.dialect(), id));
        // A worker of another organisation than the guard is not found.
        if (!row.has_value() ||
            (!guard_org.empty() && row->worker.organisation() != "organisations/" + guard_org)) {
          return NotFound(in.name());
        }
        RETURN_IF_ERROR(CheckEtag(in.etag(), row->worker.etag(), "worker.etag"));
        // The stored phone is masked: it is checked and sealed again only when the mask names it.
        v1::Worker updated = row->worker;
        updated.clear_phone();
        ApplyUpdateMask(in, paths, updated);
        ApplyWorkerDefaults(updated);
        FieldViolations terms;
        ValidateWorkerTerms(updated, terms);
        RETURN_IF_ERROR(terms.ToStatus());
        if (phone_named) {
          RETURN_IF_ERROR(SealWorker(cipher_, updated, *row));
        } else {
          updated.set_phone(row->worker.phone());
          row->worker = std::move(updated);
        }
        RETURN_IF_ERROR(UpdateWorkerRow(tx, *row));
        if (phone_named) {
          RETURN_IF_ERROR(AuditWorkerPhone(tx, caller, now, row->worker.name(), "update"));
        }
        *response->mutable_worker() = row->worker;
        return absl::OkStatus();
      },
      clock_);
}

absl::Status Registry::FindWorkersByPhone(const v1::FindWorkersByPhoneRequest& request,
                                          const Caller& caller,
                                          v1::FindWorkersByPhoneResponse* response) {
  constexpr int kMaxPhonesFound = 1000;
  ASSIGN_OR_RETURN(const std::string organisation_id,
                   ParseResourceName(request.organisation(), "organisations", "organisation"));
  if (request.phones_size() == 0 || request.phones_size() > kMaxPhonesFound) {
    return InvalidField("phones", absl::StrCat("must hold 1 to ", kMaxPhonesFound, " phones"));
  }
  RETURN_IF_ERROR(ValidateReason(request.reason()));
  // Each phone's blind index, as CreateWorker computes it; "" for one that is not a phone (which
  // no worker can be registered under).
  std::vector<std::string> indexes;
  indexes.reserve(request.phones_size());
  for (const std::string& phone : request.phones()) {
    const std::string key = WorkerPhoneKey(phone);
    indexes.push_back(key.empty() ? "" : cipher_.BlindIndex(key));
  }
  const absl::Time now = clock_.Now();
  // The lookups and their audit entries in one transaction: no audit, no answer. A worker who
  // has left is found (the history of their visits is theirs). Each phone looked up is audited,
  // found or not.
  return db_.RunInTransaction([&](Transaction& tx) -> absl::Status {
    response->clear_workers();                 // a retried transaction starts again
    std::map<std::string, std::string> found;  // blind index -> name ("" for none)
    for (const std::string& index : indexes) {
      if (index.empty()) {
        response->add_workers();
        continue;
      }
      auto it = found.find(index);
      if (it == found.end()) {
        std::string name;
        ASSIGN_OR_RETURN(std::optional<std::string> id,
                         FindWorkerIdByPhoneIndex(tx, organisation_id, index));
        if (id.has_value()) name = "workers/" + *id;
        // A miss is audited too (against the organisation): trying phones until one is found
        // leaves a trail of every try.
        RETURN_IF_ERROR(
            AuditPersonalData(tx, caller, now,
                              {.elder = "",
                               .resource = id.has_value() ? name : request.organisation(),
                               .fields = "phone",
                               .reason = request.reason(),
                               .action = "read"}));
        it = found.emplace(index, std::move(name)).first;
      }
      response->add_workers(it->second);
    }
    return absl::OkStatus();
  });
}

absl::Status Registry::GetWorker(const v1::GetWorkerRequest& request,
                                 v1::GetWorkerResponse* response) {
  ASSIGN_OR_RETURN(std::string id, ParseResourceName(request.name(), "workers", "name"));
  return db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(auto worker, FindWorker(tx, id));
        if (!worker.has_value()) return NotFound(request.name());
        *response->mutable_worker() = std::move(*worker);
        return absl::OkStatus();
      },
      {.read_only = true});
}

absl::Status Registry::ListWorkers(const v1::ListWorkersRequest& request,
                                   v1::ListWorkersResponse* response) {
  std::string org_id;
  if (!request.organisation().empty()) {
    ASSIGN_OR_RETURN(org_id,
                     ParseResourceName(request.organisation(), "organisations", "organisation"));
  }
  ASSIGN_OR_RETURN(Page page, Page::Start(request.page_size(), request.page_token(),
                                          "workers|" + org_id, kDefaultPage, kMaxPage));
  return db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(auto workers, QueryWorkers(tx, org_id, page.after, page.limit()));
        response->Clear();
        response->set_next_page_token(
            page.Finish(workers, [](const v1::Worker& w) { return w.name().substr(8); }));
        for (auto& w : workers) *response->add_workers() = std::move(w);
        return absl::OkStatus();
      },
      {.read_only = true});
}

}  // namespace linli::registry
