#pragma once

/// HTML to plain text for indexing, through libxml2's error-tolerant HTML
/// parser: the text a browser would show. The content of <head>, <script>,
/// <style>, <noscript>, <template>, <svg>, <iframe>, <object>, <select> and
/// of hidden elements (the `hidden` attribute, aria-hidden="true", an
/// inline display:none or visibility:hidden) is dropped; headings,
/// paragraphs, list items, table rows and other block elements become lines
/// or paragraphs of their own, table cells are separated by spaces;
/// whitespace collapses as a browser collapses it, except inside <pre> and
/// <textarea>; character references are decoded by the parser (named,
/// decimal, hexadecimal); comments and doctypes go. The <title> is kept
/// apart as the document's title.
///
/// Threads: pure functions, safe from any thread.
/// Failure: malformed markup yields the text around it, as in a browser;
/// `extract_error` only for markup nested more than 256 elements deep
/// (libxml2's limit) or bytes that are not text (decode_text_bytes).

#include <string>
#include <string_view>

namespace distiller::documents {

struct html_text {
  std::string title;
  /// The text of the first <h1>, <h2> or <h3>, "" without one.
  std::string heading;
  /// Raw text with line structure, to be normalised.
  std::string text;
};

/// `html` in any charset: the charset `declared` names (a content type's
/// parameter) wins, then a <meta charset> or http-equiv Content-Type in the
/// page, then ICU's detector; valid UTF-8 is read as UTF-8.
html_text html_to_text(std::string_view html, std::string_view declared = {});

} // namespace distiller::documents
