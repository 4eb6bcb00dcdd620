#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "actors/node/node_config.hpp"
#include "runtime/config/loader.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace distiller;
namespace dt = distiller::testing;
using namespace std::chrono_literals;
using config::config_error;

/// A node config bound to a fresh schema.
struct fixture {
  node::node_config cfg;
  config::schema schema;
  fixture() { node::declare(schema, cfg); }
};

/// Runs `f` and returns the config_error's key and message ("" if none).
template <class F>
std::pair<std::string, std::string> error_of(F f) {
  try {
    f();
  } catch (const config_error& e) {
    return {e.key(), e.what()};
  }
  return {"", ""};
}

TEST(ConfigPrecedence, DefaultsFileEnvFlagsInOrder) {
  dt::temp_dir dir;
  auto file = dir / "d.toml";
  dt::write_file(file, "[http]\nport = 9001\nthreads = 3\n"
                       "[node]\nname = \"from-file\"\n"
                       "[log]\nlevel = \"warn\"\n");
  fixture f;
  EXPECT_EQ(f.cfg.http.port, 8000); // default
  config::load_file(f.schema, file, true);
  EXPECT_EQ(f.cfg.http.port, 9001);
  EXPECT_EQ(f.cfg.http.threads, 3);
  EXPECT_EQ(f.cfg.runtime.node.name, "from-file");
  config::load_env(f.schema, {{"DISTILLER_HTTP_PORT", "9002"},
                              {"DISTILLER_NODE_NAME", "from-env"},
                              {"UNRELATED", "x"}});
  EXPECT_EQ(f.cfg.http.port, 9002);
  EXPECT_EQ(f.cfg.runtime.node.name, "from-env");
  EXPECT_EQ(f.cfg.http.threads, 3); // file value kept
  config::load_flags(f.schema, {{"http.port", "9003"}});
  EXPECT_EQ(f.cfg.http.port, 9003);
  EXPECT_EQ(f.cfg.runtime.node.name, "from-env");
  EXPECT_EQ(f.cfg.runtime.log.level, "warn");
}

TEST(ConfigPrecedence, SeedEnvironmentAliases) {
  fixture f;
  config::load_env(f.schema, {{"KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092"},
                              {"DATABASE_URL", "postgresql://u@h/db"}});
  EXPECT_EQ(f.cfg.kafka.brokers, "k1:9092,k2:9092");
  EXPECT_EQ(f.cfg.postgres.dsn, "postgresql://u@h/db");
  // The DISTILLER_ name wins over the seed's alias.
  fixture g;
  config::load_env(g.schema, {{"KAFKA_BOOTSTRAP_SERVERS", "alias:1"},
                              {"DISTILLER_KAFKA_BROKERS", "own:2"}});
  EXPECT_EQ(g.cfg.kafka.brokers, "own:2");
}

TEST(ConfigPrecedence, SeedThoughtPipelineVariables) {
  fixture f;
  config::load_env(f.schema, {{"KAFKA_TOPIC", "thought-processing"},
                              {"KAFKA_CONSUMER_GROUP", "thought-workers-2"},
                              {"KAFKA_DEAD_LETTER_TOPIC", "thoughts.dead"},
                              {"KAFKA_MAX_RETRIES", "5"},
                              {"KAFKA_RETRY_BACKOFF_MS", "1500"},
                              {"SSE_HEARTBEAT_INTERVAL", "30"},
                              {"SSE_MAX_CONNECTIONS", "250"}});
  EXPECT_EQ(f.cfg.thoughts.topic, "thought-processing");
  EXPECT_EQ(f.cfg.thoughts.group, "thought-workers-2");
  EXPECT_EQ(f.cfg.thoughts.dead_letter_topic, "thoughts.dead");
  EXPECT_EQ(f.cfg.thoughts.max_attempts, 5);
  EXPECT_EQ(f.cfg.thoughts.retry_backoff, std::chrono::milliseconds{1500});
  // Seed 003 counts the heartbeat in seconds.
  EXPECT_EQ(f.cfg.sse.heartbeat, std::chrono::seconds{30});
  EXPECT_EQ(f.cfg.sse.max_connections, 250);
  // A unit given in the variable is kept.
  fixture g;
  config::load_env(g.schema, {{"SSE_HEARTBEAT_INTERVAL", "500ms"}});
  EXPECT_EQ(g.cfg.sse.heartbeat, std::chrono::milliseconds{500});
  // A bad value names the key and the variable.
  fixture h;
  auto [key, what] = error_of([&] {
    config::load_env(h.schema, {{"SSE_MAX_CONNECTIONS", "lots"}});
  });
  EXPECT_EQ(key, "sse.max_connections");
  EXPECT_NE(what.find("SSE_MAX_CONNECTIONS=lots"), std::string::npos) << what;
}

