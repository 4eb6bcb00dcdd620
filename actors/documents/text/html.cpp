#include "actors/documents/text/html.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <unordered_map>

#include "actors/documents/text/utf8.hpp"

namespace distiller::documents {

namespace {

// -- character references -------------------------------------------------

const std::unordered_map<std::string_view, char32_t>& named_entities() {
  // The references that occur in real pages; the full HTML table has over
  // two thousand, mostly mathematical symbols nobody indexes.
  static const std::unordered_map<std::string_view, char32_t> table = {
      {"amp", '&'},       {"lt", '<'},        {"gt", '>'},
      {"quot", '"'},      {"apos", '\''},     {"nbsp", 0xA0},
      {"iexcl", 0xA1},    {"cent", 0xA2},     {"pound", 0xA3},
      {"curren", 0xA4},   {"yen", 0xA5},      {"brvbar", 0xA6},
      {"sect", 0xA7},     {"uml", 0xA8},      {"copy", 0xA9},
      {"ordf", 0xAA},     {"laquo", 0xAB},    {"not", 0xAC},
      {"shy", 0xAD},      {"reg", 0xAE},      {"macr", 0xAF},
      {"deg", 0xB0},      {"plusmn", 0xB1},   {"sup2", 0xB2},
      {"sup3", 0xB3},     {"acute", 0xB4},    {"micro", 0xB5},
      {"para", 0xB6},     {"middot", 0xB7},   {"cedil", 0xB8},
      {"sup1", 0xB9},     {"ordm", 0xBA},     {"raquo", 0xBB},
      {"frac14", 0xBC},   {"frac12", 0xBD},   {"frac34", 0xBE},
      {"iquest", 0xBF},   {"Agrave", 0xC0},   {"Aacute", 0xC1},
      {"Acirc", 0xC2},    {"Atilde", 0xC3},   {"Auml", 0xC4},
      {"Aring", 0xC5},    {"AElig", 0xC6},    {"Ccedil", 0xC7},
      {"Egrave", 0xC8},   {"Eacute", 0xC9},   {"Ecirc", 0xCA},
      {"Euml", 0xCB},     {"Igrave", 0xCC},   {"Iacute", 0xCD},
      {"Icirc", 0xCE},    {"Iuml", 0xCF},     {"ETH", 0xD0},
      {"Ntilde", 0xD1},   {"Ograve", 0xD2},   {"Oacute", 0xD3},
      {"Ocirc", 0xD4},    {"Otilde", 0xD5},   {"Ouml", 0xD6},
      {"times", 0xD7},    {"Oslash", 0xD8},   {"Ugrave", 0xD9},
      {"Uacute", 0xDA},   {"Ucirc", 0xDB},    {"Uuml", 0xDC},
      {"Yacute", 0xDD},   {"THORN", 0xDE},    {"szlig", 0xDF},
      {"agrave", 0xE0},   {"aacute", 0xE1},   {"acirc", 0xE2},
      {"atilde", 0xE3},   {"auml", 0xE4},     {"aring", 0xE5},
      {"aelig", 0xE6},    {"ccedil", 0xE7},   {"egrave", 0xE8},
      {"eacute", 0xE9},   {"ecirc", 0xEA},    {"euml", 0xEB},
      {"igrave", 0xEC},   {"iacute", 0xED},   {"icirc", 0xEE},
      {"iuml", 0xEF},     {"eth", 0xF0},      {"ntilde", 0xF1},
      {"ograve", 0xF2},   {"oacute", 0xF3},   {"ocirc", 0xF4},
      {"otilde", 0xF5},   {"ouml", 0xF6},     {"divide", 0xF7},
      {"oslash", 0xF8},   {"ugrave", 0xF9},   {"uacute", 0xFA},
      {"ucirc", 0xFB},    {"uuml", 0xFC},     {"yacute", 0xFD},
      {"thorn", 0xFE},    {"yuml", 0xFF},     {"OElig", 0x152},
      {"oelig", 0x153},   {"Scaron", 0x160},  {"scaron", 0x161},
      {"Yuml", 0x178},    {"fnof", 0x192},    {"circ", 0x2C6},
      {"tilde", 0x2DC},   {"Alpha", 0x391},   {"Beta", 0x392},
      {"Gamma", 0x393},   {"Delta", 0x394},   {"Omega", 0x3A9},
      {"alpha", 0x3B1},   {"beta", 0x3B2},    {"gamma", 0x3B3},
      {"delta", 0x3B4},   {"epsilon", 0x3B5}, {"lambda", 0x3BB},
      {"mu", 0x3BC},      {"pi", 0x3C0},      {"sigma", 0x3C3},
      {"omega", 0x3C9},   {"ensp", 0x2002},   {"emsp", 0x2003},
      {"thinsp", 0x2009}, {"zwnj", 0x200C},   {"zwj", 0x200D},
      {"lrm", 0x200E},    {"rlm", 0x200F},    {"ndash", 0x2013},
      {"mdash", 0x2014},  {"lsquo", 0x2018},  {"rsquo", 0x2019},
      {"sbquo", 0x201A},  {"ldquo", 0x201C},  {"rdquo", 0x201D},
      {"bdquo", 0x201E},  {"dagger", 0x2020}, {"Dagger", 0x2021},
      {"bull", 0x2022},   {"hellip", 0x2026}, {"permil", 0x2030},
      {"prime", 0x2032},  {"Prime", 0x2033},  {"lsaquo", 0x2039},
      {"rsaquo", 0x203A}, {"euro", 0x20AC},   {"trade", 0x2122},
      {"larr", 0x2190},   {"uarr", 0x2191},   {"rarr", 0x2192},
      {"darr", 0x2193},   {"harr", 0x2194},   {"minus", 0x2212},
      {"infin", 0x221E},  {"ne", 0x2260},     {"le", 0x2264},
      {"ge", 0x2265},     {"asymp", 0x2248},  {"sum", 0x2211},
  };
  return table;
}

char32_t windows1252_high(char32_t cp) {
  static constexpr std::array<char32_t, 32> high = {
      0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
      0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
      0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
      0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
  return high[cp - 0x80];
}

// -- tags ------------------------------------------------------------------

enum class tag_effect { none, line, paragraph, cell, skip, preserve };

tag_effect effect_of(std::string_view name) {
  static const std::unordered_map<std::string_view, tag_effect> table = {
      {"head", tag_effect::skip},
      {"script", tag_effect::skip},
      {"style", tag_effect::skip},
      {"noscript", tag_effect::skip},
      {"template", tag_effect::skip},
      {"svg", tag_effect::skip},
      {"pre", tag_effect::preserve},
      {"textarea", tag_effect::preserve},
      {"p", tag_effect::paragraph},
      {"h1", tag_effect::paragraph},
      {"h2", tag_effect::paragraph},
      {"h3", tag_effect::paragraph},
      {"h4", tag_effect::paragraph},
      {"h5", tag_effect::paragraph},
      {"h6", tag_effect::paragraph},
      {"ul", tag_effect::paragraph},
      {"ol", tag_effect::paragraph},
      {"dl", tag_effect::paragraph},
      {"table", tag_effect::paragraph},
      {"blockquote", tag_effect::paragraph},
      {"section", tag_effect::paragraph},
      {"article", tag_effect::paragraph},
      {"header", tag_effect::paragraph},
      {"footer", tag_effect::paragraph},
      {"nav", tag_effect::paragraph},
      {"aside", tag_effect::paragraph},
      {"main", tag_effect::paragraph},
      {"figure", tag_effect::paragraph},
      {"hr", tag_effect::paragraph},
      {"form", tag_effect::paragraph},
      {"fieldset", tag_effect::paragraph},
      {"address", tag_effect::paragraph},
      {"details", tag_effect::paragraph},
      {"body", tag_effect::paragraph},
      {"br", tag_effect::line},
      {"div", tag_effect::line},
      {"li", tag_effect::line},
      {"tr", tag_effect::line},
      {"dt", tag_effect::line},
      {"dd", tag_effect::line},
      {"caption", tag_effect::line},
      {"figcaption", tag_effect::line},
      {"summary", tag_effect::line},
      {"option", tag_effect::line},
      {"legend", tag_effect::line},
      {"title", tag_effect::line},
      {"td", tag_effect::cell},
      {"th", tag_effect::cell},
  };
  auto i = table.find(name);
  return i == table.end() ? tag_effect::none : i->second;
}

bool is_html_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool iequals_at(std::string_view s, size_t pos, std::string_view word) {
  if (pos + word.size() > s.size())
    return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[pos + i])) != word[i])
      return false;
  return true;
}

