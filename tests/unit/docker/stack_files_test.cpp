// docker/ checked without a Docker engine: the compose file as Debian's
// docker-compose 1.29 reads it (`docker-compose config`, with each profile),
// its profile structure (one Kafka set-up per profile, and every client
// waiting for its own set-up's brokers and topics), pinned images, KRaft and
// listener settings, health checks that gate the dependencies, the nodes'
// environment as valid Distiller configuration (the DSN built from the
// POSTGRES_* variables), the variables of .env.example; Prometheus'
// configuration, relabelling and rules through promtool; the Dockerfile's
// package list against scripts/deps and its runtime libraries against the
// binary; the Grafana dashboards' data source uid and PromQL; and that the
// rules and dashboards apply each function to series of the type the node's
// code registers. The metric names the rules and dashboards use are checked
// against a running node in tests/e2e/docker/metric_names_test.cpp.
//
// docker-compose, promtool and python3-yaml come from scripts/deps; without
// them these tests fail (they are not skipped).

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "tests/support/stack_files.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace fs = std::filesystem;
namespace json = boost::json;

fs::path root() {
  return dt::source_dir();
}

fs::path docker_dir() {
  return root() / "docker";
}

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (auto& i : items)
    out += (out.empty() ? "" : " ") + i;
  return out;
}

std::set<std::string> minus(const std::set<std::string>& a,
                            const std::set<std::string>& b) {
  std::set<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                      std::inserter(out, out.end()));
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string str(const json::value& v) {
  if (v.is_string())
    return std::string{v.as_string()};
  return json::serialize(v);
}

// -- docker-compose -----------------------------------------------------------

/// The stack's profiles, one Kafka set-up each, with the brokers it runs.
const std::map<std::string, size_t> stack_profiles{{"kafka1", 1},
                                                   {"kafka3", 3}};

/// The roles that together make both pipelines (node.roles).
const std::set<std::string> pipeline_roles{"api",    "embed", "index",
                                           "ingest", "relay", "thoughts"};

/// `docker-compose … config` in an empty environment (nothing of the test
/// machine's leaks in), with `env_file` instead of docker/.env.
dt::process_result compose(const fs::path& env_file,
                           const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/env",
                                "-i",
                                "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                                "HOME=/tmp",
                                "/usr/bin/docker-compose",
                                "--env-file",
                                env_file.string(),
                                "-f",
                                (docker_dir() / "compose.yaml").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return dt::run_process(argv, {}, 120s);
}

