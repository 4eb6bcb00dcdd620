#include "actors/documents/index_snapshots.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace distiller::documents {

namespace {

constexpr std::string_view format_line = "format=1";

template <class T>
bool parse_number(const std::string& text, T& out) {
  auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end && !text.empty();
}

} // namespace

std::string encode_meta(const snapshot_meta& meta) {
  std::string out{format_line};
  out += "\ndatabase=" + meta.identity.database;
  out += "\nmodel=" + meta.identity.model;
  out += "\ndimension=" + std::to_string(meta.identity.dimension);
  out += "\nkind=" + meta.identity.kind;
  out += "\nmark=" + std::to_string(meta.mark);
  out += "\nentries=" + std::to_string(meta.entries);
  out += '\n';
  return out;
}

std::optional<snapshot_meta> decode_meta(std::string_view text) {
  std::map<std::string, std::string, std::less<>> fields;
  bool first = true;
  while (!text.empty()) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos)
      return std::nullopt; // every line ends in '\n'
    auto line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (first) {
      if (line != format_line)
        return std::nullopt;
      first = false;
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return std::nullopt;
    if (!fields.emplace(line.substr(0, eq), line.substr(eq + 1)).second)
      return std::nullopt;
  }
  if (first)
    return std::nullopt;
  for (auto key : {"database", "model", "dimension", "kind", "mark", "entries"})
    if (!fields.contains(key))
      return std::nullopt;
  snapshot_meta meta;
  meta.identity.database = fields["database"];
  meta.identity.model = fields["model"];
  meta.identity.kind = fields["kind"];
  if (!parse_number(fields["dimension"], meta.identity.dimension) ||
      !parse_number(fields["mark"], meta.mark) ||
      !parse_number(fields["entries"], meta.entries))
    return std::nullopt;
  if (meta.identity.database.empty() || meta.identity.kind.empty())
    return std::nullopt;
  return meta;
}

std::string mismatch(const snapshot_identity& saved,
                     const snapshot_identity& wanted) {
  auto differs = [](const char* what, const std::string& a,
                    const std::string& b) {
    return std::string{what} + " is " + a + ", the node has " + b;
  };
  if (saved.database != wanted.database)
    return differs("database", saved.database, wanted.database);
  if (saved.kind != wanted.kind)
    return differs("kind", saved.kind, wanted.kind);
  if (saved.model != wanted.model)
    return differs("model", saved.model, wanted.model);
  if (saved.dimension != wanted.dimension)
    return differs("dimension", std::to_string(saved.dimension),
                   std::to_string(wanted.dimension));
  return {};
}

pg_micros mark_after_read(pg_micros read_at,
                          std::optional<pg_micros> oldest_open,
                          std::chrono::microseconds margin) {
  auto floor = oldest_open ? std::min(read_at, *oldest_open) : read_at;
  return floor - margin.count();
}

// -- snapshot_policy ----------------------------------------------------------

snapshot_policy::snapshot_policy(std::chrono::milliseconds interval,
                                 size_t every, clock::time_point start,
                                 size_t entries)
    : interval_(interval), every_(std::max<size_t>(every, 1)), last_(start),
      saved_entries_(entries) {}

size_t snapshot_policy::pending(size_t entries) const {
  return entries > saved_entries_ ? entries - saved_entries_ : 0;
}

bool snapshot_policy::due(clock::time_point now, size_t entries) const {
  auto added = pending(entries);
  if (added == 0)
    return false;
  return added >= every_ || now - last_ >= interval_;
}

void snapshot_policy::saved(clock::time_point now, size_t entries) {
  last_ = now;
  saved_entries_ = entries;
}

} // namespace distiller::documents
