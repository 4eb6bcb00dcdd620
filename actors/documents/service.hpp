#pragma once

/// What the document routes of the HTTP façade ask of the pipeline. The
/// routes (document_routes.hpp) parse and validate HTTP, call one of these
/// and turn the reply into JSON; the node implements it with the uploader,
/// the store and the query actor (pipeline.hpp).
///
/// Threads: every call returns at once; `done` runs later on some other
/// thread, exactly once. The routes never block their I/O thread.
/// Failure: a reply carries either a value or a `service_error`, which the
/// routes map to a status code (not_found 404, invalid 400, unavailable 503,
/// internal 500) and a body {"error": message, "detail": detail}.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "actors/documents/document_store.hpp"
#include "bridges/http/responder.hpp"

namespace distiller::documents {

struct service_error {
  enum class kind { not_found, invalid, unavailable, internal };
  kind code = kind::internal;
  std::string message;
  std::string detail;
};

/// A value or the error that prevented it.
template <class T>
using outcome = std::variant<T, service_error>;

template <class T>
using reply = std::function<void(outcome<T>)>;

struct upload_request {
  std::string filename;     // as sent (the routes strip any directory part)
  std::string content_type; // of the part, or guessed from the extension
  std::string content;
  std::string trace_id;
};

struct source_hit {
  std::string chunk_id;
  std::string job_id;
  std::string filename;
  double score = 0; // fused reciprocal-rank score
  std::string text;
  /// The page or section of its document the chunk starts in, or "".
  std::string section = {};
};

struct query_answer {
  std::string answer;
  std::vector<source_hit> sources;
};

class document_service {
 public:
  virtual ~document_service() = default;

  /// Stores the upload (job, file, outbox) and answers the new job.
  virtual void upload(upload_request req, reply<job_row> done) = 0;

  virtual void status(std::string job_id, reply<job_row> done) = 0;

  virtual void list_jobs(int limit, int offset,
                         std::optional<job_status> status,
                         reply<job_page> done) = 0;

  virtual void file(std::string job_id, reply<stored_file> done) = 0;

  /// top_k is already checked (1..100), the question is not empty.
  virtual void query(std::string question, int top_k, std::string trace_id,
                     reply<query_answer> done) = 0;

  /// Answers `res` with the job's event stream (job_stream.hpp): its
  /// current state (when newer than `after`, a client's Last-Event-ID), then
  /// each change, ending after `completed` or `failed`; or a JSON error
  /// (404 unknown job, 503 no broadcaster or over the stream caps).
  virtual void events(std::string job_id, std::optional<uint64_t> after,
                      http::responder res) = 0;
};

} // namespace distiller::documents
