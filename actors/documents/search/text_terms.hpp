#pragma once

/// The words of a text as retrieval sees them: one tokeniser, one English
/// stop-word list and one light stemmer, shared by the hashing embedder
/// (hashing_embedder.hpp) and answer extraction (hybrid.hpp), so a question
/// and a document are cut into the same terms.
///
/// Tokens: maximal runs of ASCII letters and digits plus every non-ASCII
/// byte (so UTF-8 words stay whole, accents and all); ASCII is lower-cased;
/// an apostrophe between two word characters is dropped and the word goes on
/// ("don't" → "dont", "Kafka's" → "kafkas"). Everything else separates.
///
/// Stemming (`stem`) is deliberately light and rule-based, so that it never
/// merges unrelated words: "ies" → "y", "sses" → "ss", "oes" → "o" when four
/// letters remain, "es" after x/z/ch/sh is removed, a final "s" is removed
/// unless the word ends in "ss", "us" or "is"; then "ing" and "ed" are removed
/// when at least three letters (one of them a vowel) stay, and a doubled final
/// consonant left behind is halved
/// ("running" → "run", "stopped" → "stop"). Words shorter than four bytes
/// and words with non-ASCII bytes are left alone.
///
/// Threads: pure functions over immutable tables; safe from any thread.
/// Failure: none (no allocation failure handling beyond std::bad_alloc).

#include <string>
#include <string_view>
#include <vector>

namespace distiller::documents::search {

/// The tokens of `text`, lower-cased, in order (stop words included).
std::vector<std::string> tokenize(std::string_view text);

/// Whether a lower-cased token is an English stop word ("the", "of", "is" …).
bool is_stop_word(std::string_view token);

/// The light stem of a lower-cased token (see above).
std::string stem(std::string_view token);

/// Tokens of `text` that are not stop words, stemmed when `stemming`: what a
/// question or a passage is about.
std::vector<std::string> content_terms(std::string_view text,
                                       bool stemming = true);

} // namespace distiller::documents::search