TEST(ConfigErrors, ChatAgentsNeedAUrl) {
  fixture f;
  config::load_flags(f.schema, {{"agents.plan", "chat"}});
  auto [key, what] = error_of([&] { node::validate(f.cfg); });
  EXPECT_EQ(key, "agents.chat_url");
  EXPECT_NE(what.find("plan"), std::string::npos) << what;
  config::load_flags(f.schema, {{"agents.plan_url", "http://127.0.0.1:1"}});
  EXPECT_NO_THROW(node::validate(f.cfg));
  EXPECT_EQ(f.cfg.thoughts.backend_of(distiller::thoughts::agent_kind::plan),
            "chat");
  EXPECT_EQ(
      f.cfg.thoughts.backend_of(distiller::thoughts::agent_kind::classify),
      "builtin");
}

TEST(ConfigPrecedence, TypedValues) {
  fixture f;
  config::load_flags(f.schema, {{"http.request_timeout", "2m"},
                                {"http.max_body_bytes", "10MiB"},
                                {"node.roles", "api, embed"},
                                {"supervision.window", "1500"},
                                {"kafka.delivery_timeout", "2m"}});
  EXPECT_EQ(f.cfg.http.request_timeout, 120s);
  EXPECT_EQ(f.cfg.http.max_body_bytes, 10u << 20);
  EXPECT_EQ(f.cfg.runtime.node.roles,
            (std::vector<std::string>{"api", "embed"}));
  EXPECT_EQ(f.cfg.runtime.supervision.window, 1500ms);
  EXPECT_EQ(f.cfg.kafka.delivery_timeout, 120s);
  // Callers wait 5 s longer than the sink, so its own answer comes first.
  EXPECT_EQ(kafka::produce_wait(f.cfg.kafka.delivery_timeout), 125s);
}

TEST(ConfigPrecedence, TomlArraysAndNumbers) {
  dt::temp_dir dir;
  auto file = dir / "d.toml";
  dt::write_file(file, "[node]\nroles = [\"api\", \"index\"]\n"
                       "[supervision]\nmax_restarts = 7\n");
  fixture f;
  config::load_file(f.schema, file, true);
  EXPECT_EQ(f.cfg.runtime.node.roles,
            (std::vector<std::string>{"api", "index"}));
  EXPECT_EQ(f.cfg.runtime.supervision.max_restarts, 7);
}

// -- every validation error names its key -------------------------------------

struct bad_value {
  const char* key;
  const char* value;
  const char* expect; // fragment of the message: the allowed values
};

class ConfigBadValue : public ::testing::TestWithParam<bad_value> {};

