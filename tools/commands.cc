#include "tools/commands.h"

#include <openssl/rand.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/auth/api_keys.h"
#include "common/auth/internal_identity.h"
#include "common/auth/jwt.h"
#include "common/auth/principal.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/pii/field_cipher.h"
#include "common/proto_time.h"
#include "common/recurrence/rrule.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/client_interceptor.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/scheduling/commitment.h"
#include "services/scheduling/visit_rules.h"
#include "tools/cli_util.h"
#include "tools/demo_street.h"

namespace linli::cli {
namespace {

using gateway::v1::ConsoleService;
using registry::v1::RegistryService;

// Progress on one stderr line: "seeding demo street: elders 12000/25000".
class Progress {
 public:
  Progress(std::string what, size_t total) : what_(std::move(what)), total_(total) {}
  void Step() {
    size_t done = ++done_;
    if (done == total_ || done % 250 == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      std::fprintf(stderr, "\rseeding demo street: %-13s %zu/%zu", what_.c_str(), done, total_);
      if (done == total_) std::fprintf(stderr, "\n");
    }
  }

 private:
  std::string what_;
  size_t total_;
  std::atomic<size_t> done_{0};
  std::mutex mu_;
};

// Sends `requests` with `call`, `parallelism` at a time. ALREADY_EXISTS counts as done (a
// previous partial run); any other error stops the seeding.
template <typename Request, typename Call>
grpc::Status SendAll(const std::string& what, const std::vector<Request>& requests, int parallelism,
                     Call call) {
  Progress progress(what, requests.size());
  std::atomic<size_t> next{0};
  std::mutex mu;
  grpc::Status first_error = grpc::Status::OK;
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, parallelism); ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < requests.size(); i = next++) {
        grpc::Status status = call(requests[i]);
        if (!status.ok() && status.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
          std::lock_guard<std::mutex> lock(mu);
          if (first_error.ok()) first_error = status;
          next = requests.size();
          return;
        }
        progress.Step();
      }
    });
  }
  for (auto& t : threads) t.join();
  return first_error;
}

// Imports `rows` the way a street's files go in: calls of at most 1000 rows, each row's line its
// index + 2 (as under a header row), with progress. `call(request, response)` sends one call, whose
// request holds rows [first, last) (`add(request, i)` adds row i); a refused row stops the
// seeding with its problem. `done(response, first)` takes what a call answered (e.g. names).
template <typename Request, typename Response, typename Add, typename Call, typename Done>
grpc::Status ImportInChunks(const std::string& what, size_t rows, Add add, Call call, Done done) {
  constexpr size_t kRowsPerCall = 1000;
  Progress progress(what, rows);
  for (size_t first = 0; first < rows; first += kRowsPerCall) {
    const size_t last = std::min(rows, first + kRowsPerCall);
    Request request;
    for (size_t i = first; i < last; ++i) {
      add(request, i);
      request.mutable_rows()->rbegin()->set_line(static_cast<int32_t>(i) + 2);
    }
    Response response;
    grpc::Status status = call(request, &response);
    if (!status.ok()) return status;
    if (response.problems_size() > 0) {
      const common::v1::RowProblem& p = response.problems(0);
      return grpc::Status(
          grpc::StatusCode::FAILED_PRECONDITION,
          absl::StrCat(what, " row ", p.line() - 2, ": ", p.field(), " ", p.reason()));
    }
    done(response, first);
    for (size_t i = first; i < last; ++i) progress.Step();
  }
  return grpc::Status::OK;
}

// The map's records (Create requests) through RegistryService.ImportRecords, each row the record
// `set` puts in it. A record already registered (a previous partial run) counts as done.
template <typename Request, typename Set>
grpc::Status ImportAll(RegistryService::Stub& stub, const Endpoints& e, const std::string& what,
                       const std::vector<Request>& requests, Set set) {
  return ImportInChunks<registry::v1::ImportRecordsRequest, registry::v1::ImportRecordsResponse>(
      what, requests.size(),
      [&](registry::v1::ImportRecordsRequest& rows, size_t i) {
        set(*rows.add_rows(), requests[i]);
      },
      [&](const auto& rows, auto* out) {
        return stub.ImportRecords(NewClientContext(nullptr, e.timeout).get(), rows, out);
      },
      [](const auto&, size_t) {});
}

std::unique_ptr<feedback::v1::FeedbackService::Stub> Feedback(const std::string& address) {
  return feedback::v1::FeedbackService::NewStub(
      BackendChannel(address, "linli-feedback", "linli.feedback.v1.FeedbackService"));
}

}  // namespace

std::unique_ptr<ConsoleService::Stub> Console(const Endpoints& e) {
  return ConsoleService::NewStub(GatewayChannel(e.gateway));
}

int Keygen() {
  std::printf("%s\n%s\n", pii::FieldCipher::GenerateKeySpec("k1").c_str(),
              pii::FieldCipher::GenerateKeySpec("index").c_str());
  return 0;
}

namespace {

// The visits of the demo's two weeks; idempotent (existing occurrences are counted, not
// duplicated), so a later `make run` brings the street into its own current week.
int MaterializeDemoVisits(const Endpoints& e, const demo::DemoCalendar& calendar) {
  auto scheduling = scheduling::v1::SchedulingService::NewStub(BackendChannel(
      e.scheduling, "linli-scheduling", scheduling::v1::SchedulingService::service_full_name()));
  scheduling::v1::MaterializeVisitsRequest materialize;
  materialize.set_from_date(absl::FormatCivilTime(calendar.visits_from));
  materialize.set_days(calendar.visit_days);
  // Promises that start today owe nothing whose window closed before they were made.
  materialize.set_skip_closed_windows(true);
  scheduling::v1::MaterializeVisitsResponse visits;
  auto long_context = NewClientContext(nullptr, absl::Minutes(10));
  std::fprintf(stderr, "seeding demo street: visits from %s through %s ...",
               absl::FormatCivilTime(calendar.visits_from).c_str(),
               absl::FormatCivilTime(calendar.visits_from + (calendar.visit_days - 1)).c_str());
  grpc::Status status = scheduling->MaterializeVisits(long_context.get(), materialize, &visits);
  if (!status.ok()) return Fail(status);
  std::fprintf(stderr, " %d visits (%d new) for %d commitments; %d windows already closed\n",
               visits.created() + visits.existing(), visits.created(), visits.commitments(),
               visits.skipped());
  return 0;
}

// Waits until feedback has applied scheduling's events up to the last one recorded now (so it
// knows the visits just imported), showing how far it is; gives up when it moves no further for a
// minute.
grpc::Status AwaitFeedback(scheduling::v1::SchedulingService::Stub& scheduling,
                           feedback::v1::FeedbackService::Stub& feedback, absl::Duration timeout) {
  scheduling::v1::ListEventsRequest last_request;
  last_request.set_page_size(1);
  scheduling::v1::ListEventsResponse last;
  grpc::Status status =
      scheduling.ListEvents(NewClientContext(nullptr, timeout).get(), last_request, &last);
  if (!status.ok()) return status;
  int64_t seen = -1;
  Stopwatch since_moved;
  while (true) {
    feedback::v1::GetConsumerStatusResponse consumer;
    status = feedback.GetConsumerStatus(NewClientContext(nullptr, timeout).get(), {}, &consumer);
    if (!status.ok()) return status;
    int64_t at = 0;
    for (const auto& cursor : consumer.cursors()) {
      if (cursor.source() == "scheduling") at = cursor.sequence();
    }
    if (at != seen) {
      seen = at;
      since_moved = Stopwatch();
      std::fprintf(stderr, "\rseeding demo street: feedback has read %lld/%lld events",
                   static_cast<long long>(at), static_cast<long long>(last.last_sequence()));
    }
    if (at >= last.last_sequence()) break;
    if (since_moved.Elapsed() > absl::Minutes(1)) {
      std::fprintf(stderr, "\n");
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          "linli-feedback read none of scheduling's events for a minute (is its "
                          "--scheduling_address this scheduling? see its log)");
    }
    absl::SleepFor(absl::Milliseconds(250));
  }
  std::fprintf(stderr, "\n");
  return grpc::Status::OK;
}