/// The services of `docker-compose config` with `env_text` as docker/.env.
/// config lists every profile's services, whichever profiles are active.
json::object compose_services(const std::string& env_text) {
  dt::temp_dir dir{"distiller-compose"};
  auto env = dir / "test.env";
  dt::write_file(env, env_text);
  auto r = compose(env, {"config"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0)
    return {};
  return dt::parse_yaml(r.out).as_object().at("services").as_object();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::istringstream in{s};
  std::string part;
  while (std::getline(in, part, sep))
    out.push_back(part);
  return out;
}

std::set<std::string> split_set(const std::string& s, char sep) {
  auto parts = split(s, sep);
  return {parts.begin(), parts.end()};
}

std::map<std::string, std::string> env_in(const json::object& s) {
  std::map<std::string, std::string> out;
  if (auto* e = s.if_contains("environment"))
    for (auto& [k, v] : e->as_object())
      out[std::string{k}] = v.is_null() ? "" : str(v);
  return out;
}

/// One variable of a service's environment ("" when it has none).
std::string env_var(const json::object& services, const std::string& name,
                    const std::string& key) {
  return env_in(services.at(name).as_object())[key];
}

std::set<std::string> profiles_in(const json::object& s) {
  std::set<std::string> out;
  if (auto* p = s.if_contains("profiles"))
    for (auto& v : p->as_array())
      out.insert(str(v));
  return out;
}

std::string image_of(const json::object& s) {
  auto* image = s.if_contains("image");
  return image == nullptr ? "" : str(*image);
}

bool is_distiller_image(const json::object& s) {
  return starts_with(image_of(s), "distiller:");
}

bool is_broker(const json::object& s) {
  return starts_with(image_of(s), "apache/kafka:");
}

bool is_exporter(const json::object& s) {
  return starts_with(image_of(s), "danielqsj/kafka-exporter:");
}

bool is_kafka_ui(const json::object& s) {
  return starts_with(image_of(s), "ghcr.io/kafbat/kafka-ui:");
}

/// A Distiller node: the image's own entrypoint, `distiller node`.
bool is_node(const json::object& s) {
  return is_distiller_image(s) && s.if_contains("entrypoint") == nullptr;
}

/// Everything that connects to the brokers.
bool is_kafka_client(const json::object& s) {
  return is_distiller_image(s) || is_exporter(s) || is_kafka_ui(s);
}

bool is_one_shot(const json::object& s) {
  auto* restart = s.if_contains("restart");
  return restart != nullptr && str(*restart) == "no";
}

/// depends_on: service → condition.
std::map<std::string, std::string> waits_for(const json::object& s) {
  std::map<std::string, std::string> out;
  if (auto* deps = s.if_contains("depends_on"))
    for (auto& [dep, d] : deps->as_object())
      out[std::string{dep}] = str(d.at("condition"));
  return out;
}

/// The names a service answers to on the compose network: its own and its
/// aliases.
std::set<std::string> network_names(const std::string& name,
                                    const json::object& s) {
  std::set<std::string> out{name};
  if (auto* nets = s.if_contains("networks"); nets && nets->is_object())
    for (auto& [net, cfg] : nets->as_object())
      if (cfg.is_object())
        if (auto* aliases = cfg.as_object().if_contains("aliases"))
          for (auto& a : aliases->as_array())
            out.insert(str(a));
  return out;
}

/// Published ports: container port → host port.
std::map<std::string, std::string> published(const json::object& s) {
  std::map<std::string, std::string> out;
  if (auto* ports = s.if_contains("ports"))
    for (auto& p : ports->as_array()) {
      if (p.is_object()) {
        out[str(p.at("target"))] = str(p.at("published"));
        continue;
      }
      // [ip:]host:container[/protocol]
      auto spec = str(p);
      auto parts = split(spec.substr(0, spec.find('/')), ':');
      if (parts.size() >= 2)
        out[parts.back()] = parts[parts.size() - 2];
    }
  return out;
}

/// "INTERNAL://kafka:19092,EXTERNAL://localhost:9092" → listener → address.
std::map<std::string, std::string> listeners(const std::string& spec) {
  std::map<std::string, std::string> out;
  for (auto& l : split(spec, ',')) {
    auto sep = l.find("://");
    if (sep != std::string::npos)
      out[l.substr(0, sep)] = l.substr(sep + 3);
  }
  return out;
}

/// The services of `profile` for which `pred` holds.
std::vector<std::string> in_profile(const json::object& services,
                                    const std::string& profile,
                                    bool (*pred)(const json::object&)) {
  std::vector<std::string> out;
  for (auto& [name, v] : services)
    if (profiles_in(v.as_object()).count(profile) != 0 && pred(v.as_object()))
      out.push_back(std::string{name});
  return out;
}

/// The addresses `profile`'s brokers advertise on the compose network.
std::set<std::string> internal_bootstrap(const json::object& services,
                                         const std::string& profile) {
  std::set<std::string> out;
  for (auto& b : in_profile(services, profile, is_broker))
    out.insert(listeners(
        env_var(services, b, "KAFKA_ADVERTISED_LISTENERS"))["INTERNAL"]);
  return out;
}

/// Each set-up's brokers: KRaft settings, the two client listeners, and
/// internal topics that the set-up's brokers can replicate.
void check_brokers(const json::object& services,
                   const std::string& external_host) {
  std::set<std::string> clusters;
  for (auto& [profile, count] : stack_profiles) {
    auto brokers = in_profile(services, profile, is_broker);
    ASSERT_EQ(brokers.size(), count) << profile;
    std::set<std::string> ids, cluster_ids, voters;
    for (auto& b : brokers) {
      auto& s = services.at(b).as_object();
      auto e = env_in(s);
      auto where = profile + "/" + b;
      // Setting any KAFKA_ variable drops the image's defaults: what a
      // broker needs must all be there.
      EXPECT_EQ(e["KAFKA_PROCESS_ROLES"], "broker,controller") << where;
      ids.insert(e["KAFKA_NODE_ID"]);
      cluster_ids.insert(e["CLUSTER_ID"]);
      voters.insert(e["KAFKA_NODE_ID"] + "@" + b + ":9093");
      EXPECT_EQ(listeners(e["KAFKA_LISTENERS"]),
                (std::map<std::string, std::string>{{"CONTROLLER", ":9093"},
                                                    {"EXTERNAL", ":9092"},
                                                    {"INTERNAL", ":19092"}}))
          << where;
      EXPECT_EQ(
          split_set(e["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"], ','),
          (std::set<std::string>{"CONTROLLER:PLAINTEXT", "EXTERNAL:PLAINTEXT",
                                 "INTERNAL:PLAINTEXT"}))
          << where;
      EXPECT_EQ(e["KAFKA_INTER_BROKER_LISTENER_NAME"], "INTERNAL") << where;
      EXPECT_EQ(e["KAFKA_CONTROLLER_LISTENER_NAMES"], "CONTROLLER") << where;
      // Containers are sent to the broker's service name on the internal
      // listener, the host to the published external one: a single
      // `localhost` listener leaves one side with an address it cannot
      // reach after bootstrapping.
      auto advertised = listeners(e["KAFKA_ADVERTISED_LISTENERS"]);
      EXPECT_EQ(advertised.size(), 2u)
          << where << ": " << e["KAFKA_ADVERTISED_LISTENERS"];
      EXPECT_EQ(advertised["INTERNAL"], b + ":19092") << where;
      auto ports = published(s);
      EXPECT_EQ(ports.count("19092"), 0u) << where;
      EXPECT_EQ(ports.count("9093"), 0u) << where;
      ASSERT_EQ(ports.count("9092"), 1u) << where;
      EXPECT_EQ(advertised["EXTERNAL"], external_host + ":" + ports["9092"])
          << where;
      EXPECT_EQ(e["KAFKA_AUTO_CREATE_TOPICS_ENABLE"], "false") << where;
      // Offsets and transaction state at a replication the brokers can
      // hold: consumer groups and transactions fail otherwise.
      auto replication = std::to_string(std::min<size_t>(count, 3));
      std::string min_isr = count == 1 ? "1" : "2";
      EXPECT_EQ(e["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"], replication)
          << where;
      EXPECT_EQ(e["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"],
                replication)
          << where;
      EXPECT_EQ(e["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"], min_isr) << where;
      if (count > 1) {
        EXPECT_EQ(e["KAFKA_MIN_INSYNC_REPLICAS"], "2") << where;
        EXPECT_EQ(e["KAFKA_DEFAULT_REPLICATION_FACTOR"], "3") << where;
      }
    }
    EXPECT_EQ(ids.size(), brokers.size()) << profile << ": a node id twice";
    ASSERT_EQ(cluster_ids.size(), 1u) << profile;
    EXPECT_FALSE(cluster_ids.begin()->empty()) << profile;
    clusters.insert(*cluster_ids.begin());
    for (auto& b : brokers)
      EXPECT_EQ(
          split_set(env_var(services, b, "KAFKA_CONTROLLER_QUORUM_VOTERS"),
                    ','),
          voters)
          << profile << "/" << b;
  }
  EXPECT_EQ(clusters.size(), stack_profiles.size())
      << "the set-ups share a cluster id";
}

/// Every Kafka client bootstraps from its own set-up's internal listeners.
void check_clients(const json::object& services) {
  for (auto& [profile, count] : stack_profiles) {
    auto internal = internal_bootstrap(services, profile);
    ASSERT_EQ(internal.size(), count) << profile;
    for (auto& name : in_profile(services, profile, is_distiller_image))
      EXPECT_EQ(
          split_set(env_var(services, name, "KAFKA_BOOTSTRAP_SERVERS"), ','),
          internal)
          << profile << "/" << name;
    for (auto& name : in_profile(services, profile, is_kafka_ui))
      EXPECT_EQ(split_set(env_var(services, name,
                                  "KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"),
                          ','),
                internal)
          << profile << "/" << name;
    for (auto& name : in_profile(services, profile, is_exporter)) {
      std::set<std::string> servers;
      for (auto& a : services.at(name).at("command").as_array())
        if (starts_with(str(a), "--kafka.server="))
          servers.insert(str(a).substr(std::string{"--kafka.server="}.size()));
      EXPECT_FALSE(servers.empty()) << profile << "/" << name;
      EXPECT_EQ(minus(servers, internal), std::set<std::string>{})
          << profile << "/" << name;
    }
  }
}

class ComposeStack : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(fs::exists("/usr/bin/docker-compose"))
        << "docker-compose is missing: scripts/deps installs it";
    dt::temp_dir dir{"distiller-compose"};
    auto empty = dir / "empty.env";
    dt::write_file(empty, "");
    auto r = compose(empty, {"config"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    config_ = new json::object(dt::parse_yaml(r.out).as_object());
  }
  static void TearDownTestSuite() {
    delete config_;
    config_ = nullptr;
  }

  static const json::object& services() {
    return config_->at("services").as_object();
  }
  static const json::object& service(const std::string& name) {
    return services().at(name).as_object();
  }
  static std::map<std::string, std::string> env_of(const std::string& name) {
    return env_in(service(name));
  }

  static json::object* config_;
};

json::object* ComposeStack::config_ = nullptr;

TEST_F(ComposeStack, ConfigIsValidWithDefaultsTheExampleEnvAndEachProfile) {
  dt::temp_dir dir{"distiller-compose"};
  auto empty = dir / "empty.env";
  dt::write_file(empty, "");
  auto example = docker_dir() / ".env.example";
  // docker-compose 1.29 supports profiles (since 1.28).
  for (auto& env_file : {empty, example}) {
    std::vector<std::string> profiles{""};
    for (auto& [p, n] : stack_profiles)
      profiles.push_back(p);
    for (auto& profile : profiles) {
      std::vector<std::string> args;
      if (!profile.empty())
        args = {"--profile", profile};
      args.push_back("config");
      args.push_back("-q");
      auto r = compose(env_file, args);
      EXPECT_EQ(r.exit_code, 0) << env_file << " " << profile << ":\n" << r.err;
      // Every variable has a default: nothing is "not set".
      EXPECT_EQ(r.err.find("is not set"), std::string::npos) << r.err;
    }
  }
  auto profiles = compose(empty, {"config", "--profiles"});
  ASSERT_EQ(profiles.exit_code, 0) << profiles.err;
  EXPECT_EQ(profiles.out, "kafka1\nkafka3\n");
}

TEST_F(ComposeStack, EachProfileRunsOneKafkaSetUpAndItsClientsWaitForIt) {
  std::set<std::string> known;
  for (auto& [p, n] : stack_profiles)
    known.insert(p);
  for (auto& [name, v] : services()) {
    auto& s = v.as_object();
    auto profiles = profiles_in(s);
    // A service without a profile runs in both set-ups; a broker or a
    // client in both would run next to the other set-up's brokers (or
    // against the wrong ones).
    EXPECT_FALSE(profiles.empty()) << name << " has no profile";
    EXPECT_EQ(minus(profiles, known), std::set<std::string>{}) << name;
    if (is_broker(s) || is_kafka_client(s)) {
      EXPECT_EQ(profiles.size(), 1u) << name << " is in " << join(profiles);
    }
    // Compose refuses to start a service whose dependency is not enabled
    // by the active profiles.
    for (auto& [dep, condition] : waits_for(s)) {
      ASSERT_NE(services().if_contains(dep), nullptr)
          << name << " waits for " << dep << ", which does not exist";
      EXPECT_EQ(minus(profiles, profiles_in(service(dep))),
                std::set<std::string>{})
          << name << " waits for " << dep
          << ", which does not run in all of its profiles";
    }
  }
  // The one-broker set-up is `kafka`; the three brokers replace it.
  EXPECT_EQ(profiles_in(service("kafka")), (std::set<std::string>{"kafka1"}));
  for (auto& b : {"kafka-1", "kafka-2", "kafka-3"})
    EXPECT_EQ(profiles_in(service(b)), (std::set<std::string>{"kafka3"})) << b;

  for (auto& [profile, count] : stack_profiles) {
    auto brokers = in_profile(services(), profile, is_broker);
    EXPECT_EQ(brokers.size(), count) << profile;
    std::vector<std::string> setups;
    for (auto& name : in_profile(services(), profile, is_distiller_image))
      if (!is_node(service(name)))
        setups.push_back(name);
    ASSERT_EQ(setups.size(), 1u) << profile << ": one topic setup";
    auto& setup = setups[0];
    EXPECT_TRUE(is_one_shot(service(setup))) << setup;
    for (auto& b : brokers)
      EXPECT_EQ(waits_for(service(setup))[b], "service_healthy")
          << setup << " does not wait for " << b;
    // Every client starts once all of its set-up's brokers are healthy;
    // the nodes also once the topics exist and PostgreSQL is up.
    for (auto& name : in_profile(services(), profile, is_kafka_client)) {
      auto deps = waits_for(service(name));
      for (auto& b : brokers)
        EXPECT_EQ(deps[b], "service_healthy")
            << profile << ": " << name << " does not wait for " << b;
      if (!is_node(service(name)))
        continue;
      EXPECT_EQ(deps[setup], "service_completed_successfully")
          << profile << ": " << name << " does not wait for " << setup;
      EXPECT_EQ(deps["postgres"], "service_healthy") << profile << "/" << name;
    }
  }
}

TEST_F(ComposeStack, EveryImageIsPinnedToAVersion) {
  for (auto& [name, v] : services()) {
    auto& s = v.as_object();
    auto* image = s.if_contains("image");
    ASSERT_NE(image, nullptr) << name << " has no image";
    std::string ref{image->as_string()};
    auto slash = ref.rfind('/');
    auto colon = ref.rfind(':');
    ASSERT_TRUE(colon != std::string::npos &&
                (slash == std::string::npos || colon > slash))
        << name << ": " << ref << " has no tag";
    auto tag = ref.substr(colon + 1);
    EXPECT_NE(tag, "latest") << name << ": " << ref;
    EXPECT_TRUE(std::any_of(tag.begin(), tag.end(), ::isdigit))
        << name << ": " << ref << " is not pinned to a version";
  }
  EXPECT_TRUE(starts_with(image_of(service("kafka")), "apache/kafka:"));
  EXPECT_TRUE(starts_with(image_of(service("postgres")), "postgres:15."));
  EXPECT_TRUE(is_kafka_ui(service("kafka-ui")));
  EXPECT_TRUE(is_exporter(service("kafka-exporter")));
}

TEST_F(ComposeStack, KafkaListensForContainersAndTheHostWithKRaft) {
  check_brokers(services(), "localhost");
  check_clients(services());
}

TEST_F(ComposeStack, HealthChecksGateTheDependencies) {
  auto dockerfile = dt::read_file(docker_dir() / "Dockerfile");
  bool image_checks = dockerfile.find("\nHEALTHCHECK ") != std::string::npos;
  auto health_checked = [&](const json::object& s) {
    auto* hc = s.if_contains("healthcheck");
    if (hc == nullptr)
      return is_distiller_image(s) && image_checks;
    return json::serialize(hc->at("test")) != R"(["NONE"])";
  };
  std::map<std::string, int> awaited; // one-shot → services waiting for it
  for (auto& [name, v] : services()) {
    for (auto& [dep, condition] : waits_for(v.as_object())) {
      auto& target = service(dep);
      if (condition == "service_healthy") {
        EXPECT_TRUE(health_checked(target))
            << name << " waits for " << dep
            << " to be healthy, which has no health check";
      } else if (condition == "service_completed_successfully") {
        EXPECT_TRUE(is_one_shot(target))
            << dep << " is one-shot for " << name << " but restarts";
        ++awaited[dep];
      }
    }
  }
  for (auto& [name, v] : services()) {
    auto& s = v.as_object();
    if (is_one_shot(s)) {
      EXPECT_FALSE(is_node(s)) << name << ": a node that is not restarted";
      // A setup nothing waits for runs next to the nodes instead of
      // before them.
      EXPECT_GT(awaited[name], 0) << "nothing waits for " << name;
    } else {
      EXPECT_TRUE(health_checked(s))
          << name << " is neither health-checked nor a one-shot";
    }
  }
}

/// `distiller config <what>` with exactly `env` (and the source tree as the
/// working directory, for config/).
dt::process_result
distiller_config(const std::map<std::string, std::string>& env,
                 const std::string& what) {
  std::vector<std::string> argv{"/usr/bin/env", "-i", "-C", root().string()};
  for (auto& [k, v] : env)
    argv.push_back(k + "=" + v);
  argv.push_back(dt::distiller_binary());
  argv.push_back("config");
  argv.push_back(what);
  return dt::run_process(argv, {}, 60s);
}

/// `distiller config show` output as section.key → value text.
std::map<std::string, std::string> parse_show(const std::string& toml) {
  std::map<std::string, std::string> out;
  std::istringstream in{toml};
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    if (line[0] == '[') {
      section = line.substr(1, line.find(']') - 1);
      continue;
    }
    auto eq = line.find(" = ");
    if (eq != std::string::npos)
      out[section + "." + line.substr(0, eq)] = line.substr(eq + 3);
  }
  return out;
}

