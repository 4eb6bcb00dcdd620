#include "actors/thoughts/agents/detail/links.hpp"

#include <algorithm>
#include <cctype>

namespace distiller::thoughts::detail {

namespace {

bool ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

bool starts_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size())
    return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i])
      return false;
  return true;
}

bool in(std::string_view set, char c) {
  return set.find(c) != std::string_view::npos;
}

void find_urls(std::string_view t, std::vector<link>& out) {
  for (size_t i = 0; i < t.size(); ++i) {
    if (i > 0 && !in(" \t\n(<\"'[", t[i - 1]))
      continue;
    const std::string_view rest = t.substr(i);
    if (!starts_ci(rest, "http://") && !starts_ci(rest, "https://") &&
        !starts_ci(rest, "www."))
      continue;
    size_t end = i;
    while (end < t.size() && !in(" \t\n<>\"", t[end]))
      ++end;
    while (end > i && in(".,;:!?)]'", t[end - 1]))
      --end;
    const std::string_view url = t.substr(i, end - i);
    if (url.size() > 8 && url.find('.') != std::string_view::npos)
      out.push_back({i, end, std::string(url), "url"});
    i = end;
  }
}

void find_emails(std::string_view t, std::vector<link>& out) {
  auto local = [](char c) {
    return ascii_alnum(c) || in("._%+-", c);
  };
  auto domain = [](char c) {
    return ascii_alnum(c) || c == '.' || c == '-';
  };
  for (size_t at = t.find('@'); at != std::string_view::npos;
       at = t.find('@', at + 1)) {
    size_t b = at, e = at + 1;
    while (b > 0 && local(t[b - 1]))
      --b;
    while (e < t.size() && domain(t[e]))
      ++e;
    while (e > at + 1 && (t[e - 1] == '.' || t[e - 1] == '-'))
      --e;
    const std::string_view host = t.substr(at + 1, e - at - 1);
    const size_t dot = host.rfind('.');
    if (b == at || dot == std::string_view::npos || dot == 0 ||
        host.size() - dot - 1 < 2 || overlaps(out, b, e))
      continue;
    out.push_back({b, e, std::string(t.substr(b, e - b)), "email"});
  }
}

void find_handles(std::string_view t, std::vector<link>& out) {
  for (size_t at = t.find('@'); at != std::string_view::npos;
       at = t.find('@', at + 1)) {
    if (at > 0 && !in(" \t\n(\"'", t[at - 1]))
      continue;
    size_t e = at + 1;
    while (e < t.size() && (ascii_alnum(t[e]) || t[e] == '_') && e - at <= 30)
      ++e;
    if (e == at + 1 || overlaps(out, at, e))
      continue;
    out.push_back({at, e, std::string(t.substr(at, e - at)), "handle"});
  }
}

} // namespace

std::vector<link> find_links(std::string_view text) {
  std::vector<link> out;
  find_urls(text, out);
  find_emails(text, out);
  find_handles(text, out);
  std::stable_sort(out.begin(), out.end(), [](const link& a, const link& b) {
    return a.begin < b.begin;
  });
  return out;
}

bool overlaps(const std::vector<link>& links, size_t begin, size_t end) {
  for (const auto& l : links)
    if (begin < l.end && end > l.begin)
      return true;
  return false;
}

} // namespace distiller::thoughts::detail