/// Position of the next "</name" (case-insensitive) at or after `pos`
/// followed by a space, '/' or '>', or s.size().
size_t find_close_tag(std::string_view s, size_t pos, std::string_view name) {
  for (size_t i = s.find("</", pos); i != std::string_view::npos;
       i = s.find("</", i + 2)) {
    const size_t after = i + 2 + name.size();
    if (iequals_at(s, i + 2, name) &&
        (after >= s.size() || is_html_space(s[after]) || s[after] == '>' ||
         s[after] == '/'))
      return i;
  }
  return s.size();
}

/// End of the tag starting at `pos` ('<'): the index after its '>', quotes
/// in attribute values honoured; s.size() if unterminated.
size_t tag_end(std::string_view s, size_t pos) {
  char quote = 0;
  for (size_t i = pos + 1; i < s.size(); ++i) {
    const char c = s[i];
    if (quote) {
      if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      // Quotes only open inside an attribute value (after '=').
      size_t j = i;
      while (j > pos && is_html_space(s[j - 1]))
        --j;
      if (j > pos && s[j - 1] == '=')
        quote = c;
    } else if (c == '>') {
      return i + 1;
    }
  }
  return s.size();
}

void append_break(std::string& out, size_t newlines) {
  size_t have = 0;
  while (have < out.size() && have < newlines &&
         out[out.size() - 1 - have] == '\n')
    ++have;
  out.append(newlines - have, '\n');
}

} // namespace

