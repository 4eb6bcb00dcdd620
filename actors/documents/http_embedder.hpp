#pragma once

/// An `embedder` backed by an OpenAI-compatible embeddings endpoint
/// (OpenAI, vLLM, Ollama, LocalAI, text-embeddings-inference …):
/// `POST {url}/v1/embeddings` with {"model": …, "input": [texts]}, answered
/// by {"data": [{"index": i, "embedding": [floats]}, …]}. A `url` that
/// already ends in "/v1" gets only "/embeddings" appended.
///
/// Plain HTTP only: https:// is refused at construction (put a local
/// TLS-terminating proxy in front of a remote HTTPS service).
///
/// Connections: kept alive (HTTP/1.1) and reused. A request takes an idle
/// connection from a small pool (at most `max_idle` kept; a new one is
/// opened when none is idle, so concurrent callers each have their own) and
/// gives it back after a complete answer that did not ask to close. A
/// request on a reused connection that fails before any byte of the answer
/// arrived (the server closed it while it was idle) is sent once more on a
/// new connection; embedding is idempotent. Other failures close the
/// connection and are reported as below.
///
/// Threads: `embed` and `dimension` are safe to call concurrently; a
/// request runs on the calling thread, on its connection's own io_context,
/// and blocks it for at most `timeout` per batch (resolve, connect, send and
/// receive together). Call it from worker threads, never from the shared
/// scheduler.
/// Ownership: holds its configuration, the learned dimension and the idle
/// connections (closed with it).
/// Failure: the constructor throws std::invalid_argument naming the
/// configuration key (embedder.url, embedder.model, …). `embed` throws
/// `embed_error`: retryable for resolve/connect failures, timeouts, a
/// dropped connection, 408, 429 and 5xx; not retryable for other 4xx,
/// malformed JSON, a wrong number of vectors or a vector of the wrong
/// dimension. Messages name the endpoint, the HTTP status and the start of
/// the response body.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/documents/embedder.hpp"

namespace distiller::documents {

struct http_embedder_config {
  /// Base URL, "http://host[:port][/prefix]" (embedder.url).
  std::string url;
  /// Sent as "model" and reported by `model()` (embedder.model).
  std::string model;
  /// Sent as "Authorization: Bearer …" when not empty (embedder.api_key).
  std::string api_key;
  /// Expected vector length; 0 learns it from the first response
  /// (embedder.dimension).
  size_t dimension = 0;
  /// Deadline of one request, connection included (embedder.timeout).
  std::chrono::milliseconds timeout{30000};
  /// Texts per request; longer inputs are sent in several requests
  /// (embedder.max_batch).
  size_t max_batch = 64;
  /// Idle keep-alive connections kept for the next requests.
  size_t max_idle = 16;
};

class http_embedder final : public embedder {
 public:
  /// Validates `config` and parses the URL; makes no request.
  explicit http_embedder(http_embedder_config config);
  ~http_embedder() override;
  http_embedder(const http_embedder&) = delete;
  http_embedder& operator=(const http_embedder&) = delete;

  std::string model() const override;

  /// The configured dimension or, with 0 configured, the one learned from
  /// the first response; if no response came yet, embeds a short probe text
  /// to learn it (so this may block and throw `embed_error`).
  size_t dimension() const override;

  /// One L2-normalised vector per text, in order. Blank texts are not sent
  /// (OpenAI refuses empty input) and yield the zero vector.
  std::vector<std::vector<float>>
  embed(const std::vector<std::string>& texts) override;

  /// "http://host:port/…/v1/embeddings", as used in error messages.
  const std::string& endpoint() const noexcept { return endpoint_; }

  /// Connections opened so far (for tests and logs).
  size_t connections_opened() const noexcept { return opened_.load(); }

 private:
  struct response {
    unsigned status = 0;
    std::string reason;
    std::string body;
  };

  /// One keep-alive connection with its io_context (http_embedder.cpp).
  struct connection;

  std::vector<std::vector<float>>
  embed_batch(const std::vector<const std::string*>& texts) const;

  response post(const std::string& body) const;

  /// One attempt on `conn` (connected first when new); throws embed_error.
  /// `stale` is set when it failed before any byte of an answer arrived.
  response exchange(connection& conn, const std::string& body,
                    std::chrono::steady_clock::time_point deadline,
                    bool& stale) const;

  std::unique_ptr<connection> take_idle() const;
  void give_back(std::unique_ptr<connection> conn) const;
  std::vector<std::vector<float>> parse(const std::string& body,
                                        size_t expected) const;

  http_embedder_config config_;
  std::string host_;
  std::string port_;
  std::string target_;
  std::string endpoint_;
  mutable std::atomic<size_t> dimension_;
  mutable std::atomic<size_t> opened_{0};
  mutable std::mutex idle_mtx_;
  mutable std::vector<std::unique_ptr<connection>> idle_;
};

} // namespace distiller::documents
