#include "actors/documents/text/markdown.hpp"

#include <cctype>
#include <vector>

namespace distiller::documents {

namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t';
}

bool is_word(char c) noexcept {
  // Bytes of multi-byte UTF-8 count as word characters, so "é_x" stays.
  return std::isalnum(static_cast<unsigned char>(c)) ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool is_ascii_punct(char c) noexcept {
  return std::ispunct(static_cast<unsigned char>(c));
}

std::string_view ltrim(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  return s;
}

std::string_view rtrim(std::string_view s) {
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

size_t run_length(std::string_view s, size_t pos, char c) {
  size_t n = 0;
  while (pos + n < s.size() && s[pos + n] == c)
    ++n;
  return n;
}

/// Index of the bracket closing the one at `open`, honouring nesting and
/// backslash escapes, or npos.
size_t matching(std::string_view s, size_t open, char o, char c) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] == o)
      ++depth;
    else if (s[i] == c && --depth == 0)
      return i;
  }
  return std::string_view::npos;
}

void inline_text(std::string_view s, std::string& out);

/// After "[text]" or "![alt]" at `close`: skips a "(target)" or "[ref]"
/// that follows and returns the position after it (or after `close`).
size_t skip_link_target(std::string_view s, size_t close) {
  const size_t next = close + 1;
  if (next < s.size() && s[next] == '(') {
    size_t end = matching(s, next, '(', ')');
    if (end != std::string_view::npos)
      return end + 1;
  } else if (next < s.size() && s[next] == '[') {
    size_t end = matching(s, next, '[', ']');
    if (end != std::string_view::npos)
      return end + 1;
  }
  return next;
}

void inline_text(std::string_view s, std::string& out) {
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size() && is_ascii_punct(s[i + 1])) {
      out.push_back(s[i + 1]);
      i += 2;
      continue;
    }
    if (c == '`') {
      // Code span: the content between equal runs of backticks, verbatim.
      const size_t n = run_length(s, i, '`');
      size_t j = i + n;
      size_t close = std::string_view::npos;
      while (j < s.size()) {
        size_t m = run_length(s, j, '`');
        if (m == n) {
          close = j;
          break;
        }
        j += m > 0 ? m : 1;
      }
      if (close == std::string_view::npos) {
        out.append(s.substr(i, n));
        i += n;
        continue;
      }
      std::string_view code = s.substr(i + n, close - i - n);
      if (code.size() >= 2 && code.front() == ' ' && code.back() == ' ')
        code = code.substr(1, code.size() - 2);
      out.append(code);
      i = close + n;
      continue;
    }
    if ((c == '[' || (c == '!' && i + 1 < s.size() && s[i + 1] == '['))) {
      const size_t open = c == '[' ? i : i + 1;
      const size_t close = matching(s, open, '[', ']');
      if (close != std::string_view::npos) {
        inline_text(s.substr(open + 1, close - open - 1), out);
        i = skip_link_target(s, close);
        continue;
      }
    }
    if (c == '<') {
      const size_t close = s.find('>', i + 1);
      if (close != std::string_view::npos) {
        std::string_view inner = s.substr(i + 1, close - i - 1);
        const bool autolink = inner.starts_with("http://") ||
                              inner.starts_with("https://") ||
                              inner.starts_with("mailto:");
        const bool tag = !inner.empty() &&
                         inner.find('<') == std::string_view::npos &&
                         (std::isalpha(static_cast<unsigned char>(inner[0])) ||
                          inner[0] == '/' || inner[0] == '!');
        if (autolink) {
          out.append(inner);
          i = close + 1;
          continue;
        }
        if (tag) {
          out.push_back(' ');
          i = close + 1;
          continue;
        }
      }
    }
    if (c == '*' || c == '_' || c == '~') {
      const size_t n = run_length(s, i, c);
      const char before = i > 0 ? s[i - 1] : ' ';
      const char after = i + n < s.size() ? s[i + n] : ' ';
      const bool spaced = is_space(before) && is_space(after);
      const bool intraword = is_word(before) && is_word(after);
      const bool marker = c == '~' ? n == 2 : !spaced && !intraword;
      if (!marker)
        out.append(s.substr(i, n));
      i += n;
      continue;
    }
    out.push_back(c);
    ++i;
  }
}

bool is_fence(std::string_view t, char& fence, size_t& len) {
  if (t.size() < 3 || (t[0] != '`' && t[0] != '~'))
    return false;
  const size_t n = run_length(t, 0, t[0]);
  if (n < 3)
    return false;
  // An info string after backticks must not contain backticks.
  if (t[0] == '`' && t.substr(n).find('`') != std::string_view::npos)
    return false;
  fence = t[0];
  len = n;
  return true;
}

bool is_closing_fence(std::string_view t, char fence, size_t len) {
  const size_t n = run_length(t, 0, fence);
  return n >= len && rtrim(t.substr(n)).empty();
}

