// The OpenAPI descriptions of the document routes (document_routes.hpp):
// their parameters, bodies, schemas and error codes, as JSON text next to
// nothing else so they are easy to compare with the handlers.

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "actors/documents/document_routes.hpp"
#include "bridges/http/openapi.hpp"

namespace distiller::documents {

namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view job_schema = R"J({
  "type": "object",
  "required": ["job_id", "filename", "status", "progress", "total_chunks",
               "processed_chunks", "created_at", "updated_at"],
  "properties": {
    "job_id": {"type": "string", "format": "uuid"},
    "filename": {"type": "string"},
    "status": {"type": "string",
               "enum": ["pending", "processing", "chunking", "embedding",
                        "completed", "failed"]},
    "progress": {"type": "integer", "minimum": 0, "maximum": 100},
    "total_chunks": {"type": "integer"},
    "processed_chunks": {"type": "integer"},
    "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"},
    "error": {"type": "string", "description": "why the job failed (failed only)"}
  }
})J";

constexpr std::string_view job_list_schema = R"J({
  "type": "object",
  "required": ["jobs", "total", "limit", "offset"],
  "properties": {
    "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"},
             "description": "newest first"},
    "total": {"type": "integer", "description": "jobs matching the filter"},
    "limit": {"type": "integer"},
    "offset": {"type": "integer"}
  }
})J";

constexpr std::string_view upload_accepted_schema = R"J({
  "type": "object",
  "required": ["job_id", "status", "message", "filename", "file_size"],
  "properties": {
    "job_id": {"type": "string", "format": "uuid"},
    "status": {"type": "string", "enum": ["pending"]},
    "message": {"type": "string", "example": "Document upload accepted"},
    "filename": {"type": "string", "description": "without directories"},
    "file_size": {"type": "integer", "description": "bytes"}
  }
})J";

constexpr std::string_view unsupported_schema = R"J({
  "type": "object",
  "required": ["error", "detail", "supported_extensions"],
  "properties": {
    "error": {"type": "string", "enum": ["unsupported_media_type"]},
    "detail": {"type": "string"},
    "supported_extensions": {"type": "array",
                             "items": {"$ref": "#/components/schemas/SupportedExtensions"}}
  }
})J";

constexpr std::string_view query_request_schema = R"J({
  "type": "object",
  "required": ["question"],
  "properties": {
    "question": {"type": "string", "description": "not empty or blank"},
    "top_k": {"type": "integer", "minimum": 1, "maximum": 100, "default": 5}
  }
})J";

constexpr std::string_view query_answer_schema = R"J({
  "type": "object",
  "required": ["answer", "sources"],
  "properties": {
    "answer": {"type": "string"},
    "sources": {"type": "array", "items": {"$ref": "#/components/schemas/Source"},
                "description": "best first"}
  }
})J";

constexpr std::string_view source_schema = R"J({
  "type": "object",
  "required": ["chunk_id", "job_id", "filename", "score", "text", "section"],
  "properties": {
    "chunk_id": {"type": "string"},
    "job_id": {"type": "string"},
    "filename": {"type": "string"},
    "score": {"type": "number", "description": "fused reciprocal-rank score"},
    "text": {"type": "string"},
    "section": {"type": "string", "description": "the page (\"page 2\"), heading or chapter of its document the chunk starts in; \"\" for formats without them"}
  }
})J";

