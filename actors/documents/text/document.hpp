#pragma once

/// What every format's extractor hands to `extract_text`: the document's
/// title and its text as labelled sections in reading order, not yet
/// normalised. Internal to actors/documents/text.
///
/// Threads: plain data.

#include <string>
#include <vector>

namespace distiller::documents {

struct raw_section {
  /// "page 2", a heading, a chapter title; "" for text before the first.
  std::string label;
  std::string text;
};

struct raw_document {
  std::string title;
  std::vector<raw_section> sections;

  /// The section text is appended to: the last one, opened when missing.
  std::string& current() {
    if (sections.empty())
      sections.emplace_back();
    return sections.back().text;
  }
};

} // namespace distiller::documents
