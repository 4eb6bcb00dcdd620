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
/// Threads: `embed` and `dimension` are safe to call concurrently; every
/// request uses its own connection and io_context on the calling thread and
/// blocks it for at most `timeout` per batch (resolve, connect, send and
/// receive together). Call it from worker threads, never from the shared
/// scheduler.
/// Ownership: holds only its configuration and the learned dimension.
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
};

class http_embedder final : public embedder {
 public:
  /// Validates `config` and parses the URL; makes no request.
  explicit http_embedder(http_embedder_config config);

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

 private:
  struct response {
    unsigned status = 0;
    std::string reason;
    std::string body;
  };

  std::vector<std::vector<float>>
  embed_batch(const std::vector<const std::string*>& texts) const;

  response post(const std::string& body) const;

  std::vector<std::vector<float>> parse(const std::string& body,
                                        size_t expected) const;

  http_embedder_config config_;
  std::string host_;
  std::string port_;
  std::string target_;
  std::string endpoint_;
  mutable std::atomic<size_t> dimension_;
};

} // namespace distiller::documents
