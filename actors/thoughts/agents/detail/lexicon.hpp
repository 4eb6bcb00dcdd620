#pragma once

/// Word lists of the built-in agents (internal): stop words, sentiment
/// words, negators, intensifiers and imperative verbs, mostly English with
/// the common German, French and Japanese ones. Every lookup takes a
/// case-folded word (text::word::folded).
///
/// Threads: the lists are immutable after their first use; lookups are safe
/// from any thread. Failure: never throws.

#include <string>
#include <string_view>

namespace distiller::thoughts::detail {

/// The word as the lists know it: French elisions ("l'idée" → "idée") and
/// the English possessive ("mom's" → "mom") removed.
std::string_view lexeme(std::string_view folded);

/// A function word of `language` ("en", "de", "fr", "es"; English ones
/// count for every language, as thoughts mix them), or a short all-hiragana
/// word (Japanese particles and endings).
bool is_stop_word(std::string_view folded, std::string_view language);

/// +1 for a positive word, −1 for a negative one, 0 otherwise.
int polarity(std::string_view folded);

/// "not", "never", "don't", "nicht", "pas" …
bool is_negator(std::string_view folded);

/// The factor a word applies to the sentiment word after it ("very" 1.5,
/// "slightly" 0.5), or 1.0.
double intensity(std::string_view folded);

/// A verb that starts an imperative sentence ("call", "buy", "send" …).
bool is_imperative_verb(std::string_view folded);

/// Words that stand for "soon" ("urgent", "asap", "immediately" …).
bool is_urgent_word(std::string_view folded);

/// Worry and risk words ("afraid", "worried", "risk" …) with their weight
/// for the concern category (0 if none).
double worry_weight(std::string_view folded);

} // namespace distiller::thoughts::detail
