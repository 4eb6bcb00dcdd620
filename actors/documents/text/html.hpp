#pragma once

/// HTML to plain text for indexing. A small tolerant scanner (no DOM, no
/// validation): tags are dropped; the content of <head>, <script>, <style>,
/// <noscript>, <template> and <svg> is dropped; block elements (p, div,
/// headings, lists, tables, blockquote, pre, br, hr, …) become line or
/// paragraph breaks, table cells become spaces; whitespace collapses except
/// inside <pre>/<textarea>; comments and doctypes go; CDATA is kept as text.
/// Character references are decoded: the common named ones (&amp; &nbsp;
/// &eacute; &mdash; &hellip; …), decimal and hexadecimal ones (&#233;
/// &#x1F600;); an unknown name is kept as written, a numeric reference to
/// NUL, a surrogate or beyond U+10FFFF becomes U+FFFD, and 0x80–0x9F are
/// read as Windows-1252 (as browsers do).
///
/// Threads: pure functions, safe from any thread.
/// Failure: none; malformed markup yields the text around it.

#include <string>
#include <string_view>

namespace distiller::documents {

/// `html` must be UTF-8 (extract_text converts declared Latin-1 first).
std::string html_to_text(std::string_view html);

/// The charset a <meta charset="…"> or <meta http-equiv … content="…;
/// charset=…"> in the first 2 KiB declares, lower case, or "".
std::string html_declared_charset(std::string_view html);

/// Decodes the character reference starting at `html[pos] == '&'` into
/// `out` and returns the position after it; if there is no valid reference
/// there, appends '&' and returns pos + 1.
size_t decode_html_entity(std::string_view html, size_t pos, std::string& out);

} // namespace distiller::documents