/// "---", "***", "___", "===" (optionally spaced): thematic breaks and
/// setext heading underlines.
bool is_rule(std::string_view t) {
  t = rtrim(t);
  if (t.empty() || (t[0] != '-' && t[0] != '*' && t[0] != '_' && t[0] != '='))
    return false;
  size_t count = 0;
  for (char ch : t) {
    if (ch == t[0])
      ++count;
    else if (!is_space(ch))
      return false;
  }
  return t[0] == '=' ? count >= 1 : count >= 3;
}

/// "[label]: target" on a line of its own.
bool is_reference_definition(std::string_view t) {
  if (t.empty() || t[0] != '[')
    return false;
  const size_t close = t.find("]:");
  return close != std::string_view::npos && close > 1 &&
         !rtrim(t.substr(close + 2)).empty();
}

bool is_table_separator(std::string_view t) {
  if (t.find('-') == std::string_view::npos)
    return false;
  for (char ch : t)
    if (ch != '|' && ch != '-' && ch != ':' && !is_space(ch))
      return false;
  return true;
}

/// Length of a bullet ("- ", "* ", "+ ") and task box ("[ ] ", "[x] ").
size_t bullet_length(std::string_view t) {
  if (t.size() < 2 || (t[0] != '-' && t[0] != '*' && t[0] != '+') ||
      !is_space(t[1]))
    return 0;
  size_t n = 2;
  while (n < t.size() && is_space(t[n]))
    ++n;
  std::string_view rest = t.substr(n);
  if (rest.size() >= 3 && rest[0] == '[' &&
      (rest[1] == ' ' || rest[1] == 'x' || rest[1] == 'X') && rest[2] == ']' &&
      (rest.size() == 3 || is_space(rest[3])))
    n += 3;
  return n;
}

size_t heading_level(std::string_view t) {
  const size_t n = run_length(t, 0, '#');
  if (n == 0 || n > 6 || (n < t.size() && !is_space(t[n])))
    return 0;
  return n;
}

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string_view::npos)
      end = s.size();
    std::string_view line = s.substr(start, end - start);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  if (s.ends_with('\n'))
    lines.pop_back(); // the empty "line" after the last line break
  return lines;
}

} // namespace

std::string markdown_to_text(std::string_view markdown) {
  std::string out;
  out.reserve(markdown.size());
  auto lines = split_lines(markdown);
  size_t first = 0;
  // YAML front matter: "---" on the first line up to the next "---"/"...".
  if (!lines.empty() && rtrim(lines[0]) == "---") {
    for (size_t i = 1; i < lines.size(); ++i) {
      auto t = rtrim(lines[i]);
      if (t == "---" || t == "...") {
        first = i + 1;
        break;
      }
    }
  }
  bool in_fence = false;
  char fence = 0;
  size_t fence_len = 0;
  for (size_t li = first; li < lines.size(); ++li) {
    std::string_view line = lines[li];
    std::string_view t = ltrim(line);
    if (in_fence) {
      if (is_closing_fence(t, fence, fence_len)) {
        in_fence = false;
        out.append("\n\n");
      } else {
        out.append(line);
        out.push_back('\n');
      }
      continue;
    }
    // Blockquote markers first: a quote may hold any other block.
    while (!t.empty() && t[0] == '>')
      t = ltrim(t.substr(1));
    if (is_fence(t, fence, fence_len)) {
      in_fence = true;
      out.append("\n\n");
      continue;
    }
    if (rtrim(t).empty()) {
      out.push_back('\n');
      continue;
    }
    if (is_rule(t) || is_reference_definition(t)) {
      out.push_back('\n');
      continue;
    }
    if (size_t level = heading_level(t)) {
      std::string_view title = rtrim(t.substr(level));
      // A closing sequence of #'s after a space is markup too.
      size_t hashes = 0;
      while (hashes < title.size() && title[title.size() - 1 - hashes] == '#')
        ++hashes;
      if (hashes == title.size() || is_space(title[title.size() - 1 - hashes]))
        title = rtrim(title.substr(0, title.size() - hashes));
      out.append("\n\n");
      inline_text(ltrim(title), out);
      out.append("\n\n");
      continue;
    }
    if (t.find('|') != std::string_view::npos && is_table_separator(t))
      continue;
    if (t[0] == '|' ||
        (t.find(" | ") != std::string_view::npos && li + 1 < lines.size() &&
         lines[li + 1].find('|') != std::string_view::npos &&
         is_table_separator(ltrim(lines[li + 1])))) {
      std::string row;
      inline_text(t, row);
      for (char& ch : row)
        if (ch == '|')
          ch = ' ';
      out.append(row);
      out.push_back('\n');
      continue;
    }
    t.remove_prefix(bullet_length(t));
    inline_text(t, out);
    out.push_back('\n');
  }
  return out;
}

} // namespace distiller::documents
