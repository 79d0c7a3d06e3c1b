#include "common/update_mask.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/field_mask_util.h"

namespace linli {

std::vector<std::string> UpdateMaskPaths(const google::protobuf::FieldMask& mask,
                                         const std::vector<std::string>& allowed,
                                         FieldViolations& violations) {
  if (mask.paths_size() == 0) violations.Add("update_mask", "must name at least one field");
  std::vector<std::string> paths;
  for (int i = 0; i < mask.paths_size(); ++i) {
    const std::string& path = mask.paths(i);
    const std::string field = absl::StrCat("update_mask.paths[", i, "]");
    if (std::find(allowed.begin(), allowed.end(), path) == allowed.end()) {
      violations.Add(field, absl::StrCat("\"", path,
                                         "\" cannot be changed here; the fields that "
                                         "can: ",
                                         absl::StrJoin(allowed, ", ")));
    } else if (std::find(paths.begin(), paths.end(), path) != paths.end()) {
      violations.Add(field, "repeats an earlier path");
    } else {
      paths.push_back(path);
    }
  }
  return paths;
}

void ApplyUpdateMask(const google::protobuf::Message& update, const std::vector<std::string>& paths,
                     google::protobuf::Message& stored) {
  google::protobuf::FieldMask mask;
  for (const std::string& path : paths) mask.add_paths(path);
  google::protobuf::util::FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(update, mask, options, &stored);
  // A field with presence (a message, a proto3 `optional`) named but absent is cleared, whatever
  // the library's merge did with its default value.
  const google::protobuf::Descriptor* descriptor = update.GetDescriptor();
  for (const std::string& path : paths) {
    const google::protobuf::FieldDescriptor* field = descriptor->FindFieldByName(path);
    if (field == nullptr || field->is_repeated() || !field->has_presence()) continue;
    if (!update.GetReflection()->HasField(update, field)) {
      stored.GetReflection()->ClearField(&stored, field);
    }
  }
}

}  // namespace linli