constexpr std::string_view upload_op = R"J({
  "tags": ["documents"],
  "summary": "Upload a document for processing",
  "description": "Stores the file durably and answers at once; the pipeline then moves the job pending → processing → chunking → embedding → completed (or failed). Follow it with the status route or the events stream.",
  "requestBody": {
    "required": true,
    "content": {"multipart/form-data": {"schema": {
      "type": "object", "required": ["file"],
      "properties": {"file": {"type": "string", "format": "binary",
                              "description": "the document; directories in its name are dropped"}}}}}
  },
  "responses": {
    "202": {"description": "accepted; Location names the status route",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UploadAccepted"}}}},
    "400": {"description": "not multipart, or a part header with a control character or bytes that are not UTF-8 (invalid_multipart), no file field (missing_file), empty file (empty_file), bad file name (invalid_filename)",
            "x-error-codes": ["invalid_multipart", "missing_file", "empty_file", "invalid_filename"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "413": {"description": "the body or the file is larger than the limit (payload_too_large, file_too_large); decided from Content-Length before the body is read",
            "x-error-codes": ["payload_too_large", "file_too_large"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "415": {"description": "unsupported file type, or content of another type than the extension promises (the detail names what was found); lists the supported extensions",
            "x-error-codes": ["unsupported_media_type"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UnsupportedMediaType"}}}},
    "503": {"description": "the pipeline or its database is unavailable (Retry-After)",
            "x-error-codes": ["unavailable"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})J";

constexpr std::string_view status_op = R"J({
  "tags": ["documents"],
  "summary": "The state of one job",
  "parameters": [{"name": "job_id", "in": "path", "required": true,
                  "schema": {"type": "string", "format": "uuid"}}],
  "responses": {
    "200": {"description": "the job",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
    "404": {"description": "no such job",
            "x-error-codes": ["not_found"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "503": {"description": "the pipeline or its database is unavailable (Retry-After)",
            "x-error-codes": ["unavailable"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})J";

constexpr std::string_view jobs_op = R"J({
  "tags": ["documents"],
  "summary": "Recent jobs, newest first, paginated",
  "parameters": [
    {"name": "limit", "in": "query", "description": "page size; else 422 invalid_limit",
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
    {"name": "offset", "in": "query", "description": "jobs to skip; else 422 invalid_offset",
     "schema": {"type": "integer", "minimum": 0, "default": 0}},
    {"name": "status", "in": "query", "description": "only jobs in this state; else 400 invalid_status",
     "schema": {"type": "string", "enum": ["pending", "processing", "chunking",
                                           "embedding", "completed", "failed"]}}
  ],
  "responses": {
    "200": {"description": "one page",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobList"}}}},
    "400": {"description": "unknown status",
            "x-error-codes": ["invalid_status"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "422": {"description": "limit or offset out of range or not an integer",
            "x-error-codes": ["invalid_limit", "invalid_offset"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "503": {"description": "the pipeline or its database is unavailable (Retry-After)",
            "x-error-codes": ["unavailable"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})J";

constexpr std::string_view events_op = R"J({
  "tags": ["documents"],
  "summary": "Server-Sent Events of one job's state changes",
  "description": "First the current state, then each change, as `event: <status>` with `id: <position>` and `data: <Job JSON>`; the stream ends after `completed` or `failed` (at once when the job is already final). With Last-Event-ID (header or ?last_event_id=) the current state is sent only when it is newer. Comments `: ping` keep the connection alive.",
  "parameters": [{"name": "job_id", "in": "path", "required": true,
                  "schema": {"type": "string", "format": "uuid"}},
                 {"name": "last_event_id", "in": "query", "description": "the id of the last event seen",
                  "schema": {"type": "integer", "minimum": 0}},
                 {"name": "Last-Event-ID", "in": "header", "schema": {"type": "integer", "minimum": 0}}],
  "responses": {
    "200": {"description": "the event stream; each event's data is a Job",
            "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/Job"}}}},
    "400": {"description": "Last-Event-ID not a number",
            "x-error-codes": ["invalid_last_event_id"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "404": {"description": "no such job (plain JSON, no stream)",
            "x-error-codes": ["not_found"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "503": {"description": "the pipeline or its database is unavailable (Retry-After)",
            "x-error-codes": ["unavailable"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})J";

constexpr std::string_view file_op = R"J({
  "tags": ["documents"],
  "summary": "The uploaded file, as an attachment",
  "parameters": [{"name": "job_id", "in": "path", "required": true,
                  "schema": {"type": "string", "format": "uuid"}}],
  "responses": {
    "200": {"description": "the original bytes, always with Content-Disposition: attachment and X-Content-Type-Options: nosniff; Content-Type is text/plain (plain text and Markdown, with the declared charset), application/pdf, or application/octet-stream for every other type (an uploaded HTML page is never served as HTML)",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                        "text/plain": {"schema": {"type": "string", "format": "binary"}},
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
    "404": {"description": "no such job",
            "x-error-codes": ["not_found"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "503": {"description": "the pipeline or its database is unavailable (Retry-After)",
            "x-error-codes": ["unavailable"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})J";

constexpr std::string_view query_op = R"J({
  "tags": ["query"],
  "summary": "Ask a question over the processed documents",
  "description": "Hybrid retrieval (the vector index and a BM25 index of the chunks, fused by weighted reciprocal rank), each passage once, and an answer built from the best chunks; a question nothing in the corpus answers gets \"No relevant documents found.\" and no sources.",
  "requestBody": {
    "required": true,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueryRequest"}}}
  },
  "responses": {
    "200": {"description": "the answer and its sources",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueryAnswer"}}}},
    "400": {"description": "not a JSON object (invalid_json), question missing or blank (invalid_question)",
            "x-error-codes": ["invalid_json", "invalid_question"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "413": {"description": "the question is longer than query.max_question_chars characters (question_too_long)",
            "x-error-codes": ["question_too_long"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "422": {"description": "top_k not an integer from 1 to 100 (invalid_top_k), or more distinct words than query.max_question_terms (too_many_terms)",
            "x-error-codes": ["invalid_top_k", "too_many_terms"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "503": {"description": "the pipeline or its database is unavailable (Retry-After)",
            "x-error-codes": ["unavailable"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})J";

} // namespace

void describe_document_routes(http::openapi_spec& spec,
                              const document_routes_config& cfg) {
  spec.add_schema("Job", job_schema);
  spec.add_schema("JobList", job_list_schema);
  spec.add_schema("UploadAccepted", upload_accepted_schema);
  // The supported list is the configured one, not a copy in the text.
  boost::json::array exts;
  for (auto& x : cfg.supported_extensions)
    exts.emplace_back(x);
  spec.add_schema("UnsupportedMediaType", unsupported_schema);
  spec.add_schema("SupportedExtensions",
                  boost::json::serialize(boost::json::object{
                      {"type", "string"},
                      {"enum", exts},
                      {"description", "file extensions the upload accepts"}}));
  spec.add_schema("QueryRequest", query_request_schema);
  spec.add_schema("QueryAnswer", query_answer_schema);
  spec.add_schema("Source", source_schema);
  spec.describe(bhttp::verb::post, "/api/v2/documents/upload", upload_op);
  spec.describe(bhttp::verb::get, "/api/v2/documents/status/{job_id}",
                status_op);
  spec.describe(bhttp::verb::get, "/api/v2/documents/jobs", jobs_op);
  spec.describe(bhttp::verb::get, "/api/v2/documents/{job_id}/events",
                events_op);
  spec.describe(bhttp::verb::get, "/api/v2/documents/{job_id}/file", file_op);
  spec.describe(bhttp::verb::post, "/api/v2/query", query_op);
}

} // namespace distiller::documents
