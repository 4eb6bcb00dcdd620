#pragma once

#include <string>
#include <utility>
#include <vector>

/// Writes ZIP archives in memory for tests, through libzip (the library the
/// extractor reads them with): DOCX, ODT and EPUB containers, and hostile
/// ones — many entries, an entry that inflates far beyond its packed size.
/// Entries keep the order they were added in (libmagic recognises DOCX,
/// ODT and EPUB by their first entry); `stored` entries are not compressed
/// (EPUB and ODT want their `mimetype` entry so).
///
/// Threads: a plain value type, use one per thread.
/// Failure: throws std::runtime_error when libzip refuses.
namespace distiller::testing {

class zip_writer {
 public:
  zip_writer& add(std::string name, std::string content, bool stored = false);

  /// The complete archive.
  std::string str() const;

 private:
  struct entry {
    std::string name;
    std::string content;
    bool stored;
  };
  std::vector<entry> entries_;
};

/// A minimal .docx whose word/document.xml body is `body_xml` (the
/// children of <w:body>), with a styles.xml defining Heading1/Heading2
/// and a core.xml carrying `title` when it is not empty.
std::string make_docx(const std::string& body_xml,
                      const std::string& title = {});

/// A minimal .odt whose content.xml body is `text_xml` (the children of
/// <office:text>), with meta.xml carrying `title` when it is not empty.
std::string make_odt(const std::string& text_xml,
                     const std::string& title = {});

/// A minimal EPUB 3 book: `chapters` are (file name, XHTML body) pairs in
/// spine order, under OEBPS/.
std::string
make_epub(const std::string& title,
          const std::vector<std::pair<std::string, std::string>>& chapters);

} // namespace distiller::testing
