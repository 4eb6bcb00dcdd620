#include "actors/documents/text/epub.hpp"

#include <cctype>
#include <map>
#include <vector>

#include "actors/documents/text/html.hpp"
#include "actors/documents/text/xml.hpp"
#include "actors/documents/text/zip_archive.hpp"

namespace distiller::documents {

namespace {

struct manifest_item {
  std::string href;
  std::string media_type;
};

/// "%20" and friends in an href, decoded.
std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() &&
        std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(
          std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

/// `href` relative to the directory `base` ("OEBPS/"), with "." and ".."
/// resolved; "" when it leaves the archive or is absolute.
std::string resolve(const std::string& base, std::string_view href) {
  href = href.substr(0, href.find('#'));
  if (href.empty() || href.front() == '/' ||
      href.find("://") != std::string_view::npos)
    return {};
  std::vector<std::string> parts;
  auto push_path = [&](std::string_view path) {
    size_t at = 0;
    while (at <= path.size()) {
      size_t slash = path.find('/', at);
      if (slash == std::string_view::npos)
        slash = path.size();
      std::string_view part = path.substr(at, slash - at);
      if (part == "..") {
        if (parts.empty())
          return false;
        parts.pop_back();
      } else if (!part.empty() && part != ".") {
        parts.emplace_back(part);
      }
      at = slash + 1;
    }
    return true;
  };
  if (!push_path(base) || !push_path(percent_decode(href)))
    return {};
  std::string out;
  for (auto& p : parts)
    out += (out.empty() ? "" : "/") + p;
  return out;
}

std::string package_path(zip_archive& zip) {
  const std::string bytes = zip.require("META-INF/container.xml");
  auto doc = xml::parse_xml(bytes, "META-INF/container.xml");
  std::string path;
  xml::walk(
      reinterpret_cast<xmlNode*>(doc.get()),
      [&](xmlNode* n) {
        if (path.empty() && xml::name_of(n) == "rootfile")
          path = xml::attribute(n, "full-path");
        return path.empty();
      },
      [](xmlNode*) {});
  if (path.empty())
    throw extract_error("EPUB: META-INF/container.xml names no package "
                        "document (rootfile full-path)");
  return path;
}

bool is_html(const std::string& media_type) {
  return media_type == "application/xhtml+xml" || media_type == "text/html";
}

} // namespace

raw_document epub_to_text(std::string_view bytes,
                          const extract_limits& limits) {
  zip_archive zip(bytes, limits, "EPUB");
  const std::string opf_path = package_path(zip);
  const std::string opf = zip.require(opf_path);
  auto doc = xml::parse_xml(opf, opf_path);
  const std::string base = opf_path.find('/') == std::string::npos
                               ? std::string()
                               : opf_path.substr(0, opf_path.rfind('/') + 1);

  raw_document out;
  std::map<std::string, manifest_item> manifest;
  std::vector<std::string> spine;
  bool has_spine = false;
  xml::walk(
      reinterpret_cast<xmlNode*>(doc.get()),
      [&](xmlNode* n) {
        const auto name = xml::name_of(n);
        if (name == "title" && out.title.empty())
          out.title = xml::text_of(n);
        else if (name == "item")
          manifest[xml::attribute(n, "id")] = {xml::attribute(n, "href"),
                                               xml::attribute(n, "media-type")};
        else if (name == "spine")
          has_spine = true;
        else if (name == "itemref")
          spine.push_back(xml::attribute(n, "idref"));
        return true;
      },
      [](xmlNode*) {});
  if (!has_spine)
    throw extract_error("EPUB: the package document " + opf_path +
                        " has no spine (no reading order)");

  size_t chapter = 0;
  for (const auto& idref : spine) {
    auto item = manifest.find(idref);
    if (item == manifest.end() || !is_html(item->second.media_type))
      continue;
    const std::string path = resolve(base, item->second.href);
    if (path.empty())
      continue;
    auto xhtml = zip.read(path);
    if (!xhtml)
      continue; // a dangling manifest entry: the other chapters still count
    ++chapter;
    html_text html = html_to_text(*xhtml, "utf-8");
    std::string label = html.heading;
    if (label.empty() && html.title != out.title)
      label = html.title;
    if (label.empty())
      label = "chapter " + std::to_string(chapter);
    out.sections.push_back({std::move(label), std::move(html.text)});
  }
  return out;
}

} // namespace distiller::documents
