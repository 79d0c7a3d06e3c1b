// Backend-independent parts of the storage layer: Row accessors, URL parsing and dispatch,
// RedactUrl, and the retry loop shared by both RunInTransaction implementations.
#include "common/storage/database.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/storage/database_internal.h"
#include "common/storage/mysql_database.h"
#include "common/storage/sqlite_database.h"

namespace linli::storage {
namespace {

// Shortest text that parses back to the same double (what MySQL prints for DOUBLE, too).
std::string DoubleToString(double d) {
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), d);
  if (r.ec != std::errc()) return absl::StrCat(d);
  return std::string(buf, r.ptr);
}

int64_t DoubleToInt(double d) {
  // Truncates toward zero like a C cast, but saturates instead of being undefined out of range.
  if (std::isnan(d)) return 0;
  if (d >= 9223372036854775808.0) return std::numeric_limits<int64_t>::max();
  if (d < -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

absl::Status BadUrl(absl::string_view url, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid database URL '", RedactUrl(std::string_view(url.data(), url.size())),
                   "': ", what, " (expected sqlite:PATH or mysql://USER:PASS@HOST:PORT/DB)"));
}

absl::StatusOr<std::string> PercentDecode(absl::string_view url, absl::string_view field,
                                          absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    int value = 0;
    if (i + 2 >= in.size()) {
      return BadUrl(url, absl::StrCat("truncated percent-escape in ", field));
    }
    for (size_t j = i + 1; j <= i + 2; ++j) {
      const char c = in[j];
      int digit;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return BadUrl(
            url, absl::StrCat("bad percent-escape in ", field, " (write a literal '%' as %25)"));
      }
      value = value * 16 + digit;
    }
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

bool IsValidMysqlDatabaseName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '$') return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Row

bool Row::IsNull(size_t i) const { return std::holds_alternative<std::monostate>(values_.at(i)); }

int64_t Row::GetInt(size_t i) const {
  const Value& v = values_.at(i);
  if (const int64_t* n = std::get_if<int64_t>(&v)) return *n;
  if (const double* d = std::get_if<double>(&v)) return DoubleToInt(*d);
  if (const std::string* s = std::get_if<std::string>(&v)) {
    int64_t n = 0;
    if (absl::SimpleAtoi(*s, &n)) return n;
    double d = 0;  // e.g. a DECIMAL "12.0" from MySQL
    if (absl::SimpleAtod(*s, &d)) return DoubleToInt(d);
  }
  return 0;
}

