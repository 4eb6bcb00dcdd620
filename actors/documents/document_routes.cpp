#include "actors/documents/document_routes.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <optional>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "actors/broadcast/stream.hpp"
#include "actors/documents/search/text_terms.hpp"
#include "actors/documents/text/extract.hpp"
#include "actors/documents/text/utf8.hpp"
#include "actors/documents/upload_check.hpp"
#include "bridges/http/multipart.hpp"
#include "bridges/http/openapi.hpp"
#include "bridges/http/router.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::documents {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

using detail::check_upload;
using detail::served_type;
using detail::trim;

namespace {

constexpr const char* job_states[] = {"pending",   "processing", "chunking",
                                      "embedding", "completed",  "failed"};

constexpr int default_limit = 20;
constexpr int max_limit = 100;
constexpr int default_top_k = 5;
constexpr int max_top_k = 100;

// -- errors ------------------------------------------------------------------

unsigned status_of(service_error::kind k) {
  switch (k) {
  case service_error::kind::not_found:
    return 404;
  case service_error::kind::invalid:
    return 400;
  case service_error::kind::unavailable:
    return 503;
  case service_error::kind::internal:
    break;
  }
  return 500;
}

const char* word_of(service_error::kind k) {
  switch (k) {
  case service_error::kind::not_found:
    return "not_found";
  case service_error::kind::invalid:
    return "invalid_argument";
  case service_error::kind::unavailable:
    return "unavailable";
  case service_error::kind::internal:
    break;
  }
  return "internal";
}

http::response no_service() {
  return http::response::error(503, "unavailable",
                               "the document pipeline is not running on this "
                               "node");
}

/// A service reply that answers `res`: errors mapped, values through `ok`.
template <class T, class F>
reply<T> answer(http::responder res, F ok) {
  auto shared = std::make_shared<http::responder>(std::move(res));
  return [shared, ok = std::move(ok)](outcome<T> o) {
    if (auto* e = std::get_if<service_error>(&o))
      shared->send(service_error_response(*e));
    else
      shared->send(ok(std::get<T>(o)));
  };
}

/// Runs `call`; a service that throws answers 500 instead of the default
/// "no answer" 500 with a better detail.
template <class F>
void guarded(http::responder& res, const char* what, F call) {
  try {
    call();
  } catch (const std::exception& e) {
    log::warn("document_route_failed", {{"route", what}, {"what", e.what()}});
    if (res.pending())
      res.send(http::response::error(500, "internal", e.what()));
  }
}

// -- listing -----------------------------------------------------------------

/// A whole decimal integer, else nullopt ("", "1x", "1.0", overflow).
std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return v;
}

// -- query -------------------------------------------------------------------

/// top_k from the body: absent or null → default; an integer in 1..100;
/// anything else is an error message.
std::variant<int, std::string> read_top_k(const json::object& body) {
  auto i = body.find("top_k");
  if (i == body.end() || i->value().is_null())
    return default_top_k;
  auto& v = i->value();
  std::optional<int64_t> n;
  if (v.is_int64())
    n = v.as_int64();
  else if (v.is_uint64()) // only above INT64_MAX
    return "top_k must be from 1 to 100, not " + std::to_string(v.as_uint64());
  if (!n)
    return std::string{"top_k must be an integer from 1 to 100"};
  if (*n < 1 || *n > max_top_k)
    return "top_k must be from 1 to 100, not " + std::to_string(*n);
  return static_cast<int>(*n);
}

json::object answer_json(const query_answer& a) {
  json::array sources;
  for (auto& s : a.sources)
    sources.emplace_back(json::object{{"chunk_id", s.chunk_id},
                                      {"job_id", s.job_id},
                                      {"filename", s.filename},
                                      {"score", s.score},
                                      {"text", s.text},
                                      {"section", s.section}});
  return json::object{{"answer", a.answer}, {"sources", std::move(sources)}};
}

