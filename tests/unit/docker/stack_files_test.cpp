// docker/ checked without a Docker engine: the compose file as Debian's
// docker-compose 1.29 reads it (`docker-compose config`, also with the kafka3
// profile), pinned images, KRaft settings, health checks that gate the
// dependencies, the nodes' environment as valid Distiller configuration, the
// variables of .env.example; Prometheus' configuration and rules through
// promtool; the Dockerfile's package list against scripts/deps and its
// runtime libraries against the binary; the Grafana dashboards' data source
// uid and PromQL. The metric names the rules and dashboards use are checked
// against a running node in tests/e2e/docker/metric_names_test.cpp.
//
// docker-compose, promtool and python3-yaml come from scripts/deps; without
// them these tests fail (they are not skipped).

#include <gtest/gtest.h>

#include <algorithm>
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

std::string str(const json::value& v) {
  if (v.is_string())
    return std::string{v.as_string()};
  return json::serialize(v);
}

// -- docker-compose -----------------------------------------------------------

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
    std::map<std::string, std::string> out;
    if (auto* e = service(name).if_contains("environment"))
      for (auto& [k, v] : e->as_object())
        out[std::string{k}] = v.is_null() ? "" : str(v);
    return out;
  }
  static bool is_distiller_image(const json::object& s) {
    auto* image = s.if_contains("image");
    return image != nullptr &&
           std::string{image->as_string()}.rfind("distiller:", 0) == 0;
  }

  static json::object* config_;
};

json::object* ComposeStack::config_ = nullptr;

TEST_F(ComposeStack, ConfigIsValidWithDefaultsExampleEnvAndTheKafka3Profile) {
  dt::temp_dir dir{"distiller-compose"};
  auto empty = dir / "empty.env";
  dt::write_file(empty, "");
  auto example = docker_dir() / ".env.example";
  // docker-compose 1.29 supports profiles (since 1.28): `--profile kafka3`
  // enables the three-broker services.
  for (auto& env_file : {empty, example}) {
    for (auto profile : {false, true}) {
      std::vector<std::string> args;
      if (profile)
        args = {"--profile", "kafka3"};
      args.push_back("config");
      args.push_back("-q");
      auto r = compose(env_file, args);
      EXPECT_EQ(r.exit_code, 0)
          << env_file << (profile ? " --profile kafka3" : "") << ":\n"
          << r.err;
      // Every variable has a default: nothing is "not set".
      EXPECT_EQ(r.err.find("is not set"), std::string::npos) << r.err;
    }
  }
  auto profiles = compose(empty, {"config", "--profiles"});
  ASSERT_EQ(profiles.exit_code, 0) << profiles.err;
  EXPECT_EQ(profiles.out, "kafka3\n");
}

