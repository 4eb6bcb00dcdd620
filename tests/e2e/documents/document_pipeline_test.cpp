// The document pipeline end to end, the way a user drives it: a whole node
// started as a child process (`distiller up`: embedded Kafka, private
// PostgreSQL, HTTP on a free port), documents uploaded over HTTP, their
// progress watched over Server-Sent Events, the original bytes downloaded,
// questions asked; and a node killed mid-job and started again.

#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <set>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "tests/support/document_client.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/pdf_writer.hpp"
#include "tests/support/testing.hpp"
#include "tests/support/zip_writer.hpp"

namespace {

using namespace std::chrono_literals;
namespace dt = distiller::testing;
namespace fs = std::filesystem;
namespace json = boost::json;

class DocumentPipeline : public ::testing::Test {
 protected:
  dt::temp_dir dir{"distiller-e2e-docs"};

  std::vector<std::string> args(const std::vector<std::string>& sets) const {
    auto d = dir.path().string();
    std::vector<std::string> out{
        dt::distiller_binary(),
        "up",
        "--port",
        "0",
        "--name",
        "e2e-docs",
        "--data-dir",
        d,
        "--set",
        "kafka.catalog=" +
            (dt::source_dir() / "config" / "topics.toml").string()};
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
  void TearDown() override {
    auto pid_file = dir / "pg" / "postmaster.pid";
    if (!fs::exists(pid_file))
      return;
    auto pid = std::atoi(dt::read_file(pid_file).c_str());
    if (pid > 0 && ::kill(pid, SIGQUIT) == 0)
      dt::wait_until([pid] { return ::kill(pid, 0) != 0; }, 30s);
  }

  std::string dsn() const {
    return "host=" + (dir / "run").string() +
           " port=5432 dbname=distiller user=postgres";
  }

  int64_t scalar(const std::string& sql) {
    pqxx::connection c{dsn()};
    pqxx::nontransaction tx{c};
    return tx.exec1(sql)[0].as<int64_t>();
  }
};

struct sample {
  std::string filename;
  std::string content;
  std::string question; // answered by this document only
};

std::vector<sample> samples() {
  std::vector<std::string> pages;
  pages.push_back("Tide pools form where the ocean retreats at low tide.\n"
                  "Sea anemones close their tentacles when the water leaves.\n"
                  "Hermit crabs trade shells as they grow larger.");
  pages.push_back("Starfish pry mussels open with hundreds of tube feet.\n"
                  "A starfish can regrow a lost arm over several months.");
  pages.push_back("Barnacles glue themselves head first to rocks.\n"
                  "They feed by sweeping plankton with feathery legs.");
  return {
      {"sourdough.txt",
       "A sourdough starter is a culture of wild yeast and lactic acid "
       "bacteria. Bakers feed the starter with flour and water every day. "
       "The bacteria make the bread sour, and the yeast makes it rise.\n\n"
       "A long cold fermentation in the refrigerator deepens the flavour. "
       "Scoring the loaf lets steam escape in a controlled way.",
       "What do bakers feed a sourdough starter with?"},
      {"volcanoes.md",
       "# Volcanoes\n\nA **stratovolcano** is built from layers of lava and "
       "ash. Its eruptions are often explosive because the magma is thick "
       "and traps gas.\n\n## Shield volcanoes\n\nShield volcanoes have "
       "gentle slopes made by runny basalt lava, like those of Hawaii. See "
       "[the survey](https://example.org/volcanoes) for maps.",
       "Why are stratovolcano eruptions explosive?"},
      {"chess.html",
       "<html><head><title>Openings</title><style>p{color:red}</style>"
       "</head><body><h1>Chess openings</h1><p>The Sicilian Defence "
       "answers 1.e4 with c5 and fights for the centre from the side.</p>"
       "<p>The Queen&#39;s Gambit offers a pawn to gain central control; "
       "accepting it gives White quick development.</p><script>var x = "
       "1;</script></body></html>",
       "Which defence answers e4 with c5?"},
      {"tidepools.pdf", dt::make_pdf(pages), "How do starfish open mussels?"},
  };
}

TEST_F(DocumentPipeline, FourFormatsWalkToCompletedAndAnswerQuestions) {
  dt::child_process node{
      args({"documents.chunk_size=160", "documents.chunk_overlap=40"}),
      {},
      dir.path()};
  auto port = wait_for_port(node);
  ASSERT_NE(port, 0);
  dt::document_client api{port};

  std::map<std::string, std::string> job_of;
  for (auto& s : samples()) {
    auto r = api.upload(s.filename, s.content);
    ASSERT_EQ(r.status, 202u) << s.filename << ": " << r.body;
    auto body = r.json().as_object();
    EXPECT_EQ(body.at("status"), "pending");
    EXPECT_EQ(body.at("message"), "Document upload accepted");
    EXPECT_EQ(body.at("filename").as_string(), s.filename);
    EXPECT_EQ(body.at("file_size").as_int64(),
              static_cast<int64_t>(s.content.size()));
    std::string id{body.at("job_id").as_string()};
    job_of[s.filename] = id;

    // The job's own stream, from right after the upload to its end.
    auto events = api.events(id, 120s);
    ASSERT_FALSE(events.empty()) << s.filename;
    std::vector<std::string> seen;
    int last = -1;
    int64_t last_processed = -1;
    for (auto& e : events) {
      std::string st{e.at("status").as_string()};
      seen.push_back(st);
      int order = dt::status_order(st);
      EXPECT_GE(order, last)
          << s.filename << ": " << st << " after " << seen[seen.size() - 2];
      if (order == last && st == "embedding") {
        EXPECT_GT(e.at("processed_chunks").as_int64(), last_processed);
      }
      last = order;
      last_processed = e.at("processed_chunks").as_int64();
    }
    ASSERT_EQ(seen.back(), "completed")
        << s.filename << " went to " << json::serialize(events.back());
    auto& final = events.back();
    EXPECT_GT(final.at("total_chunks").as_int64(), 0) << s.filename;
    EXPECT_EQ(final.at("processed_chunks"), final.at("total_chunks"));
    EXPECT_EQ(final.at("progress").as_int64(), 100);
    std::string walk;
    for (auto& st : seen)
      walk += st + " ";
    std::printf("%-14s %lld chunks: %s\n", s.filename.c_str(),
                static_cast<long long>(final.at("total_chunks").as_int64()),
                walk.c_str());

    // The status route agrees, and the original bytes come back.
    auto status = api.status(id);
    ASSERT_TRUE(status.is_object());
    EXPECT_EQ(status.at("status"), "completed");
    EXPECT_EQ(status.at("filename").as_string(), s.filename);
    dt::http_client http{port};
    auto file = http.get("/api/v2/documents/" + id + "/file");
    EXPECT_EQ(file.status, 200u);
    EXPECT_EQ(file.body, s.content) << s.filename;
  }
  // A stream opened after the end is the final state, then closed.
  auto late = api.events(job_of["sourdough.txt"], 10s);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].at("status"), "completed");

