#include "actors/app/auth_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>

#include <boost/json.hpp>

#include "bridges/http/auth.hpp"

namespace distiller::app {

namespace json = boost::json;

std::string token_or_env(const std::string& flag) {
  if (!flag.empty())
    return flag;
  if (auto* v = std::getenv(token_env); v != nullptr)
    return v;
  return {};
}

struct auth_command::impl {
  CLI::App* token = nullptr;
  CLI::App* entry = nullptr;
  std::string scope;
  bool as_json = false;
};

auth_command::auth_command(CLI::App& app) : impl_(std::make_unique<impl>()) {
  auto* auth = app.add_subcommand(
      "auth", "Make API tokens for the HTTP API (auth.tokens)");
  auth->require_subcommand(1);
  const char* scope_help =
      "admin (everything), write (uploads, thoughts of any user, reads), "
      "read (reads and queries) or user=<uuid> (write, but only that "
      "user's thoughts)";
  auto* t = auth->add_subcommand(
      "token", "Make a new random token; print it once, with the entry for "
               "auth.tokens (the node keeps only its SHA-256)");
  t->add_option("--scope", impl_->scope, scope_help)->required();
  t->add_flag("--json", impl_->as_json,
              "Print {\"token\", \"entry\", \"scope\"} as JSON");
  auto* e = auth->add_subcommand(
      "entry", "Read a token from standard input and print its entry for "
               "auth.tokens");
  e->add_option("--scope", impl_->scope, scope_help)->required();
  e->add_flag("--json", impl_->as_json, "Print {\"entry\", \"scope\"} as JSON");
  impl_->token = t;
  impl_->entry = e;
}

auth_command::~auth_command() = default;

bool auth_command::parsed() const {
  return impl_->token->parsed() || impl_->entry->parsed();
}

int auth_command::run() {
  auto& o = *impl_;
  std::string token;
  if (o.token->parsed()) {
    token = http::make_token();
  } else {
    std::getline(std::cin, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' '))
      token.pop_back();
    if (token.size() < 16) {
      std::fprintf(stderr,
                   "distiller auth entry: expected a token of at least 16 "
                   "characters on standard input\n");
      return 2;
    }
  }
  std::string entry;
  try {
    entry = http::token_entry_for(token, o.scope);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "distiller auth: --scope: %s\n", e.what());
    return 2;
  }
  bool show_token = o.token->parsed();
  if (o.as_json) {
    json::object out{{"entry", entry}, {"scope", o.scope}};
    if (show_token)
      out["token"] = token;
    std::cout << json::serialize(out) << "\n";
    return 0;
  }
  if (show_token)
    std::cout << "token: " << token << "\n";
  std::cout << "entry: " << entry << "\n";
  if (show_token)
    std::cout
        << "\nAdd the entry to auth.tokens (config file: [auth] tokens = "
           "[\"<entry>\"], or DISTILLER_AUTH_TOKENS=<entry>[,<entry>…]) and "
           "restart the node. Clients send the token as 'Authorization: "
           "Bearer <token>'; distiller's tools take --token or "
           "DISTILLER_TOKEN. It is shown only now: the node keeps its hash.\n";
  return 0;
}

} // namespace distiller::app