// Complaints about missed visits of the demo street's past, as the 12345 hotline passes them on,
// left at each step of their flow: accepted, classified, routed, resolved, closed after the
// callback. They are made now (work orders have no past to import); request ids make a repeated
// run add none.
grpc::Status SeedDemoComplaints(feedback::v1::FeedbackService::Stub& feedback, const Endpoints& e,
                                const std::vector<scheduling::v1::ImportedVisit>& rows,
                                const std::vector<std::string>& names) {
  constexpr int kComplaints = 10;
  int made = 0;
  for (size_t i = 0; i < rows.size() && made < kComplaints; ++i) {
    if (rows[i].state() != scheduling::v1::VISIT_STATE_MISSED || names[i].empty()) continue;
    const int step = made % 5;  // how far along its flow it is
    feedback::v1::CreateWorkOrderRequest create;
    create.set_request_id(absl::StrCat("demo-complaint-", made));
    feedback::v1::WorkOrder* order = create.mutable_work_order();
    order->set_source(feedback::v1::WORK_ORDER_SOURCE_HOTLINE_12345);
    order->set_external_reference(absl::StrFormat("12345-%06d", 100 + made));
    order->set_visit(names[i]);
    order->set_description("12345来电：老人反映约好的上门服务没有人来，也没有人打电话说明。");
    ++made;
    feedback::v1::CreateWorkOrderResponse created;
    grpc::Status status =
        feedback.CreateWorkOrder(NewClientContext(nullptr, e.timeout).get(), create, &created);
    if (!status.ok()) return status;
    const std::string name = created.work_order().name();
    if (created.work_order().state() != feedback::v1::WORK_ORDER_STATE_ACCEPTED) continue;
    if (step >= 1) {
      feedback::v1::ClassifyWorkOrderRequest r;
      r.set_name(name);
      r.set_category(feedback::v1::WORK_ORDER_CATEGORY_MISSED_VISIT);
      feedback::v1::ClassifyWorkOrderResponse out;
      status = feedback.ClassifyWorkOrder(NewClientContext(nullptr, e.timeout).get(), r, &out);
    }
    if (status.ok() && step >= 2) {
      feedback::v1::RouteWorkOrderRequest r;
      r.set_name(name);
      feedback::v1::RouteWorkOrderResponse out;
      status = feedback.RouteWorkOrder(NewClientContext(nullptr, e.timeout).get(), r, &out);
    }
    if (status.ok() && step >= 3) {
      feedback::v1::ResolveWorkOrderRequest r;
      r.set_name(name);
      r.set_resolution("已向老人致歉，补约了上门时间，并调整了该片区的排班。");
      feedback::v1::ResolveWorkOrderResponse out;
      status = feedback.ResolveWorkOrder(NewClientContext(nullptr, e.timeout).get(), r, &out);
    }
    if (status.ok() && step >= 4) {
      feedback::v1::RecordCallbackRequest r;
      r.set_name(name);
      r.set_satisfaction(4);
      feedback::v1::RecordCallbackResponse out;
      status = feedback.RecordCallback(NewClientContext(nullptr, e.timeout).get(), r, &out);
      if (status.ok()) {
        feedback::v1::CloseWorkOrderRequest close;
        close.set_name(name);
        feedback::v1::CloseWorkOrderResponse closed;
        status =
            feedback.CloseWorkOrder(NewClientContext(nullptr, e.timeout).get(), close, &closed);
      }
    }
    if (!status.ok()) return status;
  }
  std::fprintf(stderr, "seeding demo street: %d complaints from 12345 at each step of their flow\n",
               made);
  return grpc::Status::OK;
}

// The demo street's past (tools/demo_street.h): the visits of the promises' occurrences whose
// windows closed before now, imported as a provider's records are (SchedulingService.ImportVisits),
// then the elders' answers about them (FeedbackService.ImportFeedback) once feedback has read the
// visits' events. Only a first seeding makes the past (an already loaded street is left as is).
grpc::Status SeedDemoHistory(const Endpoints& e, const DemoOptions& options,
                             RegistryService::Stub& registry,
                             scheduling::v1::SchedulingService::Stub& scheduling,
                             const std::vector<scheduling::v1::Commitment>& commitments,
                             const demo::DemoCalendar& calendar, const Clock& clock) {
  const absl::Time now = clock.Now();
  // The past runs up to the first day materialised (today, or a pinned week's Monday), whose
  // windows already closed are past too; a pinned week's later days are never history.
  const absl::CivilDay end = calendar.visits_from + 1;
  // Each owner's workers, in the registry's order.
  std::map<std::string, std::vector<std::string>> workers;
  for (const auto& c : commitments) {
    if (c.name().empty() || workers.contains(c.owner_organisation())) continue;
    std::vector<std::string>& names = workers[c.owner_organisation()];
    registry::v1::ListWorkersRequest list;
    list.set_organisation(c.owner_organisation());
    list.set_page_size(1000);
    do {
      registry::v1::ListWorkersResponse page;
      grpc::Status status =
          registry.ListWorkers(NewClientContext(nullptr, e.timeout).get(), list, &page);
      if (!status.ok()) return status;
      for (const auto& w : page.workers()) names.push_back(w.name());
      list.set_page_token(page.next_page_token());
    } while (!list.page_token().empty());
  }
  // Every promise's past, in promise order.
  struct Past {
    size_t commitment;
    size_t first;  // index of its first row in `rows`
    size_t count;
  };
  std::vector<Past> pasts;
  std::vector<scheduling::v1::ImportedVisit> rows;
  for (size_t i = 0; i < commitments.size(); ++i) {
    const scheduling::v1::Commitment& c = commitments[i];
    if (c.name().empty()) continue;
    // Occurrences over by now even for a late worker who stayed long (DemoVisitHistory: up to
    // 50 minutes after window and tolerance, 1.15 times the planned length).
    const absl::Time over_by = now - absl::Minutes(60 + c.duration_minutes() * 6 / 5);
    std::vector<demo::PastOccurrence> occurrences;
    for (const scheduling::Occurrence& o :
         scheduling::Occurrences(c, calendar.valid_from, end, 1000)) {
      if (scheduling::WindowClosed(c, o, over_by)) occurrences.push_back({o.key, o.window_start});
    }
    std::vector<scheduling::v1::ImportedVisit> past = demo::DemoVisitHistory(
        c, static_cast<int>(i), occurrences, workers[c.owner_organisation()]);
    pasts.push_back({i, rows.size(), past.size()});
    for (auto& row : past) rows.push_back(std::move(row));
  }
  std::vector<std::string> names(rows.size());
  grpc::Status status =
      ImportInChunks<scheduling::v1::ImportVisitsRequest, scheduling::v1::ImportVisitsResponse>(
          "past visits", rows.size(),
          [&](scheduling::v1::ImportVisitsRequest& r, size_t i) { *r.add_rows() = rows[i]; },
          [&](const auto& r, auto* out) {
            return scheduling.ImportVisits(NewClientContext(nullptr, absl::Minutes(2)).get(), r,
                                           out);
          },
          [&](const scheduling::v1::ImportVisitsResponse& out, size_t first) {
            for (int i = 0; i < out.visits_size(); ++i) names[first + i] = out.visits(i);
          });
  if (!status.ok()) return status;
  if (rows.empty()) return grpc::Status::OK;

  // The elders' answers, once feedback knows the visits.
  auto feedback = Feedback(options.feedback_address);
  status = AwaitFeedback(scheduling, *feedback, e.timeout);
  if (!status.ok()) return status;
  std::vector<feedback::v1::ImportedFeedback> answers;
  for (const Past& p : pasts) {
    const std::vector<scheduling::v1::ImportedVisit> past(rows.begin() + p.first,
                                                          rows.begin() + p.first + p.count);
    const std::vector<std::string> visits(names.begin() + p.first,
                                          names.begin() + p.first + p.count);
    for (auto& a : demo::DemoAnswers(commitments[p.commitment], static_cast<int>(p.commitment),
                                     past, visits, now)) {
      answers.push_back(std::move(a));
    }
  }
  status =
      ImportInChunks<feedback::v1::ImportFeedbackRequest, feedback::v1::ImportFeedbackResponse>(
          "answers", answers.size(),
          [&](feedback::v1::ImportFeedbackRequest& r, size_t i) { *r.add_rows() = answers[i]; },
          [&](const auto& r, auto* out) {
            return feedback->ImportFeedback(NewClientContext(nullptr, absl::Minutes(2)).get(), r,
                                            out);
          },
          [](const auto&, size_t) {});
  if (!status.ok()) return status;
  return SeedDemoComplaints(*feedback, e, rows, names);
}

}  // namespace

