#include "runtime/config/toml_text.hpp"

#include "runtime/config/schema.hpp"

namespace distiller::config {

namespace {

bool non_ascii(char c) {
  return static_cast<unsigned char>(c) >= 0x80;
}

bool blank(char c) {
  return c == ' ' || c == '\t';
}

} // namespace

void check_toml_text(std::string_view t, const std::string& key,
                     const std::string& origin) {
  size_t line = 1;
  auto fail = [&](const char* what) {
    throw config_error(key, "cannot parse " + origin + " at line " +
                                std::to_string(line) + ": " + what);
  };
  auto starts = [&](size_t i, std::string_view s) {
    return t.substr(i, s.size()) == s;
  };
  size_t i = starts(0, "\xEF\xBB\xBF") ? 3 : 0; // a byte order mark
  while (i < t.size()) {
    char c = t[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == '#') { // a comment, to the end of the line
      while (i < t.size() && t[i] != '\n')
        ++i;
    } else if (starts(i, "\"\"\"")) { // multi-line basic string
      i += 3;
      while (i < t.size() && !starts(i, "\"\"\"")) {
        if (t[i] == '\n')
          ++line;
        if (t[i] != '\\') {
          ++i;
          continue;
        }
        // A line-ending backslash: blanks, then the newline.
        size_t j = i + 1;
        while (j < t.size() && blank(t[j]))
          ++j;
        if (j < t.size() && (t[j] == '\n' || t[j] == '\r')) {
          while (j < t.size() && (blank(t[j]) || t[j] == '\n' || t[j] == '\r'))
            line += t[j++] == '\n' ? 1 : 0;
          if (j < t.size() && non_ascii(t[j]))
            fail("a line-ending backslash must not be followed by a "
                 "character that is not ASCII (a limit of the TOML parser)");
          i = j;
        } else {
          i += 2; // an escape: the backslash and the next byte
        }
      }
      i += 3;
      while (i < t.size() && t[i] == '"') // up to two quotes end the text
        ++i;
    } else if (starts(i, "'''")) { // multi-line literal string
      i += 3;
      while (i < t.size() && !starts(i, "'''"))
        line += t[i++] == '\n' ? 1 : 0;
      i += 3;
      while (i < t.size() && t[i] == '\'')
        ++i;
    } else if (c == '"' || c == '\'') { // one-line string
      ++i;
      while (i < t.size() && t[i] != c && t[i] != '\n')
        i += c == '"' && t[i] == '\\' && i + 1 < t.size() && t[i + 1] != '\n'
                 ? 2
                 : 1;
      if (i < t.size() && t[i] == c)
        ++i;
    } else if (non_ascii(c)) {
      fail("a character that is not ASCII outside a string or comment");
    } else {
      ++i;
    }
  }
}

} // namespace distiller::config