  // Each question finds its own document first. The indexes follow
  // chunk-embedded and may trail a job's completion by a moment: ask again
  // until the document is there (or the deadline passes).
  for (auto& s : samples()) {
    dt::http_reply r;
    dt::wait_until(
        [&] {
          r = api.query(s.question, 3);
          return r.status == 200u &&
                 r.body.find("\"" + s.filename + "\"") != std::string::npos;
        },
        10s, 100ms);
    ASSERT_EQ(r.status, 200u) << r.body;
    auto body = r.json().as_object();
    auto& sources = body.at("sources").as_array();
    ASSERT_FALSE(sources.empty()) << s.question;
    EXPECT_EQ(sources[0].at("filename").as_string(), s.filename)
        << s.question << " → " << r.body;
    EXPECT_EQ(sources[0].at("job_id").as_string(), job_of[s.filename]);
    // A source names where in its document the chunk starts: a PDF's page
    // (the starfish are on page 2; the chunk may start with page 1's last
    // sentence, its overlap), a Markdown heading; plain text has none.
    std::string section{sources[0].at("section").as_string()};
    if (s.filename == "tidepools.pdf") {
      EXPECT_TRUE(section == "page 1" || section == "page 2") << r.body;
    } else if (s.filename == "volcanoes.md") {
      EXPECT_TRUE(section == "Volcanoes" || section == "Shield volcanoes")
          << r.body;
    } else if (s.filename == "sourdough.txt") {
      EXPECT_EQ(section, "") << r.body;
    }
    EXPECT_NE(std::string{body.at("answer").as_string()}.find(s.filename),
              std::string::npos)
        << body.at("answer");
  }