double Row::GetDouble(size_t i) const {
  const Value& v = values_.at(i);
  if (const double* d = std::get_if<double>(&v)) return *d;
  if (const int64_t* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  if (const std::string* s = std::get_if<std::string>(&v)) {
    double d = 0;
    if (absl::SimpleAtod(*s, &d)) return d;
  }
  return 0;
}

std::string Row::GetString(size_t i) const {
  const Value& v = values_.at(i);
  if (const std::string* s = std::get_if<std::string>(&v)) return *s;
  if (const int64_t* n = std::get_if<int64_t>(&v)) return absl::StrCat(*n);
  if (const double* d = std::get_if<double>(&v)) return DoubleToString(*d);
  return "";
}

// ---------------------------------------------------------------------------------------------
// URLs

std::string RedactUrl(std::string_view url_text) {
  const absl::string_view url = internal::ToAbsl(url_text);
  // sqlite:PATH carries no credentials (and a path may contain '@' and ':').
  if (absl::StartsWith(url, "sqlite:")) return std::string(url);
  // Same rule as ParseMysqlUrl: credentials end at the LAST '@'. The rule is applied to malformed
  // URLs too (a missing '/', no scheme at all): over-redacting is fine, printing a password is
  // not.
  const size_t at = url.rfind('@');
  if (at == absl::string_view::npos) return std::string(url);
  const size_t scheme_end = url.find("://");
  const bool well_formed = scheme_end != absl::string_view::npos && scheme_end < at;
  const size_t userinfo_begin = well_formed ? scheme_end + 3 : 0;
  const size_t colon = url.substr(userinfo_begin, at - userinfo_begin).find(':');
  if (colon != absl::string_view::npos) {  // USER:PASS -> USER:****
    return absl::StrCat(url.substr(0, userinfo_begin + colon), ":****", url.substr(at));
  }
  if (well_formed) return std::string(url);  // scheme://USER@... has no password
  return absl::StrCat("****", url.substr(at));
}

namespace internal {

absl::StatusOr<std::string> ParseSqliteUrl(absl::string_view url) {
  absl::string_view path = url;
  if (!absl::ConsumePrefix(&path, "sqlite:")) return BadUrl(url, "not a sqlite: URL");
  if (path.empty()) return BadUrl(url, "empty path after 'sqlite:'");
  if (absl::StartsWith(path, "//")) {
    return BadUrl(url,
                  "write sqlite:PATH without '//' (e.g. sqlite:var/db.sqlite or "
                  "sqlite:/abs/path.db)");
  }
  if (path.find('\0') != absl::string_view::npos) return BadUrl(url, "NUL byte in path");
  if (path == ":memory:" || absl::StartsWith(path, "file:")) {
    return BadUrl(url,
                  "in-memory and file: URI databases are not supported (each pooled "
                  "connection would see a different database); use a file path");
  }
  return std::string(path);
}

absl::StatusOr<MysqlUrl> ParseMysqlUrl(absl::string_view url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "mysql://")) return BadUrl(url, "not a mysql:// URL");
  const size_t at = rest.rfind('@');
  if (at == absl::string_view::npos) return BadUrl(url, "missing 'USER@' before the host");
  const absl::string_view userinfo = rest.substr(0, at);
  const absl::string_view location = rest.substr(at + 1);

  MysqlUrl out;
  const size_t colon = userinfo.find(':');
  absl::string_view user = userinfo.substr(0, colon);
  if (user.empty()) return BadUrl(url, "empty user name");
  auto decoded_user = PercentDecode(url, "user name", user);
  if (!decoded_user.ok()) return decoded_user.status();
  out.user = *std::move(decoded_user);
  if (colon != absl::string_view::npos) {
    auto decoded_password = PercentDecode(url, "password", userinfo.substr(colon + 1));
    if (!decoded_password.ok()) return decoded_password.status();
    out.password = *std::move(decoded_password);
  }

  const size_t slash = location.find('/');
  if (slash == absl::string_view::npos) return BadUrl(url, "missing '/DB' after the host");
  absl::string_view hostport = location.substr(0, slash);
  const absl::string_view database = location.substr(slash + 1);

  absl::string_view port_text;
  bool has_port = false;
  if (absl::StartsWith(hostport, "[")) {  // [IPv6]:port
    const size_t close = hostport.find(']');
    if (close == absl::string_view::npos) return BadUrl(url, "unterminated '[' in host");
    out.host = std::string(hostport.substr(1, close - 1));
    absl::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (!absl::ConsumePrefix(&after, ":")) return BadUrl(url, "junk after ']' in host");
      port_text = after;
      has_port = true;
    }
  } else {
    const size_t port_colon = hostport.find(':');
    if (port_colon != absl::string_view::npos &&
        hostport.find(':', port_colon + 1) != absl::string_view::npos) {
      return BadUrl(url, "IPv6 hosts must be written in brackets, e.g. [::1]:3306");
    }
    out.host = std::string(hostport.substr(0, port_colon));
    if (port_colon != absl::string_view::npos) {
      port_text = hostport.substr(port_colon + 1);
      has_port = true;
    }
  }
  if (out.host.empty()) return BadUrl(url, "empty host");
  if (has_port) {
    int port = 0;
    const bool digits_only =
        !port_text.empty() && port_text.find_first_not_of("0123456789") == absl::string_view::npos;
    if (!digits_only || port_text.size() > 5 || !absl::SimpleAtoi(port_text, &port) || port < 1 ||
        port > 65535) {
      return BadUrl(url, absl::StrCat("port '", port_text, "' is not a number in 1..65535"));
    }
    out.port = port;
  }

  if (database.find('?') != absl::string_view::npos) {
    return BadUrl(url, "query parameters are not supported");
  }
  if (database.empty()) return BadUrl(url, "empty database name after '/'");
  if (!IsValidMysqlDatabaseName(database)) {
    return BadUrl(url, absl::StrCat("database name '", database,
                                    "' must be 1-64 characters of letters, digits, '_' or '$'"));
  }
  out.database = std::string(database);
  return out;
}

absl::Status ValidateOpenOptions(const OpenOptions& options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("OpenOptions.pool_size must be >= 1, got ", options.pool_size));
  }
  if (options.busy_timeout < absl::ZeroDuration() ||
      options.busy_timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("OpenOptions.busy_timeout must be finite and >= 0");
  }
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.connect_timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("OpenOptions.connect_timeout must be finite and > 0");
  }
  return absl::OkStatus();
}

