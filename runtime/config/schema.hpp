#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

/// Typed configuration. Each module keeps a plain struct with defaults
/// (`kafka_config`, `pg_config`, `http_config` …) and declares its keys once
/// into a `schema`, binding each key to a field. The loader then fills the
/// fields from, in order: defaults → TOML file → environment → flags. Every
/// value arrives as text (TOML scalars are rendered first) and is parsed and
/// validated by the key's parser, so a bad value names its key and the values
/// it allows, whatever its source.
namespace distiller::config {

/// A configuration key that is unknown or whose value is invalid.
class config_error : public std::runtime_error {
 public:
  config_error(std::string key, std::string message);

  const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
};

/// One declared key.
struct option {
  /// Dotted name, `section.key`.
  std::string key;
  /// One line for the config file and docs/configuration.md.
  std::string doc;
  /// What values are allowed, e.g. "integer 0..65535" or "debug|info|warn".
  std::string allowed;
  /// The default value rendered as text.
  std::string default_text;
  /// Environment variables that also set this key besides DISTILLER_…
  std::vector<std::string> env_aliases;
  /// Per alias (same index): a unit appended to a bare number, for
  /// variables that count in another unit than the key's parser assumes
  /// (SSE_HEARTBEAT_INTERVAL=30 means seconds). Empty: none.
  std::vector<std::string> env_alias_units;
  /// Parses `text` into the bound field; returns an error message on failure.
  std::function<std::optional<std::string>(std::string_view text)> apply;
  /// Renders the bound field's current value.
  std::function<std::string()> render;
  /// A credential: `config show` prints it masked (see mask_secret).
  bool secret = false;
};

/// How `config show` prints a secret option's value: empty stays empty, a
/// connection string keeps everything but its password (`***`), anything
/// else becomes `***`.
std::string mask_secret(const option& o, const std::string& value);

/// The set of keys of one process, bound to the fields of its config structs.
class schema {
 public:
  // -- declaring keys
  // -----------------------------------------------------------

  void add_string(std::string key, std::string& field, std::string doc);
  void add_choice(std::string key, std::string& field,
                  std::vector<std::string> choices, std::string doc);
  void add_int(std::string key, int64_t& field, int64_t min, int64_t max,
               std::string doc);
  void add_int(std::string key, int& field, int min, int max, std::string doc);
  void add_bool(std::string key, bool& field, std::string doc);
  /// A decimal number in [min, max] ("0.75", "2", "1e-3").
  void add_number(std::string key, double& field, double min, double max,
                  std::string doc);
  void add_list(std::string key, std::vector<std::string>& field,
                std::string doc);
  /// Accepts "250ms", "30s", "5m", "1h" or a bare number of milliseconds.
  void add_duration(std::string key, std::chrono::milliseconds& field,
                    std::chrono::milliseconds min, std::string doc);
  /// Accepts "512", "64KiB", "50MiB", "1GiB".
  void add_bytes(std::string key, uint64_t& field, uint64_t min, uint64_t max,
                 std::string doc);

  /// Marks `key` as a credential (masked by `config show`). Throws
  /// std::logic_error for an unknown key.
  void mark_secret(const std::string& key);

  /// Lets `env_var` set `key` as well (e.g. KAFKA_BOOTSTRAP_SERVERS); with
  /// `unit` ("s"), a bare number in the variable gets that unit appended.
  void alias_env(const std::string& key, std::string env_var,
                 std::string unit = "");

  // -- using keys -------------------------------------------------------------

  /// Sets `key` from text; throws `config_error` for unknown keys or bad
  /// values.
  void set(const std::string& key, std::string_view text);

  const option* find(const std::string& key) const;
  const std::vector<option>& options() const noexcept { return options_; }

  /// The environment variable name of `key`: DISTILLER_SECTION_KEY.
  static std::string env_name(const std::string& key);

 private:
  option& push(std::string key, std::string doc, std::string allowed);
  std::vector<option> options_;
};

// -- parsers shared with flags
// ---------------------------------------------------

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::optional<uint64_t> parse_bytes(std::string_view text);
std::string format_duration(std::chrono::milliseconds x);
std::string format_bytes(uint64_t x);

} // namespace distiller::config
