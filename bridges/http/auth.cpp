#include "bridges/http/auth.hpp"

#include <cctype>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "runtime/core/ids.hpp"

namespace distiller::http {

namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::array<unsigned char, 32> digest(std::string_view text) {
  std::array<unsigned char, 32> out{};
  unsigned int n = 0;
  if (EVP_Digest(text.data(), text.size(), out.data(), &n, EVP_sha256(),
                 nullptr) != 1 ||
      n != out.size())
    throw std::runtime_error("SHA-256 failed (OpenSSL)");
  return out;
}

std::string to_hex(const unsigned char* p, size_t n) {
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(hex_digits[p[i] >> 4]);
    out.push_back(hex_digits[p[i] & 0xF]);
  }
  return out;
}

int hex_value(char c) {
  auto pos = hex_digits.find(
      static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

principal parse_scope(std::string_view s) {
  principal p;
  if (s == "admin")
    p.who = principal::kind::admin;
  else if (s == "write")
    p.who = principal::kind::write;
  else if (s == "read")
    p.who = principal::kind::read;
  else if (s.rfind("user=", 0) == 0 && is_uuid(s.substr(5))) {
    p.who = principal::kind::user;
    p.user_id = lower(s.substr(5));
  } else
    throw std::invalid_argument(
        "scope '" + std::string{s.substr(0, 60)} +
        "' is not one of admin, write, read or user=<uuid>");
  return p;
}

/// The token of an Authorization value "Bearer <token>" (scheme
/// case-insensitive), or nullopt for another scheme or shape.
std::optional<std::string_view> bearer_token(std::string_view value) {
  constexpr std::string_view scheme = "bearer";
  if (value.size() <= scheme.size() + 1 ||
      lower(value.substr(0, scheme.size())) != scheme ||
      value[scheme.size()] != ' ')
    return std::nullopt;
  auto token = value.substr(scheme.size() + 1);
  auto b = token.find_first_not_of(' ');
  if (b == std::string_view::npos)
    return std::nullopt;
  token = token.substr(b);
  auto e = token.find_last_not_of(' ');
  return token.substr(0, e + 1);
}

auth_outcome refuse(unsigned status, std::string error, std::string detail) {
  auth_outcome out;
  out.status = status;
  out.error = std::move(error);
  out.detail = std::move(detail);
  return out;
}

} // namespace

std::string to_string(access_level a) {
  switch (a) {
  case access_level::open:
    return "public";
  case access_level::read:
    return "read";
  case access_level::write:
    return "write";
  case access_level::admin:
    return "admin";
  }
  return "admin";
}

bool principal::may_act_for(std::string_view user) const {
  return who != kind::user || lower(user) == user_id;
}

std::string to_string(const principal& p) {
  switch (p.who) {
  case principal::kind::anonymous:
    return "anonymous";
  case principal::kind::read:
    return "read";
  case principal::kind::write:
    return "write";
  case principal::kind::user:
    return "user=" + p.user_id;
  case principal::kind::admin:
    return "admin";
  }
  return "anonymous";
}

bool permits(const principal& p, access_level a) {
  switch (a) {
  case access_level::open:
    return true;
  case access_level::read:
    return p.who != principal::kind::anonymous;
  case access_level::write:
    return p.who == principal::kind::write || p.who == principal::kind::user ||
           p.who == principal::kind::admin;
  case access_level::admin:
    return p.who == principal::kind::admin;
  }
  return false;
}

token_entry parse_token_entry(std::string_view text) {
  constexpr std::string_view prefix = "sha256:";
  if (text.rfind(prefix, 0) != 0)
    throw std::invalid_argument(
        "an entry reads sha256:<64 hex digits>:<scope> (distiller auth "
        "token makes one)");
  auto rest = text.substr(prefix.size());
  auto colon = rest.find(':');
  if (colon != 64)
    throw std::invalid_argument(
        "the hash of an entry is 64 hex digits followed by ':' and a scope");
  token_entry e;
  for (size_t i = 0; i < 32; ++i) {
    int hi = hex_value(rest[2 * i]);
    int lo = hex_value(rest[2 * i + 1]);
    if (hi < 0 || lo < 0)
      throw std::invalid_argument("the hash of an entry must be hex digits");
    e.hash[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  e.scope = parse_scope(rest.substr(colon + 1));
  e.scope.token_id = lower(rest.substr(0, 12));
  return e;
}

std::string sha256_hex(std::string_view token) {
  auto d = digest(token);
  return to_hex(d.data(), d.size());
}

std::string make_token() {
  std::array<unsigned char, 32> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    throw std::runtime_error("no random bytes (OpenSSL RAND_bytes)");
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "dst_";
  // base64url without padding: 32 bytes → 43 characters.
  uint32_t acc = 0;
  int bits = 0;
  for (auto b : raw) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0)
    out.push_back(alphabet[(acc << (6 - bits)) & 0x3F]);
  OPENSSL_cleanse(raw.data(), raw.size());
  return out;
}

std::string token_entry_for(std::string_view token, std::string_view scope) {
  parse_scope(scope); // throws for a bad one
  return "sha256:" + sha256_hex(token) + ":" + std::string{scope};
}

token_table::token_table(const auth_config& cfg, bool required)
    : required_(required) {
  for (size_t i = 0; i < cfg.tokens.size(); ++i) {
    try {
      entries_.push_back(parse_token_entry(cfg.tokens[i]));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("entry " + std::to_string(i + 1) + ": " +
                                  e.what());
    }
  }
}

std::optional<principal> token_table::find(std::string_view token) const {
  auto d = digest(token);
  std::optional<principal> found;
  // Every entry is compared, in constant time, so the answer's timing says
  // nothing about which entry (or how much of a hash) matched.
  for (auto& e : entries_)
    if (CRYPTO_memcmp(d.data(), e.hash.data(), d.size()) == 0 && !found)
      found = e.scope;
  return found;
}

auth_outcome token_table::check(std::string_view authorization,
                                std::string_view query_token,
                                access_level need) const {
  std::string_view token;
  if (!authorization.empty()) {
    auto t = bearer_token(authorization);
    if (!t)
      return refuse(401, "unauthorized",
                    "the Authorization header must read 'Bearer <token>'");
    token = *t;
  } else {
    token = query_token;
  }
  if (token.empty()) {
    if (need == access_level::open || !required_)
      return {}; // anonymous: on loopback without auth.required, admin-like
    return refuse(401, "unauthorized",
                  "this node requires an API token: send 'Authorization: "
                  "Bearer <token>' (distiller auth token makes one)");
  }
  auto who = find(token);
  if (!who)
    return refuse(401, "unauthorized",
                  "the API token is not one this node knows (auth.tokens)");
  if (!permits(*who, need))
    return refuse(403, "forbidden",
                  "a token with scope '" + to_string(*who) +
                      "' may not use this route (it needs '" + to_string(need) +
                      "')");
  auth_outcome out;
  out.caller = std::move(*who);
  return out;
}

} // namespace distiller::http
