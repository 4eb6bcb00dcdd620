#pragma once

/// Markdown to plain text for indexing, through cmark-gfm (the CommonMark
/// reference parser with GitHub's tables, strike-through, task lists,
/// autolinks and footnotes): the text a reader of the rendered page reads.
/// Headings are paragraphs of their own and start a section named after
/// them; emphasis and code spans keep their text; links keep their text and
/// lose their URLs, images keep their alt text; fenced and indented code is
/// kept verbatim without its fences; ordered list items keep their numbers,
/// bullets and task boxes go; table rows become lines with their cells
/// separated by spaces; HTML blocks go through the HTML path, inline tags
/// are dropped; YAML ("---") and TOML ("+++") front matter is skipped.
///
/// Threads: a pure function, safe from any thread (cmark-gfm's extension
/// registry is filled once, before the first parse).
/// Failure: none; any input yields some text (normalise it afterwards).

#include <string_view>

#include "actors/documents/text/document.hpp"

namespace distiller::documents {

/// `markdown` must be UTF-8 (extract_text decodes it first).
raw_document markdown_to_text(std::string_view markdown);

} // namespace distiller::documents