TEST_P(ConfigBadValue, NamesKeyAndAllowedValues) {
  auto p = GetParam();
  fixture f;
  auto [key, msg] = error_of([&] {
    config::load_flags(f.schema, {{p.key, p.value}});
  });
  EXPECT_EQ(key, p.key);
  EXPECT_NE(msg.find(p.key), std::string::npos) << msg;
  EXPECT_NE(msg.find(p.expect), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, ConfigBadValue,
    ::testing::Values(
        bad_value{"http.port", "abc", "integer 0..65535"},
        bad_value{"http.port", "70000", "integer 0..65535"},
        bad_value{"http.port", "-1", "integer 0..65535"},
        bad_value{"log.level", "verbose", "debug|info|warn|error"},
        bad_value{"http.request_timeout", "soon", "duration"},
        bad_value{"http.request_timeout", "10", "duration >= 100ms"},
        bad_value{"http.max_body_bytes", "huge", "size"},
        bad_value{"http.max_body_bytes", "1", "size 1KiB"},
        bad_value{"node.roles", "api,,embed", "empty item"},
        bad_value{"kafka.security_protocol", "tls",
                  "plaintext|ssl|sasl_plaintext|sasl_ssl"},
        bad_value{"kafka.embedded_brokers", "0", "integer 1..16"},
        bad_value{"kafka.delivery_timeout", "500ms", "duration >= 1s"},
        bad_value{"postgres.pool_size", "1.5", "integer 1..256"}));

TEST(ConfigErrors, UnknownKeyInFile) {
  dt::temp_dir dir;
  auto file = dir / "d.toml";
  dt::write_file(file, "[http]\nprot = 9001\n");
  fixture f;
  auto [key, msg] = error_of([&] { config::load_file(f.schema, file, true); });
  EXPECT_EQ(key, "http.prot");
  EXPECT_NE(msg.find("unknown key"), std::string::npos);
}

// Quoted keys that are not bare keys name themselves quoted and never match
// a declared key: "http.port" is one key with a dot in it, not http.port.
// (Found by tests/fuzz/config_fuzz: `"" = "s "` raised an error with an
// empty key.)
TEST(ConfigErrors, QuotedKeysAreNamedQuotedAndNeverMatch) {
  struct quoted {
    std::string text;
    std::string key;
  };
  for (const auto& c : std::vector<quoted>{
           {"\"\" = \"s \"\n", "\"\""},
           {"\"http.port\" = 9001\n", "\"http.port\""},
           {"[http]\n\"port \" = 9001\n", "http.\"port \""},
           {"[\"\"]\nport = 1\n", "\"\".port"},
           {"[http]\n\"a\\\"b\\u0001\" = 1\n", "http.\"a\\\"b\\u0001\""},
       }) {
    fixture f;
    auto [key, msg] =
        error_of([&] { config::load_text(f.schema, c.text, "q.toml"); });
    EXPECT_EQ(key, c.key) << c.text;
    EXPECT_NE(msg.find("unknown key"), std::string::npos) << msg;
    EXPECT_EQ(f.cfg.http.port, 8000) << c.text;
  }
  // A quoted bare key is the same key as the bare one (TOML says so).
  fixture f;
  config::load_text(f.schema, "[\"http\"]\n\"port\" = 9001\n", "q.toml");
  EXPECT_EQ(f.cfg.http.port, 9001);
}

TEST(ConfigErrors, UnknownSectionInFile) {
  dt::temp_dir dir;
  auto file = dir / "d.toml";
  dt::write_file(file, "[htp]\nport = 1\n");
  fixture f;
  EXPECT_EQ(error_of([&] { config::load_file(f.schema, file, true); }).first,
            "htp.port");
}

TEST(ConfigErrors, BadValueInFile) {
  dt::temp_dir dir;
  auto file = dir / "d.toml";
  dt::write_file(file, "[http]\nport = \"eighty\"\n");
  fixture f;
  auto [key, msg] = error_of([&] { config::load_file(f.schema, file, true); });
  EXPECT_EQ(key, "http.port");
  EXPECT_NE(msg.find("eighty"), std::string::npos);
}

TEST(ConfigErrors, UnsupportedTomlType) {
  dt::temp_dir dir;
  auto file = dir / "d.toml";
  dt::write_file(file, "[node]\nname = 1979-05-27\n");
  fixture f;
  auto [key, msg] = error_of([&] { config::load_file(f.schema, file, true); });
  EXPECT_EQ(key, "node.name");
  EXPECT_NE(msg.find("unsupported value type"), std::string::npos);
}

TEST(ConfigErrors, MalformedTomlNamesLine) {
  dt::temp_dir dir;
  auto file = dir / "d.toml";
  dt::write_file(file, "[http]\nport = = 1\n");
  fixture f;
  auto [key, msg] = error_of([&] { config::load_file(f.schema, file, true); });
  EXPECT_EQ(key, "config");
  EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
}

TEST(ConfigErrors, MissingFile) {
  fixture f;
  EXPECT_EQ(error_of([&] {
              config::load_file(f.schema, "/nonexistent/d.toml", true);
            }).first,
            "config");
  // An optional default file that is absent is fine.
  EXPECT_NO_THROW(config::load_file(f.schema, "/nonexistent/d.toml", false));
}

TEST(ConfigErrors, UnknownDistillerEnvironmentVariable) {
  fixture f;
  auto [key, msg] = error_of([&] {
    config::load_env(f.schema, {{"DISTILLER_HTTP_PROT", "1"}});
  });
  EXPECT_EQ(key, "DISTILLER_HTTP_PROT");
  EXPECT_NE(msg.find("unknown environment variable"), std::string::npos);
}

TEST(ConfigErrors, BadValueInEnvironmentNamesKey) {
  fixture f;
  EXPECT_EQ(error_of([&] {
              config::load_env(f.schema, {{"DISTILLER_HTTP_PORT", "x"}});
            }).first,
            "http.port");
}

TEST(ConfigErrors, UnknownFlagKey) {
  fixture f;
  EXPECT_EQ(error_of([&] {
              config::load_flags(f.schema, {{"http.nope", "1"}});
            }).first,
            "http.nope");
  EXPECT_EQ(error_of([] { config::split_assignment("no-equals-sign"); }).first,
            "no-equals-sign");
}

TEST(ConfigErrors, UnknownRole) {
  fixture f;
  config::load_flags(f.schema, {{"node.roles", "api,chef"}});
  auto [key, msg] = error_of([&] { node::validate(f.cfg); });
  EXPECT_EQ(key, "node.roles");
  EXPECT_NE(msg.find("chef"), std::string::npos);
  EXPECT_NE(msg.find("all|api|ingest|embed|index|thoughts"), std::string::npos);
}

// -- the shipped file and docs stay in sync with the structs
// --------------------

TEST(ConfigShipped, DistillerTomlHasEveryKeyCommentedWithDefaults) {
  auto path = dt::source_dir() / "config" / "distiller.toml";
  fixture f;
  ASSERT_NO_THROW(config::load_file(f.schema, path, true));
  // Loading the shipped file changes nothing: it documents the defaults.
  fixture defaults;
  for (auto& o : f.schema.options())
    EXPECT_EQ(o.render(), defaults.schema.find(o.key)->render()) << o.key;
  // Every key is present and has a comment line right above it.
  std::istringstream in{dt::read_file(path)};
  std::string line, previous, section;
  std::map<std::string, bool> commented;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, std::regex{R"(\[([a-z0-9_]+)\])"}))
      section = m[1];
    else if (std::regex_match(line, m, std::regex{R"(([a-z0-9_]+) = .*)"}))
      commented[section + "." + std::string{m[1]}] =
          previous.rfind("# ", 0) == 0;
    previous = line;
  }
  for (auto& o : f.schema.options()) {
    ASSERT_TRUE(commented.count(o.key)) << "missing key " << o.key;
    EXPECT_TRUE(commented[o.key]) << "no comment above " << o.key;
  }
  EXPECT_EQ(commented.size(), f.schema.options().size());
}

