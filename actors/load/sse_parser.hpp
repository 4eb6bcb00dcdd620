#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

/// An incremental Server-Sent Events parser (the WHATWG event-stream
/// format): bytes in any pieces, lines ended by LF, CRLF or CR, fields
/// `id`, `event`, `data` (several joined by LF) and `retry`, comments
/// counted. An event is dispatched at a blank line when it has data or a
/// name. Pure; a line longer than `max_line` makes `feed` return false.
namespace distiller::load {

struct sse_event {
  std::string id;
  std::string event;
  std::string data;
};

class sse_parser {
 public:
  explicit sse_parser(size_t max_line = 4 << 20) : max_line_(max_line) {}

  /// Parses `bytes`, calling `on_event` for each complete event; false when
  /// a line exceeds max_line (the stream should be dropped).
  bool feed(std::string_view bytes,
            const std::function<void(const sse_event&)>& on_event);

  size_t comments() const noexcept { return comments_; }
  /// The last `id:` seen (it persists across events, as in browsers).
  const std::string& last_id() const noexcept { return last_id_; }
  void reset();

 private:
  void line(std::string_view l,
            const std::function<void(const sse_event&)>& on_event);

  size_t max_line_;
  std::string partial_;
  bool skip_lf_ = false;
  bool has_data_ = false;
  sse_event current_;
  std::string last_id_;
  size_t comments_ = 0;
};

} // namespace distiller::load
