#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "runtime/config/loader.hpp"

/// `distiller auth token --scope SCOPE [--json]` makes a new API token and
/// prints it with the `auth.tokens` entry the node keeps (its SHA-256 and
/// scope); `distiller auth entry --scope SCOPE` reads a token from standard
/// input and prints its entry (for a token chosen elsewhere, e.g. a
/// secret store). Scopes: admin, write, read, user=<uuid>
/// (bridges/http/auth.hpp). Exit codes: 0 done, 2 bad usage (the message
/// says what is wrong).
namespace distiller::app {

/// The environment variable distiller's HTTP tools (shell, load, eval) read
/// their API token from when --token is not given.
inline constexpr const char* token_env = config::client_token_env;

/// `flag` when not empty, else the value of DISTILLER_TOKEN, else "".
std::string token_or_env(const std::string& flag);

class auth_command {
 public:
  explicit auth_command(CLI::App& app);
  ~auth_command();
  auth_command(const auth_command&) = delete;
  auth_command& operator=(const auth_command&) = delete;

  bool parsed() const;
  int run();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace distiller::app
