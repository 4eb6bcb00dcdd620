#pragma once

/// Text normalisation shared by every extractor, and the decoding step for
/// byte input that claims to be text, both through ICU: byte order marks,
/// the declared charset, ICU's charset detector for undeclared legacy
/// encodings, NFC, and a plausibility check against binary data.
///
/// Threads: pure functions, safe from any thread (ICU converters, detectors
/// and the NFC instance are per call or immutable).
/// Failure: `normalize_text` never throws on bad input; `decode_text_bytes`
/// throws `extract_error` when the bytes are clearly not text.

#include <string>
#include <string_view>

namespace distiller::documents {

/// Valid UTF-8 (invalid sequences become U+FFFD) in Unicode Normalization
/// Form C (so "e" + combining acute and "é" are the same bytes, for the
/// embedder and full-text search alike); CRLF and lone CR become LF, form
/// and vertical feeds become line breaks, other control characters and a
/// leading BOM are dropped, no-break spaces become spaces, runs of spaces
/// and tabs collapse to one space, every line is trimmed, runs of blank
/// lines collapse to one blank line (so "\n\n" marks a paragraph), and the
/// whole text is trimmed.
std::string normalize_text(std::string_view text);

/// Bytes of a text file as UTF-8 before normalisation, in this order:
/// a byte order mark (UTF-8, UTF-16, UTF-32) decides; else valid UTF-8 is
/// UTF-8 whatever `charset` says (a Latin-1 label on UTF-8 is the common
/// mistake); else a `charset` ICU knows is used (Latin-1 and ASCII labels
/// mean windows-1252, as in browsers); else UTF-8 with some damaged
/// sequences (it has valid multi-byte ones too, and at most 30 % bad bytes)
/// stays UTF-8 for `normalize_text` to repair; else ICU's detector names
/// the charset
/// (windows-1252 when it cannot tell). UTF-16 without a BOM is recognised
/// by the detector.
/// Throws `extract_error` ("file is not text: …") when more than 10 % of
/// the characters are control characters (NUL included; tab, LF, CR, FF,
/// VT are text) — the sign of a binary file given a text name.
std::string decode_text_bytes(std::string_view bytes,
                              std::string_view charset = {});

} // namespace distiller::documents
