#include "common/idempotency.h"
#include "absl/strings/string_view.h"

#include <openssl/sha.h>

#include <atomic>
#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace linli {
namespace {

std::string Fingerprint(const google::protobuf::Message& request) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), SHA256_DIGEST_LENGTH));
}

// The resource a response is about: the `name` of its first set message field that has one
// (CreateElderResponse.elder.name -> "elders/…"); "" when there is none.
std::string ResourceOf(const google::protobuf::Message& response) {
  const google::protobuf::Reflection* reflection = response.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(response, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE ||
        field->is_repeated()) {
      continue;
    }
    const google::protobuf::Message& inner = reflection->GetMessage(response, field);
    const google::protobuf::FieldDescriptor* name = inner.GetDescriptor()->FindFieldByName("name");
    if (name != nullptr && name->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING &&
        !name->is_repeated()) {
      return inner.GetReflection()->GetString(inner, name).substr(0, 160);
    }
  }
  return "";
}

// Deletes expired keys now and then (every kPurgeEvery-th idempotent call of the process), in its
// own short transaction, so the table stays bounded without a separate job.
void MaybePurgeExpired(storage::Database& db, const Clock& clock) {
  constexpr int kPurgeEvery = 1000;
  static std::atomic<int> calls{0};
  if (calls.fetch_add(1) % kPurgeEvery != 0) return;
  const int64_t cutoff = absl::ToUnixMicros(clock.Now() - kIdempotencyRetention);
  (void)db.RunInTransaction([&](storage::Transaction& tx) {
    return tx.Exec("DELETE FROM idempotency_keys WHERE create_time_us < ?", {cutoff}).status();
  });
}

}  // namespace

absl::Status RedactIdempotentResponses(storage::Transaction& tx, absl::string_view method,
                                       absl::string_view resource,
                                       const google::protobuf::Message& replacement) {
  return tx
      .Exec("UPDATE idempotency_keys SET response = ? WHERE method = ? AND resource = ?",
            {replacement.SerializeAsString(), std::string(method), std::string(resource)})
      .status();
}

absl::StatusOr<int> RewriteIdempotentResponses(
    storage::Transaction& tx, absl::string_view method, const google::protobuf::Message& prototype,
    const std::function<bool(google::protobuf::Message&)>& rewrite) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT request_id, response FROM idempotency_keys WHERE "
                                       "method = ?",
                                       {std::string(method)}));
  int rewritten = 0;
  std::unique_ptr<google::protobuf::Message> reply(prototype.New());
  for (const storage::Row& row : rows) {
    reply->Clear();
    if (!reply->ParseFromString(row.GetString(1))) continue;  // not ours to judge: left alone
    if (!rewrite(*reply)) continue;
    RETURN_IF_ERROR(tx.Exec("UPDATE idempotency_keys SET response = ? WHERE method = ? AND "
                            "request_id = ?",
                            {reply->SerializeAsString(), std::string(method), row.GetString(0)})
                        .status());
    ++rewritten;
  }
  return rewritten;
}

storage::Migration IdempotencyMigration(int version) {
  return storage::Migration{version, "idempotency keys",
                            R"sql(CREATE TABLE idempotency_keys (
  method TEXT NOT NULL,
  request_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  response BLOB NOT NULL,
  create_time_us INTEGER NOT NULL,
  resource TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (method, request_id)
);
CREATE INDEX idempotency_by_time ON idempotency_keys (create_time_us);
CREATE INDEX idempotency_by_resource ON idempotency_keys (resource))sql",
                            R"sql(CREATE TABLE idempotency_keys (
  method VARCHAR(128) NOT NULL,
  request_id VARCHAR(128) NOT NULL,
  fingerprint CHAR(64) NOT NULL,
  response LONGBLOB NOT NULL,
  create_time_us BIGINT NOT NULL,
  resource VARCHAR(160) NOT NULL DEFAULT '',
  PRIMARY KEY (method, request_id),
  INDEX idempotency_by_time (create_time_us),
  INDEX idempotency_by_resource (resource)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)sql"};
}

