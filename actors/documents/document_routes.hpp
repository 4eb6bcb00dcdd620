#pragma once

/// The document pipeline's HTTP routes (seeds 000–002), registered on the
/// façade's router and answered through a `document_service`:
///
///   POST /api/v2/documents/upload          multipart field `file` → 202
///   GET  /api/v2/documents/status/{job_id} → the job
///   GET  /api/v2/documents/jobs            ?limit=&offset=&status= → a page
///   GET  /api/v2/documents/{job_id}/events → SSE: the job's state changes
///   GET  /api/v2/documents/{job_id}/file   → the uploaded bytes
///   POST /api/v2/query                     {question, top_k} → answer
///
/// Bodies, status codes and the SSE format are documented in
/// docs/document-pipeline.md ("HTTP API"); with `api_docs` set the routes
/// also describe themselves in the OpenAPI document (/openapi.json).
///
/// Threads: handlers validate on the I/O thread and call the service, which
/// answers on its own threads; the responder travels with the reply. An SSE
/// stream's state is guarded by its own mutex; events go out in order.
/// Ownership: the routes share the service; a job stream is a subscription
/// of the node's SSE broadcaster (job_stream.hpp) that ends with the stream
/// (final state sent, client gone or server stopped).
/// Failure: bad input is answered 400/413/415/422 before the service is
/// called; service errors map not_found → 404, invalid → 400, unavailable →
/// 503, internal → 500; a null service answers 503. Every error body is
/// {"error": …, "detail": …}.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "actors/documents/records.hpp"
#include "actors/documents/service.hpp"
#include "actors/documents/text/extract.hpp"
#include "bridges/http/response.hpp"

namespace distiller::http {
class openapi_spec;
class router;
} // namespace distiller::http

namespace distiller::documents {

struct document_routes_config {
  /// Accepted file extensions, lower case with the dot (by default the text
  /// extractor's list); others get 415.
  std::vector<std::string> supported_extensions =
      ::distiller::documents::supported_extensions();
  /// Largest accepted file (413 above it).
  uint64_t max_file_bytes = 50ull * 1024 * 1024;
  /// Room for the multipart framing on top of max_file_bytes: the upload
  /// route's body limit is the sum (the server answers 413 from
  /// Content-Length before reading a larger body).
  uint64_t multipart_overhead_bytes = 64 * 1024;
  /// Time a client has to send a whole upload.
  std::chrono::milliseconds upload_timeout{std::chrono::minutes(2)};
  /// Bounds of one question: characters (413 question_too_long) and
  /// distinct content words (422 too_many_terms), so one request cannot buy
  /// unbounded search work.
  size_t max_question_chars = 2000;
  size_t max_question_terms = 64;
  /// When set, the routes add their descriptions to this OpenAPI spec.
  std::shared_ptr<http::openapi_spec> api_docs;
};

/// Registers the routes above on `r`.
void add_document_routes(http::router& r,
                         std::shared_ptr<document_service> service,
                         document_routes_config cfg = {});

/// Describes the routes above in `spec` (called by add_document_routes when
/// cfg.api_docs is set).
void describe_document_routes(http::openapi_spec& spec,
                              const document_routes_config& cfg = {});

// -- shared by the routes and the event streams ------------------------------

// Jobs as JSON, status order and finality: actors/documents/records.hpp.

/// A service error as the routes answer it: not_found 404, invalid 400,
/// unavailable 503, internal 500; body {"error": message (or the kind's
/// name when empty), "detail": detail}.
http::response service_error_response(const service_error& e);

} // namespace distiller::documents