  // The jobs list shows all four, newest first.
  dt::http_client http{port};
  auto list = http.get("/api/v2/documents/jobs?limit=10").json().as_object();
  EXPECT_EQ(list.at("total").as_int64(), 4);
  auto& jobs = list.at("jobs").as_array();
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[0].at("filename"), "tidepools.pdf");
  EXPECT_EQ(jobs[3].at("filename"), "sourdough.txt");

  // The API describes itself.
  auto spec = http.get("/openapi.json");
  ASSERT_EQ(spec.status, 200u);
  auto spec_json = spec.json();
  auto& paths = spec_json.at("paths").as_object();
  EXPECT_TRUE(paths.contains("/api/v2/documents/upload"));
  EXPECT_TRUE(paths.contains("/api/v2/query"));
  EXPECT_TRUE(paths.contains("/health"));
  auto docs = http.get("/docs");
  EXPECT_EQ(docs.status, 200u);
  EXPECT_NE(docs.header("content-type").find("text/html"), std::string::npos);

  // The same content uploaded again is one source, not two.
  auto again = api.upload_ok("sourdough-copy.txt", samples()[0].content);
  auto done = api.wait_final(again, 120s);
  ASSERT_TRUE(done.is_object());
  EXPECT_EQ(done.at("status"), "completed");
  std::set<std::string> texts;
  size_t shown = 0;
  dt::wait_until(
      [&] { // both copies indexed: the copy's job may rank first now
        auto r = api.query(samples()[0].question, 5);
        auto body = r.json().as_object();
        texts.clear();
        shown = 0;
        bool copy_indexed = false;
        for (auto& src : body.at("sources").as_array()) {
          texts.insert(std::string{src.at("text").as_string()});
          ++shown;
          copy_indexed |= src.at("job_id").as_string() == again;
        }
        return copy_indexed ||
               r.body.find(job_of["sourdough.txt"]) == std::string::npos;
      },
      10s, 100ms);
  EXPECT_GT(shown, 0u);
  EXPECT_EQ(texts.size(), shown) << "a passage shown twice";

  // `distiller eval retrieval` on the same questions: each file first.
  {
    std::string jsonl = "# the samples' questions\n";
    for (auto& s : samples())
      jsonl += json::serialize(json::object{{"question", s.question},
                                            {"source", s.filename}}) +
               "\n";
    dt::write_file(dir / "questions.jsonl", jsonl);
    auto url = "http://127.0.0.1:" + std::to_string(port);
    auto eval = dt::run_process(
        {dt::distiller_binary(), "eval", "retrieval", "--questions",
         (dir / "questions.jsonl").string(), "--target", url, "--json"},
        {}, 60s);
    ASSERT_EQ(eval.exit_code, 0) << eval.out << eval.err;
    auto report = json::parse(eval.out).as_object();
    EXPECT_EQ(report.at("questions").as_int64(), 4);
    EXPECT_EQ(report.at("failed").as_int64(), 0);
    EXPECT_EQ(report.at("recall_at_1").as_double(), 1.0) << eval.out;
    EXPECT_EQ(report.at("mrr").as_double(), 1.0);
    for (auto& row : report.at("ranks").as_array())
      EXPECT_EQ(row.at("rank").as_int64(), 1) << json::serialize(row);
    auto text = dt::run_process(
        {dt::distiller_binary(), "eval", "retrieval", "--questions",
         (dir / "questions.jsonl").string(), "--target", url},
        {}, 60s);
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("recall@1 1.000"), std::string::npos) << text.out;
    // A malformed file is bad usage naming the line; no node is asked.
    dt::write_file(dir / "bad.jsonl", "{\"question\": \"q\"}\n");
    auto bad = dt::run_process({dt::distiller_binary(), "eval", "retrieval",
                                "--questions", (dir / "bad.jsonl").string(),
                                "--target", url},
                               {}, 60s);
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("line 1: no \"source\""), std::string::npos)
        << bad.err;
    // Nobody listening: exit 3.
    auto gone = dt::run_process(
        {dt::distiller_binary(), "eval", "retrieval", "--questions",
         (dir / "questions.jsonl").string(), "--target", "http://127.0.0.1:1"},
        {}, 60s);
    EXPECT_EQ(gone.exit_code, 3) << gone.err;
  }

  // Questions nothing here answers get no sources at all.
  for (std::string q :
       {"florp vindex qualtrane zorbish", "what is the of and to in",
        "How many moons does Jupiter have in its orbit?"}) {
    auto r = api.query(q, 3);
    ASSERT_EQ(r.status, 200u) << r.body;
    auto body = r.json().as_object();
    EXPECT_EQ(body.at("answer").as_string(), "No relevant documents found.")
        << q << " → " << r.body;
    EXPECT_TRUE(body.at("sources").as_array().empty()) << q << " → " << r.body;
  }

  node.signal(SIGINT);
  EXPECT_EQ(node.wait(60s), 0) << node.err();
}

