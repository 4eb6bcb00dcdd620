#pragma once

/// API tokens of the HTTP façade: who a request comes from and what it may
/// do.
///
/// A token is a random secret the client sends as `Authorization: Bearer
/// <token>` (or, where a browser cannot set headers — EventSource — as the
/// query parameter `access_token`). The node keeps only its SHA-256: each
/// entry of `auth.tokens` reads `sha256:<64 hex digits>:<scope>`, made by
/// `distiller auth token`. Scopes, from least to most:
///   read        GET/HEAD routes and POST /api/v2/query;
///   write       read + uploads and thoughts of any user;
///   user=<uuid> write, but the thought routes only for that user's
///               thoughts (submit, get, list, stream);
///   admin       everything, also /inspect and the cluster's changing
///               commands.
/// Public routes (/, the page's files, /health, /ready, /metrics, /docs,
/// /openapi.json) need no token.
///
/// When tokens are required — always when the listener is not loopback,
/// and on loopback with `auth.required = true` — a request without one gets
/// 401; a wrong token is 401 whether or not tokens are required; a token
/// whose scope is too small gets 403 `forbidden`. On loopback without
/// `auth.required`, a request without a token acts as admin (the laptop
/// case: `scripts/run`, curl, the tools).
///
/// Threads: a token_table is immutable after construction and safe to use
/// from every I/O thread. Failure: `token_table` and `parse_token_entry`
/// throw std::invalid_argument naming what is wrong with an entry.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace distiller::http {

/// [auth]: API tokens.
struct auth_config {
  /// Require a token on loopback too (off loopback it is always required).
  bool required = false;
  /// `sha256:<hex>:<scope>` entries (distiller auth token).
  std::vector<std::string> tokens;
};

/// What a route needs.
enum class access_level { open, read, write, admin };

/// "public", "read", "write", "admin".
std::string to_string(access_level a);

/// Who sent a request, as the handlers see it.
struct principal {
  enum class kind { anonymous, read, write, user, admin };
  kind who = kind::anonymous;
  /// The user of a `user=<uuid>` token (lower case), else empty.
  std::string user_id;
  /// The first 12 hex digits of the token's hash (for logs), else empty.
  std::string token_id;

  /// Whether this caller may act on `user`'s thoughts: every caller except
  /// a user token for another user.
  bool may_act_for(std::string_view user) const;
  /// Whether the caller is limited to one user's thoughts.
  bool user_scoped() const noexcept { return who == kind::user; }
};

/// "anonymous", "read", "write", "user=<uuid>", "admin".
std::string to_string(const principal& p);

/// Whether `p` may use a route of level `a`.
bool permits(const principal& p, access_level a);

/// One parsed `auth.tokens` entry.
struct token_entry {
  std::array<unsigned char, 32> hash{};
  principal scope;
};

/// Parses `sha256:<hex>:<scope>`; throws std::invalid_argument.
token_entry parse_token_entry(std::string_view text);

/// SHA-256 of `token` as 64 lower-case hex digits.
std::string sha256_hex(std::string_view token);

/// A fresh token ("dst_" + 43 characters of base64url, 256 random bits).
std::string make_token();

/// The `auth.tokens` entry for `token` with `scope` ("admin", "user=…").
/// Throws std::invalid_argument for a scope that is not one of them.
std::string token_entry_for(std::string_view token, std::string_view scope);

/// The outcome of looking at a request's credentials.
struct auth_outcome {
  /// Set when the request is refused: 401 or 403 with this error code.
  unsigned status = 0;
  std::string error;
  std::string detail;
  principal caller;

  bool refused() const noexcept { return status != 0; }
};

class token_table {
 public:
  /// Parses every entry; `required` says whether a request without a
  /// token is refused.
  token_table(const auth_config& cfg, bool required);

  bool required() const noexcept { return required_; }
  size_t size() const noexcept { return entries_.size(); }

  /// Checks `authorization` (the header's value, may be empty) or else
  /// `query_token` (the access_token parameter, may be empty) against a
  /// route of level `need`.
  auth_outcome check(std::string_view authorization,
                     std::string_view query_token, access_level need) const;

 private:
  std::optional<principal> find(std::string_view token) const;

  std::vector<token_entry> entries_;
  bool required_ = false;
};

} // namespace distiller::http
