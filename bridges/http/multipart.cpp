#include "bridges/http/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace distiller::http {

namespace {

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

std::string to_lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return lower(x) == lower(y); });
}

bool blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (blank(s.front()) || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (blank(s.back()) || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    if (c < 0x80)
      n = 0;
    else if (c >= 0xc2 && c <= 0xdf)
      n = 1;
    else if ((c & 0xf0) == 0xe0)
      n = 2;
    else if (c >= 0xf0 && c <= 0xf4)
      n = 3;
    else
      return false;
    if (i + n >= s.size())
      return false;
    for (size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80)
        return false;
    i += n + 1;
  }
  return true;
}

/// Where a delimiter line was found.
struct delimiter {
  size_t content_end = 0; // end of the content before it (its CRLF excluded)
  size_t next = 0;        // first byte after the delimiter line
  bool close = false;     // "--boundary--"
};

/// Finds the next delimiter line ("--boundary" at the start of a line,
/// followed by "--" or by optional padding and a line end) whose line
/// starts at or after `from`. `at_start`: a delimiter at offset `from`
/// itself counts without a preceding line break (the body's first line).
/// Returns nullopt when there is none; `truncated` is set when the last
/// candidate was cut off by the end of the body.
std::optional<delimiter> find_delimiter(std::string_view body,
                                        std::string_view dash, size_t from,
                                        bool at_start, bool& truncated) {
  truncated = false;
  size_t pos = from;
  while (pos <= body.size()) {
    auto hit = body.find(dash, pos);
    if (hit == std::string_view::npos)
      return std::nullopt;
    pos = hit + 1;
    bool line_start =
        (at_start && hit == from) || (hit > from && body[hit - 1] == '\n');
    if (!line_start)
      continue;
    size_t after = hit + dash.size();
    delimiter d;
    // The line break before the delimiter belongs to it, not to the content.
    d.content_end = hit;
    if (d.content_end > from && body[d.content_end - 1] == '\n') {
      --d.content_end;
      if (d.content_end > from && body[d.content_end - 1] == '\r')
        --d.content_end;
    }
    if (body.substr(after, 2) == "--") {
      d.close = true;
      d.next = after + 2;
      return d;
    }
    size_t i = after;
    while (i < body.size() && blank(body[i]))
      ++i;
    if (i == body.size()) {
      truncated = true;
      return std::nullopt;
    }
    if (body[i] == '\n' ||
        (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n')) {
      d.next = i + (body[i] == '\r' ? 2 : 1);
      return d;
    }
    if (body[i] == '\r' && i + 1 == body.size()) {
      truncated = true;
      return std::nullopt;
    }
    // Boundary-like text inside the content ("--boundaryX"): keep looking.
  }
  return std::nullopt;
}

std::string part_label(size_t index, const multipart_part& p) {
  std::string out = "part " + std::to_string(index + 1);
  if (!p.name.empty())
    out += " ('" + p.name + "')";
  return out;
}

/// Reads the header block of one part starting at `pos`; returns the offset
/// of the first content byte.
size_t read_headers(std::string_view body, size_t pos, size_t index,
                    const multipart_limits& limits, multipart_part& part) {
  size_t start = pos;
  while (true) {
    auto eol = body.find('\n', pos);
    if (eol == std::string_view::npos || eol - start > limits.max_header_bytes)
      throw multipart_error(
          part_label(index, part) +
          (eol == std::string_view::npos
               ? ": its headers are not terminated by an empty line"
               : ": its headers exceed " +
                     std::to_string(limits.max_header_bytes) + " bytes"));
    auto line = body.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    pos = eol + 1;
    if (line.empty())
      return pos;
    // Header values travel on into the job's row and response headers: a
    // bare CR, NUL or other control byte, or bytes that are not UTF-8, are
    // refused here rather than stored.
    for (unsigned char c : line)
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        static constexpr char hex[] = "0123456789ABCDEF";
        throw multipart_error(part_label(index, part) +
                              ": a header contains the control character 0x" +
                              hex[c >> 4] + hex[c & 0xf]);
      }
    if (!valid_utf8(line))
      throw multipart_error(part_label(index, part) +
                            ": a header is not valid UTF-8");
    if (blank(line.front())) {
      // An obsolete folded continuation of the previous field.
      if (part.headers.empty())
        throw multipart_error(part_label(index, part) +
                              ": a header continuation line has no field");
      auto& v = part.headers.back().second;
      v += ' ';
      v += trim(line);
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      throw multipart_error(part_label(index, part) +
                            ": malformed header line '" +
                            std::string{line.substr(0, 60)} + "'");
    part.headers.emplace_back(to_lower(trim(line.substr(0, colon))),
                              std::string{trim(line.substr(colon + 1))});
  }
}

void interpret_headers(multipart_part& part) {
  if (auto cd = part.header("content-disposition"); !cd.empty()) {
    auto hv = parse_header_value(cd);
    part.name = hv.param("name").value_or("");
    if (auto ext = hv.param("filename*"))
      if (auto decoded = decode_ext_value(*ext))
        part.filename = std::move(*decoded);
    if (!part.filename)
      part.filename = hv.param("filename");
  }
  part.content_type = part.header("content-type");
}

} // namespace

// -- header values -----------------------------------------------------------

std::optional<std::string> header_value::param(std::string_view name) const {
  for (auto& [k, v] : params)
    if (iequals(k, name))
      return v;
  return std::nullopt;
}