size_t decode_html_entity(std::string_view s, size_t pos, std::string& out) {
  auto literal = [&] {
    out.push_back('&');
    return pos + 1;
  };
  size_t i = pos + 1;
  if (i < s.size() && s[i] == '#') {
    ++i;
    const bool hex = i < s.size() && (s[i] == 'x' || s[i] == 'X');
    if (hex)
      ++i;
    const size_t digits_start = i;
    uint64_t value = 0;
    while (i < s.size() &&
           (hex ? std::isxdigit(static_cast<unsigned char>(s[i]))
                : std::isdigit(static_cast<unsigned char>(s[i])))) {
      const char c = static_cast<char>(std::tolower(s[i]));
      const int digit = c <= '9' ? c - '0' : c - 'a' + 10;
      // Saturate: any value beyond U+10FFFF is invalid anyway.
      value = std::min<uint64_t>(value * (hex ? 16 : 10) + digit, 0x110000);
      ++i;
    }
    if (i == digits_start)
      return literal();
    if (i < s.size() && s[i] == ';')
      ++i;
    char32_t cp = static_cast<char32_t>(value);
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      cp = utf8::replacement;
    else if (cp >= 0x80 && cp <= 0x9F)
      cp = windows1252_high(cp);
    utf8::append(out, cp);
    return i;
  }
  size_t end = i;
  while (end < s.size() && end - i < 32 &&
         std::isalnum(static_cast<unsigned char>(s[end])))
    ++end;
  if (end == i || end >= s.size() || s[end] != ';')
    return literal();
  auto& table = named_entities();
  auto found = table.find(s.substr(i, end - i));
  if (found == table.end())
    return literal();
  utf8::append(out, found->second);
  return end + 1;
}

