// The query node's index snapshots end to end (docs/document-pipeline.md,
// "Index snapshots"): whole nodes started as child processes (`distiller
// up`: embedded Kafka, private PostgreSQL in the test's data directory, HTTP
// on a free port), stopped cleanly or killed with SIGKILL, started again on
// the same data directory. After every start each embedded chunk must be in
// both indexes exactly once — their sizes (the distiller_index_entries
// gauges) equal the embedded rows in PostgreSQL, and every document's own
// question finds it — whether it came from a snapshot, from the rows after
// the snapshot's mark, or from a rebuild after a damaged snapshot.

#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <regex>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "actors/documents/hashing_embedder.hpp"
#include "tests/support/document_client.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/testing.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace fs = std::filesystem;
namespace json = boost::json;

/// A document about one made-up word, found by a question with that word.
struct doc {
  std::string filename;
  std::string text;
  std::string question;
};

doc make_doc(const std::string& word, int sentences) {
  doc d;
  d.filename = word + ".txt";
  for (int i = 0; i < sentences; ++i)
    d.text += "The " + word + " surveyor counted " + std::to_string(i * 7 + 3) +
              " markers along ridge " + std::to_string(i) +
              " before the weather turned. ";
  d.question = "What did the " + word + " surveyor count?";
  return d;
}

class IndexSnapshots : public ::testing::Test {
 protected:
  dt::temp_dir dir{"distiller-e2e-snap"};
  std::vector<doc> docs;

  std::vector<std::string> args(const std::vector<std::string>& sets) const {
    std::vector<std::string> out{
        dt::distiller_binary(),
        "up",
        "--port",
        "0",
        "--name",
        "e2e-snap",
        "--data-dir",
        dir.path().string(),
        "--set",
        "kafka.catalog=" +
            (dt::source_dir() / "config" / "topics.toml").string(),
        "--set",
        "documents.chunk_size=200",
        "--set",
        "documents.chunk_overlap=20"};
    for (auto& s : sets) {
      out.push_back("--set");
      out.push_back(s);
    }
    return out;
  }

  /// Waits until this process (not a killed predecessor) wrote node.json.
  uint16_t wait_for_port(dt::child_process& node) {
    auto file = dir / "node.json";
    auto mine = [&] {
      try {
        auto info = json::parse(dt::read_file(file)).as_object();
        return info.at("pid").as_int64() == node.pid();
      } catch (const std::exception&) {
        return false;
      }
    };
    bool written =
        dt::wait_until([&] { return mine() || !node.running(); }, 180s, 50ms);
    EXPECT_TRUE(written && node.running()) << "node did not start:\n"
                                           << node.err();
    if (!written || !node.running())
      return 0;
    auto info = json::parse(dt::read_file(file)).as_object();
    return static_cast<uint16_t>(info.at("http_port").as_int64());
  }

  /// A SIGKILLed node leaves its postmaster running; stop it.
  void stop_postmaster() {
    auto pid_file = dir / "pg" / "postmaster.pid";
    if (!fs::exists(pid_file))
      return;
    auto pid = std::atoi(dt::read_file(pid_file).c_str());
    if (pid > 0 && ::kill(pid, SIGQUIT) == 0)
      dt::wait_until([pid] { return ::kill(pid, 0) != 0; }, 30s);
  }

  void TearDown() override { stop_postmaster(); }

  std::string dsn() const {
    return "host=" + (dir / "run").string() +
           " port=5432 dbname=distiller user=postgres";
  }

  int64_t embedded_rows() {
    pqxx::connection c{dsn()};
    pqxx::nontransaction tx{c};
    return tx
        .exec1("SELECT count(*) FROM document_chunks WHERE status = "
               "'embedded'")[0]
        .as<int64_t>();
  }

  /// The distiller_index_entries gauge of `index` ("dense" or "sparse").
  static int64_t gauge(uint16_t port, const std::string& index) {
    dt::http_client c{port};
    auto rep = c.get("/metrics");
    std::regex re{"distiller_index_entries\\{[^}]*index=\"" + index +
                  "\"[^}]*\\} ([0-9.e+]+)"};
    std::smatch m;
    if (rep.status != 200 || !std::regex_search(rep.body, m, re))
      return -1;
    return static_cast<int64_t>(std::stod(m[1].str()));
  }

  /// Uploads `d` (remembered for later checks) and waits until it is
  /// completed.
  void upload(uint16_t port, doc d) {
    dt::document_client api{port};
    auto job = api.upload_ok(d.filename, d.text);
    auto final = api.wait_final(job, 120s);
    ASSERT_TRUE(final.is_object()) << d.filename;
    ASSERT_EQ(final.at("status"), "completed") << json::serialize(final);
    docs.push_back(std::move(d));
  }

