#include "actors/load/sse_parser.hpp"

namespace distiller::load {

void sse_parser::reset() {
  partial_.clear();
  skip_lf_ = false;
  has_data_ = false;
  current_ = {};
  last_id_.clear();
  comments_ = 0;
}

void sse_parser::line(std::string_view l,
                      const std::function<void(const sse_event&)>& on_event) {
  if (l.empty()) {
    if (has_data_ || !current_.event.empty()) {
      current_.id = last_id_;
      on_event(current_);
    }
    current_.event.clear();
    current_.data.clear();
    has_data_ = false;
    return;
  }
  if (l.front() == ':') {
    ++comments_;
    return;
  }
  auto colon = l.find(':');
  auto field = l.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = l.substr(colon + 1);
    if (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_)
      current_.data.push_back('\n');
    current_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    current_.event.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos)
      last_id_.assign(value);
  }
  // "retry" and unknown fields change nothing here.
}

bool sse_parser::feed(std::string_view bytes,
                      const std::function<void(const sse_event&)>& on_event) {
  size_t start = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    char c = bytes[i];
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') {
        start = i + 1;
        continue;
      }
    }
    if (c != '\n' && c != '\r')
      continue;
    if (partial_.empty()) {
      line(bytes.substr(start, i - start), on_event);
    } else {
      partial_.append(bytes.substr(start, i - start));
      std::string l;
      l.swap(partial_);
      line(l, on_event);
    }
    skip_lf_ = c == '\r';
    start = i + 1;
  }
  if (start < bytes.size()) {
    partial_.append(bytes.substr(start));
    if (partial_.size() > max_line_)
      return false;
  }
  return true;
}

} // namespace distiller::load
