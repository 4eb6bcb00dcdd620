#pragma once

/// Test helpers for the document API of a running node: multipart uploads,
/// job status polling with a deadline, and a job's SSE event history.
/// Each call opens its own connection (safe to use from several threads).
/// Failure: transport errors throw std::runtime_error (from http_client);
/// HTTP errors are returned as replies for the test to check.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "tests/support/http_client.hpp"

namespace distiller::testing {

/// A multipart/form-data body with one file part named `field`.
struct multipart_upload {
  std::string body;
  std::string content_type;
};
multipart_upload
make_upload(const std::string& filename, const std::string& content,
            const std::string& part_type = "application/octet-stream",
            const std::string& field = "file");

class document_client {
 public:
  explicit document_client(uint16_t port) : port_(port) {}

  /// POST /api/v2/documents/upload.
  http_reply upload(const std::string& filename, const std::string& content,
                    const std::string& part_type = "application/octet-stream");

  /// Uploads and returns the job id (throws unless the answer is 202).
  std::string upload_ok(const std::string& filename,
                        const std::string& content);

  /// GET /api/v2/documents/status/{id} as JSON (null on a non-200 answer).
  boost::json::value status(const std::string& job_id);

  /// Polls the status until it is completed or failed; returns the final
  /// JSON or null when `timeout` passes first.
  boost::json::value
  wait_final(const std::string& job_id,
             std::chrono::milliseconds timeout = std::chrono::seconds(90));

  /// Reads the job's SSE stream until the server ends it (or `timeout`);
  /// returns the data of every event, parsed.
  std::vector<boost::json::object>
  events(const std::string& job_id,
         std::chrono::milliseconds timeout = std::chrono::seconds(90));

  /// POST /api/v2/query.
  http_reply query(const std::string& question, int top_k = 5);

  uint16_t port() const noexcept { return port_; }

 private:
  uint16_t port_;
};

/// Position of a job status in the forward order (pending 0 … completed 4,
/// failed 5), -1 if unknown.
int status_order(const std::string& status);

} // namespace distiller::testing
