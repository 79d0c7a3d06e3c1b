// Registry use cases: regions.
#include "services/registry/registry_app.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/pagination.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "services/registry/region.h"
#include "services/registry/registry_store.h"

namespace linli::registry {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;

void ToProto(const Region& region, v1::Region* out) {
  out->set_name(RegionName(region.code));
  out->set_code(region.code);
  out->set_display_name(region.display_name);
  out->set_level(static_cast<v1::RegionLevel>(region.level));
  out->set_parent(region.parent_code.empty() ? "" : RegionName(region.parent_code));
  *out->mutable_create_time() = ToTimestamp(region.create_time);
}

}  // namespace

absl::Status Registry::CreateRegion(const v1::CreateRegionRequest& request,
                                    v1::CreateRegionResponse* response) {
  const v1::Region& in = request.region();
  std::optional<RegionLevel> level = RegionLevelFromNumber(in.level());
  FieldViolations violations;
  ValidateNewRegionFields(in.code(), in.display_name(), level, violations, "region.");
  std::string parent_code;
  if (!in.parent().empty()) {
    absl::StatusOr<std::string> parsed = ParseRegionName(in.parent(), "region.parent");
    if (parsed.ok()) {
      parent_code = *parsed;
    } else {
      violations.Add("region.parent", "must look like \"regions/310101\"");
    }
  }
  if (absl::Status s = ValidateRequestId(request.request_id()); !s.ok()) {
    violations.Add("request_id", "must be at most 128 printable ASCII characters");
  }
  RETURN_IF_ERROR(violations.ToStatus());

  Region region;
  region.code = in.code();
  region.display_name = in.display_name();
  region.level = *level;
  region.parent_code = parent_code;
  region.create_time = clock_.Now();

  return RunIdempotent(
      db_, "CreateRegion", request.request_id(), request, response,
      [&](storage::Transaction& tx) -> absl::Status {
        std::optional<RegionLevel> parent_level;
        region.path.clear();  // the body may run again after a conflict
        if (!parent_code.empty()) {
          ASSIGN_OR_RETURN(std::optional<Region> parent, FindRegion(tx, parent_code));
          if (!parent.has_value()) {
            return InvalidField("region.parent",
                                absl::StrCat("region ", in.parent(), " does not exist"));
          }
          parent_level = parent->level;
          region.path = parent->path;
        }
        region.path += region.code + "/";
        RETURN_IF_ERROR(CheckNesting(region.level, parent_level, "region.parent"));
        // The code must extend the parent's (region.h): people, older gateways and other
        // systems read codes as the tree, so a code that reads as another street's is refused.
        RETURN_IF_ERROR(
            CheckCodeExtendsParent(region.code, region.level, parent_code, "region.code"));
        RETURN_IF_ERROR(InsertRegion(tx, region));
        ToProto(region, response->mutable_region());
        return absl::OkStatus();
      },
      clock_);
}

absl::Status Registry::GetRegion(const v1::GetRegionRequest& request,
                                 v1::GetRegionResponse* response) {
  ASSIGN_OR_RETURN(std::string code, ParseRegionName(request.name(), "name"));
  return db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<Region> region, FindRegion(tx, code));
        if (!region.has_value()) return NotFound(RegionName(code));
        ToProto(*region, response->mutable_region());
        // The ancestors as the parent links record them (the materialised path), which the
        // gateway's scope check relies on; a path that does not end at the region is corrupt
        // and must not be read as anyone's scope.
        std::vector<std::string> path = PathCodes(region->path);
        if (path.empty() || path.back() != region->code) {
          return absl::InternalError(
              absl::StrCat("region ", region->code, " has a malformed path in the database"));
        }
        path.pop_back();
        for (const std::string& ancestor : path) response->add_ancestors(RegionName(ancestor));
        return absl::OkStatus();
      },
      {.read_only = true});
}

absl::Status Registry::ListRegions(const v1::ListRegionsRequest& request,
                                   v1::ListRegionsResponse* response) {
  FieldViolations violations;
  std::string parent_code;
  if (!request.parent().empty()) {
    absl::StatusOr<std::string> parsed = ParseRegionName(request.parent(), "parent");
    if (parsed.ok()) {
      parent_code = *parsed;
    } else {
      violations.Add("parent", "must look like \"regions/310101\"");
    }
  }
  absl::StatusOr<int> page_size =
      ResolvePageSize(request.page_size(), kDefaultPageSize, kMaxPageSize);
  if (!page_size.ok()) violations.Add("page_size", "must not be negative");
  RETURN_IF_ERROR(violations.ToStatus());
  const std::string fingerprint = absl::StrCat("ListRegions|", parent_code);
  ASSIGN_OR_RETURN(std::string after, DecodePageToken(request.page_token(), fingerprint));

  return db_.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        response->Clear();
        // One extra row tells whether another page exists.
        ASSIGN_OR_RETURN(std::vector<Region> regions,
                         QueryRegions(tx, parent_code, after, *page_size + 1));
        bool more = static_cast<int>(regions.size()) > *page_size;
        if (more) regions.pop_back();
        for (const Region& region : regions) ToProto(region, response->add_regions());
        if (more) {
          response->set_next_page_token(EncodePageToken(regions.back().code, fingerprint));
        }
        return absl::OkStatus();
      },
      {.read_only = true});
}

}  // namespace linli::registry
