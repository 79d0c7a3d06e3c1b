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

}  // namespace linli

#endif  // LINLI_COMMON_PAGINATION_H_
