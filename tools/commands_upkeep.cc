// `linli` upkeep commands through the gateway: correcting and retiring the street's records, and
// exporting its rosters.
// An update names the fields it changes by the keys of its --json object (proto JSON names, e.g.
// {"phone": "13812345678", "careGrade": 4, "assessmentDate": "2026-11-03"}); the command reads
// the record first and sends the etag of that read unless --etag pins an earlier one, so a change
// saved by someone else since an earlier read is refused (ABORTED), not overwritten.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/client.h"
#include "common/roster/csv.h"
#include "common/roster/roster.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tools/cli_util.h"
#include "tools/commands.h"

namespace linli::cli {
namespace {

// Parses `json` into `record` (proto JSON; unknown fields refused) and fills `mask` with the
// proto names of its top-level keys. False, with a message on stderr, when it does not parse.
bool ParseChanges(const std::string& json_flag, google::protobuf::Message& record,
                  google::protobuf::FieldMask& mask) {
  // --json @FILE reads the object from a file, so that an ID number or a phone does not end up
  // in the shell's history or the process list.
  std::string json = json_flag;
  if (!json.empty() && json[0] == '@') {
    std::ifstream file(json.substr(1), std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "--json: cannot read %s\n", json.substr(1).c_str());
      return false;
    }
    json.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  nlohmann::json object = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object() || object.empty()) {
    std::fprintf(stderr, "--json must be a JSON object naming the fields to change\n");
    return false;
  }
  const google::protobuf::Descriptor* type = record.GetDescriptor();
  for (const auto& [key, value] : object.items()) {
    const google::protobuf::FieldDescriptor* field = type->FindFieldByName(key);
    for (int i = 0; field == nullptr && i < type->field_count(); ++i) {
      if (type->field(i)->json_name() == key) field = type->field(i);
    }
    if (field == nullptr) {
      std::fprintf(stderr, "--json: %s has no field \"%s\"\n", type->name().c_str(), key.c_str());
      return false;
    }
    mask.add_paths(field->name());
  }
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &record);
  if (!parsed.ok()) {
    std::fprintf(stderr, "--json: %s\n", parsed.ToString().c_str());
    return false;
  }
  return true;
}

using Stub = gateway::v1::ConsoleService::Stub;
template <typename Request, typename Response>
using Method = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Response*);

// The record a console response carries: its first field.
const google::protobuf::Message& RecordOf(const google::protobuf::Message& response) {
  return response.GetReflection()->GetMessage(response, response.GetDescriptor()->field(0));
}

std::string EtagOf(const google::protobuf::Message& record) {
  return record.GetReflection()->GetString(record, record.GetDescriptor()->FindFieldByName("etag"));
}