TEST_F(ComposeStack, DistillerServicesHaveValidConfigurationAndDifferentRoles) {
  for (auto& [name, v] : services()) {
    if (!is_distiller_image(v.as_object()))
      continue;
    auto r = distiller_config(env_of(std::string{name}), "check");
    EXPECT_EQ(r.exit_code, 0) << name << "'s environment:\n" << r.err;
  }
  auto pg = env_of("postgres");
  auto dsn = "postgresql://" + pg["POSTGRES_USER"] + ":" +
             pg["POSTGRES_PASSWORD"] + "@postgres:5432/" + pg["POSTGRES_DB"];

  std::map<std::string, std::set<std::string>> names; // profile → node names
  std::map<std::string, std::string> host_port;       // node name → host port
  for (auto& [profile, count] : stack_profiles) {
    auto nodes = in_profile(services(), profile, is_node);
    ASSERT_GE(nodes.size(), 2u) << profile << ": a cluster of one";
    std::set<std::set<std::string>> role_sets;
    std::set<std::string> all_roles, host_ports;
    for (auto& n : nodes) {
      auto where = profile + "/" + n;
      auto env = env_of(n);
      auto r = distiller_config(env, "show");
      ASSERT_EQ(r.exit_code, 0) << where << ": " << r.err;
      auto cfg = parse_show(r.out);
      EXPECT_EQ(cfg["http.host"], "\"0.0.0.0\"") << where;
      EXPECT_EQ(cfg["http.port"], "8000") << where;
      EXPECT_EQ(cfg["kafka.brokers"],
                "\"" + env["KAFKA_BOOTSTRAP_SERVERS"] + "\"")
          << where;
      // The seeds' DATABASE_URL, built from the server's own variables.
      EXPECT_EQ(env["DATABASE_URL"], dsn) << where;
      // `config show` masks the password.
      auto masked = dsn;
      auto colon = masked.find(':', masked.find("://") + 3);
      masked.replace(colon + 1, masked.find('@') - colon - 1, "***");
      EXPECT_EQ(cfg["postgres.dsn"], "\"" + masked + "\"") << where;
      // The node's name is unique, and it is the name the node answers to
      // on the network: the other nodes' cluster connections and
      // Prometheus' `node` label use it.
      auto node_name = env["DISTILLER_NODE_NAME"];
      EXPECT_EQ(cfg["node.name"], "\"" + node_name + "\"") << where;
      EXPECT_TRUE(names[profile].insert(node_name).second)
          << where << ": " << node_name << " twice";
      EXPECT_EQ(network_names(n, service(n)).count(node_name), 1u)
          << where << " is not reachable as " << node_name;
      EXPECT_EQ(env["DISTILLER_CLUSTER_ADVERTISE_HOST"], node_name) << where;

      std::set<std::string> roles;
      std::regex quoted{"\"([a-z]+)\""};
      auto& listed = cfg["node.roles"];
      for (std::sregex_iterator i{listed.begin(), listed.end(), quoted}, end;
           i != end; ++i)
        roles.insert((*i)[1]);
      EXPECT_FALSE(roles.empty()) << where;
      EXPECT_TRUE(role_sets.insert(roles).second)
          << where << " runs the same roles as another node: " << listed;
      all_roles.insert(roles.begin(), roles.end());

      auto ports = published(service(n));
      ASSERT_EQ(ports.count("8000"), 1u) << where << " is not published";
      EXPECT_TRUE(host_ports.insert(ports["8000"]).second)
          << where << ": host port " << ports["8000"] << " twice";
      // Both set-ups publish a node on the same host port.
      auto known = host_port.emplace(node_name, ports["8000"]).first;
      EXPECT_EQ(known->second, ports["8000"]) << where;
    }
    if (all_roles.count("all") == 0) {
      EXPECT_EQ(all_roles, pipeline_roles)
          << profile << ": together the nodes run every role";
    }
  }
  for (auto& [profile, node_names] : names)
    EXPECT_EQ(node_names, names.begin()->second)
        << profile << " has other nodes than " << names.begin()->first;
}