TEST(ConfigShipped, ConfigurationDocListsEveryKey) {
  auto doc = dt::read_file(dt::source_dir() / "docs" / "configuration.md");
  fixture f;
  EXPECT_NE(doc.find(config::render_markdown(f.schema)), std::string::npos)
      << "docs/configuration.md is out of date: regenerate the table with "
         "`distiller config docs`";
}

TEST(ConfigSchema, EnvironmentNames) {
  EXPECT_EQ(config::schema::env_name("kafka.brokers"),
            "DISTILLER_KAFKA_BROKERS");
  EXPECT_EQ(config::schema::env_name("http.max_body_bytes"),
            "DISTILLER_HTTP_MAX_BODY_BYTES");
}

TEST(ConfigSchema, AnAliasIsAnotherVariable) {
  // docs/configuration.md once listed DISTILLER_EMBEDDER_API_KEY twice.
  fixture f;
  EXPECT_THROW(
      f.schema.alias_env("embedder.api_key", "DISTILLER_EMBEDDER_API_KEY"),
      std::logic_error);
  for (auto& o : f.schema.options())
    for (auto& alias : o.env_aliases)
      EXPECT_NE(alias, config::schema::env_name(o.key)) << o.key;
}

TEST(ConfigSchema, RenderedTomlRoundTrips) {
  fixture f;
  config::load_flags(f.schema, {{"node.roles", "api,index"},
                                {"http.port", "1234"},
                                {"node.name", "with \"quotes\""}});
  dt::temp_dir dir;
  dt::write_file(dir / "r.toml", config::render_toml(f.schema));
  fixture g;
  config::load_file(g.schema, dir / "r.toml", true);
  for (auto& o : f.schema.options())
    EXPECT_EQ(o.render(), g.schema.find(o.key)->render()) << o.key;
}

} // namespace

