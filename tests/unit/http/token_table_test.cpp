// API tokens (bridges/http/auth.hpp): entries, hashing, scopes, and what
// a request with or without a token may do.

#include <gtest/gtest.h>

#include <set>

#include "bridges/http/auth.hpp"
#include "bridges/http/http_config.hpp"
#include "runtime/config/schema.hpp"

namespace {

namespace http = distiller::http;
using http::access_level;
using kind = http::principal::kind;

const std::string user_a = "0f8fad5b-d9cb-469f-a165-70867728950e";
const std::string user_b = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

http::token_table table_of(bool required) {
  http::auth_config cfg;
  cfg.tokens = {http::token_entry_for("dst_admin-token", "admin"),
                http::token_entry_for("dst_write-token", "write"),
                http::token_entry_for("dst_read-token", "read"),
                http::token_entry_for("dst_user-token", "user=" + user_a)};
  return http::token_table{cfg, required};
}

} // namespace

TEST(token_table, sha256_matches_the_standard_test_vector) {
  EXPECT_EQ(http::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(token_table, made_tokens_are_random_base64url_of_256_bits) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto t = http::make_token();
    ASSERT_EQ(t.size(), 4u + 43u) << t;
    EXPECT_EQ(t.rfind("dst_", 0), 0u);
    for (char c : t.substr(4))
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                  c == '_')
          << t;
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(token_table, an_entry_keeps_the_hash_and_scope_never_the_token) {
  auto entry = http::token_entry_for("dst_secret", "user=" + user_a);
  EXPECT_EQ(entry.find("dst_secret"), std::string::npos);
  EXPECT_EQ(entry,
            "sha256:" + http::sha256_hex("dst_secret") + ":user=" + user_a);
  auto parsed = http::parse_token_entry(entry);
  EXPECT_EQ(parsed.scope.who, kind::user);
  EXPECT_EQ(parsed.scope.user_id, user_a);
  EXPECT_EQ(parsed.scope.token_id,
            http::sha256_hex("dst_secret").substr(0, 12));
}

TEST(token_table, malformed_entries_and_scopes_are_refused_with_a_reason) {
  auto hex = http::sha256_hex("x");
  for (std::string bad :
       {std::string{"plain-token"}, "sha256:" + hex,
        "sha256:" + hex.substr(0, 63) + ":admin",
        "sha256:" + std::string(64, 'g') + ":admin", "sha256:" + hex + ":root",
        "sha256:" + hex + ":user=not-a-uuid", "sha256:" + hex + ":"}) {
    try {
      http::parse_token_entry(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_FALSE(std::string{e.what()}.empty());
    }
  }
  EXPECT_THROW(http::token_entry_for("t", "superuser"), std::invalid_argument);
  http::auth_config cfg;
  cfg.tokens = {http::token_entry_for("a", "admin"), "junk"};
  try {
    http::token_table t{cfg, true};
    ADD_FAILURE() << "accepted a table with a junk entry";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("entry 2"), std::string::npos)
        << e.what();
  }
}

TEST(token_table, scopes_order_read_write_admin_and_user_is_write) {
  struct row {
    kind who;
    bool read, write, admin;
  };
  for (auto r :
       {row{kind::read, true, false, false},
        row{kind::write, true, true, false}, row{kind::user, true, true, false},
        row{kind::admin, true, true, true},
        row{kind::anonymous, false, false, false}}) {
    http::principal p;
    p.who = r.who;
    SCOPED_TRACE(http::to_string(p));
    EXPECT_TRUE(http::permits(p, access_level::open));
    EXPECT_EQ(http::permits(p, access_level::read), r.read);
    EXPECT_EQ(http::permits(p, access_level::write), r.write);
    EXPECT_EQ(http::permits(p, access_level::admin), r.admin);
  }
}

TEST(token_table, a_user_token_acts_only_for_its_user) {
  http::principal u;
  u.who = kind::user;
  u.user_id = user_a;
  EXPECT_TRUE(u.may_act_for(user_a));
  EXPECT_TRUE(u.may_act_for("0F8FAD5B-D9CB-469F-A165-70867728950E"));
  EXPECT_FALSE(u.may_act_for(user_b));
  http::principal admin;
  admin.who = kind::admin;
  EXPECT_TRUE(admin.may_act_for(user_b));
  EXPECT_TRUE(http::principal{}.may_act_for(user_b)); // loopback, optional
}

TEST(token_table, without_a_token_only_an_optional_table_lets_through) {
  auto optional = table_of(false);
  auto required = table_of(true);
  for (auto need :
       {access_level::read, access_level::write, access_level::admin}) {
    auto o = optional.check("", "", need);
    EXPECT_FALSE(o.refused());
    EXPECT_EQ(o.caller.who, kind::anonymous);
    auto r = required.check("", "", need);
    EXPECT_EQ(r.status, 401u);
    EXPECT_EQ(r.error, "unauthorized");
  }
  EXPECT_FALSE(required.check("", "", access_level::open).refused());
}

TEST(token_table, a_wrong_token_is_401_even_where_tokens_are_optional) {
  auto t = table_of(false);
  for (auto header : {"Bearer dst_nope", "Bearer ", "Basic dXNlcjpwYXNz",
                      "Bearerdst_admin-token", "dst_admin-token"}) {
    auto o = t.check(header, "", access_level::read);
    EXPECT_EQ(o.status, 401u) << header;
  }
  EXPECT_EQ(t.check("", "dst_nope", access_level::read).status, 401u);
}

TEST(token_table, each_scope_gets_what_it_may_and_403_beyond) {
  auto t = table_of(true);
  auto as = [&](const char* token, access_level need) {
    return t.check(std::string{"Bearer "} + token, "", need);
  };
  EXPECT_EQ(as("dst_read-token", access_level::read).caller.who, kind::read);
  EXPECT_EQ(as("dst_read-token", access_level::write).status, 403u);
  EXPECT_EQ(as("dst_read-token", access_level::write).error, "forbidden");
  EXPECT_FALSE(as("dst_write-token", access_level::write).refused());
  EXPECT_EQ(as("dst_write-token", access_level::admin).status, 403u);
  auto u = as("dst_user-token", access_level::write);
  EXPECT_FALSE(u.refused());
  EXPECT_EQ(u.caller.user_id, user_a);
  EXPECT_EQ(as("dst_user-token", access_level::admin).status, 403u);
  EXPECT_FALSE(as("dst_admin-token", access_level::admin).refused());
  // The scheme is case-insensitive (RFC 9110), spaces around the token go.
  EXPECT_FALSE(
      t.check("bearer   dst_admin-token  ", "", access_level::admin).refused());
}

TEST(token_table, the_query_token_serves_when_there_is_no_header) {
  auto t = table_of(true);
  auto o = t.check("", "dst_user-token", access_level::read);
  EXPECT_FALSE(o.refused());
  EXPECT_EQ(o.caller.who, kind::user);
  // A header wins over the query: a bad header is not rescued by it.
  EXPECT_EQ(
      t.check("Bearer wrong", "dst_admin-token", access_level::read).status,
      401u);
}

TEST(token_table, config_validation_requires_tokens_off_loopback) {
  http::http_config cfg;
  cfg.host = "127.0.0.1";
  EXPECT_NO_THROW(http::validate(cfg));
  EXPECT_FALSE(http::auth_required(cfg));
  cfg.host = "0.0.0.0";
  EXPECT_TRUE(http::auth_required(cfg));
  try {
    http::validate(cfg);
    ADD_FAILURE() << "a non-loopback listener without tokens was accepted";
  } catch (const distiller::config::config_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("auth.tokens"), std::string::npos) << what;
    EXPECT_NE(what.find("distiller auth token"), std::string::npos) << what;
  }
  cfg.auth.tokens = {http::token_entry_for("dst_x", "admin")};
  EXPECT_NO_THROW(http::validate(cfg));
  cfg.auth.tokens.push_back("sha256:zz:admin");
  EXPECT_THROW(http::validate(cfg), distiller::config::config_error);
  cfg.host = "::1";
  cfg.auth = {};
  EXPECT_FALSE(http::auth_required(cfg));
  cfg.auth.required = true;
  EXPECT_THROW(http::validate(cfg), distiller::config::config_error);
}