header_value parse_header_value(std::string_view text) {
  header_value out;
  size_t i = text.find(';');
  out.value = std::string{trim(text.substr(0, i))};
  while (i != std::string_view::npos && i < text.size()) {
    ++i; // past ';'
    while (i < text.size() && blank(text[i]))
      ++i;
    auto eq = text.find_first_of("=;", i);
    if (eq == std::string_view::npos || text[eq] == ';') {
      auto name = trim(text.substr(
          i, eq == std::string_view::npos ? std::string_view::npos : eq - i));
      if (!name.empty())
        out.params.emplace_back(to_lower(name), "");
      i = eq;
      continue;
    }
    auto name = to_lower(trim(text.substr(i, eq - i)));
    i = eq + 1;
    while (i < text.size() && blank(text[i]))
      ++i;
    std::string value;
    if (i < text.size() && text[i] == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size() &&
            (text[i + 1] == '"' || text[i + 1] == '\\'))
          ++i;
        value += text[i++];
      }
      // Past the closing quote, then to the next ';' (ignoring junk).
      i = text.find(';', i);
    } else {
      auto end = text.find(';', i);
      value = std::string{trim(text.substr(i, end == std::string_view::npos
                                                  ? std::string_view::npos
                                                  : end - i))};
      i = end;
    }
    if (!name.empty())
      out.params.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

std::optional<std::string> decode_ext_value(std::string_view text) {
  auto q1 = text.find('\'');
  if (q1 == std::string_view::npos)
    return std::nullopt;
  auto q2 = text.find('\'', q1 + 1);
  if (q2 == std::string_view::npos)
    return std::nullopt;
  auto charset = text.substr(0, q1);
  bool utf8 = iequals(charset, "utf-8");
  bool latin1 = iequals(charset, "iso-8859-1");
  if (!utf8 && !latin1)
    return std::nullopt;
  std::string raw;
  auto enc = text.substr(q2 + 1);
  for (size_t i = 0; i < enc.size(); ++i) {
    if (enc[i] != '%') {
      raw += enc[i];
      continue;
    }
    if (i + 2 >= enc.size())
      return std::nullopt;
    int hi = hex_digit(enc[i + 1]);
    int lo = hex_digit(enc[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    raw += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (utf8)
    return valid_utf8(raw) ? std::optional<std::string>{std::move(raw)}
                           : std::nullopt;
  std::string out;
  for (unsigned char c : raw) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xc0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3f));
    }
  }
  return out;
}

// -- parts -------------------------------------------------------------------

std::string multipart_part::header(std::string_view name) const {
  for (auto& [k, v] : headers)
    if (iequals(k, name))
      return v;
  return {};
}

const multipart_part* multipart_form::find(std::string_view name) const {
  for (auto& p : parts)
    if (p.name == name)
      return &p;
  return nullptr;
}

std::string multipart_boundary(std::string_view content_type) {
  auto hv = parse_header_value(content_type);
  if (!iequals(hv.value, "multipart/form-data"))
    throw multipart_error(
        hv.value.empty()
            ? "the request has no Content-Type; expected multipart/form-data"
            : "the Content-Type is " + hv.value + ", not multipart/form-data");
  auto b = hv.param("boundary");
  if (!b || b->empty())
    throw multipart_error("the Content-Type has no boundary parameter");
  if (b->size() > 70)
    throw multipart_error("the multipart boundary is longer than 70 "
                          "characters");
  if (b->find_first_of("\r\n") != std::string::npos)
    throw multipart_error("the multipart boundary contains a line break");
  return std::move(*b);
}

multipart_form parse_multipart_body(std::string_view body,
                                    std::string_view boundary,
                                    const multipart_limits& limits) {
  if (boundary.empty())
    throw multipart_error("the multipart boundary is empty");
  std::string dash = "--";
  dash += boundary;
  bool truncated = false;
  // The first delimiter opens the body (anything before it is preamble).
  auto d = find_delimiter(body, dash, 0, true, truncated);
  if (!d)
    throw multipart_error(
        truncated ? "the body ends right after its first boundary"
                  : "the body does not contain the boundary " + dash);
  multipart_form form;
  while (!d->close) {
    if (d->next == body.size())
      throw multipart_error("missing final boundary " + dash +
                            "-- (the body ends after a boundary)");
    if (form.parts.size() == limits.max_parts)
      throw multipart_error("the body has more than " +
                            std::to_string(limits.max_parts) + " parts");
    multipart_part part;
    auto index = form.parts.size();
    auto start = read_headers(body, d->next, index, limits, part);
    interpret_headers(part);
    // The delimiter after an empty content may share the header block's
    // final line break, so the search starts one byte early.
    auto next = find_delimiter(body, dash, start - 1, false, truncated);
    if (!next) {
      throw multipart_error(
          truncated ? "missing final boundary " + dash +
                          "-- (the body ends after a boundary)"
                    : part_label(index, part) +
                          " is unterminated: no boundary follows its content");
    }
    part.content =
        body.substr(start, std::max(next->content_end, start) - start);
    form.parts.push_back(std::move(part));
    d = next;
  }
  return form;
}

multipart_form parse_multipart(std::string_view content_type,
                               std::string_view body,
                               const multipart_limits& limits) {
  return parse_multipart_body(body, multipart_boundary(content_type), limits);
}

} // namespace distiller::http
