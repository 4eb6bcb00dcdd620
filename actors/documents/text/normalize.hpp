#pragma once

/// Text normalisation shared by every extractor, and the decoding step for
/// byte input that claims to be text (BOMs, UTF-16, a plausibility check
/// against binary data).
///
/// Threads: pure functions, safe from any thread.
/// Failure: `normalize_text` never throws on bad input; `decode_text_bytes`
/// throws `extract_error` when the bytes are clearly not text.

#include <string>
#include <string_view>

namespace distiller::documents {

/// Valid UTF-8 (invalid sequences become U+FFFD), CRLF and lone CR become
/// LF, form and vertical feeds become line breaks, other control characters
/// and a leading BOM are dropped, no-break spaces become spaces, runs of
/// spaces and tabs collapse to one space, every line is trimmed, runs of
/// blank lines collapse to one blank line (so "\n\n" marks a paragraph), and
/// the whole text is trimmed.
std::string normalize_text(std::string_view text);

/// Bytes of a text file as UTF-8 before normalisation: a UTF-8 BOM is
/// stripped, UTF-16 with a BOM is decoded, bytes that are not valid UTF-8
/// but declared `charset` iso-8859-1, latin1 or windows-1252 are decoded as
/// Windows-1252, anything else is taken as UTF-8.
/// Throws `extract_error` ("file is not text: …") when more than 10 % of the
/// bytes are control characters (NUL included; tab, LF, CR, FF, VT are text)
/// or more than 30 % are invalid UTF-8 — the signs of a binary file given a
/// text name. Fewer bad bytes are let through and repaired by
/// `normalize_text`.
std::string decode_text_bytes(std::string_view bytes,
                              std::string_view charset = {});

/// True for the names of ISO-8859-1 and Windows-1252 (case-insensitive).
bool is_latin1_charset(std::string_view charset);

} // namespace distiller::documents