TEST_F(ComposeStack, PrometheusLabelsEachNodeFromItsTarget) {
  auto file = docker_dir() / "prometheus" / "prometheus.yml";
  auto prom = dt::read_yaml(file);
  std::map<std::string, std::set<std::string>> targets; // job → hosts
  for (auto& job : prom.at("scrape_configs").as_array()) {
    auto* statics = job.as_object().if_contains("static_configs");
    if (statics == nullptr)
      continue;
    for (auto& sc : statics->as_array()) {
      // A hand-kept copy of a node's name or roles goes stale when
      // compose.yaml or .env changes them.
      EXPECT_EQ(sc.as_object().if_contains("labels"), nullptr)
          << str(job.at("job_name")) << " has hand-written target labels";
      for (auto& t : sc.at("targets").as_array())
        targets[str(job.at("job_name"))].insert(
            str(t).substr(0, str(t).rfind(':')));
    }
  }
  // The labels after relabelling, as Prometheus computes them.
  auto r = dt::run_process({"/usr/bin/promtool", "check", "service-discovery",
                            file.string(), "distiller"},
                           {}, 60s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::map<std::string, std::string> scraped; // address → node label
  auto found = json::parse(r.out);
  for (auto& t : found.as_array()) {
    auto& labels = t.at("labels").as_object();
    auto address = str(labels.at("__address__"));
    EXPECT_EQ(labels.if_contains("roles"), nullptr) << address;
    auto* node = labels.if_contains("node");
    ASSERT_NE(node, nullptr) << address << " has no node label";
    scraped[address] = str(*node);
  }
  for (auto& [profile, count] : stack_profiles) {
    std::map<std::string, std::string> expected;
    for (auto& n : in_profile(services(), profile, is_node)) {
      auto env = env_of(n);
      expected[env["DISTILLER_NODE_NAME"] + ":" + env["DISTILLER_HTTP_PORT"]] =
          env["DISTILLER_NODE_NAME"];
    }
    EXPECT_EQ(scraped, expected) << profile;
    // The exporter's target answers in every set-up.
    std::set<std::string> exporters;
    for (auto& e : in_profile(services(), profile, is_exporter)) {
      auto n = network_names(e, service(e));
      exporters.insert(n.begin(), n.end());
    }
    EXPECT_EQ(minus(targets["kafka-exporter"], exporters),
              std::set<std::string>{})
        << profile;
  }
}

TEST_F(ComposeStack, OneShotSetupsApplyTheCatalog) {
  EXPECT_EQ(json::serialize(service("kafka-setup").at("entrypoint")),
            R"(["distiller","topics","apply"])");
  auto kafka3 = json::serialize(service("kafka3-setup").at("command"));
  EXPECT_NE(kafka3.find("exec distiller topics apply --set "
                        "kafka.catalog=/tmp/topics-kafka3.toml"),
            std::string::npos)
      << kafka3;
  // kafka3-setup rewrites the catalog's defaults with sed: the lines it
  // rewrites must exist, once, or the three-broker topics would silently
  // keep replication 1.
  auto compose_text = dt::read_file(docker_dir() / "compose.yaml");
  EXPECT_NE(compose_text.find("'s/^replication = 1$$/replication = 3/'"),
            std::string::npos);
  EXPECT_NE(compose_text.find(
                "'s/^min_insync_replicas = 1$$/min_insync_replicas = 2/'"),
            std::string::npos);
  auto catalog = dt::read_file(root() / "config" / "topics.toml");
  auto count = [&](const std::string& re) {
    std::regex r{re, std::regex::multiline};
    return std::distance(
        std::sregex_iterator(catalog.begin(), catalog.end(), r),
        std::sregex_iterator());
  };
  EXPECT_EQ(count("^replication = 1$"), 1);
  EXPECT_EQ(count("^replication\\s*="), 1) << "a topic overrides replication";
  EXPECT_EQ(count("^min_insync_replicas = 1$"), 1);
  EXPECT_EQ(count("^min_insync_replicas\\s*="), 1);
}

TEST(ComposeEnvironment, DatabaseUrlFollowsThePostgresVariables) {
  auto services = compose_services(
      "POSTGRES_USER=alice\nPOSTGRES_PASSWORD=s3cret\nPOSTGRES_DB=ledger\n");
  auto pg = env_in(services.at("postgres").as_object());
  EXPECT_EQ(pg["POSTGRES_USER"], "alice");
  EXPECT_EQ(pg["POSTGRES_PASSWORD"], "s3cret");
  EXPECT_EQ(pg["POSTGRES_DB"], "ledger");
  size_t nodes = 0;
  for (auto& [name, v] : services) {
    if (!is_node(v.as_object()))
      continue;
    ++nodes;
    EXPECT_EQ(env_in(v.as_object())["DATABASE_URL"],
              "postgresql://alice:s3cret@postgres:5432/ledger")
        << name;
  }
  EXPECT_GE(nodes, 2 * stack_profiles.size());
}

TEST(ComposeEnvironment, BrokersAdvertiseTheExternalHostAndItsPorts) {
  auto services = compose_services(
      "KAFKA_EXTERNAL_HOST=kafka.example.test\nKAFKA_PORT=19999\n"
      "KAFKA3_PORT_1=29991\nKAFKA3_PORT_2=29992\nKAFKA3_PORT_3=29993\n");
  check_brokers(services, "kafka.example.test");
  EXPECT_EQ(listeners(env_var(services, "kafka",
                              "KAFKA_ADVERTISED_LISTENERS"))["EXTERNAL"],
            "kafka.example.test:19999");
  EXPECT_EQ(listeners(env_var(services, "kafka-3",
                              "KAFKA_ADVERTISED_LISTENERS"))["EXTERNAL"],
            "kafka.example.test:29993");
}

TEST(ComposeEnvironment, TheExampleEnvKeepsEachProfileOnItsOwnBrokers) {
  auto services =
      compose_services(dt::read_file(docker_dir() / ".env.example"));
  check_brokers(services, "localhost");
  check_clients(services);
}

TEST(ComposeEnvExample, NamesEveryVariableOfTheComposeFile) {
  auto compose_text = dt::read_file(docker_dir() / "compose.yaml");
  std::set<std::string> used;
  std::regex var{R"((^|[^$])\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\})"};
  for (std::sregex_iterator i{compose_text.begin(), compose_text.end(), var},
       end;
       i != end; ++i)
    used.insert((*i)[2]);
  auto example = dt::read_file(docker_dir() / ".env.example");
  std::map<std::string, std::string> values;
  std::regex line{R"((^|\n)([A-Z0-9_]+)=([^\n]*))"};
  for (std::sregex_iterator i{example.begin(), example.end(), line}, end;
       i != end; ++i)
    values[(*i)[2]] = (*i)[3];
  std::set<std::string> listed, compose_own;
  for (auto& [k, v] : values) {
    listed.insert(k);
    if (starts_with(k, "COMPOSE_"))
      compose_own.insert(k); // docker compose's own, not interpolated
  }
  EXPECT_EQ(minus(used, listed), std::set<std::string>{})
      << "used in compose.yaml, missing from .env.example";
  EXPECT_EQ(minus(minus(listed, used), compose_own), std::set<std::string>{})
      << "in .env.example, unused by compose.yaml";
  // The default set-up when the command line names no profile.
  EXPECT_EQ(compose_own, (std::set<std::string>{"COMPOSE_PROFILES"}));
  EXPECT_EQ(stack_profiles.count(values["COMPOSE_PROFILES"]), 1u)
      << "COMPOSE_PROFILES=" << values["COMPOSE_PROFILES"];
  // The seeds' names.
  for (auto& seed : {"KAFKA_BOOTSTRAP_SERVERS", "POSTGRES_USER",
                     "POSTGRES_PASSWORD", "POSTGRES_DB"})
    EXPECT_EQ(listed.count(seed), 1u) << seed;
  // Empty, so each profile's clients use that profile's brokers.
  EXPECT_EQ(values["KAFKA_BOOTSTRAP_SERVERS"], "");
  // DATABASE_URL is built from POSTGRES_*: a variable of its own would let
  // the nodes' DSN and the database's credentials drift apart.
  EXPECT_EQ(used.count("DATABASE_URL"), 0u);
  EXPECT_EQ(listed.count("DATABASE_URL"), 0u);
}

// -- Prometheus
// -------------------------------------------------------------------

TEST(PrometheusFiles, PassPromtool) {
  ASSERT_TRUE(fs::exists("/usr/bin/promtool"))
      << "promtool is missing: scripts/deps installs Debian's prometheus";
  auto dir = docker_dir() / "prometheus";
  auto config = dt::run_process({"/usr/bin/promtool", "check", "config",
                                 (dir / "prometheus.yml").string()});
  EXPECT_EQ(config.exit_code, 0) << config.out << config.err;
  auto rules = dt::run_process(
      {"/usr/bin/promtool", "check", "rules", (dir / "alerts.yml").string()});
  EXPECT_EQ(rules.exit_code, 0) << rules.out << rules.err;
}

TEST(PrometheusFiles, AlertOnWhatTheIssueNames) {
  auto doc = dt::read_yaml(docker_dir() / "prometheus" / "alerts.yml");
  std::map<std::string, json::object> alerts;
  for (auto& g : doc.at("groups").as_array())
    for (auto& r : g.at("rules").as_array())
      if (auto* a = r.as_object().if_contains("alert"))
        alerts[str(*a)] = r.as_object();
  for (auto& name : {"DistillerNodeDown", "DistillerClusterMemberDown",
                     "KafkaConsumerLagGrowing", "DistillerBridgeLagGrowing",
                     "DistillerDeadLetters", "KafkaDeadLetterTopicGrowing",
                     "DistillerActorRestarts", "DistillerSseSlowDisconnects",
                     "DistillerHttp5xxRate"})
    EXPECT_EQ(alerts.count(name), 1u) << name;
  for (auto& [name, rule] : alerts) {
    EXPECT_NE(rule.if_contains("labels"), nullptr) << name;
    if (auto* l = rule.if_contains("labels")) {
      EXPECT_NE(l->as_object().if_contains("severity"), nullptr) << name;
    }
    ASSERT_NE(rule.if_contains("annotations"), nullptr) << name;
    EXPECT_NE(rule.at("annotations").as_object().if_contains("summary"),
              nullptr)
        << name;
  }
  auto expr = [&](const std::string& a) {
    return str(alerts[a].at("expr"));
  };
  EXPECT_NE(expr("DistillerNodeDown").find("up{job=\"distiller\"} == 0"),
            std::string::npos);
  EXPECT_NE(expr("DistillerClusterMemberDown")
                .find("distiller_cluster_members{state=\"down\"}"),
            std::string::npos);
  EXPECT_NE(expr("KafkaConsumerLagGrowing").find("kafka_consumergroup_lag"),
            std::string::npos);
}

// -- Dockerfile
// -------------------------------------------------------------------

/// The Dockerfile's instructions (continuations joined, comment lines
/// dropped), each with the stage it belongs to ("build", "runtime").
struct instruction {
  std::string stage;
  std::string text;
};

std::vector<instruction> dockerfile() {
  std::istringstream in{dt::read_file(docker_dir() / "Dockerfile")};
  std::vector<instruction> out;
  std::string line, current, stage;
  std::regex from{R"(^FROM\s+\S+\s+AS\s+(\S+))", std::regex::icase};
  while (std::getline(in, line)) {
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#')
      continue;
    bool more = !line.empty() && line.back() == '\\';
    if (more)
      line.pop_back();
    current += line + " ";
    if (more)
      continue;
    std::smatch m;
    if (std::regex_search(current, m, from))
      stage = m[1];
    out.push_back({stage, current});
    current.clear();
  }
  return out;
}

/// The packages of the `apt-get install` in `stage`.
std::set<std::string> apt_packages(const std::string& stage) {
  std::set<std::string> out;
  for (auto& ins : dockerfile()) {
    if (ins.stage != stage || ins.text.rfind("RUN ", 0) != 0)
      continue;
    std::istringstream words{ins.text};
    std::string w;
    bool in_install = false;
    while (words >> w) {
      if (w == "install") {
        in_install = true;
      } else if (w == "&&" || w == ";" || w == "|") {
        in_install = false;
      } else if (in_install && w[0] != '-') {
        out.insert(w);
      }
    }
  }
  return out;
}

/// scripts/deps' packages: the `packages=( … )` list and the fallbacks it
/// adds itself (`missing+=(nodejs npm)`).
std::set<std::string> deps_packages() {
  auto text = dt::read_file(root() / "scripts" / "deps");
  std::set<std::string> out;
  auto start = text.find("packages=(");
  auto end = text.find("\n)", start);
  EXPECT_NE(start, std::string::npos);
  std::istringstream list{text.substr(start + 10, end - start - 10)};
  std::string line;
  while (std::getline(list, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words{line};
    std::string w;
    while (words >> w)
      out.insert(w);
  }
  std::regex added{R"(missing\+=\(([^)]*)\))"};
  for (std::sregex_iterator i{text.begin(), text.end(), added}, e; i != e;
       ++i) {
    std::istringstream words{(*i)[1].str()};
    std::string w;
    while (words >> w)
      if (w[0] != '"' && w[0] != '$')
        out.insert(w);
  }
  return out;
}

TEST(Dockerfile, BuildStageInstallsExactlyTheDepsPackages) {
  auto deps = deps_packages();
  auto image = apt_packages("build");
  ASSERT_GT(deps.size(), 20u);
  EXPECT_EQ(minus(deps, image), std::set<std::string>{})
      << "in scripts/deps, missing from docker/Dockerfile's build stage";
  EXPECT_EQ(minus(image, deps), std::set<std::string>{})
      << "in docker/Dockerfile's build stage, not in scripts/deps";
}

/// The Debian package that owns `file` (usr-merge: /lib and /usr/lib).
std::string owner(const fs::path& file) {
  std::vector<std::string> candidates{file.string()};
  std::error_code ec;
  auto real = fs::canonical(file, ec);
  if (!ec)
    candidates.push_back(real.string());
  for (auto c : std::vector<std::string>(candidates)) {
    if (c.rfind("/usr/", 0) == 0)
      candidates.push_back(c.substr(4));
    else
      candidates.push_back("/usr" + c);
  }
  for (auto& c : candidates) {
    auto r = dt::run_process({"/usr/bin/dpkg-query", "-S", c});
    if (r.exit_code == 0)
      return r.out.substr(0, r.out.find_first_of(":"));
  }
  return "";
}

TEST(Dockerfile, RuntimeStageHasEveryLibraryTheBinaryLinks) {
  auto elf =
      dt::run_process({"/usr/bin/readelf", "-d", dt::distiller_binary()});
  ASSERT_EQ(elf.exit_code, 0) << elf.err;
  std::set<std::string> needed;
  std::regex re{R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])"};
  for (std::sregex_iterator i{elf.out.begin(), elf.out.end(), re}, e; i != e;
       ++i)
    needed.insert((*i)[1]);
  ASSERT_FALSE(needed.empty());
  auto ldd = dt::run_process({"/usr/bin/ldd", dt::distiller_binary()});
  ASSERT_EQ(ldd.exit_code, 0) << ldd.err;
  std::map<std::string, std::string> paths;
  std::regex line{R"((\S+) => (\S+))"};
  for (std::sregex_iterator i{ldd.out.begin(), ldd.out.end(), line}, e; i != e;
       ++i)
    paths[(*i)[1]] = (*i)[2];
  auto runtime = apt_packages("runtime");
  for (auto& lib : needed) {
    // The sanitizer build (scripts/test --sanitize) links the sanitizers'
    // runtimes; the image is built without them.
    if (lib.rfind("libasan", 0) == 0 || lib.rfind("libubsan", 0) == 0)
      continue;
    ASSERT_EQ(paths.count(lib), 1u) << lib << " not resolved by ldd";
    auto pkg = owner(paths[lib]);
    ASSERT_FALSE(pkg.empty()) << "no package owns " << paths[lib];
    EXPECT_EQ(runtime.count(pkg), 1u)
        << "the binary links " << lib << " (package " << pkg
        << "), which docker/Dockerfile's runtime stage does not install";
  }
}

TEST(Dockerfile, IsPinnedNonRootHealthCheckedAndRunsANode) {
  auto text = dt::read_file(docker_dir() / "Dockerfile");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      text, m, std::regex{R"(\nFROM debian:(12\.[0-9]+) AS build\n)"}))
      << "the build stage is not debian:12.N";
  auto release = m[1].str();
  EXPECT_NE(text.find("\nFROM debian:" + release + "-slim AS runtime\n"),
            std::string::npos)
      << "the runtime stage is not debian:" << release << "-slim";
  EXPECT_EQ(std::regex_search(text, std::regex{R"(\nFROM \S+:latest)"}), false);
  EXPECT_NE(text.find("RUN scripts/build"), std::string::npos);
  EXPECT_NE(text.find("\nUSER distiller\n"), std::string::npos);
  EXPECT_NE(text.find("\nEXPOSE 8000\n"), std::string::npos);
  EXPECT_TRUE(std::regex_search(
      text, std::regex{R"(\nHEALTHCHECK [^\n]*\\\n[^\n]*/ready)"}))
      << "no HEALTHCHECK on /ready";
  EXPECT_NE(text.find("\nENTRYPOINT [\"distiller\", \"node\"]\n"),
            std::string::npos);
  EXPECT_NE(text.find("DISTILLER_HTTP_HOST=0.0.0.0"), std::string::npos);
  auto ignore = dt::read_file(root() / ".dockerignore");
  for (auto& p : {".git", "build", "build-*", "var", "**/node_modules"})
    EXPECT_NE(ignore.find(std::string{"\n"} + p + "\n"), std::string::npos)
        << ".dockerignore does not exclude " << p;
}