  /// Both indexes hold every embedded row once (waiting for the indexer to
  /// take what it still has in flight) and every document answers its
  /// question first.
  void expect_every_chunk_once(uint16_t port, const std::string& when) {
    auto rows = embedded_rows();
    EXPECT_TRUE(dt::wait_until(
        [&] {
          return gauge(port, "dense") == rows && gauge(port, "sparse") == rows;
        },
        60s, 50ms))
        << when << ": dense " << gauge(port, "dense") << ", sparse "
        << gauge(port, "sparse") << ", embedded rows " << rows;
    dt::document_client api{port};
    for (auto& d : docs) {
      auto rep = api.query(d.question, 3);
      ASSERT_EQ(rep.status, 200u) << when << ": " << rep.body;
      auto body = rep.json();
      auto& sources = body.at("sources").as_array();
      ASSERT_FALSE(sources.empty()) << when << ": " << d.question;
      EXPECT_EQ(sources[0].at("filename").as_string(), d.filename)
          << when << ": " << d.question << " → " << rep.body;
    }
  }

  /// The value of `key` in the last `event` line of `log`, or "".
  static std::string logged(const std::string& log, const std::string& event,
                            const std::string& key) {
    auto at = log.rfind("event=" + event + " ");
    if (at == std::string::npos)
      return {};
    auto end = log.find('\n', at);
    auto line = log.substr(at, end == std::string::npos ? end : end - at);
    std::smatch m;
    std::regex re{" " + key + "=(\"[^\"]*\"|\\S+)"};
    if (!std::regex_search(line, m, re))
      return {};
    return m[1].str();
  }

  static int64_t logged_int(const std::string& log, const std::string& event,
                            const std::string& key) {
    auto v = logged(log, event, key);
    return v.empty() ? -1 : std::stoll(v);
  }

  /// Embedded rows written straight into PostgreSQL while no node runs
  /// (chunks another node embedded meanwhile), vectors from the built-in
  /// embedder the node uses.
  void embed_while_down(const doc& d) {
    distiller::documents::hashing_embedder embedder{{}};
    pqxx::connection c{dsn()};
    pqxx::work tx{c};
    auto job =
        tx.exec_params1("INSERT INTO document_jobs (filename, content_type,"
                        " file_size, status, progress, total_chunks,"
                        " processed_chunks, completed_at) VALUES ($1,"
                        " 'text/plain', $2, 'completed', 100, 1, 1, now())"
                        " RETURNING job_id::text",
                        d.filename, static_cast<int64_t>(d.text.size()))[0]
            .as<std::string>();
    auto v = embedder.embed_one(d.text);
    std::string array = "{";
    for (size_t i = 0; i < v.size(); ++i)
      array += (i ? "," : "") + std::to_string(v[i]);
    array += "}";
    tx.exec_params0(
        "INSERT INTO document_chunks (job_id, chunk_index, text, char_count,"
        " status, embedding, embedding_model, embedded_at) VALUES ($1::uuid,"
        " 0, $2, length($2), 'embedded', $3::real[], $4, now())",
        job, d.text, array, embedder.model());
    tx.commit();
    docs.push_back(d);
  }
};

