#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/config/schema.hpp"

/// Fills a schema's fields from the three sources that follow the defaults:
/// a TOML file, the environment, and command-line flags (in that order, later
/// sources win). Each function throws `config_error` naming the key.
namespace distiller::config {

/// Environment variable that names the config file (besides --config).
inline constexpr const char* config_file_env = "DISTILLER_CONFIG";
/// The API token of distiller's HTTP tools (shell, load, eval): not a key,
/// so the loader lets it pass.
inline constexpr const char* client_token_env = "DISTILLER_TOKEN";

/// Reads `path` (TOML; `[section]` tables of `key = value`). Unknown keys and
/// bad values are errors. A missing file is an error only if `required`.
void load_file(schema& s, const std::string& path, bool required);

/// Same as `load_file`, from TOML text (`origin` names it in messages).
void load_text(schema& s, std::string_view toml_text,
               const std::string& origin);

/// Applies DISTILLER_SECTION_KEY variables and each key's aliases (such as
/// KAFKA_BOOTSTRAP_SERVERS). An unknown DISTILLER_… variable is an error, so
/// typos do not go unnoticed. Aliases are applied before DISTILLER_ names.
void load_env(schema& s, const std::map<std::string, std::string>& env);

/// Applies `key=value` overrides in order.
void load_flags(schema& s,
                const std::vector<std::pair<std::string, std::string>>& flags);

/// Parses "section.key=value".
std::pair<std::string, std::string> split_assignment(const std::string& text);

/// The current process environment.
std::map<std::string, std::string> process_environment();

/// A complete, commented TOML file of every key and its current value.
/// `mask_secrets`: credentials printed as mask_secret() says (`config
/// show`); the shipped defaults file renders them as they are (empty).
std::string render_toml(const schema& s, bool mask_secrets = false);

/// A Markdown table of every key: default, allowed values, env var, meaning.
std::string render_markdown(const schema& s);

} // namespace distiller::config
