#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "bridges/kafka/catalog.hpp"
#include "bridges/kafka_tools/cluster.hpp"
#include "bridges/kafka_tools/session.hpp"

/// `distiller topics apply|verify|list|describe|delete`: the catalog
/// (`config/topics.toml`) against a cluster.
///
/// With a real cluster `apply` sends one CreateTopics request for the
/// catalog topics the cluster lacks (partitions, replication and the
/// catalog's topic configs) and is idempotent: existing topics are reported
/// as "exists" and left alone — their configs are not altered. A topic with
/// fewer partitions than the catalog declares is reported; `apply --grow`
/// adds the missing partitions with CreatePartitions (which moves keys to
/// other partitions, hence opt-in). Kafka cannot remove partitions, so more
/// than declared is fine.
///
/// The embedded cluster (librdkafka's mock) has no admin API; its node
/// creates the catalog topics when it starts. Against it `apply` only
/// reports each topic as exists/missing and explains that, and `delete`
/// refuses. Every function prints its report to `out` and returns the exit
/// code: 0 when the cluster matches (or the action succeeded), 1 otherwise.
namespace distiller::kafka::tools {

/// What `apply` does with one catalog topic.
enum class apply_action {
  /// Missing: CreateTopics.
  create,
  /// Present with at least the declared partitions.
  exists,
  /// Present with fewer partitions; reported only (no --grow).
  short_partitions,
  /// Present with fewer partitions; CreatePartitions (--grow).
  grow,
};

struct apply_step {
  std::string topic;
  apply_action action = apply_action::create;
  /// Partitions in the cluster (0 if missing) and in the catalog.
  int have = 0;
  int want = 0;
};

/// The steps of `apply` for every catalog topic, in catalog order (pure).
std::vector<apply_step> plan_apply(const catalog& c, const cluster_info& info,
                                   bool grow);

int topics_apply(session& s, const catalog& c, bool grow, std::ostream& out);
int topics_verify(session& s, const catalog& c, std::ostream& out);
/// Non-internal topics (all with `all`) with partitions, replication and
/// whether the catalog declares them.
int topics_list(session& s, const catalog& c, bool all, std::ostream& out);
/// Partitions with leader, replicas, ISR and watermarks; no names = every
/// non-internal topic. Unknown names are reported (never looked up by name,
/// which would make the mock create them) and make the exit code 1.
int topics_describe(session& s, const catalog& c,
                    const std::vector<std::string>& names, std::ostream& out);
int topics_delete(session& s, const std::vector<std::string>& names,
                  std::ostream& out);

/// The text `delete` prints for the embedded cluster.
inline constexpr const char* mock_cannot_delete =
    "the embedded cluster cannot delete topics (librdkafka mock); restart the "
    "node to reset it";

} // namespace distiller::kafka::tools
