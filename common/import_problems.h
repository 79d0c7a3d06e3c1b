// What every import (the registry's rosters, scheduling's past visits, feedback's past answers)
// shares: how many rows one call takes, and how a refused row is reported (RowProblem: the line,
// the field, the reason in English and, where the service has them, in Chinese).
//
//   absl::Status checked = CheckRow(row);
//   if (!checked.ok()) AddProblems(row.line(), checked, response.mutable_problems(), "visit");
#ifndef LINLI_COMMON_IMPORT_PROBLEMS_H_
#define LINLI_COMMON_IMPORT_PROBLEMS_H_

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "linli/common/v1/common.pb.h"

namespace linli {

// Rows an import takes in one call.
inline constexpr int kMaxImportRows = 1000;

using RowProblems = google::protobuf::RepeatedPtrField<common::v1::RowProblem>;

// The problems a check found on one row: one per field a BadRequest names, or else the whole
// status, under `field`.
inline void AddProblems(int line, const absl::Status& status, RowProblems* problems,
                        absl::string_view field = "") {
  if (std::optional<google::rpc::BadRequest> bad = GetBadRequest(status);
      bad.has_value() && bad->field_violations_size() > 0) {
    for (const auto& violation : bad->field_violations()) {
      common::v1::RowProblem* p = problems->Add();
      p->set_line(line);
      p->set_field(violation.field());
      p->set_reason(violation.description());
    }
    return;
  }
  common::v1::RowProblem* p = problems->Add();
  p->set_line(line);
  p->set_field(std::string(field));
  p->set_reason(std::string(status.message()));
}

// One problem of row `line`, in both languages.
inline common::v1::RowProblem* AddProblem(int line, std::string field, std::string reason,
                                          std::string reason_zh, RowProblems* to) {
  common::v1::RowProblem* p = to->Add();
  p->set_line(line);
  p->set_field(std::move(field));
  p->set_reason(std::move(reason));
  p->set_reason_zh(std::move(reason_zh));
  return p;
}

// Orders `problems` by line, keeping the order of each line's problems.
inline void SortByLine(RowProblems& problems) {
  std::stable_sort(problems.begin(), problems.end(),
                   [](const common::v1::RowProblem& a, const common::v1::RowProblem& b) {
                     return a.line() < b.line();
                   });
}

}  // namespace linli

#endif  // LINLI_COMMON_IMPORT_PROBLEMS_H_