TEST_F(ComposeStack, HasTheServicesOfTheStack) {
  std::set<std::string> names;
  for (auto& [k, v] : services())
    names.insert(std::string{k});
  std::set<std::string> expected{
      "kafka",        "kafka-1",  "kafka-2", "kafka-3", "kafka-setup",
      "kafka3-setup", "postgres", "node-1",  "node-2",  "kafka-exporter",
      "prometheus",   "grafana",  "kafka-ui"};
  EXPECT_EQ(minus(expected, names), std::set<std::string>{})
      << "services: " << join(names);
  for (auto& s : {"kafka-1", "kafka-2", "kafka-3", "kafka3-setup"}) {
    auto* p = service(s).if_contains("profiles");
    ASSERT_NE(p, nullptr) << s;
    EXPECT_EQ(json::serialize(*p), R"(["kafka3"])") << s;
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
  EXPECT_EQ(std::string{service("kafka").at("image").as_string()}.rfind(
                "apache/kafka:", 0),
            0u);
  EXPECT_EQ(std::string{service("postgres").at("image").as_string()}.rfind(
                "postgres:15.", 0),
            0u);
  EXPECT_EQ(std::string{service("kafka-ui").at("image").as_string()}.rfind(
                "ghcr.io/kafbat/kafka-ui:", 0),
            0u);
  EXPECT_EQ(
      std::string{service("kafka-exporter").at("image").as_string()}.rfind(
          "danielqsj/kafka-exporter:", 0),
      0u);
}

TEST_F(ComposeStack, KafkaRunsKRaftWithSingleAndThreeBrokerSettings) {
  // Setting any variable drops the image's defaults: what one broker needs
  // must all be there, the internal topics at replication 1 above all.
  auto k = env_of("kafka");
  EXPECT_EQ(k["KAFKA_PROCESS_ROLES"], "broker,controller");
  EXPECT_EQ(k["KAFKA_NODE_ID"], "1");
  EXPECT_FALSE(k["CLUSTER_ID"].empty());
  EXPECT_EQ(k["KAFKA_CONTROLLER_QUORUM_VOTERS"], "1@kafka:9093");
  EXPECT_EQ(k["KAFKA_CONTROLLER_LISTENER_NAMES"], "CONTROLLER");
  EXPECT_NE(k["KAFKA_LISTENERS"].find("CONTROLLER://:9093"), std::string::npos);
  EXPECT_NE(k["KAFKA_ADVERTISED_LISTENERS"].find("INTERNAL://kafka:19092"),
            std::string::npos);
  EXPECT_NE(k["KAFKA_ADVERTISED_LISTENERS"].find("EXTERNAL://localhost:9092"),
            std::string::npos);
  EXPECT_EQ(k["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"], "1");
  EXPECT_EQ(k["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"], "1");
  EXPECT_EQ(k["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"], "1");
  EXPECT_EQ(k["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"], "0");

  std::set<std::string> ids;
  std::string cluster;
  for (auto& b : {"kafka-1", "kafka-2", "kafka-3"}) {
    auto e = env_of(b);
    ids.insert(e["KAFKA_NODE_ID"]);
    if (cluster.empty())
      cluster = e["CLUSTER_ID"];
    EXPECT_EQ(e["CLUSTER_ID"], cluster) << b;
    EXPECT_NE(e["CLUSTER_ID"], k["CLUSTER_ID"]) << b;
    EXPECT_EQ(e["KAFKA_PROCESS_ROLES"], "broker,controller") << b;
    EXPECT_EQ(e["KAFKA_CONTROLLER_QUORUM_VOTERS"],
              "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093")
        << b;
    EXPECT_NE(e["KAFKA_ADVERTISED_LISTENERS"].find(std::string{"INTERNAL://"} +
                                                   b + ":19092"),
              std::string::npos)
        << b;
    EXPECT_EQ(e["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"], "3") << b;
    EXPECT_EQ(e["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"], "3") << b;
    EXPECT_EQ(e["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"], "2") << b;
  }
  EXPECT_EQ(ids, (std::set<std::string>{"1", "2", "3"}));
}

TEST_F(ComposeStack, HealthChecksGateTheDependencies) {
  auto dockerfile = dt::read_file(docker_dir() / "Dockerfile");
  bool image_checks = dockerfile.find("\nHEALTHCHECK ") != std::string::npos;
  for (auto& [name, v] : services()) {
    auto* deps = v.as_object().if_contains("depends_on");
    if (deps == nullptr)
      continue;
    for (auto& [dep, d] : deps->as_object()) {
      std::string condition{d.at("condition").as_string()};
      auto& target = service(std::string{dep});
      if (condition == "service_healthy") {
        auto* hc = target.if_contains("healthcheck");
        bool own =
            hc != nullptr && json::serialize(hc->at("test")) != R"(["NONE"])";
        EXPECT_TRUE(own || (hc == nullptr && is_distiller_image(target) &&
                            image_checks))
            << name << " waits for " << dep
            << " to be healthy, which has no health check";
      } else if (condition == "service_completed_successfully") {
        auto* restart = target.if_contains("restart");
        EXPECT_TRUE(restart != nullptr && str(*restart) == "no")
            << dep << " is one-shot for " << name << " but restarts";
      }
    }
  }
  for (auto& node : {"node-1", "node-2"}) {
    auto& deps = service(node).at("depends_on").as_object();
    EXPECT_EQ(str(deps.at("kafka").at("condition")), "service_healthy");
    EXPECT_EQ(str(deps.at("postgres").at("condition")), "service_healthy");
    EXPECT_EQ(str(deps.at("kafka-setup").at("condition")),
              "service_completed_successfully");
  }
  for (auto& s : {"kafka", "postgres", "prometheus", "grafana"})
    EXPECT_NE(service(s).if_contains("healthcheck"), nullptr) << s;
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
  std::vector<std::string> nodes;
  for (auto& [name, v] : services()) {
    if (!is_distiller_image(v.as_object()))
      continue;
    auto env = env_of(std::string{name});
    auto r = distiller_config(env, "check");
    EXPECT_EQ(r.exit_code, 0) << name << "'s environment:\n" << r.err;
    if (v.as_object().if_contains("entrypoint") == nullptr)
      nodes.push_back(std::string{name}); // the image's `distiller node`
  }
  ASSERT_EQ(nodes, (std::vector<std::string>{"node-1", "node-2"}));

  std::set<std::string> all_roles;
  std::vector<std::string> roles;
  for (auto& n : nodes) {
    auto env = env_of(n);
    auto r = distiller_config(env, "show");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto cfg = parse_show(r.out);
    EXPECT_EQ(cfg["http.host"], "\"0.0.0.0\"") << n;
    EXPECT_EQ(cfg["http.port"], "8000") << n;
    EXPECT_EQ(cfg["node.name"], "\"" + n + "\"");
    EXPECT_EQ(cfg["kafka.brokers"], "\"kafka:19092\"") << n;
    EXPECT_EQ(cfg["postgres.dsn"], "\"" + env["DATABASE_URL"] + "\"") << n;
    EXPECT_NE(env.count("KAFKA_BOOTSTRAP_SERVERS"), 0u) << n;
    EXPECT_NE(env.count("DATABASE_URL"), 0u) << n;
    roles.push_back(cfg["node.roles"]);
    std::regex quoted{"\"([a-z]+)\""};
    for (std::sregex_iterator
             i{cfg["node.roles"].begin(), cfg["node.roles"].end(), quoted},
         end;
         i != end; ++i)
      all_roles.insert((*i)[1]);
    // Published on the host: node-1 on 8000, node-2 on 8001.
    auto ports = json::serialize(service(n).at("ports"));
    EXPECT_NE(ports.find(n == "node-1" ? ":8000:8000/" : ":8001:8000/"),
              std::string::npos)
        << ports;
  }
  EXPECT_NE(roles[0], roles[1]) << "the two nodes run the same roles";
  EXPECT_EQ(all_roles, (std::set<std::string>{"api", "embed", "index", "ingest",
                                              "relay", "thoughts"}))
      << "together the nodes run every role";

  // Prometheus scrapes each node under its node name.
  auto prom = dt::read_yaml(docker_dir() / "prometheus" / "prometheus.yml");
  std::map<std::string, std::string> targets; // target -> node label
  for (auto& job : prom.at("scrape_configs").as_array()) {
    if (job.at("job_name").as_string() != "distiller")
      continue;
    for (auto& sc : job.at("static_configs").as_array())
      for (auto& t : sc.at("targets").as_array())
        targets[str(t)] = str(sc.at("labels").at("node"));
  }
  std::map<std::string, std::string> expected;
  for (auto& n : nodes)
    expected[n + ":8000"] = env_of(n)["DISTILLER_NODE_NAME"];
  EXPECT_EQ(targets, expected);
}

TEST_F(ComposeStack, OneShotSetupAppliesTheCatalog) {
  auto& setup = service("kafka-setup");
  EXPECT_EQ(json::serialize(setup.at("entrypoint")),
            R"(["distiller","topics","apply"])");
  EXPECT_EQ(env_of("kafka-setup")["KAFKA_BOOTSTRAP_SERVERS"], "kafka:19092");
  EXPECT_EQ(env_of("kafka3-setup")["KAFKA_BOOTSTRAP_SERVERS"],
            "kafka-1:19092,kafka-2:19092,kafka-3:19092");
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

TEST(ComposeEnvExample, NamesEveryVariableOfTheComposeFile) {
  auto compose_text = dt::read_file(docker_dir() / "compose.yaml");
  std::set<std::string> used;
  std::regex var{R"((^|[^$])\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\})"};
  for (std::sregex_iterator i{compose_text.begin(), compose_text.end(), var},
       end;
       i != end; ++i)
    used.insert((*i)[2]);
  auto example = dt::read_file(docker_dir() / ".env.example");
  std::set<std::string> listed;
  std::regex line{R"((^|\n)([A-Z0-9_]+)=)"};
  for (std::sregex_iterator i{example.begin(), example.end(), line}, end;
       i != end; ++i)
    listed.insert((*i)[2]);
  EXPECT_EQ(minus(used, listed), std::set<std::string>{})
      << "used in compose.yaml, missing from .env.example";
  EXPECT_EQ(minus(listed, used), std::set<std::string>{})
      << "in .env.example, unused by compose.yaml";
  // The seeds' names.
  EXPECT_EQ(listed.count("KAFKA_BOOTSTRAP_SERVERS"), 1u);
  EXPECT_EQ(listed.count("DATABASE_URL"), 1u);
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

} // namespace
