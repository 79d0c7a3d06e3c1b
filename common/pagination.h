// AIP-158 pagination: capped page sizes and opaque keyset page tokens.
//
// A token records the last key returned and a fingerprint of the query (its filters), so a token
// is only accepted by the query it came from; a token that does not decode, fails its checksum,
// or belongs to another query is INVALID_ARGUMENT on field "page_token".
//
//   ASSIGN_OR_RETURN(int size, ResolvePageSize(request.page_size(), 50, 500));
//   ASSIGN_OR_RETURN(std::string after, DecodePageToken(request.page_token(), fingerprint));
//   ... SELECT ... WHERE key > ? ORDER BY key LIMIT size + 1 ...
//   if (more) response.set_next_page_token(EncodePageToken(last_key, fingerprint));
#ifndef LINLI_COMMON_PAGINATION_H_
#define LINLI_COMMON_PAGINATION_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linli {

// 0 -> default_size; above max_size -> max_size; negative -> INVALID_ARGUMENT on "page_size".
absl::StatusOr<int> ResolvePageSize(int requested, int default_size, int max_size);

// Opaque token for the page after `last_key`.
std::string EncodePageToken(absl::string_view last_key, absl::string_view query_fingerprint);

// The last key of the previous page; "" for an empty token (the first page).
absl::StatusOr<std::string> DecodePageToken(absl::string_view token,
                                            absl::string_view query_fingerprint);

// One page of a keyset-paginated List call, from its request fields:
//
//   ASSIGN_OR_RETURN(Page page, Page::Start(req.page_size(), req.page_token(), fingerprint,
//                                           100, 1000));
//   ASSIGN_OR_RETURN(auto rows, Query(tx, page.after, page.limit()));   // size + 1 rows
//   resp.set_next_page_token(page.Finish(rows, [](const Row& r) { return r.id; }));
struct Page {
  int size = 0;             // rows the caller gets
  std::string after;        // last key of the previous page ("" = start)
  std::string fingerprint;  // the query's filters

  static absl::StatusOr<Page> Start(int requested_size, absl::string_view token,
                                    std::string fingerprint, int default_size, int max_size);
  // Rows to fetch: one more than the page, to learn whether another page exists.
  int limit() const { return size + 1; }
  // Drops the extra row and returns the next page token ("" on the last page).
  template <typename T, typename KeyFn>
  std::string Finish(std::vector<T>& rows, KeyFn key) const {
    if (static_cast<int>(rows.size()) <= size) return "";
    rows.resize(size);
    return EncodePageToken(key(rows.back()), fingerprint);
  }
};

}  // namespace linli

#endif  // LINLI_COMMON_PAGINATION_H_