// The formats beyond the first four, generated here: each upload walks to
// completed and its question finds it first.
TEST_F(DocumentPipeline, OfficeBookAndDataFormatsAnswerQuestions) {
  const std::string w_p = "<w:p><w:r><w:t>";
  const std::string w_end = "</w:t></w:r></w:p>";
  const std::vector<sample> files = {
      {"beekeeping.docx",
       dt::make_docx("<w:p><w:pPr><w:pStyle w:val=\"Heading1\"/></w:pPr>"
                     "<w:r><w:t>Beekeeping" +
                         w_end + w_p +
                         "Worker bees build honeycomb from wax they secrete "
                         "from glands on their abdomen." +
                         w_end,
                     "Bees"),
       "How do worker bees make honeycomb?"},
      {"lighthouses.odt",
       dt::make_odt("<text:h text:outline-level=\"1\">Lighthouses</text:h>"
                    "<text:p>A Fresnel lens bends the lamp's light into a "
                    "narrow beam that sailors see from far away.</text:p>"),
       "What does a Fresnel lens do in a lighthouse?"},
      {"glaciers.epub",
       dt::make_epub("Ice",
                     {{"c1.xhtml", "<h1>Glaciers</h1><p>Glaciers carve "
                                   "U-shaped valleys as they grind slowly "
                                   "downhill.</p>"}}),
       "What shape of valley do glaciers carve?"},
      {"planets.csv",
       "planet,moons,ring system\nSaturn,146,spectacular icy rings\n"
       "Mars,2,none\n",
       "Which planet has spectacular icy rings?"},
      {"comet.json",
       "{\"comet\": {\"name\": \"Halley\", \"orbit\": \"returns every 76 "
       "years to the inner solar system\"}}",
       "How often does Halley's comet return?"},
  };
  dt::child_process node{args({}), {}, dir.path()};
  auto port = wait_for_port(node);
  ASSERT_NE(port, 0);
  dt::document_client api{port};
  std::map<std::string, std::string> job_of;
  for (auto& f : files)
    job_of[f.filename] = api.upload_ok(f.filename, f.content);
  for (auto& f : files) {
    auto s = api.wait_final(job_of[f.filename]);
    ASSERT_TRUE(s.is_object()) << f.filename;
    ASSERT_EQ(s.at("status"), "completed")
        << f.filename << ": " << json::serialize(s);
  }
  for (auto& f : files) {
    dt::http_reply r;
    dt::wait_until(
        [&] {
          r = api.query(f.question, 3);
          return r.status == 200u &&
                 r.body.find("\"" + f.filename + "\"") != std::string::npos;
        },
        10s, 100ms);
    ASSERT_EQ(r.status, 200u) << r.body;
    auto body = r.json().as_object();
    auto& sources = body.at("sources").as_array();
    ASSERT_FALSE(sources.empty()) << f.question;
    EXPECT_EQ(sources[0].at("filename").as_string(), f.filename)
        << f.question << " → " << r.body;
  }
}