absl::Status ValidateRequestId(absl::string_view request_id) {
  if (request_id.size() > 128) return InvalidField("request_id", "must be at most 128 characters");
  for (char c : request_id) {
    if (c < 0x21 || c > 0x7e) {
      return InvalidField("request_id", "must be printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

namespace {

enum class Stored { kNone, kExpired, kFound };

// The row of `key` (method, request_id): kFound with `response` filled when it was stored within
// the retention, kExpired when older, kNone when absent; INVALID_ARGUMENT when it was stored for
// a request of another fingerprint.
absl::StatusOr<Stored> LookUp(storage::Transaction& tx, const std::vector<storage::Value>& key,
                              const std::string& fingerprint, google::protobuf::Message* response,
                              const Clock& clock) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT fingerprint, response, create_time_us FROM idempotency_keys WHERE "
               "method = ? AND request_id = ?",
               key));
  if (rows.empty()) return Stored::kNone;
  if (rows[0].GetInt(2) < absl::ToUnixMicros(clock.Now() - kIdempotencyRetention)) {
    return Stored::kExpired;
  }
  if (rows[0].GetString(0) != fingerprint) {
    return InvalidField("request_id",
                        "was already used with a different request; use a new request_id",
                        common::v1::ERROR_REASON_REQUEST_ID_REUSED);
  }
  if (!response->ParseFromString(rows[0].GetString(1))) {
    return absl::DataLossError("stored idempotent response does not parse");
  }
  return Stored::kFound;
}

}  // namespace

absl::StatusOr<bool> FindIdempotentResponse(storage::Database& db, absl::string_view method,
                                            absl::string_view request_id,
                                            const google::protobuf::Message& request,
                                            google::protobuf::Message* response,
                                            const Clock& clock) {
  RETURN_IF_ERROR(ValidateRequestId(request_id));
  if (request_id.empty()) return false;
  const std::string fingerprint = Fingerprint(request);
  const std::vector<storage::Value> key = {std::string(method), std::string(request_id)};
  Stored stored = Stored::kNone;
  RETURN_IF_ERROR(db.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        response->Clear();
        ASSIGN_OR_RETURN(stored, LookUp(tx, key, fingerprint, response, clock));
        return absl::OkStatus();
      },
      {.read_only = true}));
  if (stored != Stored::kFound) response->Clear();
  return stored == Stored::kFound;
}

absl::Status RunIdempotent(storage::Database& db, absl::string_view method,
                           absl::string_view request_id, const google::protobuf::Message& request,
                           google::protobuf::Message* response,
                           const std::function<absl::Status(storage::Transaction&)>& body,
                           const Clock& clock) {
  RETURN_IF_ERROR(ValidateRequestId(request_id));
  if (request_id.empty()) return db.RunInTransaction(body);
  MaybePurgeExpired(db, clock);
  const std::string fingerprint = Fingerprint(request);
  const std::vector<storage::Value> key = {std::string(method), std::string(request_id)};
  return db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    response->Clear();  // the body may run again after a conflict
    ASSIGN_OR_RETURN(Stored stored, LookUp(tx, key, fingerprint, response, clock));
    if (stored == Stored::kFound) return absl::OkStatus();
    if (stored == Stored::kExpired) {  // the id is free again
      RETURN_IF_ERROR(
          tx.Exec("DELETE FROM idempotency_keys WHERE method = ? AND request_id = ?", key)
              .status());
    }
    // Claim the id first: a concurrent call with the same id blocks on this key (MySQL) or on
    // the write lock (SQLite) and then sees ALREADY_EXISTS, which we turn into a retry.
    absl::StatusOr<int64_t> claimed = tx.Exec(
        "INSERT INTO idempotency_keys (method, request_id, fingerprint, response, "
        "create_time_us) VALUES (?, ?, ?, ?, ?)",
        {std::string(method), std::string(request_id), fingerprint, std::string(),
         absl::ToUnixMicros(clock.Now())});
    if (absl::IsAlreadyExists(claimed.status())) {
      return absl::AbortedError("concurrent call with the same request_id");
    }
    RETURN_IF_ERROR(claimed.status());
    RETURN_IF_ERROR(body(tx));
    ASSIGN_OR_RETURN(
        int64_t updated,
        tx.Exec("UPDATE idempotency_keys SET response = ?, resource = ? WHERE "
                "method = ? AND request_id = ?",
                {response->SerializeAsString(), ResourceOf(*response), key[0], key[1]}));
    if (updated != 1) return absl::InternalError("idempotency key vanished during the call");
    return absl::OkStatus();
  });
}

}  // namespace linli
