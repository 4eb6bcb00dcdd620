#pragma once

/// The embedding model behind the document pipeline, as the embedder pool,
/// the query actor and the index see it. Implementations: the built-in
/// feature-hashing embedder (hashing_embedder.hpp) and the OpenAI-compatible
/// HTTP embedder (http_embedder.hpp).
///
/// Threads: one instance may be shared by several worker threads; `embed`
/// must be safe to call concurrently.
/// Failure: `embed` throws `embed_error`; `retryable()` tells a worker
/// whether another attempt may succeed (network trouble, 5xx, 429) or the
/// input itself is refused (4xx).

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace distiller::documents {

class embed_error : public std::runtime_error {
 public:
  embed_error(const std::string& what, bool retryable)
      : std::runtime_error(what), retryable_(retryable) {}
  bool retryable() const noexcept { return retryable_; }

 private:
  bool retryable_;
};

class embedder {
 public:
  virtual ~embedder() = default;

  /// Stored in document_chunks.embedding_model, e.g. "hashing-384-v1".
  virtual std::string model() const = 0;

  /// Length of every vector `embed` returns.
  virtual size_t dimension() const = 0;

  /// One L2-normalised vector per text, in order (a text without any
  /// feature yields the zero vector).
  virtual std::vector<std::vector<float>>
  embed(const std::vector<std::string>& texts) = 0;
};

using embedder_ptr = std::shared_ptr<embedder>;

} // namespace distiller::documents
