#pragma once

/// libxml2 for the text module: one-time initialisation, owned documents
/// and readers, parse errors as `extract_error`, and an iterative tree walk
/// (no recursion, so nesting depth never costs stack). Internal to
/// actors/documents/text; the office, EPUB and HTML extractors use it.
///
/// Every parse is hardened the same way: no network (XML_PARSE_NONET), no
/// external DTD or entity loading, entities are not substituted (so a
/// "billion laughs" document expands nothing), and libxml2's default
/// limits stay on (XML_PARSE_HUGE is never set: 256 levels of nesting,
/// 10 MB per text node).
///
/// Threads: safe from any thread once `init_xml` has run (it runs itself
/// from every function here; libxml2 wants its first initialisation to be
/// one thread's). Each document or reader belongs to the calling thread.
/// Failure: `parse_xml` and `xml_reader::read` throw `extract_error`
/// ("<what>: invalid XML at line N: <libxml2's message>").

#include <memory>
#include <string>
#include <string_view>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>

namespace distiller::documents::xml {

void init_xml();

struct doc_deleter {
  void operator()(xmlDoc* d) const noexcept { xmlFreeDoc(d); }
};
using doc_ptr = std::unique_ptr<xmlDoc, doc_deleter>;

/// A whole (small) XML document as a tree; `what` names it in errors
/// ("META-INF/container.xml").
doc_ptr parse_xml(std::string_view bytes, const std::string& what);

/// An HTML document as a tree (libxml2's HTML parser: error-tolerant, as
/// browsers are). `encoding` is "UTF-8" for decoded input, or e.g.
/// "ISO-8859-1" to read raw bytes byte by byte. Throws only when libxml2
/// stops because of its nesting limit, or cannot parse at all.
doc_ptr parse_html(std::string_view bytes, const char* encoding,
                   const std::string& what);

/// The local name of an element ("p" for <w:p>), or "" for other nodes.
std::string_view name_of(const xmlNode* n) noexcept;

/// The attribute of that local name in any namespace, or "".
std::string attribute(const xmlNode* n, const char* local_name);

/// The concatenated text below `n`.
std::string text_of(const xmlNode* n);

/// Visits the nodes below `root` in document order without recursion:
/// `enter(node)` returns whether to descend into its children; `leave(node)`
/// runs after a node's subtree (also when `enter` declined).
template <class Enter, class Leave>
void walk(xmlNode* root, Enter&& enter, Leave&& leave) {
  xmlNode* n = root ? root->children : nullptr;
  while (n) {
    if (enter(n) && n->children) {
      n = n->children;
      continue;
    }
    leave(n);
    while (!n->next) {
      n = n->parent;
      if (!n || n == root)
        return;
      leave(n);
    }
    n = n->next;
  }
}

/// A streaming reader over one large XML part (word/document.xml,
/// content.xml): constant memory whatever the size.
class xml_reader {
 public:
  xml_reader(std::string_view bytes, std::string what);
  ~xml_reader();
  xml_reader(const xml_reader&) = delete;
  xml_reader& operator=(const xml_reader&) = delete;

  /// Moves to the next node; false at the end. Throws on malformed XML.
  bool read();

  int type() const { return xmlTextReaderNodeType(reader_); }
  bool is_start() const { return type() == XML_READER_TYPE_ELEMENT; }
  bool is_end() const {
    return type() == XML_READER_TYPE_END_ELEMENT ||
           (is_start() && xmlTextReaderIsEmptyElement(reader_) == 1);
  }
  bool is_text() const {
    return type() == XML_READER_TYPE_TEXT || type() == XML_READER_TYPE_CDATA ||
           type() == XML_READER_TYPE_SIGNIFICANT_WHITESPACE;
  }
  /// Local name of the current element.
  std::string_view name() const;
  /// The current element's attribute of that local name, or "".
  std::string attribute(const char* local_name) const;
  /// The current text node's content.
  std::string_view value() const;

 private:
  static void on_error(void* self, xmlError* error);

  xmlTextReader* reader_ = nullptr;
  std::string what_;
  std::string error_;
};

} // namespace distiller::documents::xml