std::string html_declared_charset(std::string_view html) {
  std::string head(html.substr(0, 2048));
  std::transform(head.begin(), head.end(), head.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  for (size_t meta = head.find("<meta"); meta != std::string::npos;
       meta = head.find("<meta", meta + 5)) {
    const size_t close = head.find('>', meta);
    std::string_view tag(head.data() + meta,
                         (close == std::string::npos ? head.size() : close) -
                             meta);
    size_t at = tag.find("charset");
    if (at == std::string_view::npos)
      continue;
    at += 7;
    while (at < tag.size() && (is_html_space(tag[at]) || tag[at] == '=' ||
                               tag[at] == '"' || tag[at] == '\''))
      ++at;
    size_t end = at;
    while (end < tag.size() &&
           (std::isalnum(static_cast<unsigned char>(tag[end])) ||
            tag[end] == '-' || tag[end] == '_'))
      ++end;
    return std::string(tag.substr(at, end - at));
  }
  return {};
}

std::string html_to_text(std::string_view s) {
  std::string out;
  out.reserve(s.size() / 2);
  int preserve = 0;   // depth of <pre>/<textarea>
  bool space = false; // collapsed whitespace waiting before the next text
  auto flush_space = [&] {
    if (space && !out.empty() && out.back() != '\n')
      out.push_back(' ');
    space = false;
  };
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '<') {
      if (s.compare(i, 4, "<!--") == 0) {
        const size_t end = s.find("-->", i + 4);
        i = end == std::string_view::npos ? s.size() : end + 3;
        continue;
      }
      if (s.compare(i, 9, "<![CDATA[") == 0) {
        const size_t end = s.find("]]>", i + 9);
        const size_t stop = end == std::string_view::npos ? s.size() : end;
        out.append(s.substr(i + 9, stop - i - 9));
        i = end == std::string_view::npos ? s.size() : end + 3;
        continue;
      }
      const bool closing = i + 1 < s.size() && s[i + 1] == '/';
      const size_t name_start = i + (closing ? 2 : 1);
      if (name_start < s.size() &&
          (s[name_start] == '!' || s[name_start] == '?')) {
        i = tag_end(s, i); // doctype, processing instruction
        continue;
      }
      if (name_start >= s.size() ||
          !std::isalpha(static_cast<unsigned char>(s[name_start]))) {
        flush_space();
        out.push_back('<'); // a lone '<' in text
        ++i;
        continue;
      }
      size_t name_end = name_start;
      std::string name;
      while (name_end < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[name_end])) ||
              s[name_end] == '-')) {
        name.push_back(static_cast<char>(
            std::tolower(static_cast<unsigned char>(s[name_end]))));
        ++name_end;
      }
      const size_t after = tag_end(s, i);
      const bool self_closing =
          after >= 2 && s[after - 1] == '>' && s[after - 2] == '/';
      i = after;
      switch (effect_of(name)) {
      case tag_effect::skip:
        if (!closing && !self_closing) {
          // <head> may end implicitly where <body> starts.
          size_t end = find_close_tag(s, i, name);
          if (name == "head") {
            const size_t body = [&] {
              for (size_t b = s.find('<', i); b < end; b = s.find('<', b + 1))
                if (iequals_at(s, b + 1, "body"))
                  return b;
              return end;
            }();
            if (body < end) {
              i = body;
              continue;
            }
          }
          i = end < s.size() ? tag_end(s, end) : s.size();
        }
        break;
      case tag_effect::preserve:
        append_break(out, 2);
        space = false;
        if (!self_closing)
          preserve = std::max(0, preserve + (closing ? -1 : 1));
        break;
      case tag_effect::paragraph:
        append_break(out, 2);
        space = false;
        break;
      case tag_effect::line:
        append_break(out, 1);
        space = false;
        break;
      case tag_effect::cell:
        space = true;
        break;
      case tag_effect::none:
        break;
      }
      continue;
    }
    if (is_html_space(c) && preserve == 0) {
      space = true;
      ++i;
      continue;
    }
    flush_space();
    if (c == '&') {
      i = decode_html_entity(s, i, out);
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

} // namespace distiller::documents