TEST(ConfigShow, CredentialsAreMasked) {
  fixture f;
  config::load_flags(
      f.schema, {{"postgres.dsn", "postgresql://app:s3cret@db:5432/distiller"},
                 {"embedder.api_key", "sk-live-123"},
                 {"agents.chat_api_key", ""},
                 {"cluster.secret", "shared-secret"}});
  auto shown = config::render_toml(f.schema, true);
  EXPECT_EQ(shown.find("s3cret"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("sk-live-123"), std::string::npos);
  EXPECT_EQ(shown.find("shared-secret"), std::string::npos);
  EXPECT_NE(shown.find("dsn = \"postgresql://app:***@db:5432/distiller\""),
            std::string::npos);
  EXPECT_NE(shown.find("api_key = \"***\""), std::string::npos);
  EXPECT_NE(shown.find("chat_api_key = \"\""), std::string::npos);
  // The defaults file and a plain render keep values as they are.
  EXPECT_NE(config::render_toml(f.schema).find("s3cret"), std::string::npos);
  // Key/value connection strings keep all but the password.
  config::option o;
  EXPECT_EQ(config::mask_secret(o, "host=/run port=5432 password='a b' user=x"),
            "host=/run port=5432 password=*** user=x");
  EXPECT_EQ(config::mask_secret(o, "host=/run dbname=d"), "host=/run dbname=d");
  EXPECT_EQ(config::mask_secret(o, "postgresql://h/db?password=pw&x=1"),
            "postgresql://h/db?password=***&x=1");
  EXPECT_THROW(f.schema.mark_secret("no.such_key"), std::logic_error);
}

// Found by config_fuzz: toml++ 3.3.0 reaches __builtin_unreachable() when
// asked whether most non-ASCII characters are whitespace — a "§" or U+FEFE
// between tokens, or after a multi-line string's line-ending backslash —
// so runtime/config/toml_text.hpp refuses such text before it parses.
TEST(ConfigErrors, NonAsciiBetweenTokensIsRefusedBeforeParsing) {
  for (std::string text :
       {std::string{"[node]\nname = \"n\" \xC2\xA7\n"},
        std::string{"\xEF\xBB\xBE[node]\n"},
        std::string{"[log]\nlevel = \"\"\"\\\n\xC2\xA7\"\"\"\n"}}) {
    node::node_config cfg;
    config::schema s;
    node::declare(s, cfg);
    try {
      config::load_text(s, text, "x.toml");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const config_error& e) {
      EXPECT_EQ(e.key(), "config");
      EXPECT_NE(std::string{e.what()}.find("not ASCII"), std::string::npos)
          << e.what();
    }
  }
}

TEST(ConfigErrors, NonAsciiInStringsCommentsAndAByteOrderMarkIsFine) {
  node::node_config cfg;
  config::schema s;
  node::declare(s, cfg);
  config::load_text(s,
                    "\xEF\xBB\xBF# Caf\xC3\xA9 \xC2\xA7 notes\n"
                    "[node]\nname = \"n\xC3\xA9\\\"\" # \xE2\x80\xA6\n"
                    "[log]\nlevel = \"\"\"\\\n   debug\"\"\"\n",
                    "x.toml");
  EXPECT_EQ(cfg.runtime.node.name, "n\xC3\xA9\"");
  EXPECT_EQ(cfg.runtime.log.level, "debug");
}