int SeedDemo(const Endpoints& e, const DemoOptions& options, const Clock& clock) {
  // The demo street's offerings and rotas begin on Monday 2026-01-05 (tools/demo_street.cc).
  constexpr absl::CivilDay kFirstDemoWeek(2026, 1, 5);
  std::optional<absl::CivilDay> pinned;
  if (!options.week.empty()) {
    absl::CivilDay day;
    if (!absl::ParseCivilTime(options.week, &day) || demo::WeekStart(day) < kFirstDemoWeek) {
      std::fprintf(stderr, "--demo_week must be a date YYYY-MM-DD from 2026-01-05 on\n");
      return 2;
    }
    pinned = day;
  }
  const demo::DemoCalendar calendar =
      demo::DemoCalendarFor(absl::ToCivilDay(clock.Now(), recurrence::ShanghaiTimeZone()), pinned);
  auto stub = RegistryService::NewStub(
      BackendChannel(e.registry, "linli-registry", RegistryService::service_full_name()));
  auto context = [&] { return NewClientContext(nullptr, e.timeout); };
  {
    registry::v1::GetOrganisationRequest probe;
    probe.set_name("organisations/wlq-street-office");
    registry::v1::GetOrganisationResponse found;
    grpc::Status status = stub->GetOrganisation(context().get(), probe, &found);
    if (status.ok()) {
      std::fprintf(stderr, "demo street already loaded\n");
      return MaterializeDemoVisits(e, calendar);
    }
    if (status.error_code() != grpc::StatusCode::NOT_FOUND) return Fail(status);
  }
  const demo::DemoStreet street = demo::GenerateDemoStreet(options.elders);
  const int parallelism = options.parallelism;
  // Order matters: regions and lines before organisations, parents before children.
  grpc::Status status = SendAll("regions", street.regions, 1, [&](const auto& r) {
    registry::v1::CreateRegionResponse out;
    return stub->CreateRegion(context().get(), r, &out);
  });
  if (status.ok()) {
    status = SendAll("lines", street.lines, parallelism, [&](const auto& r) {
      registry::v1::CreateLineResponse out;
      return stub->CreateLine(context().get(), r, &out);
    });
  }
  if (status.ok()) {
    status = SendAll("services", street.service_types, 1, [&](const auto& r) {
      registry::v1::CreateServiceTypeResponse out;
      return stub->CreateServiceType(context().get(), r, &out);
    });
  }
  // The map goes in the way a street's own rosters do (ImportRecords; parents before children).
  if (status.ok()) {
    status = ImportAll(*stub, e, "organisations", street.organisations,
                       [](registry::v1::ImportedRecord& row, const auto& r) {
                         *row.mutable_organisation() = r.organisation();
                       });
  }
  if (status.ok()) {
    status = ImportAll(*stub, e, "relations", street.relations,
                       [](registry::v1::ImportedRecord& row, const auto& r) {
                         *row.mutable_relation() = r.relation();
                       });
  }
  if (status.ok()) {
    status = ImportAll(*stub, e, "offerings", street.offerings,
                       [](registry::v1::ImportedRecord& row, const auto& r) {
                         *row.mutable_offering() = r.offering();
                       });
  }
  if (status.ok()) {
    status = ImportAll(*stub, e, "workers", street.workers,
                       [](registry::v1::ImportedRecord& row, const auto& r) {
                         *row.mutable_worker() = r.worker();
                       });
  }
  // The elders as a committee's roster goes in (ImportElders, known again by ID number).
  std::vector<std::string> elder_names(street.elders.size());
  if (status.ok()) {
    status = ImportInChunks<registry::v1::ImportEldersRequest, registry::v1::ImportEldersResponse>(
        "elders", street.elders.size(),
        [&](registry::v1::ImportEldersRequest& r, size_t i) {
          *r.add_rows()->mutable_elder() = street.elders[i].elder();
        },
        [&](const auto& r, auto* out) {
          return stub->ImportElders(NewClientContext(nullptr, absl::Minutes(2)).get(), r, out);
        },
        [&](const registry::v1::ImportEldersResponse& out, size_t first) {
          for (int i = 0; i < out.elders_size(); ++i) elder_names[first + i] = out.elders(i);
        });
  }
  if (!status.ok()) return Fail(status);

  // The promises made to these elders, and their visits for this week and the next.
  auto scheduling = scheduling::v1::SchedulingService::NewStub(BackendChannel(
      e.scheduling, "linli-scheduling", scheduling::v1::SchedulingService::service_full_name()));
  const auto commitments = demo::DemoCommitments(street, elder_names, calendar);
  std::fprintf(stderr, "seeding demo street: promises valid from %s (week of %s)\n",
               absl::FormatCivilTime(calendar.valid_from).c_str(),
               absl::FormatCivilTime(calendar.week_start).c_str());
  // The promises as a roster of them goes in (ImportCommitments), then read back whole (with
  // the care-grade defaults scheduling applied) for their history.
  std::vector<std::string> commitment_names(commitments.size());
  status = ImportInChunks<scheduling::v1::ImportCommitmentsRequest,
                          scheduling::v1::ImportCommitmentsResponse>(
      "commitments", commitments.size(),
      [&](scheduling::v1::ImportCommitmentsRequest& r, size_t i) {
        *r.add_rows()->mutable_commitment() = commitments[i].commitment();
      },
      [&](const auto& r, auto* out) {
        return scheduling->ImportCommitments(NewClientContext(nullptr, absl::Minutes(2)).get(), r,
                                             out);
      },
      [&](const scheduling::v1::ImportCommitmentsResponse& out, size_t first) {
        for (int i = 0; i < out.commitments_size(); ++i) {
          commitment_names[first + i] = out.commitments(i);
        }
      });
  std::vector<scheduling::v1::Commitment> made(commitments.size());
  if (status.ok()) {
    std::map<std::string, size_t> place;
    for (size_t i = 0; i < commitment_names.size(); ++i) place[commitment_names[i]] = i;
    scheduling::v1::ListCommitmentsRequest list;
    list.set_page_size(1000);
    do {
      scheduling::v1::ListCommitmentsResponse page;
      status = scheduling->ListCommitments(context().get(), list, &page);
      if (!status.ok()) break;
      for (auto& c : *page.mutable_commitments()) {
        if (auto it = place.find(c.name()); it != place.end()) made[it->second] = std::move(c);
      }
      list.set_page_token(page.next_page_token());
    } while (!list.page_token().empty());
  }
  if (status.ok()) status = SeedDemoHistory(e, options, *stub, *scheduling, made, calendar, clock);
  if (!status.ok()) return Fail(status);
  return MaterializeDemoVisits(e, calendar);
}

