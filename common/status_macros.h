// Tiny status macros (Debian's Abseil 20220623 ships none).
//
//   RETURN_IF_ERROR(DoThing());
//   ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1"));
//   ASSIGN_OR_RETURN(Region region, store.Get(code));
#ifndef LINLI_COMMON_STATUS_MACROS_H_
#define LINLI_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define LINLI_CONCAT_INNER_(a, b) a##b
#define LINLI_CONCAT_(a, b) LINLI_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status linli_status_ = (expr);         \
    if (!linli_status_.ok()) return linli_status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  LINLI_ASSIGN_OR_RETURN_IMPL_(LINLI_CONCAT_(linli_statusor_, __LINE__), lhs, expr)

#define LINLI_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                 \
  if (!statusor.ok()) return statusor.status();           \
  lhs = std::move(statusor).value()

#endif  // LINLI_COMMON_STATUS_MACROS_H_
