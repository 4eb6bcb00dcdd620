// libFuzzer target for the document text parsers (actors/documents/text).
// One source, one target per format (tests/fuzz/CMakeLists.txt sets
// DISTILLER_FUZZ_FORMAT): the raw formats get the input as the file; the
// ZIP formats get it as the XML or XHTML part of a valid container, so the
// fuzzer spends its time in the parsers instead of in ZIP checksums (the
// "zip" target fuzzes the container itself, as a .docx).
//
// What counts as a bug: a crash, a sanitizer report, a hang (libFuzzer's
// -timeout), memory beyond -rss_limit_mb, or an exception other than
// extract_error; and any result that is not valid UTF-8.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "actors/documents/text/chunker.hpp"
#include "actors/documents/text/extract.hpp"
#include "actors/documents/text/utf8.hpp"
#include "tests/support/zip_writer.hpp"

namespace {

using namespace distiller::documents;
namespace dt = distiller::testing;

constexpr std::string_view format = DISTILLER_FUZZ_FORMAT;

std::string epub_with_chapter(std::string_view xhtml) {
  dt::zip_writer z;
  z.add("mimetype", "application/epub+zip", true);
  z.add("META-INF/container.xml",
        "<container><rootfiles><rootfile full-path=\"c.opf\"/></rootfiles>"
        "</container>");
  z.add("c.opf", "<package><manifest><item id=\"a\" href=\"a.xhtml\" "
                 "media-type=\"application/xhtml+xml\"/></manifest><spine>"
                 "<itemref idref=\"a\"/></spine></package>");
  z.add("a.xhtml", std::string(xhtml));
  return z.str();
}

std::string odt_with_content(std::string_view xml) {
  dt::zip_writer z;
  z.add("mimetype", "application/vnd.oasis.opendocument.text", true);
  z.add("content.xml", std::string(xml));
  return z.str();
}

std::string docx_with_document(std::string_view xml) {
  dt::zip_writer z;
  z.add("[Content_Types].xml", "<Types/>");
  z.add("word/document.xml", std::string(xml));
  return z.str();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string file;
  std::string name;
  if (format == "docx") {
    file = docx_with_document(input);
    name = "f.docx";
  } else if (format == "odt") {
    file = odt_with_content(input);
    name = "f.odt";
  } else if (format == "epub") {
    file = epub_with_chapter(input);
    name = "f.epub";
  } else if (format == "zip") {
    file = std::string(input);
    name = "f.docx";
  } else {
    file = std::string(input);
    name = "f." + std::string(format);
  }
  extract_limits limits;
  // Smaller than the defaults so one input cannot take the whole time
  // budget; the limits' logic is the same.
  limits.max_entry_bytes = 8u << 20;
  limits.max_unpacked_bytes = 16u << 20;
  try {
    auto r = extract_text(name, "", file, limits);
    if (!utf8::is_valid(r.text) || r.text.empty())
      std::abort();
    for (auto& c : split_into_chunks(r.text, chunk_options{200, 40}))
      if (!utf8::is_valid(c.text) || c.text.empty())
        std::abort();
  } catch (const extract_error&) {
    // A readable refusal is the expected outcome for most inputs.
  }
  return 0;
}