int Map(const Endpoints& e, const std::string& region, const std::string& format,
        const std::string& out) {
  if (format != "svg" && format != "dot" && format != "json") {
    std::fprintf(stderr, "--format must be svg, dot or json\n");
    return 2;
  }
  registry::v1::GetMapRequest request;
  request.set_region(region.empty() ? demo::kDemoStreetRegion : region);
  registry::v1::GetMapResponse response;
  grpc::Status status =
      Console(e)->GetMap(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::string text;
  if (format == "json") {
    response.clear_dot();
    text = Json(response);
  } else if (format == "dot") {
    text = response.dot();
  } else {
    // Render with Graphviz: dot reads the graph on stdin and writes SVG.
    std::string dot_file = (out.empty() ? std::string("/tmp/linli-map") : out) + ".dot";
    std::ofstream(dot_file) << response.dot();
    std::string target = out.empty() ? "/dev/stdout" : out;
    int rc = std::system(absl::StrCat("dot -Tsvg '", dot_file, "' -o '", target, "'").c_str());
    std::remove(dot_file.c_str());
    if (rc != 0) {
      std::fprintf(stderr, "Graphviz `dot` failed (is the graphviz package installed?)\n");
      return 1;
    }
    std::fprintf(stderr, "map: %d nodes, %d edges -> %s\n", response.nodes_size(),
                 response.edges_size(), target.c_str());
    return 0;
  }
  if (out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    std::ofstream(out) << text;
    std::fprintf(stderr, "map: %d nodes, %d edges -> %s\n", response.nodes_size(),
                 response.edges_size(), out.c_str());
  }
  return 0;
}

int Providers(const Endpoints& e, const std::string& elder, const std::string& service) {
  registry::v1::SearchProvidersRequest request;
  request.set_elder(elder);
  request.set_service_type(service);
  registry::v1::SearchProvidersResponse response;
  grpc::Status status =
      Console(e)->SearchProviders(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%-8s %-10s %-10s %-34s %s\n", "distance", "sector", "cap/week", "organisation",
              "offering");
  for (const auto& m : response.matches()) {
    std::string sector = registry::v1::Sector_Name(m.organisation().sector()).substr(7);
    std::printf("%6dm  %-10s %-10s %-34s %s\n", m.distance_meters(), sector.c_str(),
                m.capacity_left_per_week() < 0 ? "unlimited"
                                               : absl::StrCat(m.capacity_left_per_week()).c_str(),
                m.organisation().display_name().c_str(), m.offering().display_name().c_str());
  }
  if (response.matches_size() == 0) std::printf("(no provider covers this elder)\n");
  return 0;
}

int ListOrganisations(const Endpoints& e, const std::string& region) {
  auto console = Console(e);
  registry::v1::ListOrganisationsRequest request;
  request.set_region(region);
  do {
    registry::v1::ListOrganisationsResponse response;
    grpc::Status status =
        console->ListOrganisations(NewClientContext(nullptr, e.timeout).get(), request, &response);
    if (!status.ok()) return Fail(status);
    for (const auto& o : response.organisations()) {
      std::printf("%-36s %-44s %s\n", o.name().c_str(),
                  registry::v1::OrganisationKind_Name(o.kind()).substr(18).c_str(),
                  o.display_name().c_str());
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return 0;
}

int ListElders(const Endpoints& e, const std::string& region) {
  registry::v1::ListEldersRequest request;
  request.set_region(region);
  request.set_page_size(50);
  registry::v1::ListEldersResponse response;
  grpc::Status status =
      Console(e)->ListElders(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  for (const auto& elder : response.elders()) {
    std::printf("%-40s %-8s %-20s %-13s %s\n", elder.name().c_str(), elder.display_name().c_str(),
                elder.id_number().c_str(), elder.phone().c_str(),
                registry::v1::LivingSituation_Name(elder.living_situation()).substr(17).c_str());
  }
  if (!response.next_page_token().empty()) std::printf("(first 50 shown)\n");
  return 0;
}

int GetElder(const Endpoints& e, const std::string& name, const std::string& reason) {
  registry::v1::GetElderRequest request;
  request.set_name(name);
  if (!reason.empty()) {
    request.set_view(registry::v1::ELDER_VIEW_FULL);
    request.set_reason(reason);
  }
  registry::v1::GetElderResponse response;
  grpc::Status status =
      Console(e)->GetElder(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%s\n", Json(response.elder()).c_str());
  return 0;
}

int Audit(const Endpoints& e, const std::string& elder) {
  registry::v1::ListAuditEntriesRequest request;
  request.set_elder(elder);
  registry::v1::ListAuditEntriesResponse response;
  grpc::Status status =
      Console(e)->ListAuditEntries(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  for (const auto& entry : response.entries()) std::printf("%s\n", Json(entry).c_str());
  // Reads of the elder's visit notes, from scheduling's log.
  scheduling::v1::ListAuditEntriesRequest notes_request;
  notes_request.set_elder(elder);
  scheduling::v1::ListAuditEntriesResponse notes;
  status = Console(e)->ListNoteAuditEntries(NewClientContext(nullptr, e.timeout).get(),
                                            notes_request, &notes);
  if (!status.ok()) return Fail(status);
  for (const auto& entry : notes.entries()) std::printf("%s\n", Json(entry).c_str());
  // Reads of the elder's words (answers, complaints), from feedback's log.
  feedback::v1::ListAuditEntriesRequest words_request;
  words_request.set_elder(elder);
  feedback::v1::ListAuditEntriesResponse words;
  status = Console(e)->ListFeedbackAuditEntries(NewClientContext(nullptr, e.timeout).get(),
                                                words_request, &words);
  if (!status.ok()) return Fail(status);
  for (const auto& entry : words.entries()) std::printf("%s\n", Json(entry).c_str());
  return 0;
}

int Street(const Endpoints& e, const std::string& region, const std::string& date) {
  feedback::v1::GetDayBoardRequest board_request;
  board_request.set_region(region);
  board_request.set_date(date);
  board_request.set_attention_limit(10);
  feedback::v1::GetDayBoardResponse board;
  grpc::Status status =
      Console(e)->GetDayBoard(NewClientContext(nullptr, e.timeout).get(), board_request, &board);
  if (!status.ok()) return Fail(status);
  const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
  auto hhmm = [&](const google::protobuf::Timestamp& t) {
    return absl::FormatTime("%H:%M", FromTimestamp(t), shanghai);
  };
  const auto& t = board.total();
  std::printf("%s  %s (as of %s)\n", region.empty() ? "your region" : region.c_str(),
              board.date().c_str(), hhmm(board.as_of()).c_str());
  std::printf(
      "今日走访 visits: %d  完成 done %d (迟到 late arrivals %d, 待审核 under review %d) · 进行中 "
      "in progress %d · 待上门 scheduled %d · 迟到未到 late %d · 无人 unstaffed %d · 错过 missed "
      "%d "
      "· 取消 cancelled %d\n",
      t.scheduled() + t.unstaffed() + t.late() + t.in_progress() + t.done() + t.missed() +
          t.cancelled(),
      t.done(), t.late_arrivals(), t.under_review(), t.in_progress(), t.scheduled(), t.late(),
      t.unstaffed(), t.missed(), t.cancelled());
  std::printf("%-22s %6s %6s %6s %6s %9s %6s\n", "committee", "done", "inprog", "sched", "late",
              "unstaffed", "missed");
  for (const auto& c : board.committees()) {
    const auto& n = c.counts();
    std::printf("%-22s %6d %6d %6d %6d %9d %6d\n", c.committee().c_str(), n.done(), n.in_progress(),
                n.scheduled(), n.late(), n.unstaffed(), n.missed());
  }
  std::printf("需要处理 needs action: %d\n", board.attention_total());
  for (const auto& v : board.attention()) {
    std::printf("  %-10s %s-%s  %s  %s  %s\n",
                feedback::v1::BoardState_Name(v.state()).substr(12).c_str(),
                v.has_window_start() ? hhmm(v.window_start()).c_str() : "--:--",
                v.has_window_end() ? hhmm(v.window_end()).c_str() : "--:--", v.visit().c_str(),
                v.elder().c_str(), v.committee().c_str());
  }
  // The week's promises and the open alerts of the same region.
  feedback::v1::ListPromisesRequest promises_request;
  promises_request.set_region(region);
  promises_request.set_days(7);
  promises_request.set_page_size(1);
  feedback::v1::ListPromisesResponse promises;
  status = Console(e)->ListPromises(NewClientContext(nullptr, e.timeout).get(), promises_request,
                                    &promises);
  if (!status.ok()) return Fail(status);
  std::printf("承诺 promises, last 7 days: broken %d · at risk %d · kept %d\n", promises.broken(),
              promises.at_risk(), promises.kept());
  feedback::v1::ListAlertsRequest alerts_request;
  alerts_request.set_region(region);
  alerts_request.set_state(feedback::v1::ALERT_STATE_OPEN);
  alerts_request.set_page_size(500);
  int open_alerts = 0;
  do {
    feedback::v1::ListAlertsResponse alerts;
    status =
        Console(e)->ListAlerts(NewClientContext(nullptr, e.timeout).get(), alerts_request, &alerts);
    if (!status.ok()) return Fail(status);
    open_alerts += alerts.alerts_size();
    alerts_request.set_page_token(alerts.next_page_token());
  } while (!alerts_request.page_token().empty());
  std::printf("预警 open alerts: %d\n", open_alerts);
  return 0;
}

int Reviews(const Endpoints& e, const std::string& region) {
  feedback::v1::ListVisitsAwaitingReviewRequest request;
  request.set_region(region);
  request.set_page_size(500);
  int shown = 0;
  do {
    feedback::v1::ListVisitsAwaitingReviewResponse response;
    grpc::Status status = Console(e)->ListVisitsAwaitingReview(
        NewClientContext(nullptr, e.timeout).get(), request, &response);
    if (!status.ok()) return Fail(status);
    for (const auto& v : response.visits()) {
      std::printf("%s  %s  %s  %s  %s\n", v.visit_date().c_str(), v.visit().c_str(),
                  v.elder().c_str(), v.owner_organisation().c_str(), v.committee().c_str());
      ++shown;
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  std::fprintf(stderr, "%d visit(s) awaiting review (linli review VISIT --decision ...)\n", shown);
  return 0;
}

int ReviewVisit(const Endpoints& e, const std::string& visit, const std::string& decision,
                const std::string& code, const std::string& note) {
  if (decision != "approve" && decision != "reject") {
    std::fprintf(stderr, "--decision must be approve or reject\n");
    return 2;
  }
  scheduling::v1::ReviewVisitRequest request;
  request.set_name(visit);
  request.set_decision(decision == "approve" ? scheduling::v1::REVIEW_DECISION_APPROVE
                                             : scheduling::v1::REVIEW_DECISION_REJECT);
  request.set_reason_code(code);
  request.set_note(note);
  scheduling::v1::ReviewVisitResponse response;
  grpc::Status status =
      Console(e)->ReviewVisit(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  const auto& review = response.visit().review();
  std::printf("%s  %s  %s by %s\n", response.visit().name().c_str(),
              scheduling::v1::ReviewState_Name(review.state()).substr(13).c_str(),
              review.reason_code().c_str(), review.reviewer().c_str());
  return 0;
}

int ElderWords(const Endpoints& e, const std::string& region, const std::string& elder, int days,
               const std::string& reason) {
  feedback::v1::ListFeedbackRequest request;
  request.set_region(region);
  request.set_elder(elder);
  request.set_window_days(days);
  request.set_with_words_only(true);
  request.set_reason(reason);
  request.set_page_size(200);
  int shown = 0;
  do {
    feedback::v1::ListFeedbackResponse response;
    grpc::Status status =
        Console(e)->ListFeedback(NewClientContext(nullptr, e.timeout).get(), request, &response);
    if (!status.ok()) return Fail(status);
    for (const auto& f : response.feedback()) {
      std::printf("%s  %s  %s  %s  %d/5%s  %s\n",
                  absl::FormatTime("%Y-%m-%d %H:%M", FromTimestamp(f.create_time()),
                                   absl::FixedTimeZone(8 * 3600))
                      .c_str(),
                  f.elder().c_str(), f.visit().c_str(), f.author().c_str(), f.faces(),
                  f.nobody_came() ? "  没人来/nobody came" : "", f.words().c_str());
      ++shown;
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  std::fprintf(stderr, "%d answer(s) with words; each read is in the audit log\n", shown);
  return 0;
}

int ProposeFallback(const Endpoints& e, const std::string& commitment, bool always) {
  scheduling::v1::ProposeFallbackRequest request;
  request.set_commitment(commitment);
  request.set_always(always);
  scheduling::v1::ProposeFallbackResponse response;
  grpc::Status status =
      Console(e)->ProposeFallback(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%s\n", Json(response).c_str());
  return 0;
}

int CreateReferral(const Endpoints& e, const std::string& commitment, const std::string& offering,
                   const std::string& code, int hours) {
  scheduling::v1::CreateReferralRequest request;
  request.set_commitment(commitment);
  request.set_offering(offering);
  scheduling::v1::ReferralReason reason = scheduling::v1::REFERRAL_REASON_UNSPECIFIED;
  if (!code.empty() && !scheduling::v1::ReferralReason_Parse(
                           "REFERRAL_REASON_" + absl::AsciiStrToUpper(code), &reason)) {
    std::fprintf(stderr,
                 "--code must be owner_no_offering, owner_no_capacity, owner_no_skilled_worker, "
                 "elder_request or quality\n");
    return 2;
  }
  request.set_reason(reason);
  request.set_respond_within_hours(hours);
  scheduling::v1::CreateReferralResponse response;
  grpc::Status status =
      Console(e)->CreateReferral(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%s\n", Json(response).c_str());
  return 0;
}

int ListReferrals(const Endpoints& e, const std::string& region) {
  scheduling::v1::ListReferralsRequest request;
  request.set_region(region);
  const absl::TimeZone tz = absl::FixedTimeZone(8 * 3600);
  do {
    scheduling::v1::ListReferralsResponse response;
    grpc::Status status =
        Console(e)->ListReferrals(NewClientContext(nullptr, e.timeout).get(), request, &response);
    if (!status.ok()) return Fail(status);
    for (const auto& r : response.referrals()) {
      std::printf(
          "%s  %-10s %s  %s -> %s  sent %s  answer by %s\n", r.name().c_str(),
          scheduling::v1::ReferralState_Name(r.state()).substr(15).c_str(), r.commitment().c_str(),
          r.from_organisation().c_str(), r.to_organisation().c_str(),
          absl::FormatTime("%m-%d %H:%M", linli::FromTimestamp(r.send_time()), tz).c_str(),
          absl::FormatTime("%m-%d %H:%M", linli::FromTimestamp(r.respond_by()), tz).c_str());
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return 0;
}

int UnmetNeeds(const Endpoints& e, const std::string& region) {
  scheduling::v1::ListUnmetNeedsRequest request;
  request.set_region(region);
  request.set_page_size(1000);
  scheduling::v1::ListUnmetNeedsResponse response;
  grpc::Status status =
      Console(e)->ListUnmetNeeds(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%-24s %8s %6s %6s %14s\n", "committee", "elders", "needs", "unmet", "elders unmet");
  for (const auto& c : response.committees()) {
    std::printf("%-24s %8d %6d %6d %14d\n", c.committee().c_str(), c.elders_with_needs(), c.needs(),
                c.unmet(), c.elders_unmet());
  }
  for (const auto& u : response.unmet()) {
    std::printf("  %s  %s  %s\n", u.committee().c_str(), u.elder().c_str(),
                u.service_type().c_str());
  }
  if (response.truncated()) std::printf("  … (first %d listed)\n", response.unmet_size());
  return 0;
}

int WithdrawReferral(const Endpoints& e, const std::string& referral) {
  scheduling::v1::WithdrawReferralRequest request;
  request.set_name(referral);
  scheduling::v1::WithdrawReferralResponse response;
  grpc::Status status =
      Console(e)->WithdrawReferral(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%s\n", Json(response).c_str());
  return 0;
}

int ListCommitments(const Endpoints& e, const std::string& elder) {
  scheduling::v1::ListCommitmentsRequest request;
  request.set_elder(elder);
  scheduling::v1::ListCommitmentsResponse response;
  grpc::Status status =
      Console(e)->ListCommitments(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  for (const auto& c : response.commitments()) {
    std::printf("%-45s %-28s %-34s %3d min  %s\n", c.name().c_str(), c.service_type().c_str(),
                c.recurrence().rrule().c_str(), c.duration_minutes(),
                scheduling::v1::CommitmentState_Name(c.state()).substr(17).c_str());
  }
  return 0;
}

int ListVisits(const Endpoints& e, const std::string& elder, const std::string& from, int days) {
  scheduling::v1::ListVisitsRequest request;
  request.set_elder(elder);
  absl::CivilDay day;
  if (!from.empty()) {
    if (!absl::ParseCivilTime(from, &day)) {
      std::fprintf(stderr, "--from must be YYYY-MM-DD\n");
      return 2;
    }
    request.set_from_date(from);
    request.set_to_date(absl::FormatCivilTime(day + days));
  }
  const absl::TimeZone tz = absl::FixedTimeZone(8 * 3600);
  do {
    scheduling::v1::ListVisitsResponse response;
    grpc::Status status =
        Console(e)->ListVisits(NewClientContext(nullptr, e.timeout).get(), request, &response);
    if (!status.ok()) return Fail(status);
    for (const auto& v : response.visits()) {
      const absl::Time start = absl::FromUnixSeconds(v.window_start().seconds());
      const absl::Time end = absl::FromUnixSeconds(v.window_end().seconds());
      std::printf("%s-%s  %-24s %-10s %s\n",
                  absl::FormatTime("%Y-%m-%d %a %H:%M", start, tz).c_str(),
                  absl::FormatTime("%H:%M", end, tz).c_str(), v.service_type().c_str(),
                  scheduling::v1::VisitState_Name(v.state()).substr(12).c_str(), v.name().c_str());
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return 0;
}

int Plan(const Endpoints& e, const std::string& region, const std::string& from, int days,
         double time_limit_seconds, bool dry_run, const std::string& problem_dir) {
  absl::CivilDay first;
  if (!absl::ParseCivilTime(from, &first) || days < 1 || days > 62) {
    std::fprintf(stderr, "plan needs --from YYYY-MM-DD and --days 1-62\n");
    return 2;
  }
  auto scheduling = scheduling::v1::SchedulingService::NewStub(BackendChannel(
      e.scheduling, "linli-scheduling", scheduling::v1::SchedulingService::service_full_name()));
  int visits = 0, booked = 0, conflicts = 0, unassigned = 0;
  double travel = 0;
  std::map<std::string, int> reasons;  // of the (at most 100 per day) unassigned listed
  const Stopwatch started;
  std::printf("%-10s %8s %8s %8s %10s %10s %8s %7s\n", "day", "visits", "workers", "booked",
              "not booked", "travel min", "late min", "seconds");
  // One day per call: a district's day is a planner run of its own, and the caller sees progress.
  for (int d = 0; d < days; ++d) {
    const std::string day = absl::FormatCivilTime(first + d);
    scheduling::v1::PlanRequest request;
    request.set_from_date(day);
    request.set_days(1);
    request.set_region(region);
    request.set_time_limit_seconds(time_limit_seconds);
    request.set_dry_run(dry_run);
    request.set_include_problem(!problem_dir.empty());
    scheduling::v1::PlanResponse response;
    const Stopwatch day_run;
    grpc::Status status = scheduling->Plan(
        NewClientContext(nullptr, e.timeout + absl::Seconds(time_limit_seconds) * 2).get(), request,
        &response);
    if (!status.ok()) return Fail(status);
    std::printf("%-10s %8d %8d %8d %10d %10.0f %8.0f %7.1f\n", day.c_str(), response.visits(),
                response.workers(), response.booked(), response.not_booked(),
                response.objective().travel(), response.objective().total_lateness(),
                absl::ToDoubleSeconds(day_run.Elapsed()));
    std::fflush(stdout);
    for (const auto& u : response.unassigned()) ++reasons[u.reason()];
    if (!problem_dir.empty()) {
      const std::string path = absl::StrCat(problem_dir, "/plan-", day, ".json");
      std::ofstream(path) << Json(response.problem()) << "\n";
      std::fprintf(stderr, "problem written to %s\n", path.c_str());
    }
    visits += response.visits();
    booked += response.booked();
    conflicts += response.conflicts();
    unassigned += response.not_booked();
    travel += response.objective().travel();
  }
  std::printf(
      "%s: %d visits, %d booked%s, %d not booked (%d refused as already taken), "
      "%.0f minutes of travel, %.1f s\n",
      dry_run ? "dry run" : "planned", visits, booked, dry_run ? " (would be)" : "", unassigned,
      conflicts, travel, absl::ToDoubleSeconds(started.Elapsed()));
  for (const auto& [reason, n] : reasons) {
    std::printf("  not booked (sample): %5d x %s\n", n, reason.c_str());
  }
  return 0;
}

// --- Feedback (talks to linli-feedback directly) ------------------------------------------------

int Report(const std::string& feedback_address, absl::Duration timeout, const std::string& org,
           const std::string& from, const std::string& to, const std::string& out) {
  feedback::v1::GetEvaluationReportRequest request;
  request.set_organisation(org.rfind("organisations/", 0) == 0 ? org : "organisations/" + org);
  request.set_from_date(from);
  request.set_to_date(to);
  feedback::v1::GetEvaluationReportResponse response;
  grpc::Status status =
      Feedback(feedback_address)
          ->GetEvaluationReport(NewClientContext(nullptr, timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  const bool json = out.size() >= 5 && out.compare(out.size() - 5, 5, ".json") == 0;
  const std::string body = json ? Json(response.report()) + "\n" : response.html();
  if (out.empty()) {
    std::fwrite(body.data(), 1, body.size(), stdout);
    return 0;
  }
  std::ofstream file(out, std::ios::binary);
  file << body;
  if (!file.good()) {
    std::fprintf(stderr, "cannot write %s\n", out.c_str());
    return 1;
  }
  const auto& r = response.report();
  std::printf("%s: %s %s..%s index %.1f (confidence %.2f), kept %.1f%%, %lld complaints\n",
              out.c_str(), r.organisation().c_str(), r.from_date().c_str(), r.to_date().c_str(),
              r.index().value(), r.index().confidence(), 100.0 * r.kept_ratio(),
              static_cast<long long>(r.complaints().total()));
  return 0;
}

int Alerts(const std::string& feedback_address, absl::Duration timeout, const std::string& region) {
  feedback::v1::ListAlertsRequest request;
  request.set_region(region);
  auto stub = Feedback(feedback_address);
  do {
    feedback::v1::ListAlertsResponse response;
    grpc::Status status =
        stub->ListAlerts(NewClientContext(nullptr, timeout).get(), request, &response);
    if (!status.ok()) return Fail(status);
    for (const auto& a : response.alerts()) {
      std::printf("%s  %-26s %-13s %s  %s\n", a.name().c_str(),
                  feedback::v1::AlertKind_Name(a.kind()).substr(11).c_str(),
                  feedback::v1::AlertState_Name(a.state()).substr(12).c_str(), a.subject().c_str(),
                  a.detail().c_str());
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return 0;
}

int AwaitingAnswers(const std::string& feedback_address, absl::Duration timeout,
                    const std::string& region, int days) {
  feedback::v1::ListVisitsAwaitingAnswerRequest request;
  request.set_region(region);
  request.set_window_days(days);
  auto stub = Feedback(feedback_address);
  int shown = 0;
  do {
    feedback::v1::ListVisitsAwaitingAnswerResponse response;
    grpc::Status status = stub->ListVisitsAwaitingAnswer(NewClientContext(nullptr, timeout).get(),
                                                         request, &response);
    if (!status.ok()) return Fail(status);
    for (const auto& v : response.visits()) {
      std::string why;
      if (v.solitary()) why += " 独居/solitary";
      if (v.disputed_visits() > 0) {
        why += absl::StrCat(" 有争议/disputed ", v.disputed_visits());
      }
      why += v.has_last_answer_time()
                 ? absl::StrCat(" last answer ",
                                absl::FormatTime("%Y-%m-%d", FromTimestamp(v.last_answer_time()),
                                                 absl::FixedTimeZone(8 * 3600)))
                 : " never answered";
      std::printf("%s  %s  %s  %s %s\n", v.visit_date().c_str(), v.visit().c_str(),
                  v.elder().c_str(), v.worker().empty() ? "-" : v.worker().c_str(), why.c_str());
      ++shown;
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  std::fprintf(stderr, "%d visit(s) awaiting an answer\n", shown);
  return 0;
}

int Promises(const std::string& feedback_address, absl::Duration timeout, const std::string& region,
             int days) {
  feedback::v1::ListPromisesRequest request;
  request.set_region(region);
  request.set_days(days);
  request.set_page_size(500);
  auto stub = Feedback(feedback_address);
  feedback::v1::ListPromisesResponse response;
  // Worst first: stop at the first promise kept with nothing against it; the rest are like it.
  bool rest_kept = false;
  do {
    grpc::Status status =
        stub->ListPromises(NewClientContext(nullptr, timeout).get(), request, &response);
    if (!status.ok()) return Fail(status);
    for (const auto& p : response.promises()) {
      if (p.status() == feedback::v1::PROMISE_STATUS_KEPT && p.issues().empty()) {
        rest_kept = true;
        break;
      }
      std::string issues;
      for (int issue : p.issues()) {
        absl::StrAppend(&issues, issues.empty() ? "" : ",",
                        feedback::v1::PromiseIssue_Name(issue).substr(14));
      }
      std::printf("%-9s %s  %s  %s  %s  missed %lld disputed %lld  %s\n",
                  feedback::v1::PromiseStatus_Name(p.status()).substr(15).c_str(),
                  p.commitment().c_str(), p.elder().c_str(), p.committee().c_str(),
                  p.owner_organisation().c_str(),
                  static_cast<long long>(p.figures().missed_visits()),
                  static_cast<long long>(p.figures().disputed_visits()), issues.c_str());
    }
    request.set_page_token(response.next_page_token());
  } while (!rest_kept && !request.page_token().empty());
  std::printf(
      "broken %d, at risk %d, kept %d (%d with no visit due) over the last %d days; kept "
      "promises with nothing against them are not listed\n",
      response.broken(), response.at_risk(), response.kept(), response.no_visits_due(), days);
  return 0;
}

int PerceptionTrend(const std::string& feedback_address, absl::Duration timeout,
                    const std::string& subject, int weeks) {
  feedback::v1::GetPerceptionTrendRequest request;
  request.set_subject(subject);
  request.set_weeks(weeks);
  feedback::v1::GetPerceptionTrendResponse response;
  grpc::Status status =
      Feedback(feedback_address)
          ->GetPerceptionTrend(NewClientContext(nullptr, timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%-10s  %5s  %7s  %8s  %7s  %6s  %7s\n", "week", "index", "promise", "expected",
              "missed", "answers", "disputed");
  for (const auto& week : response.weeks()) {
    const auto& i = week.index();
    const auto& f = i.figures();
    std::printf(
        "%-10s  %5s  %7s  %8lld  %7lld  %6lld  %7lld\n", week.week_start().c_str(),
        i.has_value() ? absl::StrFormat("%.1f", i.value()).c_str() : "-",
        i.has_value() ? absl::StrFormat("%.1f", i.promise_score()).c_str() : "-",
        static_cast<long long>(f.expected_visits()), static_cast<long long>(f.missed_visits()),
        static_cast<long long>(f.feedback_answers()), static_cast<long long>(f.disputed_visits()));
  }
  return 0;
}

int PerceptionIndex(const std::string& feedback_address, absl::Duration timeout,
                    const std::string& subject, int window_days) {
  auto stub = Feedback(feedback_address);
  feedback::v1::GetPerceptionIndexRequest request;
  request.set_subject(subject);
  request.set_window_days(window_days);
  feedback::v1::GetPerceptionIndexResponse response;
  grpc::Status status =
      stub->GetPerceptionIndex(NewClientContext(nullptr, timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%s\n", Json(response.index()).c_str());
  if (subject.rfind("elders/", 0) == 0 || subject.rfind("commitments/", 0) == 0) {
    feedback::v1::GetPromiseLedgerRequest ledger_request;
    ledger_request.set_subject(subject);
    ledger_request.set_window_days(window_days);
    feedback::v1::GetPromiseLedgerResponse ledger;
    status =
        stub->GetPromiseLedger(NewClientContext(nullptr, timeout).get(), ledger_request, &ledger);
    if (!status.ok()) return Fail(status);
    std::printf("%s\n", Json(ledger.ledger()).c_str());
  }
  return 0;
}

}  // namespace linli::cli

namespace linli::cli {
namespace {

// Adds the bearer token to every call of a gateway channel.
class BearerInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit BearerInterceptor(std::string token) : token_(std::move(token)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("authorization", "Bearer " + token_);
    }
    methods->Proceed();
  }

 private:
  std::string token_;
};

class BearerInterceptorFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(std::string token) : token_(std::move(token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new BearerInterceptor(token_);
  }

 private:
  std::string token_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

namespace {
const Clock* backend_clock = nullptr;
}  // namespace

void SetBackendClock(const Clock& clock) { backend_clock = &clock; }

std::shared_ptr<grpc::Channel> BackendChannel(const std::string& address, const std::string& peer,
                                              const std::string& service) {
  // Loaded once: every backend channel of this command presents the same identity.
  static const absl::StatusOr<std::shared_ptr<const auth::InternalIdentity>> identity =
      auth::InternalIdentityFromFlags();
  if (!identity.ok() || backend_clock == nullptr) {
    std::fprintf(stderr,
                 "this command calls %s directly, which needs the operator's platform identity: "
                 "set LINLI_INTERNAL_CA_FILE, LINLI_INTERNAL_CERT_FILE and LINLI_INTERNAL_KEY_FILE "
                 "(make run prints them)%s%s\n",
                 peer.c_str(), identity.ok() ? "" : ": ",
                 identity.ok() ? "" : std::string(identity.status().message()).c_str());
    std::exit(2);
  }
  return auth::NewInternalChannel(address, peer, {service}, *identity, *backend_clock);
}

std::shared_ptr<grpc::Channel> GatewayChannel(const std::string& address) {
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  const char* token = std::getenv("LINLI_TOKEN");
  if (token != nullptr && *token != '\0') {
    factories.push_back(std::make_unique<BearerInterceptorFactory>(token));
  }
  grpc::ChannelArguments args;
  // An exported roster comes back whole (50,000 elders as CSV are about 15 MB).
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      address, grpc::InsecureChannelCredentials(), args, std::move(factories));
}

int TokenKeygen() {
  unsigned char secret[32];
  if (RAND_bytes(secret, sizeof(secret)) != 1) return 1;
  nlohmann::json set = {{"keys",
                         {{{"kid", "dev"},
                           {"alg", "HS256"},
                           {"k", auth::Base64UrlEncode(absl::string_view(
                                     reinterpret_cast<char*>(secret), sizeof(secret)))}}}}};
  std::printf("%s\n", set.dump(2).c_str());
  return 0;
}

int Token(const TokenOptions& o, const Clock& clock) {
  auth::Role role;
  if (!auth::ParseRole(o.role, &role) || role == auth::Role::kPartner) {
    std::fprintf(stderr,
                 "error: --role must be elder, family, worker, committee_staff, street_staff or "
                 "admin (partners use API keys: linli token --api_key)\n");
    return 2;
  }
  // The gateway's default limits (auth::TokenLifetimes): a token it would refuse is not minted.
  const absl::Duration longest = auth::TokenLifetimes{}.For(role);
  if (o.ttl <= absl::ZeroDuration() || o.ttl > longest) {
    std::fprintf(stderr, "error: --ttl must be more than 0 and at most %s for a %s token\n",
                 absl::FormatDuration(longest).c_str(), o.role.c_str());
    return 2;
  }
  nlohmann::json document = nlohmann::json::parse(ReadAll(o.keys_file), nullptr, false);
  if (document.is_discarded() || !document.contains("keys") || !document["keys"].is_array() ||
      document["keys"].empty()) {
    std::fprintf(stderr, "error: %s is not a key set (make run writes var/jwt-keys.json)\n",
                 o.keys_file.c_str());
    return 1;
  }
  const nlohmann::json& entry = document["keys"][0];
  std::string secret;
  if (entry.value("alg", "") != "HS256" || !entry.contains("k") || !entry["k"].is_string() ||
      !auth::Base64UrlDecode(entry["k"].get<std::string>(), &secret)) {
    std::fprintf(stderr, "error: the first key of %s must be an HS256 key\n", o.keys_file.c_str());
    return 1;
  }
  absl::StatusOr<auth::JwtKey> key = auth::JwtKey::Hmac(entry.value("kid", ""), secret);
  if (!key.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(key.status().message()).c_str());
    return 1;
  }
  std::string region = o.region;
  if (absl::StartsWith(region, "regions/")) region = region.substr(8);
  const int64_t now = absl::ToUnixSeconds(clock.Now());
  std::string subject = o.subject;
  if (subject.empty()) subject = role == auth::Role::kElder ? o.elder : "dev/" + o.role;
  if (subject.empty()) {
    std::fprintf(stderr, "error: an elder token needs --subject elders/ID\n");
    return 2;
  }
  nlohmann::json claims = {{"iss", o.issuer},
                           {"aud", o.audience},
                           {"sub", subject},
                           {"role", o.role},
                           {"iat", now},
                           {"nbf", now - 5},
                           {"exp", now + absl::ToInt64Seconds(o.ttl)}};
  if (!region.empty()) claims["region"] = region;
  if (!o.elder.empty()) claims["elders"] = {o.elder};
  if (role == auth::Role::kFamily && o.elder.empty()) {
    std::fprintf(stderr, "error: a family token needs --elder elders/ID\n");
    return 2;
  }
  absl::StatusOr<std::string> token = auth::SignJwt(*key, claims);
  if (!token.ok()) return 1;
  std::printf("%s\n", token->c_str());
  return 0;
}

int ApiKey(const std::string& key_id, const std::string& organisation, const std::string& region,
           const std::string& scopes, const std::string& partner, const std::string& pepper_file) {
  std::string pepper = ReadAll(pepper_file);
  while (!pepper.empty() && (pepper.back() == '\n' || pepper.back() == '\r')) pepper.pop_back();
  if (pepper.size() < 16) {
    std::fprintf(stderr, "error: --pepper_file must hold at least 16 bytes\n");
    return 1;
  }
  const std::string key = auth::NewApiKey(key_id);
  absl::StatusOr<auth::ApiKeyParts> parts = auth::ParseApiKey(key);
  if (!parts.ok() || !absl::StartsWith(organisation, "organisations/")) {
    std::fprintf(stderr,
                 "error: --api_key must be 1-32 of a-z 0-9 _ - and --organisation "
                 "organisations/ID\n");
    return 2;
  }
  std::string code = region;
  if (absl::StartsWith(code, "regions/")) code = code.substr(8);
  auth::ApiKeyEntry entry{parts->key_id,
                          organisation,
                          code,
                          absl::StrSplit(scopes, ',', absl::SkipEmpty()),
                          auth::HashApiSecret(pepper, parts->secret),
                          partner};
  if (!partner.empty() && !auth::IsKeyId(partner)) {
    std::fprintf(stderr, "error: --partner must be 1-32 of a-z 0-9 _ -\n");
    return 2;
  }
  std::printf("%s\n", key.c_str());
  std::fprintf(stderr, "add to the gateway's --api_keys_file:\n%s\n",
               auth::FormatApiKeyEntry(entry).c_str());
  return 0;
}

}  // namespace linli::cli
