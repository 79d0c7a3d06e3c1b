// Partial updates (AIP-134): which fields an update_mask names, checked against the fields a
// method lets its caller change, and applying them to the stored record.
#ifndef LINLI_COMMON_UPDATE_MASK_H_
#define LINLI_COMMON_UPDATE_MASK_H_

#include <string>
#include <vector>

#include "common/errors.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/message.h"

namespace linli {

// The paths of `mask`, each one of `allowed` and named once. Violations: "update_mask" when it
// names nothing, "update_mask.paths[i]" for a path not allowed (the description lists the
// allowed ones) or repeated.
std::vector<std::string> UpdateMaskPaths(const google::protobuf::FieldMask& mask,
                                         const std::vector<std::string>& allowed,
                                         FieldViolations& violations);

// Copies the top-level fields named by `paths` from `update` into `stored`: repeated and message
// fields are replaced, not merged, and a field named but absent in `update` is cleared (so a
// client clears an optional field by naming it without a value).
void ApplyUpdateMask(const google::protobuf::Message& update, const std::vector<std::string>& paths,
                     google::protobuf::Message& stored);

}  // namespace linli

#endif  // LINLI_COMMON_UPDATE_MASK_H_
