#include "bridges/http/sse_stream.hpp"

#include "bridges/http/connection.hpp"

namespace distiller::http {

namespace {

/// A field value on one line: CR and LF would end the field early.
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text)
    if (c != '\r' && c != '\n')
      out.push_back(c);
  return out;
}

/// Appends `prefix` + each line of `text` (LF, CRLF or CR end a line).
void append_lines(std::string& out, std::string_view prefix,
                  std::string_view text) {
  size_t i = 0;
  while (true) {
    auto end = text.find_first_of("\r\n", i);
    out += prefix;
    out += text.substr(i, end == std::string_view::npos ? end : end - i);
    out += '\n';
    if (end == std::string_view::npos)
      return;
    i = end + 1;
    if (text[end] == '\r' && i < text.size() && text[i] == '\n')
      ++i;
    if (i == text.size())
      return;
  }
}

} // namespace

const char* to_string(sse_close_reason r) noexcept {
  switch (r) {
  case sse_close_reason::open:
    return "open";
  case sse_close_reason::closed:
    return "closed";
  case sse_close_reason::client_gone:
    return "client_gone";
  case sse_close_reason::slow_client:
    return "slow_client";
  case sse_close_reason::write_failed:
    return "write_failed";
  case sse_close_reason::server_stopped:
    break;
  }
  return "server_stopped";
}

void sse_stream::set_reason(sse_close_reason r) noexcept {
  auto open = sse_close_reason::open;
  reason_.compare_exchange_strong(open, r);
}

sse_stream::sse_stream(std::weak_ptr<detail::connection> conn,
                       distiller::trace_id trace)
    : conn_(std::move(conn)), trace_(std::move(trace)) {}

std::string sse_stream::format(std::string_view event, std::string_view data,
                               std::string_view id) {
  std::string out;
  out.reserve(data.size() + event.size() + id.size() + 32);
  if (!id.empty())
    out += "id: " + one_line(id) + "\n";
  if (!event.empty())
    out += "event: " + one_line(event) + "\n";
  append_lines(out, "data: ", data);
  out += '\n';
  return out;
}

bool sse_stream::send(std::string_view event, std::string_view data,
                      std::string_view id) {
  return enqueue(format(event, data, id));
}

bool sse_stream::comment(std::string_view text) {
  std::string frame;
  append_lines(frame, ": ", text);
  frame += '\n';
  return enqueue(std::move(frame));
}

bool sse_stream::enqueue(std::string frame) {
  if (closed_.load())
    return false;
  auto conn = conn_.lock();
  if (!conn) {
    mark_closed();
    return false;
  }
  return conn->post_sse_frame(std::move(frame));
}

void sse_stream::close() {
  if (closed_.exchange(true))
    return;
  set_reason(sse_close_reason::closed);
  if (auto conn = conn_.lock(); !conn || !conn->post_sse_close())
    mark_closed();
}

void sse_stream::on_close(std::function<void()> f) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!fired_) {
      on_close_ = std::move(f);
      return;
    }
  }
  if (f)
    f();
}

void sse_stream::mark_closed() {
  closed_.store(true);
  // Without a more specific reason, the connection went away under us.
  set_reason(sse_close_reason::client_gone);
  std::function<void()> f;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (fired_)
      return;
    fired_ = true;
    f = std::move(on_close_);
  }
  if (f)
    f();
}

} // namespace distiller::http