// -- Grafana
// --------------------------------------------------------------------

std::vector<fs::path> dashboards() {
  std::vector<fs::path> out;
  for (auto& e :
       fs::directory_iterator(docker_dir() / "grafana" / "dashboards"))
    if (e.path().extension() == ".json")
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string provisioned_uid() {
  auto ds = dt::read_yaml(docker_dir() / "grafana" / "provisioning" /
                          "datasources" / "prometheus.yml");
  auto& list = ds.at("datasources").as_array();
  EXPECT_EQ(list.size(), 1u);
  EXPECT_EQ(str(list[0].at("type")), "prometheus");
  EXPECT_EQ(str(list[0].at("url")), "http://prometheus:9090");
  return str(list[0].at("uid"));
}

void check_panels(const json::array& panels, const std::string& uid,
                  const std::string& file, std::set<int64_t>& ids,
                  int& with_queries) {
  for (auto& p : panels) {
    auto& panel = p.as_object();
    auto title = panel.if_contains("title") ? str(panel.at("title")) : "?";
    ASSERT_NE(panel.if_contains("id"), nullptr) << file << ": " << title;
    EXPECT_TRUE(ids.insert(panel.at("id").as_int64()).second)
        << file << ": panel id " << panel.at("id") << " twice";
    ASSERT_NE(panel.if_contains("gridPos"), nullptr) << title;
    if (str(panel.at("type")) == "row") {
      if (auto* nested = panel.if_contains("panels"))
        check_panels(nested->as_array(), uid, file, ids, with_queries);
      continue;
    }
    auto* ds = panel.if_contains("datasource");
    ASSERT_TRUE(ds != nullptr && ds->is_object())
        << file << ": panel '" << title << "' has no data source object";
    EXPECT_EQ(str(ds->at("uid")), uid) << file << ": panel '" << title << "'";
    EXPECT_EQ(str(ds->at("type")), "prometheus") << title;
    auto* targets = panel.if_contains("targets");
    ASSERT_TRUE(targets != nullptr && !targets->as_array().empty())
        << file << ": panel '" << title << "' has no query";
    ++with_queries;
    for (auto& t : targets->as_array()) {
      if (auto* tds = t.as_object().if_contains("datasource")) {
        EXPECT_EQ(str(tds->at("uid")), uid) << title;
      }
      EXPECT_FALSE(str(t.at("expr")).empty()) << title;
    }
  }
}

TEST(GrafanaDashboards, ParseAndUseTheProvisionedDataSourceUid) {
  auto uid = provisioned_uid();
  EXPECT_EQ(uid, "prometheus");
  auto files = dashboards();
  ASSERT_FALSE(files.empty());
  bool overview = false;
  for (auto& f : files) {
    auto text = dt::read_file(f);
    // grafana#10786: a provisioned dashboard cannot resolve import inputs.
    EXPECT_EQ(text.find("${DS_"), std::string::npos) << f;
    EXPECT_EQ(text.find("__inputs"), std::string::npos) << f;
    json::object doc;
    ASSERT_NO_THROW(doc = json::parse(text).as_object()) << f;
    EXPECT_FALSE(str(doc.at("uid")).empty()) << f;
    overview = overview || str(doc.at("title")) == "Distiller overview";
    std::set<int64_t> ids;
    int with_queries = 0;
    check_panels(doc.at("panels").as_array(), uid, f.filename().string(), ids,
                 with_queries);
    EXPECT_GT(with_queries, 10) << f;
    if (auto* templating = doc.if_contains("templating")) {
      for (auto& v : templating->at("list").as_array()) {
        if (auto* ds = v.as_object().if_contains("datasource")) {
          EXPECT_EQ(str(ds->at("uid")), uid)
              << f << ": variable " << v.at("name");
        }
      }
    }
  }
  EXPECT_TRUE(overview) << "no dashboard titled \"Distiller overview\"";
}

TEST(GrafanaDashboards, QueriesAreValidPromQL) {
  // Each query becomes a recording rule, so promtool parses it.
  std::string rules = "groups:\n  - name: dashboard-queries\n    rules:\n";
  int n = 0;
  for (auto& f : dashboards()) {
    for (auto& e : dt::dashboard_expressions(f)) {
      rules += "      - record: dashboard:query_" + std::to_string(++n) +
               "\n        expr: " + json::serialize(json::value(e.expr)) + "\n";
    }
  }
  ASSERT_GT(n, 10);
  dt::temp_dir dir{"distiller-dashboard-rules"};
  dt::write_file(dir / "rules.yml", rules);
  auto r = dt::run_process(
      {"/usr/bin/promtool", "check", "rules", (dir / "rules.yml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(GrafanaDashboards, ProvisioningPointsAtTheComposeMounts) {
  auto prov = dt::read_yaml(docker_dir() / "grafana" / "provisioning" /
                            "dashboards" / "distiller.yml");
  auto path = str(prov.at("providers").at(0).at("options").at("path"));
  auto compose_text = dt::read_file(docker_dir() / "compose.yaml");
  EXPECT_NE(compose_text.find("./grafana/dashboards:" + path + ":ro"),
            std::string::npos)
      << "compose.yaml does not mount the dashboards at " << path;
  EXPECT_NE(
      compose_text.find("./grafana/provisioning:/etc/grafana/provisioning:ro"),
      std::string::npos);
  EXPECT_NE(compose_text.find("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: " +
                              path + "/distiller-overview.json"),
            std::string::npos);
}

// -- metric types in the rules and dashboards ---------------------------------

/// Every metric family the node registers with prometheus-cpp (runtime/,
/// actors/, bridges/), by name: counter, gauge, histogram or summary. Found
/// in the source: `Build<Type>().Name("…")` and the `<type>(registry,
/// "distiller_…", …)` helpers of bridges/kafka/source_metrics.cpp.
std::map<std::string, std::string> registered_metric_types() {
  std::map<std::string, std::string> out;
  std::regex built{
      R"re(Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)")re"};
  std::regex helper{
      R"re(\b(counter|gauge|histogram|summary)\(\s*\w+\s*,\s*"(distiller_[a-z0-9_]+)")re"};
  for (auto dir : {"runtime", "actors", "bridges"}) {
    for (auto& e : fs::recursive_directory_iterator(root() / dir)) {
      auto ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp"))
        continue;
      auto text = dt::read_file(e.path());
      if (text.find("\"distiller_") == std::string::npos)
        continue;
      for (auto* re : {&built, &helper})
        for (std::sregex_iterator i{text.begin(), text.end(), *re}, end;
             i != end; ++i) {
          auto type = (*i)[1].str();
          std::transform(type.begin(), type.end(), type.begin(),
                         [](unsigned char c) { return std::tolower(c); });
          out[(*i)[2].str()] = type;
        }
    }
  }
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// What a name in a query is: its family's type, `histogram_bucket`,
/// `histogram_count` or `histogram_sum` for a histogram's series, "" when
/// nothing registers it.
std::string series_type(const std::string& name,
                        const std::map<std::string, std::string>& families) {
  // kafka-exporter v1.8.0 reports every family as a gauge (offsets
  // included: prometheus.GaugeValue in kafka_exporter.go); `up` is
  // Prometheus' own gauge.
  if (name == "up" || starts_with(name, "kafka_"))
    return "gauge";
  if (auto i = families.find(name); i != families.end())
    return i->second;
  for (std::string suffix : {"_bucket", "_count", "_sum"}) {
    if (!ends_with(name, suffix))
      continue;
    auto i = families.find(name.substr(0, name.size() - suffix.size()));
    if (i != families.end() &&
        (i->second == "histogram" || i->second == "summary"))
      return i->second + suffix;
  }
  return "";
}

/// The argument text of the call whose "(" is at `open` (quoted strings
/// skipped).
std::string call_argument(const std::string& expr, size_t open) {
  int depth = 0;
  char quote = 0;
  for (size_t i = open; i < expr.size(); ++i) {
    char c = expr[i];
    if (quote != 0) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'' || c == '`') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0) {
      return expr.substr(open + 1, i - open - 1);
    }
  }
  return expr.substr(open + 1);
}

/// What `expr` applies to series of the wrong type, one line each: rate(),
/// irate(), increase() and resets() take counters (a histogram's _bucket,
/// _count and _sum series are counters), deriv(), delta(), idelta() and
/// predict_linear() gauges, histogram_quantile() _bucket series; and names
/// that neither the node nor the exporter exports.
std::vector<std::string>
type_problems(const std::string& expr,
              const std::map<std::string, std::string>& families) {
  std::vector<std::string> out;
  for (auto& use : dt::metrics_in(expr))
    if (series_type(use.name, families).empty())
      out.push_back(use.name + " is neither registered by the node "
                               "(runtime/, actors/, bridges/) nor an "
                               "exporter metric");
  std::regex call{
      R"re(\b(rate|irate|increase|resets|deriv|delta|idelta|predict_linear)\s*\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*))re"};
  for (std::sregex_iterator i{expr.begin(), expr.end(), call}, end; i != end;
       ++i) {
    auto fn = (*i)[1].str();
    auto name = (*i)[2].str();
    auto type = series_type(name, families);
    bool counter = type == "counter" || starts_with(type, "histogram_") ||
                   starts_with(type, "summary_");
    bool wants_counter =
        fn == "rate" || fn == "irate" || fn == "increase" || fn == "resets";
    if (wants_counter ? !counter : type != "gauge")
      out.push_back(fn + "() of " + name + " (" +
                    (type.empty() ? "unknown" : type) + ")");
  }
  std::regex quantile{R"re(\bhistogram_quantile\s*\()re"};
  for (std::sregex_iterator i{expr.begin(), expr.end(), quantile}, end;
       i != end; ++i) {
    auto open = static_cast<size_t>(i->position() + i->length() - 1);
    auto uses = dt::metrics_in(call_argument(expr, open));
    if (uses.empty())
      out.push_back("histogram_quantile() of no series");
    for (auto& u : uses)
      if (series_type(u.name, families) != "histogram_bucket")
        out.push_back("histogram_quantile() of " + u.name +
                      ", not a histogram's _bucket series");
  }
  return out;
}

TEST(StackQueries, FunctionsFitTheTypesTheNodeRegisters) {
  auto families = registered_metric_types();
  ASSERT_GT(families.size(), 30u);
  EXPECT_EQ(families["distiller_actor_messages_processed"], "gauge");
  EXPECT_EQ(families["distiller_http_requests_total"], "counter");
  EXPECT_EQ(families["distiller_bridge_records_processed_total"], "counter");
  EXPECT_EQ(families["distiller_bridge_processing_seconds"], "histogram");

  // The checker, on the mistakes it is there to catch.
  for (std::string bad :
       {"sum by (role) (rate(distiller_actor_messages_processed[5m]))",
        "rate(kafka_topic_partition_current_offset[5m])",
        "increase(distiller_bridge_lag[10m])",
        "deriv(distiller_http_requests_total[5m])",
        "histogram_quantile(0.99, rate(distiller_http_requests_total[5m]))",
        "rate(distiller_http_request_duration_seconds[5m])",
        "rate(distiller_made_up_total[5m])"})
    EXPECT_FALSE(type_problems(bad, families).empty()) << bad;
  for (std::string good :
       {"histogram_quantile(0.99, sum by (le) "
        "(rate(distiller_http_request_duration_seconds_bucket{route!~\"/"
        "ready|/health\"}[5m])))",
        "sum(rate(distiller_http_requests_total{status=~\"5..\"}[5m]))",
        "clamp_min(deriv(distiller_actor_messages_processed[5m]), 0)",
        "deriv(kafka_consumergroup_lag_sum[10m])"})
    EXPECT_EQ(type_problems(good, families), std::vector<std::string>{})
        << good;

  auto exprs = dt::rule_expressions(docker_dir() / "prometheus" / "alerts.yml");
  for (auto& f : dashboards())
    for (auto& e : dt::dashboard_expressions(f))
      exprs.push_back(e);
  EXPECT_GT(exprs.size(), 50u);
  for (auto& e : exprs)
    for (auto& problem : type_problems(e.expr, families))
      ADD_FAILURE() << e.where << ": " << problem << "\n  " << e.expr;
}

} // namespace