// The etag of `name` as read now through `get` (GetElder, GetOrganisation).
template <typename Request, typename Response>
grpc::Status ReadEtag(const Endpoints& e, Method<Request, Response> get, const std::string& name,
                      std::string* etag) {
  Request request;
  request.set_name(name);
  Response response;
  grpc::Status status =
      (Console(e).get()->*get)(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (status.ok()) *etag = EtagOf(RecordOf(response));
  return status;
}

// The etag of `name` among the records `list` returns for `organisation` (the console reads
// workers, relations and offerings by organisation). NOT_FOUND when it is not among them.
template <typename Request, typename Response>
grpc::Status ListEtag(const Endpoints& e, Method<Request, Response> list,
                      const std::string& organisation, const std::string& name, std::string* etag) {
  Request request;
  request.set_organisation(organisation.rfind("organisations/", 0) == 0
                               ? organisation
                               : "organisations/" + organisation);
  request.set_page_size(200);
  do {
    Response page;
    grpc::Status status =
        (Console(e).get()->*list)(NewClientContext(nullptr, e.timeout).get(), request, &page);
    if (!status.ok()) return status;
    const auto* records = page.GetDescriptor()->field(0);
    const auto* reflection = page.GetReflection();
    for (int i = 0; i < reflection->FieldSize(page, records); ++i) {
      const google::protobuf::Message& record = reflection->GetRepeatedMessage(page, records, i);
      if (record.GetReflection()->GetString(
              record, record.GetDescriptor()->FindFieldByName("name")) == name) {
        *etag = EtagOf(record);
        return grpc::Status::OK;
      }
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return grpc::Status(grpc::StatusCode::NOT_FOUND,
                      absl::StrCat(name, " is not an active record of ", request.organisation()));
}

// Sends `request` and prints the record the response carries as JSON.
template <typename Request, typename Response>
int SendAndPrint(const Endpoints& e, Method<Request, Response> method, const Request& request) {
  Response response;
  grpc::Status status =
      (Console(e).get()->*method)(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%s", Json(RecordOf(response)).c_str());
  return 0;
}

}  // namespace

int UpdateRecord(const Endpoints& e, const std::string& name, const std::string& json,
                 const std::string& etag, const std::string& reason,
                 const std::string& organisation) {
  std::string current = etag;
  if (name.rfind("elders/", 0) == 0) {
    registry::v1::UpdateElderRequest request;
    if (!ParseChanges(json, *request.mutable_elder(), *request.mutable_update_mask())) return 2;
    if (current.empty()) {
      if (auto read = ReadEtag(e, &Stub::GetElder, name, &current); !read.ok()) return Fail(read);
    }
    request.mutable_elder()->set_name(name);
    request.mutable_elder()->set_etag(current);
    request.set_reason(reason);
    return SendAndPrint(e, &Stub::UpdateElder, request);
  }
  if (name.rfind("organisations/", 0) == 0) {
    registry::v1::UpdateOrganisationRequest request;
    if (!ParseChanges(json, *request.mutable_organisation(), *request.mutable_update_mask())) {
      return 2;
    }
    if (current.empty()) {
      auto read = ReadEtag(e, &Stub::GetOrganisation, name, &current);
      if (!read.ok()) return Fail(read);
    }
    request.mutable_organisation()->set_name(name);
    request.mutable_organisation()->set_etag(current);
    return SendAndPrint(e, &Stub::UpdateOrganisation, request);
  }
  if (name.rfind("workers/", 0) == 0) {
    registry::v1::UpdateWorkerRequest request;
    if (!ParseChanges(json, *request.mutable_worker(), *request.mutable_update_mask())) return 2;
    if (current.empty()) {
      if (organisation.empty()) {
        std::fprintf(stderr,
                     "update workers/ID: give --org (the worker's organisation) or --etag\n");
        return 2;
      }
      auto read = ListEtag(e, &Stub::ListWorkers, organisation, name, &current);
      if (!read.ok()) return Fail(read);
    }
    request.mutable_worker()->set_name(name);
    request.mutable_worker()->set_etag(current);
    return SendAndPrint(e, &Stub::UpdateWorker, request);
  }
  std::fprintf(stderr, "update: name an elders/ID, organisations/ID or workers/ID\n");
  return 2;
}

int RecordConsent(const Endpoints& e, const std::string& elder, const std::string& purpose,
                  const std::string& decision, const std::string& reason) {
  registry::v1::RecordConsentRequest request;
  request.set_name(elder);
  registry::v1::ConsentPurpose value;
  if (!registry::v1::ConsentPurpose_Parse("CONSENT_PURPOSE_" + absl::AsciiStrToUpper(purpose),
                                          &value) ||
      value == registry::v1::CONSENT_PURPOSE_UNSPECIFIED) {
    std::fprintf(stderr, "--purpose must be personal_data, health_data or share_with_providers\n");
    return 2;
  }
  if (decision != "grant" && decision != "withdraw") {
    std::fprintf(stderr, "--decision must be grant or withdraw\n");
    return 2;
  }
  request.set_purpose(value);
  request.set_granted(decision == "grant");
  request.set_reason(reason);
  registry::v1::RecordConsentResponse response;
  grpc::Status status =
      Console(e)->RecordConsent(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%s  %s %s", elder.c_str(), purpose.c_str(),
              decision == "grant" ? "granted" : "withdrawn");
  if (response.removed_fields_size() > 0) {
    std::printf("; removed: %s", absl::StrJoin(response.removed_fields(), ", ").c_str());
  }
  std::printf("\n");
  return 0;
}

int Retire(const Endpoints& e, const std::string& name, const std::string& status_word,
           const std::string& date, const std::string& reason, const std::string& etag,
           const std::string& organisation) {
  std::string current = etag;
  if (name.rfind("elders/", 0) == 0) {
    registry::v1::RetireElderRequest request;
    if (status_word == "deceased") {
      request.set_status(registry::v1::ELDER_STATUS_DECEASED);
    } else if (status_word == "moved") {
      request.set_status(registry::v1::ELDER_STATUS_MOVED_AWAY);
    } else {
      std::fprintf(stderr, "--status must be deceased or moved\n");
      return 2;
    }
    if (current.empty()) {
      if (auto read = ReadEtag(e, &Stub::GetElder, name, &current); !read.ok()) return Fail(read);
    }
    request.set_name(name);
    request.set_effective_date(date);
    request.set_reason(reason);
    request.set_etag(current);
    gateway::v1::RetireElderResponse response;
    grpc::Status status =
        Console(e)->RetireElder(NewClientContext(nullptr, e.timeout).get(), request, &response);
    if (!status.ok()) return Fail(status);
    std::printf("%s  %s since %s; promises closed: %d, future visits cancelled: %d\n", name.c_str(),
                response.elder().status() == registry::v1::ELDER_STATUS_DECEASED ? "deceased"
                                                                                 : "moved away",
                response.elder().status_date().c_str(), response.closed_commitments_size(),
                response.cancelled_visits());
    return 0;
  }
  int exit_code = 2;
  if (name.rfind("organisations/", 0) == 0) {
    if (current.empty()) {
      auto read = ReadEtag(e, &Stub::GetOrganisation, name, &current);
      if (!read.ok()) return Fail(read);
    }
    registry::v1::RetireOrganisationRequest request;
    request.set_name(name);
    request.set_reason(reason);
    request.set_etag(current);
    exit_code = SendAndPrint(e, &Stub::RetireOrganisation, request);
  } else if (name.rfind("relations/", 0) == 0 || name.rfind("offerings/", 0) == 0) {
    // Ties and offerings belong to an organisation (--org), which the console reads them by.
    if (organisation.empty()) {
      std::fprintf(stderr, "retire %s: give --org, the organisation it belongs to\n", name.c_str());
      return 2;
    }
    const std::string org = organisation.rfind("organisations/", 0) == 0
                                ? organisation
                                : "organisations/" + organisation;
    if (name.rfind("relations/", 0) == 0) {
      if (current.empty()) {
        auto read = ListEtag(e, &Stub::ListRelations, org, name, &current);
        if (!read.ok()) return Fail(read);
      }
      registry::v1::RetireRelationRequest request;
      request.set_name(name);
      request.set_reason(reason);
      request.set_etag(current);
      request.set_organisation(org);
      exit_code = SendAndPrint(e, &Stub::RetireRelation, request);
    } else {
      if (current.empty()) {
        auto read = ListEtag(e, &Stub::ListOfferings, org, name, &current);
        if (!read.ok()) return Fail(read);
      }
      registry::v1::RetireOfferingRequest request;
      request.set_name(name);
      request.set_reason(reason);
      request.set_etag(current);
      request.set_organisation(org);
      exit_code = SendAndPrint(e, &Stub::RetireOffering, request);
    }
  } else {
    std::fprintf(stderr,
                 "retire: name an elders/, organisations/, relations/ or offerings/ "
                 "record (a worker: update {\"status\": \"WORKER_STATUS_LEFT\"})\n");
  }
  return exit_code;
}

namespace {

// The roster `kind` names, with its RosterKind; nullptr (and a message) for none.
const roster::Roster* RosterNamed(const std::string& kind, gateway::v1::RosterKind* value) {
  const roster::Roster* found = roster::FindRoster(kind);
  if (found == nullptr || !gateway::v1::RosterKind_Parse(
                              absl::StrCat("ROSTER_KIND_", absl::AsciiStrToUpper(kind)), value)) {
    std::fprintf(stderr, "error: no roster \"%s\"; the rosters are %s\n", kind.c_str(),
                 roster::RosterNames().c_str());
    return nullptr;
  }
  return found;
}

}  // namespace

int ImportTemplate(const std::string& kind) {
  gateway::v1::RosterKind value;
  const roster::Roster* found = RosterNamed(kind, &value);
  if (found == nullptr) return 2;
  const std::string text = roster::Template(*found);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

int Import(const Endpoints& e, const std::string& kind, const std::string& file, bool dry_run,
           bool skip_bad_rows, int chunk_rows) {
  gateway::v1::RosterKind roster_kind;
  if (RosterNamed(kind, &roster_kind) == nullptr) return 2;
  if (file.empty()) {
    std::fprintf(stderr, "error: --file names the CSV to import\n");
    return 2;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "error: cannot read %s\n", file.c_str());
    return 1;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  roster::Encoding encoding;
  absl::StatusOr<std::string> text = roster::DecodeText(bytes, &encoding);
  if (!text.ok()) return Fail(ToGrpcStatus(text.status()));
  absl::StatusOr<std::vector<roster::CsvRecord>> records = roster::ParseCsv(*text);
  if (!records.ok()) return Fail(ToGrpcStatus(records.status()));
  if (records->size() < 2) {
    std::fprintf(stderr, "error: %s has no rows below its header\n", file.c_str());
    return 1;
  }
  const roster::CsvRecord& head = (*records)[0];
  const std::string header = text->substr(head.begin, head.end - head.begin);
  const int header_lines = 1 + static_cast<int>(std::count(header.begin(), header.end(), '\n'));
  const size_t rows = records->size() - 1;
  std::fprintf(stderr, "%s: %zu rows, %s\n", file.c_str(), rows, roster::EncodingName(encoding));

  auto console = Console(e);
  struct Totals {
    int created = 0, existing = 0;
    bool written = false;
    std::vector<common::v1::RowProblem> problems;
  };
  // One pass over the file in chunks: the header row, then up to chunk_rows rows as written.
  auto pass = [&](bool check_only, const char* what, Totals* totals) -> grpc::Status {
    for (size_t first = 1; first < records->size(); first += chunk_rows) {
      const size_t last = std::min(records->size() - 1, first + chunk_rows - 1);
      const roster::CsvRecord& a = (*records)[first];
      const roster::CsvRecord& b = (*records)[last];
      gateway::v1::ImportRosterRequest request;
      request.set_kind(roster_kind);
      request.set_csv(absl::StrCat(header, "\n", text->substr(a.begin, b.end - a.begin), "\n"));
      request.set_line_offset(a.line - (header_lines + 1));
      request.set_dry_run(check_only);
      request.set_skip_bad_rows(skip_bad_rows);
      gateway::v1::ImportRosterResponse response;
      grpc::Status status;
      for (int attempt = 0;; ++attempt) {
        auto context = NewClientContext(nullptr, e.timeout);
        status = console->ImportRoster(context.get(), request, &response);
        if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED || attempt == 20) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
      if (!status.ok()) return status;
      totals->created += response.created();
      totals->existing += response.existing();
      totals->written = totals->written || response.written();
      totals->problems.insert(totals->problems.end(), response.problems().begin(),
                              response.problems().end());
      std::fprintf(stderr, "\r%s: %zu/%zu rows", what, last, rows);
    }
    std::fprintf(stderr, "\n");
    return grpc::Status::OK;
  };
  auto report = [&](const Totals& totals, bool wrote) {
    for (const common::v1::RowProblem& p : totals.problems) {
      std::printf("line %d%s%s: %s | %s\n", p.line(), p.column().empty() ? "" : ", ",
                  p.column().c_str(), p.reason_zh().c_str(), p.reason().c_str());
    }
    std::set<int> refused;
    for (const auto& p : totals.problems) refused.insert(p.line());
    std::printf("%zu rows: %d %s, %d already registered (unchanged), %zu refused%s\n", rows,
                totals.created, wrote ? "created" : "to create", totals.existing, refused.size(),
                wrote ? "" : "; nothing written");
  };

  // First every row checked, nothing written.
  Totals checked;
  if (grpc::Status status = pass(true, "checking", &checked); !status.ok()) return Fail(status);
  if (dry_run || (!checked.problems.empty() && !skip_bad_rows)) {
    report(checked, false);
    if (!checked.problems.empty() && !dry_run) {
      std::printf("fix the rows above, or import the good ones with --skip_bad_rows\n");
    }
    return checked.problems.empty() ? 0 : 1;
  }
  Totals imported;
  if (grpc::Status status = pass(false, "importing", &imported); !status.ok()) {
    return Fail(status);
  }
  report(imported, true);
  return imported.problems.empty() ? 0 : 1;
}

int Export(const Endpoints& e, const std::string& kind, const std::string& region,
           const std::string& organisation, const std::string& out) {
  gateway::v1::ExportRosterRequest request;
  gateway::v1::RosterKind roster_kind;
  if (RosterNamed(kind, &roster_kind) == nullptr) return 2;
  request.set_kind(roster_kind);
  const bool xlsx = absl::EndsWith(out, ".xlsx");
  request.set_format(xlsx ? gateway::v1::ROSTER_FORMAT_XLSX : gateway::v1::ROSTER_FORMAT_CSV);
  if (!region.empty())
    request.set_region(absl::StrCat("regions/", absl::StripPrefix(region, "regions/")));
  if (!organisation.empty()) {
    request.set_organisation(
        absl::StrCat("organisations/", absl::StripPrefix(organisation, "organisations/")));
  }
  std::fprintf(stderr, "exporting %s…\n", kind.c_str());
  gateway::v1::ExportRosterResponse response;
  auto context = NewClientContext(nullptr, std::max(e.timeout, absl::Minutes(2)));
  if (grpc::Status status = Console(e)->ExportRoster(context.get(), request, &response);
      !status.ok()) {
    return Fail(status);
  }
  if (out.empty()) {
    std::fwrite(response.content().data(), 1, response.content().size(), stdout);
    return 0;
  }
  std::ofstream file(out, std::ios::binary);
  file << response.content();
  if (!file.flush()) {
    std::fprintf(stderr, "cannot write %s\n", out.c_str());
    return 1;
  }
  std::fprintf(stderr, "%d %s written to %s\n", response.rows(), kind.c_str(), out.c_str());
  return 0;
}

}  // namespace linli::cli
