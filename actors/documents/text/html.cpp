#include "actors/documents/text/html.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "actors/documents/text/normalize.hpp"
#include "actors/documents/text/utf8.hpp"
#include "actors/documents/text/xml.hpp"

namespace distiller::documents {

namespace {

using namespace std::string_view_literals;

bool one_of(std::string_view name, std::initializer_list<std::string_view> l) {
  return std::find(l.begin(), l.end(), name) != l.end();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Elements whose content a reader never sees.
bool is_invisible(std::string_view name) {
  return one_of(name, {"head", "script", "style", "noscript", "template", "svg",
                       "iframe", "object", "embed", "select", "canvas", "audio",
                       "video", "map"});
}

bool is_hidden(const xmlNode* n) {
  if (xmlHasProp(n, reinterpret_cast<const xmlChar*>("hidden")))
    return true;
  if (lower(xml::attribute(n, "aria-hidden")) == "true")
    return true;
  std::string style = lower(xml::attribute(n, "style"));
  style.erase(
      std::remove_if(
          style.begin(), style.end(),
          [](char c) { return std::isspace(static_cast<unsigned char>(c)); }),
      style.end());
  return style.find("display:none") != std::string::npos ||
         style.find("visibility:hidden") != std::string::npos;
}

/// Elements that stand apart as paragraphs (a blank line around them).
bool is_paragraph(std::string_view name) {
  return one_of(name, {"p",      "h1",      "h2",         "h3",      "h4",
                       "h5",     "h6",      "blockquote", "pre",     "table",
                       "ul",     "ol",      "dl",         "section", "article",
                       "header", "footer",  "nav",        "aside",   "main",
                       "figure", "address", "hr",         "details", "fieldset",
                       "form",   "listing", "plaintext"});
}

/// Elements that start and end a line.
bool is_line(std::string_view name) {
  return one_of(name, {"div", "li", "tr", "dt", "dd", "caption", "figcaption",
                       "summary", "legend", "option", "body", "center",
                       "textarea", "label", "tbody", "thead", "tfoot", "menu"});
}

bool keeps_whitespace(std::string_view name) {
  return one_of(name, {"pre", "textarea", "listing", "plaintext"});
}

/// Appends `text` with its whitespace collapsed to single spaces.
void append_collapsed(std::string& out, std::string_view text) {
  for (char c : text) {
    const bool space =
        c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
    if (!space) {
      out.push_back(c);
      continue;
    }
    if (!out.empty() && out.back() != ' ' && out.back() != '\n')
      out.push_back(' ');
  }
}

/// Ends the current line ("\n") or paragraph ("\n\n"); breaks of nested
/// blocks merge, as a browser's margins do.
void add_break(std::string& out, const char* brk) {
  // Trailing spaces before a break are invisible in a browser too.
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  if (out.empty())
    return;
  const size_t want = std::string_view(brk).size();
  size_t have = 0;
  while (have < out.size() && out[out.size() - 1 - have] == '\n')
    ++have;
  if (have < want)
    out.append(want - have, '\n');
}

/// The first element of that name below `root`, or null.
xmlNode* find_first(xmlNode* root, std::string_view name) {
  xmlNode* found = nullptr;
  xml::walk(
      root,
      [&](xmlNode* n) {
        if (!found && xml::name_of(n) == name)
          found = n;
        return !found;
      },
      [](xmlNode*) {});
  return found;
}

/// The charset a <meta charset> or <meta http-equiv="Content-Type"
/// content="…; charset=…"> declares, lower case, or "".
std::string declared_charset(xmlDoc* doc) {
  std::string found;
  xml::walk(
      reinterpret_cast<xmlNode*>(doc),
      [&](xmlNode* n) {
        if (!found.empty())
          return false;
        if (xml::name_of(n) == "meta") {
          std::string cs = lower(xml::attribute(n, "charset"));
          if (cs.empty() &&
              lower(xml::attribute(n, "http-equiv")) == "content-type") {
            std::string content = lower(xml::attribute(n, "content"));
            auto at = content.find("charset=");
            if (at != std::string::npos) {
              cs = content.substr(at + 8);
              cs = cs.substr(0, cs.find_first_of("; \"'"));
            }
          }
          found = cs;
        }
        return xml::name_of(n) != "body";
      },
      [](xmlNode*) {});
  return found;
}

std::string collapse(std::string_view s) {
  std::string out;
  append_collapsed(out, s);
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  if (!out.empty() && out.front() == ' ')
    out.erase(0, 1);
  return out;
}

} // namespace

html_text html_to_text(std::string_view html, std::string_view declared) {
  std::string charset(declared);
  if (charset.empty() && !utf8::is_valid(html)) {
    // The page may name its charset: read it byte by byte (every byte is a
    // Latin-1 character, so the markup parses whatever the real charset).
    auto probe = xml::parse_html(html, "ISO-8859-1", "HTML");
    charset = declared_charset(probe.get());
  }
  const std::string utf8 = decode_text_bytes(html, charset);
  auto doc = xml::parse_html(utf8, "UTF-8", "HTML");

  html_text out;
  std::string& t = out.text;
  int verbatim = 0; // depth inside <pre>/<textarea>
  xml::walk(
      reinterpret_cast<xmlNode*>(doc.get()),
      [&](xmlNode* n) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
          if (n->content) {
            std::string_view s = reinterpret_cast<const char*>(n->content);
            if (verbatim > 0)
              t += s;
            else
              append_collapsed(t, s);
          }
          return false;
        }
        if (n->type != XML_ELEMENT_NODE)
          return false; // comments, processing instructions, doctypes
        const auto name = xml::name_of(n);
        if (name == "head" && out.title.empty())
          if (xmlNode* title = find_first(n, "title"))
            out.title = collapse(xml::text_of(title));
        if (name == "title" && out.title.empty())
          out.title = collapse(xml::text_of(n));
        if ((name == "h1" || name == "h2" || name == "h3") &&
            out.heading.empty() && !is_hidden(n))
          out.heading = collapse(xml::text_of(n));
        if (is_invisible(name) || name == "title" || is_hidden(n))
          return false;
        if (name == "br") {
          add_break(t, "\n");
          return false;
        }
        if (is_paragraph(name))
          add_break(t, "\n\n");
        else if (is_line(name))
          add_break(t, "\n");
        else if ((name == "td" || name == "th") && !t.empty() &&
                 t.back() != '\n' && t.back() != ' ')
          t.push_back(' ');
        if (keeps_whitespace(name) && n->children)
          ++verbatim;
        return true;
      },
      [&](xmlNode* n) {
        if (n->type != XML_ELEMENT_NODE)
          return;
        const auto name = xml::name_of(n);
        if (is_invisible(name) || name == "title" || name == "br" ||
            is_hidden(n))
          return; // never entered
        if (keeps_whitespace(name) && n->children)
          --verbatim;
        if (is_paragraph(name))
          add_break(t, "\n\n");
        else if (is_line(name))
          add_break(t, "\n");
        else if (name == "td" || name == "th")
          t.push_back(' ');
      });
  return out;
}

} // namespace distiller::documents
