#pragma once

/// Markdown to plain text for indexing: keeps what a reader reads and drops
/// the markup around it. Headings lose their #'s (and setext underlines) and
/// become paragraphs of their own; emphasis, strike-through and inline-code
/// markers go, their text stays; links and images keep their text / alt
/// text and lose their targets; reference definitions, front matter,
/// thematic breaks and inline HTML tags go; fenced and indented code is kept
/// verbatim without its fences; bullet markers and task boxes go, ordered
/// list numbers stay; table pipes and separator rows go. A `*` or `_`
/// between spaces or inside a word (2 * 3, snake_case) is text, not markup.
///
/// Threads: a pure function, safe from any thread.
/// Failure: none; any input yields some text (normalise it afterwards).

#include <string>
#include <string_view>

namespace distiller::documents {

std::string markdown_to_text(std::string_view markdown);

} // namespace distiller::documents