/// `attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>`.
std::string attachment(const std::string& filename) {
  std::string ascii;
  std::string encoded;
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : filename) {
    bool plain = std::isalnum(c) ||
                 std::string_view{"-._~"}.find(c) != std::string_view::npos;
    ascii += c >= 0x20 && c < 0x7f && c != '"' && c != '\\'
                 ? static_cast<char>(c)
                 : '_';
    if (plain) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 0xf];
    }
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

} // namespace

// -- shared helpers ----------------------------------------------------------

http::response service_error_response(const service_error& e) {
  // The machine word is the kind's; the sentence is the detail (or the
  // message when there is no detail).
  auto r = http::response::error(status_of(e.code), word_of(e.code),
                                 e.detail.empty() ? e.message : e.detail);
  if (e.code == service_error::kind::unavailable)
    r.with_header("Retry-After", "5");
  return r;
}

// -- routes ------------------------------------------------------------------

void add_document_routes(http::router& r,
                         std::shared_ptr<document_service> service,
                         document_routes_config config) {
  auto cfg = std::make_shared<const document_routes_config>(std::move(config));
  auto svc = std::move(service);

  r.add(bhttp::verb::post, "/api/v2/documents/upload",
        [svc, cfg](http::request&& req, http::responder res) {
          if (!svc) {
            res.send(no_service());
            return;
          }
          auto check = check_upload(req, *cfg);
          if (check.error) {
            res.send(std::move(*check.error));
            return;
          }
          guarded(res, "upload", [&] {
            svc->upload(
                std::move(check.request),
                answer<job_row>(std::move(res), [](const job_row& j) {
                  auto out = http::response::json(
                      202, json::object{{"job_id", j.job_id},
                                        {"status", to_string(j.status)},
                                        {"message", "Document upload accepted"},
                                        {"filename", j.filename},
                                        {"file_size", j.file_size}});
                  out.with_header("Location",
                                  "/api/v2/documents/status/" + j.job_id);
                  return out;
                }));
          });
        },
        {.max_body_bytes = cfg->max_file_bytes + cfg->multipart_overhead_bytes,
         .timeout = cfg->upload_timeout});

  r.add(bhttp::verb::get, "/api/v2/documents/status/{job_id}",
        [svc](http::request&& req, http::responder res) {
          if (!svc) {
            res.send(no_service());
            return;
          }
          guarded(res, "status", [&] {
            svc->status(req.param("job_id"),
                        answer<job_row>(std::move(res), [](const job_row& j) {
                          return http::response::json(200, job_json(j));
                        }));
          });
        });

  r.add(bhttp::verb::get, "/api/v2/documents/jobs",
        [svc](http::request&& req, http::responder res) {
          if (!svc) {
            res.send(no_service());
            return;
          }
          int64_t limit = default_limit;
          if (auto s = req.query_or("limit"); !s.empty()) {
            auto v = parse_int(s);
            if (!v || *v < 1 || *v > max_limit) {
              res.send(http::response::error(
                  422, "invalid_limit",
                  "limit must be an integer from 1 to 100, not '" + s + "'"));
              return;
            }
            limit = *v;
          }
          int64_t offset = 0;
          if (auto s = req.query_or("offset"); !s.empty()) {
            auto v = parse_int(s);
            if (!v || *v < 0 || *v > INT32_MAX) {
              res.send(http::response::error(
                  422, "invalid_offset",
                  "offset must be a non-negative integer, not '" + s + "'"));
              return;
            }
            offset = *v;
          }
          std::optional<job_status> status;
          if (auto s = req.query_or("status"); !s.empty()) {
            status = parse_job_status(s);
            if (!status) {
              res.send(http::response::error(
                  400, "invalid_status",
                  "status must be one of pending, processing, chunking, "
                  "embedding, completed, failed; not '" +
                      s + "'"));
              return;
            }
          }
          guarded(res, "jobs", [&] {
            svc->list_jobs(
                static_cast<int>(limit), static_cast<int>(offset), status,
                answer<job_page>(
                    std::move(res), [limit, offset](const job_page& p) {
                      json::array jobs;
                      for (auto& j : p.jobs)
                        jobs.emplace_back(job_json(j));
                      return http::response::json(
                          200, json::object{{"jobs", std::move(jobs)},
                                            {"total", p.total},
                                            {"limit", limit},
                                            {"offset", offset}});
                    }));
          });
        });

  r.add(bhttp::verb::get, "/api/v2/documents/{job_id}/events",
        [svc](http::request&& req, http::responder res) {
          if (!svc) {
            res.send(no_service());
            return;
          }
          auto after = broadcast::last_event_id(req);
          if (auto* bad = std::get_if<http::response>(&after)) {
            res.send(std::move(*bad));
            return;
          }
          guarded(res, "events", [&] {
            svc->events(req.param("job_id"),
                        std::get<std::optional<uint64_t>>(after),
                        std::move(res));
          });
        });

  r.add(bhttp::verb::get, "/api/v2/documents/{job_id}/file",
        [svc](http::request&& req, http::responder res) {
          if (!svc) {
            res.send(no_service());
            return;
          }
          guarded(res, "file", [&] {
            svc->file(
                req.param("job_id"),
                answer<stored_file>(std::move(res), [](const stored_file& f) {
                  auto out = http::response::text(200, f.content,
                                                  served_type(f.content_type));
                  out.with_header("Content-Disposition",
                                  attachment(f.filename));
                  out.with_header("X-Content-Type-Options", "nosniff");
                  return out;
                }));
          });
        });

  r.add(bhttp::verb::post, "/api/v2/query",
        [svc, cfg](http::request&& req, http::responder res) {
          if (!svc) {
            res.send(no_service());
            return;
          }
          boost::system::error_code ec;
          auto v = json::parse(req.body, ec);
          if (ec || !v.is_object()) {
            res.send(http::response::error(
                400, "invalid_json",
                ec ? "the body is not valid JSON: " + ec.message()
                   : std::string{"the body must be a JSON object"}));
            return;
          }
          auto& body = v.as_object();
          auto q = body.find("question");
          if (q == body.end() || !q->value().is_string() ||
              trim(q->value().as_string()).empty()) {
            res.send(
                http::response::error(400, "invalid_question",
                                      "question must be a non-empty string"));
            return;
          }
          auto top_k = read_top_k(body);
          if (auto* msg = std::get_if<std::string>(&top_k)) {
            res.send(http::response::error(422, "invalid_top_k", *msg));
            return;
          }
          std::string question{trim(q->value().as_string())};
          auto chars = utf8::count_code_points(question);
          if (chars > cfg->max_question_chars) {
            res.send(http::response::error(
                413, "question_too_long",
                "the question has " + std::to_string(chars) +
                    " characters; the limit is " +
                    std::to_string(cfg->max_question_chars)));
            return;
          }
          auto words = search::content_terms(question);
          std::sort(words.begin(), words.end());
          words.erase(std::unique(words.begin(), words.end()), words.end());
          if (words.size() > cfg->max_question_terms) {
            res.send(http::response::error(
                422, "too_many_terms",
                "the question has " + std::to_string(words.size()) +
                    " distinct words; the limit is " +
                    std::to_string(cfg->max_question_terms)));
            return;
          }
          guarded(res, "query", [&] {
            svc->query(
                std::move(question), std::get<int>(top_k), req.trace.value(),
                answer<query_answer>(std::move(res), [](const query_answer& a) {
                  return http::response::json(200, answer_json(a));
                }));
          });
        },
        {.access = http::access_level::read});

  if (cfg->api_docs)
    describe_document_routes(*cfg->api_docs, *cfg);
}

} // namespace distiller::documents