std::vector<std::string> SplitStatements(absl::string_view text) {
  std::vector<std::string> out;
  for (absl::string_view piece : absl::StrSplit(text, ";\n")) {
    if (absl::StripAsciiWhitespace(piece).empty()) continue;
    out.emplace_back(piece);
  }
  return out;
}

std::string SqlForMessage(absl::string_view sql) {
  constexpr size_t kMax = 200;
  absl::string_view s = absl::StripAsciiWhitespace(sql);
  if (s.size() <= kMax) return std::string(s);
  return absl::StrCat(s.substr(0, kMax), "...");
}

absl::Status RunWithRetries(const TransactionOptions& options,
                            const std::function<absl::Status(bool* commit_sent)>& attempt) {
  const int max_attempts = std::max(1, options.max_attempts);
  thread_local std::minstd_rand rng(std::random_device{}());
  absl::Status status;
  for (int n = 1;; ++n) {
    bool commit_sent = false;
    status = attempt(&commit_sent);
    if (status.ok()) return status;
    const bool retryable = absl::IsAborted(status) || (absl::IsUnavailable(status) && !commit_sent);
    if (!retryable || n >= max_attempts) return status;
    // 2ms, 4ms, 8ms ... capped at 100ms, each scaled by a random factor in [0.5, 1.5) so that
    // threads that collided do not collide again in lockstep.
    const int64_t base_us = std::min<int64_t>(100000, int64_t{2000} << std::min(n - 1, 10));
    std::uniform_int_distribution<int64_t> jitter(base_us / 2, base_us + base_us / 2);
    absl::SleepFor(absl::Microseconds(jitter(rng)));
  }
}

PoolCounters& CountersFor(const std::string& backend) {
  static std::mutex* mu = new std::mutex;
  static auto* counters = new std::map<std::string, std::unique_ptr<PoolCounters>>;
  std::lock_guard<std::mutex> lock(*mu);
  std::unique_ptr<PoolCounters>& entry = (*counters)[backend];
  if (entry == nullptr) entry = std::make_unique<PoolCounters>();
  return *entry;
}

}  // namespace internal

std::vector<PoolStats> ConnectionPoolStats() {
  std::vector<PoolStats> stats;
  for (const char* backend : {"sqlite", "mysql"}) {
    internal::PoolCounters& c = internal::CountersFor(backend);
    if (c.acquired.load() == 0 && c.max.load() == 0) continue;
    PoolStats s;
    s.backend = backend;
    s.max = c.max.load(std::memory_order_relaxed);
    s.open = c.open.load(std::memory_order_relaxed);
    s.in_use = c.in_use.load(std::memory_order_relaxed);
    s.acquired_total = c.acquired.load(std::memory_order_relaxed);
    s.wait_timeouts_total = c.wait_timeouts.load(std::memory_order_relaxed);
    s.wait_seconds_total = static_cast<double>(c.wait_nanos.load(std::memory_order_relaxed)) / 1e9;
    stats.push_back(std::move(s));
  }
  return stats;
}

// ---------------------------------------------------------------------------------------------
// OpenDatabase

absl::StatusOr<std::unique_ptr<Database>> OpenDatabase(std::string_view url_text,
                                                       const OpenOptions& options) {
  const absl::string_view url = internal::ToAbsl(url_text);
  if (url.empty()) return BadUrl(url, "empty URL");
  const absl::Status options_ok = internal::ValidateOpenOptions(options);
  if (!options_ok.ok()) return options_ok;

  const size_t colon = url.find(':');
  if (colon == absl::string_view::npos || colon == 0) return BadUrl(url, "missing scheme");
  const absl::string_view scheme = url.substr(0, colon);
  // Only echo something that looks like a scheme: text before the first ':' of a mangled URL
  // may be a password.
  if (scheme.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") !=
      absl::string_view::npos) {
    return BadUrl(url, "missing scheme");
  }
  if (scheme == "sqlite") {
    absl::StatusOr<std::string> path = internal::ParseSqliteUrl(url);
    if (!path.ok()) return path.status();
    return internal::OpenSqliteDatabase(*path, options);
  }
  if (scheme == "mysql") {
    absl::StatusOr<internal::MysqlUrl> parsed = internal::ParseMysqlUrl(url);
    if (!parsed.ok()) return parsed.status();
    return internal::OpenMysqlDatabase(*parsed, options);
  }
  return BadUrl(url, absl::StrCat("unknown scheme '", scheme, "'"));
}

std::string InList(size_t n) {
  std::string markers = "(";
  for (size_t i = 0; i < n; ++i) markers += i == 0 ? "?" : ", ?";
  return markers + ")";
}

}  // namespace linli::storage
