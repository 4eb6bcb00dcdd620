#include "actors/documents/text/pdf.hpp"

#include <climits>
#include <memory>
#include <mutex>

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include "actors/documents/text/extract.hpp"

namespace distiller::documents {

namespace {

void quiet_poppler() {
  static std::once_flag once;
  std::call_once(once, [] {
    poppler::set_debug_error_function([](const std::string&, void*) {},
                                      nullptr);
  });
}

/// The first bytes of a non-PDF, printable, for the error message.
std::string describe_start(std::string_view bytes) {
  std::string shown;
  for (char c : bytes.substr(0, 16)) {
    const auto b = static_cast<unsigned char>(c);
    shown.push_back(b >= 0x20 && b < 0x7F ? c : '.');
  }
  return bytes.empty() ? "the file is empty"
                       : "it starts with \"" + shown + "\"";
}

} // namespace

std::vector<std::string> pdf_page_texts(std::string_view bytes) {
  // The header may follow some junk (the PDF spec tolerates up to 1 KiB);
  // anything else was never a PDF and gets a clearer message than poppler's.
  if (bytes.substr(0, 1024).find("%PDF-") == std::string_view::npos)
    throw extract_error("not a PDF document: no %PDF- header (" +
                        describe_start(bytes) + ")");
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    throw extract_error("PDF too large: " + std::to_string(bytes.size()) +
                        " bytes");
  quiet_poppler();
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_raw_data(
      bytes.data(), static_cast<int>(bytes.size())));
  if (!doc)
    throw extract_error("corrupt PDF: poppler could not open the document");
  if (doc->is_locked())
    throw extract_error("PDF is password-protected");
  const int count = doc->pages();
  if (count <= 0)
    throw extract_error("corrupt PDF: the document has no pages");
  std::vector<std::string> pages;
  pages.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) {
      pages.emplace_back();
      continue;
    }
    auto utf8 =
        page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout)
            .to_utf8();
    pages.emplace_back(utf8.begin(), utf8.end());
  }
  return pages;
}

} // namespace distiller::documents
