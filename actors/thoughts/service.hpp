#pragma once

/// What the thought routes (thought_routes.hpp) ask of the pipeline: submit,
/// read, list, and open a user's event stream. The node implements it with
/// the thought API's task pool, the store and the broadcaster
/// (pipeline.hpp).
///
/// Threads: every call returns at once; `done` runs later on another thread,
/// exactly once. The routes never block their I/O thread.
/// Failure: a reply carries a value or an http::api_error (not_found 404,
/// unavailable 503 with Retry-After when the database is unreachable or the
/// queue is full, internal 500).

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "actors/thoughts/thought_store.hpp"
#include "bridges/http/api_error.hpp"
#include "bridges/http/responder.hpp"

namespace distiller::thoughts {

template <class T>
using reply = std::function<void(http::api_result<T>)>;

struct submission {
  std::string user_id; // a UUID (checked by the routes)
  std::string text;    // not blank, within the limit (checked)
  std::string trace_id;
};

class thought_service {
 public:
  virtual ~thought_service() = default;

  virtual void submit(submission s, reply<thought_store::created> done) = 0;

  virtual void get(std::string thought_id, reply<thought_row> done) = 0;

  /// limit 1..100 (checked).
  virtual void list(std::string user_id, int limit,
                    std::optional<list_cursor> before,
                    reply<thought_page> done) = 0;

  /// Answers `res` with the user's event stream (resuming after `after`),
  /// or 503 over the connection caps.
  virtual void stream(std::string user_id, std::optional<uint64_t> after,
                      http::responder res) = 0;

  /// The longest accepted text, in characters.
  virtual int max_text_chars() const = 0;
};

} // namespace distiller::thoughts
