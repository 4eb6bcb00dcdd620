#pragma once

#include <string>
#include <string_view>
#include <vector>

/// Writes small, valid PDF files for tests: one Helvetica text line after
/// another on US-letter pages, a correct cross-reference table, nothing
/// compressed — so poppler (and any reader) opens them without repairs.
/// Text is UTF-8; characters of Windows-1252 (Latin-1 letters, €, “ ”, –, …)
/// are written in the font's WinAnsiEncoding, anything else becomes '?'.
/// A page holds about 50 lines of 12 pt text; longer pages run off the
/// bottom (the text is still extracted, just invisible on paper).
///
/// Threads: a plain value type, use one per thread.
/// Failure: none; `password_protected()` writes an encryption dictionary
/// whose user password is unknown, which readers must refuse to open.
namespace distiller::testing {

class pdf_writer {
 public:
  /// Adds a page with `lines`, top to bottom.
  pdf_writer& add_page(std::vector<std::string> lines);

  /// Marks the document encrypted with a user password nobody knows (the
  /// content itself stays plain; a reader cannot get past the password
  /// check to notice).
  pdf_writer& password_protected(bool on = true);

  /// The complete file.
  std::string str() const;

 private:
  std::vector<std::vector<std::string>> pages_;
  bool protected_ = false;
};

/// A PDF with one page per element, each page's text split at '\n' into
/// lines.
std::string make_pdf(const std::vector<std::string>& pages);

} // namespace distiller::testing
