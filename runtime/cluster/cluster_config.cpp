#include "runtime/cluster/cluster_config.hpp"

namespace distiller::cluster {

using std::chrono::milliseconds;

void declare(config::schema& s, cluster_config& c, shell_config& sh) {
  s.add_duration("cluster.heartbeat", c.heartbeat, milliseconds{50},
                 "How often a node writes its heartbeat to PostgreSQL and "
                 "reads the other members'.");
  s.add_duration("cluster.unreachable_after", c.unreachable_after,
                 milliseconds{100},
                 "A member whose heartbeat is older than this is "
                 "unreachable.");
  s.add_duration("cluster.down_after", c.down_after, milliseconds{200},
                 "A member whose heartbeat is older than this is down.");
  s.add_string("cluster.host", c.host,
               "Address of the cluster port (CAF middleman); loopback unless "
               "the nodes run on several hosts.");
  s.add_int("cluster.port", c.port, 0, 65535,
            "The cluster port; 0 picks a free one (members learn it from the "
            "membership table).");
  s.add_string("cluster.advertise_host", c.advertise_host,
               "Address other nodes connect to (empty: cluster.host).");
  s.add_string("cluster.secret", c.secret,
               "Shared by a cluster's nodes: a peer proves it knows it "
               "(HMAC-SHA256 over a fresh nonce) before it reaches the "
               "middleman; "
               "required when cluster.host is not loopback.");
  s.add_duration("cluster.request_timeout", c.request_timeout, milliseconds{10},
                 "Longest wait for another node's answer (the shell's "
                 "cluster-wide views).");
  s.add_bool("shell.allow_write", sh.allow_write,
             "Allow the shell's changing commands (restart, pause, resume, "
             "scale, send) on this node; each is logged as an audit event.");
  s.add_string("shell.history", sh.history,
               "Where `distiller shell` keeps its history (empty: "
               "~/.distiller_history; set DISTILLER_SHELL_HISTORY for one "
               "shell).");
}

void validate(const cluster_config& c) {
  if (c.down_after <= c.unreachable_after)
    throw config::config_error("cluster.down_after",
                               "must be longer than cluster.unreachable_after");
  if (c.unreachable_after <= c.heartbeat)
    throw config::config_error("cluster.unreachable_after",
                               "must be longer than cluster.heartbeat");
  if (!is_loopback_host(c.host) && c.secret.empty())
    throw config::config_error("cluster.secret",
                               "required when cluster.host (" + c.host +
                                   ") is not a loopback address");
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

} // namespace distiller::cluster