TEST_F(IndexSnapshots, EveryChunkOnceAfterKillsRestartsAndADamagedSnapshot) {
  // No snapshot is due on its own in the first two nodes: only the clean
  // stop writes one.
  const std::vector<std::string> quiet{"index.snapshot_every=100000",
                                       "index.snapshot_interval=1h"};
  // 1. A new data directory: rebuilt from (empty) PostgreSQL; documents;
  //    a clean stop writes the snapshot.
  int64_t in_snapshot = 0;
  {
    dt::child_process node{args(quiet), {}, dir.path()};
    auto port = wait_for_port(node);
    ASSERT_NE(port, 0);
    EXPECT_EQ(logged(node.err(), "index_ready", "source"), "rebuild");
    for (auto* w : {"quillon", "vortmere", "bramblet"})
      upload(port, make_doc(w, 12));
    expect_every_chunk_once(port, "first node");
    in_snapshot = embedded_rows(); // the clean stop stops PostgreSQL too
    node.signal(SIGINT);
    ASSERT_EQ(node.wait(60s), 0) << node.err();
    EXPECT_EQ(logged(node.err(), "index_snapshot_saved", "reason"), "stop")
        << node.err();
  }
  ASSERT_TRUE(fs::exists(dir / "index" / "dense.snapshot"));
  ASSERT_TRUE(fs::is_directory(dir / "index" / "sparse"));
  std::printf("snapshot at the first node's stop: %lld chunks\n",
              static_cast<long long>(in_snapshot));

  // 2. Started from the snapshot; more documents; SIGKILL: these chunks are
  //    in PostgreSQL only. While the killed node's postmaster still runs,
  //    one more chunk is embedded behind its back (as another node would).
  int64_t after_snapshot = 0;
  {
    dt::child_process node{args(quiet), {}, dir.path()};
    auto port = wait_for_port(node);
    ASSERT_NE(port, 0);
    auto log = node.err();
    EXPECT_EQ(logged(log, "index_ready", "source"), "snapshot") << log;
    EXPECT_EQ(logged_int(log, "index_ready", "dense"), in_snapshot);
    EXPECT_EQ(logged_int(log, "index_ready", "added_dense"), 0);
    for (auto* w : {"ostrelin", "pellucor"})
      upload(port, make_doc(w, 6));
    expect_every_chunk_once(port, "second node");
    node.signal(SIGKILL);
    node.wait(30s);
    EXPECT_EQ(node.err().find("event=index_snapshot_saved"), std::string::npos)
        << "the second node wrote a snapshot; the test needs none";
  }
  embed_while_down(make_doc("zindrelok", 3));
  after_snapshot = embedded_rows() - in_snapshot;
  ASSERT_GT(after_snapshot, 1);
  std::printf("killed the second node; %lld chunks embedded after the "
              "snapshot\n",
              static_cast<long long>(after_snapshot));
  stop_postmaster();

  // 3. The snapshot plus the rows after its mark. With a snapshot due at
  //    every chunk this node writes one soon after it starts; killed after
  //    that one, the next node needs nothing from PostgreSQL's tail.
  {
    dt::child_process node{
        args({"index.snapshot_every=1", "index.snapshot_interval=1h"}),
        {},
        dir.path()};
    auto port = wait_for_port(node);
    ASSERT_NE(port, 0);
    auto log = node.err();
    EXPECT_EQ(logged(log, "index_ready", "source"), "snapshot") << log;
    EXPECT_EQ(logged_int(log, "index_ready", "added_dense"), after_snapshot)
        << log;
    EXPECT_EQ(logged_int(log, "index_ready", "added_sparse"), after_snapshot)
        << log;
    expect_every_chunk_once(port, "third node (snapshot + tail)");
    ASSERT_TRUE(dt::wait_until(
        [&] {
          auto l = node.err();
          return logged(l, "index_snapshot_saved", "reason") == "due" &&
                 logged_int(l, "index_snapshot_saved", "dense") ==
                     embedded_rows();
        },
        60s, 100ms))
        << node.err();
    node.signal(SIGKILL);
    node.wait(30s);
  }
  stop_postmaster();
  {
    dt::child_process node{args(quiet), {}, dir.path()};
    auto port = wait_for_port(node);
    ASSERT_NE(port, 0);
    auto log = node.err();
    EXPECT_EQ(logged(log, "index_ready", "source"), "snapshot") << log;
    EXPECT_EQ(logged_int(log, "index_ready", "added_dense"), 0) << log;
    EXPECT_EQ(logged_int(log, "index_ready", "added_sparse"), 0) << log;
    expect_every_chunk_once(port, "fourth node (after the periodic one)");
    node.signal(SIGKILL);
    node.wait(30s);
  }
  stop_postmaster();

  // 6. A damaged dense snapshot: logged, ignored, rebuilt; the sparse
  //    index keeps its own snapshot.
  {
    auto path = dir / "index" / "dense.snapshot";
    auto bytes = dt::read_file(path);
    bytes[bytes.size() / 2] ^= 0x5a;
    dt::write_file(path, bytes);
  }
  {
    dt::child_process node{args(quiet), {}, dir.path()};
    auto port = wait_for_port(node);
    ASSERT_NE(port, 0);
    auto log = node.err();
    EXPECT_EQ(logged(log, "index_snapshot_ignored", "index"), "dense") << log;
    EXPECT_NE(logged(log, "index_snapshot_ignored", "reason").find("checksum"),
              std::string::npos)
        << log;
    EXPECT_EQ(logged(log, "index_ready", "source"), "rebuild") << log;
    EXPECT_EQ(logged_int(log, "index_ready", "added_sparse"), 0) << log;
    expect_every_chunk_once(port, "after a damaged snapshot");
    node.signal(SIGINT);
    EXPECT_EQ(node.wait(60s), 0) << node.err();
  }
}

} // namespace
