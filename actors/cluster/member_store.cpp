#include "actors/cluster/member_store.hpp"

#include <pqxx/pqxx>

namespace distiller::cluster {

namespace {

/// A live row of another incarnation is not taken over.
constexpr const char* heartbeat_sql =
    "INSERT INTO cluster_members AS m (node, incarnation, roles, http_url,"
    "  cluster_host, cluster_port, version, started_at, heartbeat_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, now())"
    " ON CONFLICT (node) DO UPDATE SET incarnation = EXCLUDED.incarnation,"
    "  roles = EXCLUDED.roles, http_url = EXCLUDED.http_url,"
    "  cluster_host = EXCLUDED.cluster_host,"
    "  cluster_port = EXCLUDED.cluster_port, version = EXCLUDED.version,"
    "  started_at = EXCLUDED.started_at, heartbeat_at = now(),"
    "  left_at = NULL"
    " WHERE m.incarnation = EXCLUDED.incarnation OR m.left_at IS NOT NULL"
    "  OR m.heartbeat_at < now() - $9::bigint * interval '1 millisecond'"
    " RETURNING 1";

constexpr const char* read_sql =
    "SELECT node, incarnation::text, roles, http_url, cluster_host,"
    " cluster_port, version,"
    " to_char(started_at AT TIME ZONE 'UTC',"
    "  'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " greatest(0, (extract(epoch FROM now() - heartbeat_at) * 1000))::bigint,"
    " left_at IS NOT NULL"
    " FROM cluster_members ORDER BY node";

constexpr const char* leave_sql = "UPDATE cluster_members SET left_at = now()"
                                  " WHERE node = $1 AND incarnation = $2";

void prepare(pqxx::connection& c) {
  c.prepare("member_heartbeat", heartbeat_sql);
  c.prepare("member_read", read_sql);
  c.prepare("member_leave", leave_sql);
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    auto j = s.find(',', i);
    if (j == std::string::npos)
      j = s.size();
    if (j > i)
      out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

} // namespace

member_store::member_store(std::string dsn,
                           std::chrono::milliseconds connect_timeout)
    : pool_("member_store", std::move(dsn), 1, connect_timeout, prepare) {}

bool member_store::heartbeat(const member_row& self,
                             std::chrono::milliseconds down_after) {
  return pool_.run("heartbeat", [&](pqxx::work& tx) {
    auto r = tx.exec_prepared(
        "member_heartbeat", self.node, self.incarnation, join(self.roles),
        self.http_url, self.cluster_host, static_cast<int>(self.cluster_port),
        self.version, self.started_at,
        static_cast<int64_t>(down_after.count()));
    return !r.empty();
  });
}

std::vector<member_row> member_store::read() {
  return pool_.run("read", [&](pqxx::work& tx) {
    std::vector<member_row> out;
    for (const auto& r : tx.exec_prepared("member_read")) {
      member_row m;
      m.node = r[0].as<std::string>();
      m.incarnation = r[1].as<std::string>();
      m.roles = split(r[2].as<std::string>());
      m.http_url = r[3].as<std::string>();
      m.cluster_host = r[4].as<std::string>();
      m.cluster_port = static_cast<uint16_t>(r[5].as<int>());
      m.version = r[6].as<std::string>();
      m.started_at = r[7].as<std::string>();
      m.heartbeat_age = std::chrono::milliseconds{r[8].as<int64_t>()};
      m.left = r[9].as<bool>();
      out.push_back(std::move(m));
    }
    return out;
  });
}

void member_store::leave(const std::string& node,
                         const std::string& incarnation) {
  pool_.run("leave", [&](pqxx::work& tx) {
    tx.exec_prepared0("member_leave", node, incarnation);
  });
}

} // namespace distiller::cluster
