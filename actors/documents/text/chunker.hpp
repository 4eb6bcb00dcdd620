#pragma once

/// Sentence-aware chunking with overlap: the step between extracted text
/// and embeddings. The chunker actor calls `split_into_chunks` on the output of
/// `extract_text` and publishes one chunk-processing record per chunk.
///
/// Sentences are ICU's (UAX #29 sentence boundaries: decimals,
/// "example.com", a full stop before a lower-case word or a number ("Fig.
/// 3") do not end one; closing quotes and brackets stay with their
/// sentence; 。！？ and every script ICU knows are handled), tailored so that
/// common abbreviations ("Dr.", "e.g.", "et al."), initials ("J. R.") and
/// dotted words ("U.S.") do not end one either, inside paragraphs that end
/// at a blank line; a single line break is wrapping, not a boundary.
/// Sentences are packed into chunks of at most `size`
/// units; each following chunk starts with the trailing sentences of the
/// previous one, up to `overlap` units, so context carries across. A
/// sentence longer than `size` is split at word boundaries; only a single
/// word longer than `size` characters is cut, at a code point boundary.
/// Every chunk is a contiguous slice of the text (inner whitespace kept),
/// never empty, and valid UTF-8. The output depends on nothing but the
/// input and the options.
///
/// Threads: pure functions, safe from any thread (each thread keeps its own
/// ICU break iterator); linear in the text.
/// Failure: `validate` and `split_into_chunks` throw std::invalid_argument
/// naming the option ("size", "overlap") when options are unusable; text is
/// never refused (invalid UTF-8 is replaced by U+FFFD first).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace distiller::documents {

struct chunk_options {
  /// Upper bound of a chunk, in `unit`s (configuration key
  /// documents.chunk_size).
  size_t size = 1000;

  /// How much of the previous chunk's end, in whole sentences, the next chunk
  /// repeats at its start; must be smaller than `size`
  /// (documents.chunk_overlap).
  size_t overlap = 150;

  /// What `size` and `overlap` count (documents.chunk_unit). `characters`
  /// (Unicode code points, whitespace included) is the default: it bounds
  /// the stored and embedded text predictably for every script, whereas
  /// `tokens` (whitespace-separated words) only approximates a model's
  /// tokens for languages that put spaces between words and lets a text
  /// without spaces (Chinese, Japanese) grow unbounded.
  enum class unit { characters, tokens } unit = unit::characters;
};

/// The type of `chunk_options::unit` (the member hides the nested name).
using chunk_unit = enum chunk_options::unit;

/// "characters" or "tokens".
const char* to_string(chunk_unit u) noexcept;

/// Parses "characters"/"chars" or "tokens"/"words"; nullopt otherwise.
std::optional<chunk_unit> parse_chunk_unit(std::string_view text);

struct chunk {
  /// Position in the document, from 0.
  size_t index = 0;
  std::string text;
  /// Unicode code points of `text`.
  size_t char_count = 0;
  /// Whitespace-separated words of `text`.
  size_t token_count = 0;
  /// Byte offset of `text` in the chunked text (after U+FFFD replacement,
  /// if the input needed any).
  size_t offset = 0;
};

/// Throws std::invalid_argument unless size > 0 and overlap < size.
void validate(const chunk_options& options);

/// The chunks of `text`, in order; empty when `text` is blank.
std::vector<chunk> split_into_chunks(std::string_view text,
                                     const chunk_options& options = {});

/// The sentences of `text` as the chunker sees them (trimmed slices of
/// `text`, in order, none empty).
std::vector<std::string_view> split_sentences(std::string_view text);

/// Whitespace-separated words in `text`.
size_t count_tokens(std::string_view text) noexcept;

} // namespace distiller::documents