TEST_F(DocumentPipeline, NodeKilledMidJobFinishesItAfterRestart) {
  // The reconciler's delay stays at its default (2 minutes): the restart
  // itself re-drives the job (the embedded Kafka starts empty).
  std::vector<std::string> sets{"documents.chunk_size=120",
                                "documents.chunk_overlap=20",
                                "documents.embedder_pool=1"};
  std::string text;
  for (int i = 0; i < 1500; ++i)
    text += "Line " + std::to_string(i) + " of the long ledger records cargo " +
            std::to_string(i * 31 % 1009) + " at dock " +
            std::to_string(i % 17) + ". ";
  std::string job;
  int64_t processed_at_kill = 0;
  {
    dt::child_process node{args(sets), {}, dir.path()};
    auto port = wait_for_port(node);
    ASSERT_NE(port, 0);
    dt::document_client api{port};
    job = api.upload_ok("ledger.txt", text);
    ASSERT_TRUE(dt::wait_until(
        [&] {
          auto s = api.status(job);
          if (!s.is_object() || s.at("status") != "embedding")
            return false;
          processed_at_kill = s.at("processed_chunks").as_int64();
          return processed_at_kill >= 5;
        },
        120s, 20ms))
        << json::serialize(api.status(job));
    node.signal(SIGKILL);
    node.wait(30s);
  }
  auto total = scalar(
      "SELECT total_chunks FROM document_jobs WHERE job_id = '" + job + "'");
  auto done_before =
      scalar("SELECT processed_chunks FROM document_jobs WHERE job_id = '" +
             job + "'");
  std::printf("killed with %lld of %lld chunks embedded\n",
              static_cast<long long>(done_before),
              static_cast<long long>(total));
  ASSERT_LT(done_before, total) << "the job finished before the kill";

  dt::child_process node{args(sets), {}, dir.path()};
  auto port = wait_for_port(node);
  ASSERT_NE(port, 0);
  auto restarted = std::chrono::steady_clock::now();
  dt::document_client api{port};
  // Well before the reconciler's 2 minutes.
  auto final = api.wait_final(job, 60s);
  std::printf("the job was final %.1f s after the restarted node wrote "
              "node.json\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            restarted)
                  .count());
  ASSERT_TRUE(final.is_object()) << json::serialize(api.status(job));
  EXPECT_EQ(final.at("status"), "completed") << json::serialize(final);
  EXPECT_EQ(final.at("processed_chunks").as_int64(), total);
  EXPECT_EQ(final.at("total_chunks").as_int64(), total);
  EXPECT_EQ(scalar("SELECT count(*) FROM document_chunks WHERE job_id = '" +
                   job + "'"),
            total);
  EXPECT_EQ(scalar("SELECT count(*) FROM document_chunks WHERE job_id = '" +
                   job + "' AND status = 'embedded'"),
            total);
  node.signal(SIGINT);
  EXPECT_EQ(node.wait(60s), 0) << node.err();
}

} // namespace
