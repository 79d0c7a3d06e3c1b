#include "services/feedback/perception.h"

#include <cstdio>

#include "absl/time/civil_time.h"

namespace linli::feedback {

const std::array<const char*, kCounterCount>& CounterColumns() {
  static const std::array<const char*, kCounterCount> columns = {
      "expected",  "verified",        "punctual",           "familiar_eligible",
      "familiar",  "missed",          "disputed",           "answers",
      "faces_sum", "as_promised_yes", "as_promised_partly", "as_promised_no",
      "cared_yes", "cared_partly",    "cared_no",           "under_review",
      "rejected",  "repaired"};
  return columns;
}

Figures& Figures::operator+=(const Figures& o) {
  for (int i = 0; i < kCounterCount; ++i) c[i] += o.c[i];
  return *this;
}

Figures& Figures::operator-=(const Figures& o) {
  for (int i = 0; i < kCounterCount; ++i) c[i] -= o.c[i];
  return *this;
}

bool Figures::IsZero() const {
  for (int64_t v : c) {
    if (v != 0) return false;
  }
  return true;
}

Figures operator-(Figures a, const Figures& b) {
  a -= b;
  return a;
}

Figures VisitContribution(const ProjectedVisit& visit, const std::string& preferred_worker) {
  Figures f;
  switch (visit.state) {
    case VisitState::kInProgress:
      f[kExpected] = 1;
      break;
    case VisitState::kMissed:
      if (visit.repaired) {  // made good: the make-up visit counts on its own day
        f[kRepaired] = 1;
        break;
      }
      f[kExpected] = 1;
      f[kMissed] = 1;
      break;
    case VisitState::kCompleted:
      f[kExpected] = 1;
      // Verified with exception: kept only once approved; rejected, it is broken.
      if (visit.review == kReviewPending) {
        f[kUnderReview] = 1;
        break;
      }
      if (visit.review == kReviewRejected) {
        f[kRejected] = 1;
        break;
      }
      f[kVerified] = 1;
      f[kPunctual] = visit.late ? 0 : 1;
      if (!preferred_worker.empty()) {
        f[kFamiliarEligible] = 1;
        f[kFamiliar] = visit.worker == preferred_worker ? 1 : 0;
      }
      f[kDisputed] = visit.disputed ? 1 : 0;
      break;
    default:  // scheduled (not due yet), cancelled (not expected), unknown
      break;
  }
  return f;
}

Figures AnswerContribution(int faces, int did_as_promised, int felt_cared_for) {
  Figures f;
  f[kAnswers] = 1;
  f[kFacesSum] = faces;
  if (did_as_promised == 1) f[kAsPromisedYes] = 1;
  if (did_as_promised == 2) f[kAsPromisedPartly] = 1;
  if (did_as_promised == 3) f[kAsPromisedNo] = 1;
  if (felt_cared_for == 1) f[kCaredYes] = 1;
  if (felt_cared_for == 2) f[kCaredPartly] = 1;
  if (felt_cared_for == 3) f[kCaredNo] = 1;
  return f;
}

int64_t LocalDay(absl::Time t) {
  const int64_t seconds = absl::ToUnixSeconds(t) + 8 * 3600;
  return seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
}

int64_t WeekStart(int64_t day) {
  // Day 0, 1970-01-01, was a Thursday: three days after a Monday.
  const int64_t since_monday = ((day % 7) + 7 + 3) % 7;
  return day - since_monday;
}

std::string DayString(int64_t day) {
  const absl::CivilDay d = absl::CivilDay(1970, 1, 1) + day;
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02d", static_cast<int>(d.year()), d.month(),
                d.day());
  return buffer;
}

bool ParseDay(const std::string& text, int64_t* day) {
  absl::CivilDay d;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &d)) return false;
  if (DayString(d - absl::CivilDay(1970, 1, 1)) != text) return false;
  *day = d - absl::CivilDay(1970, 1, 1);
  return true;
}

namespace {

double Ratio(int64_t num, int64_t den, double if_empty = 0) {
  return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : if_empty;
}

// yes 1, partly 0.5, no 0; false when nobody answered.
bool ThreeWay(int64_t yes, int64_t partly, int64_t no, double* out) {
  const int64_t n = yes + partly + no;
  if (n <= 0) return false;
  *out = (static_cast<double>(yes) + 0.5 * static_cast<double>(partly)) / static_cast<double>(n);
  return true;
}

}  // namespace

double Punctuality(const Figures& f) { return Ratio(f[kPunctual], f[kVerified]); }
double Continuity(const Figures& f) { return Ratio(f[kFamiliar], f[kFamiliarEligible]); }
// Visits under review are not judged yet: neither kept nor broken until a supervisor decides.
double KeptRatio(const Figures& f) {
  return Ratio(f[kVerified] - f[kDisputed], f[kExpected] - f[kUnderReview], 1.0);
}
double MeanFaces(const Figures& f) { return Ratio(f[kFacesSum], f[kAnswers]); }

PromiseVerdict Verdict(const Figures& f) {
  const double kept = KeptRatio(f);
  if (kept >= 0.9) return PromiseVerdict::kKept;
  if (kept >= 0.7) return PromiseVerdict::kAtRisk;
  return PromiseVerdict::kBroken;
}

IndexValue ComputeIndex(const Figures& f) {
  IndexValue out;
  double weighted = 0;
  double weights = 0;
  auto add = [&](double weight, double value) {
    weighted += weight * value;
    weights += weight;
  };
  if (f[kExpected] - f[kUnderReview] > 0) add(0.5, KeptRatio(f));
  if (f[kVerified] > 0) add(0.2, Punctuality(f));
  if (f[kFamiliarEligible] > 0) add(0.15, Continuity(f));
  double as_promised = 0;
  if (ThreeWay(f[kAsPromisedYes], f[kAsPromisedPartly], f[kAsPromisedNo], &as_promised)) {
    add(0.15, as_promised);
  }
  const bool has_promise = weights > 0;
  if (has_promise) out.promise_score = 100.0 * weighted / weights;

  out.answers = f[kAnswers];
  const bool has_care = f[kAnswers] > 0;
  if (has_care) {
    const double faces = (MeanFaces(f) - 1.0) / 4.0;
    double cared = 0;
    if (ThreeWay(f[kCaredYes], f[kCaredPartly], f[kCaredNo], &cared)) {
      out.felt_care_score = 100.0 * (0.6 * faces + 0.4 * cared);
    } else {
      out.felt_care_score = 100.0 * faces;
    }
  }
  out.has_value = has_promise || has_care;
  if (has_promise && has_care) {
    out.value = (out.promise_score + out.felt_care_score) / 2.0;
  } else if (has_promise) {
    out.value = out.promise_score;
  } else if (has_care) {
    out.value = out.felt_care_score;
  }
  out.confidence = static_cast<double>(out.answers) / static_cast<double>(out.answers + 5);
  return out;
}

std::vector<std::string> SubjectKeys(const VisitSubjects& s, const std::string& worker) {
  std::vector<std::string> keys;
  keys.reserve(6);
  for (const std::string* k :
       {&s.commitment, &s.elder, &s.organisation, &s.committee, &s.street, &worker}) {
    if (!k->empty()) keys.push_back(*k);
  }
  return keys;
}

}  // namespace linli::feedback
