#include "actors/documents/text/office.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "actors/documents/text/xml.hpp"
#include "actors/documents/text/zip_archive.hpp"

namespace distiller::documents {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trimmed(std::string s) {
  auto space = [](unsigned char c) {
    return std::isspace(c);
  };
  s.erase(s.begin(), std::find_if_not(s.begin(), s.end(), space));
  s.erase(std::find_if_not(s.rbegin(), s.rend(), space).base(), s.end());
  return s;
}

/// The text of the first element of that local name in a small XML part
/// (dc:title of docProps/core.xml or meta.xml), or "".
std::string first_text(zip_archive& zip, const std::string& part,
                       std::string_view element) {
  auto bytes = zip.read(part);
  if (!bytes)
    return {};
  try {
    auto doc = xml::parse_xml(*bytes, part);
    std::string found;
    xml::walk(
        reinterpret_cast<xmlNode*>(doc.get()),
        [&](xmlNode* n) {
          if (!found.empty())
            return false;
          if (xml::name_of(n) == element) {
            found = trimmed(xml::text_of(n));
            return false;
          }
          return true;
        },
        [](xmlNode*) {});
    return found;
  } catch (const extract_error&) {
    return {}; // metadata is optional: a broken one costs only the title
  }
}

// -- DOCX ---------------------------------------------------------------------

/// The style ids of word/styles.xml that make a paragraph a heading: named
/// "heading N" or "Title" (the names are English in every language's
/// styles; the ids are not), with an outline level, or based on one.
std::set<std::string> docx_heading_styles(zip_archive& zip) {
  std::set<std::string> headings;
  auto bytes = zip.read("word/styles.xml");
  if (!bytes)
    return headings;
  std::map<std::string, std::string> based_on;
  auto doc = xml::parse_xml(*bytes, "word/styles.xml");
  std::string id;
  xml::walk(
      reinterpret_cast<xmlNode*>(doc.get()),
      [&](xmlNode* n) {
        const auto name = xml::name_of(n);
        if (name == "style") {
          id = xml::attribute(n, "styleId");
        } else if (name == "name" && !id.empty()) {
          const auto v = lower(xml::attribute(n, "val"));
          if (v.rfind("heading", 0) == 0 || v == "title")
            headings.insert(id);
        } else if (name == "outlineLvl" && !id.empty()) {
          headings.insert(id);
        } else if (name == "basedOn" && !id.empty()) {
          based_on[id] = xml::attribute(n, "val");
        }
        return true;
      },
      [](xmlNode*) {});
  // A style based on a heading style is a heading (bounded: no cycles).
  for (size_t round = 0; round < 8; ++round)
    for (auto& [style, base] : based_on)
      if (headings.count(base))
        headings.insert(style);
  return headings;
}

raw_document read_docx_body(xml::xml_reader& r,
                            const std::set<std::string>& heading_styles) {
  raw_document doc;
  std::string paragraph;
  bool heading = false;
  int skip = 0;  // depth inside elements whose text is not the document's
  int cells = 0; // depth inside table cells: paragraphs there are words
  bool in_text = false;
  while (r.read()) {
    const auto name = r.name();
    if (r.is_start()) {
      const bool empty = r.is_end();
      if (skip > 0) {
        if (!empty)
          ++skip;
        continue;
      }
      if (name == "p") {
        paragraph.clear();
        heading = false;
      } else if (name == "pStyle") {
        heading = heading_styles.count(r.attribute("val")) > 0;
      } else if (name == "outlineLvl") {
        heading = true;
      } else if (name == "t") {
        in_text = !empty;
      } else if (name == "tc") {
        ++cells;
      } else if (name == "tab") {
        paragraph += '\t';
      } else if (name == "br" || name == "cr") {
        paragraph += '\n';
      } else if ((name == "delText" || name == "instrText" || name == "del" ||
                  name == "commentReference" || name == "drawing" ||
                  name == "pict" || name == "object") &&
                 !empty) {
        skip = 1;
      }
      if (!empty)
        continue;
    }
    if (r.is_text()) {
      if (skip == 0 && in_text)
        paragraph += r.value();
      continue;
    }
    if (!r.is_end())
      continue;
    if (skip > 0) {
      --skip;
      continue;
    }
    if (name == "t") {
      in_text = false;
    } else if (name == "p") {
      if (heading && !trimmed(paragraph).empty())
        doc.sections.push_back({trimmed(paragraph), {}});
      doc.current() += paragraph;
      doc.current() += cells > 0 ? " " : heading ? "\n\n" : "\n";
    } else if (name == "tc") {
      cells = std::max(0, cells - 1);
      doc.current() += '\t';
    } else if (name == "tr") {
      doc.current() += '\n';
    } else if (name == "tbl") {
      doc.current() += "\n\n";
    }
  }
  return doc;
}

// -- ODT ----------------------------------------------------------------------

raw_document read_odt_body(xml::xml_reader& r) {
  raw_document doc;
  // Paragraphs nest in ODT (a list item holds paragraphs, a note in a
  // paragraph holds paragraphs): keep one buffer per open paragraph.
  std::vector<std::string> open;
  std::vector<bool> is_heading;
  int skip = 0;
  int cells = 0; // depth inside table cells: paragraphs there are words
  auto sink = [&]() -> std::string& {
    return open.empty() ? doc.current() : open.back();
  };
  while (r.read()) {
    const auto name = r.name();
    if (r.is_start()) {
      const bool empty = r.is_end();
      if (skip > 0) {
        if (!empty)
          ++skip;
        continue;
      }
      if ((name == "p" || name == "h") && !empty) {
        open.emplace_back();
        is_heading.push_back(name == "h");
      } else if (name == "table-cell") {
        ++cells;
      } else if (name == "s") {
        const auto count = r.attribute("c");
        size_t n = 1;
        if (!count.empty() &&
            std::all_of(count.begin(), count.end(), ::isdigit) &&
            count.size() < 4)
          n = std::stoul(count);
        sink().append(n, ' ');
      } else if (name == "tab") {
        sink() += '\t';
      } else if (name == "line-break") {
        sink() += '\n';
      } else if ((name == "annotation" || name == "tracked-changes" ||
                  name == "note-citation" || name == "sequence-decls") &&
                 !empty) {
        skip = 1;
      }
      if (!empty)
        continue;
    }
    if (r.is_text()) {
      if (skip == 0 && !open.empty())
        open.back() += r.value();
      continue;
    }
    if (!r.is_end())
      continue;
    if (skip > 0) {
      --skip;
      continue;
    }
    if ((name == "p" || name == "h") && r.is_start()) {
      sink() += '\n'; // <text:p/>: an empty paragraph, nothing was opened
    } else if ((name == "p" || name == "h") && !open.empty()) {
      std::string text = std::move(open.back());
      const bool heading = is_heading.back();
      open.pop_back();
      is_heading.pop_back();
      if (heading && open.empty() && !trimmed(text).empty())
        doc.sections.push_back({trimmed(text), {}});
      std::string& out = sink();
      out += text;
      out += cells > 0 ? " " : heading ? "\n\n" : "\n";
    } else if (name == "table-cell") {
      cells = std::max(0, cells - 1);
      sink() += '\t';
    } else if (name == "table-row") {
      sink() += '\n';
    } else if (name == "table") {
      sink() += "\n\n";
    }
  }
  return doc;
}

} // namespace

raw_document docx_to_text(std::string_view bytes,
                          const extract_limits& limits) {
  zip_archive zip(bytes, limits, "DOCX");
  const auto headings = docx_heading_styles(zip);
  const std::string body = zip.require("word/document.xml");
  xml::xml_reader reader(body, "word/document.xml");
  raw_document doc = read_docx_body(reader, headings);
  doc.title = first_text(zip, "docProps/core.xml", "title");
  return doc;
}

raw_document odt_to_text(std::string_view bytes, const extract_limits& limits) {
  zip_archive zip(bytes, limits, "ODT");
  const std::string body = zip.require("content.xml");
  xml::xml_reader reader(body, "content.xml");
  raw_document doc = read_odt_body(reader);
  doc.title = first_text(zip, "meta.xml", "title");
  return doc;
}

} // namespace distiller::documents
