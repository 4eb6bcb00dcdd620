#include "actors/documents/text/xml.hpp"

#include <climits>
#include <mutex>

#include <libxml/HTMLparser.h>

#include "actors/documents/text/extract.hpp"

namespace distiller::documents::xml {

namespace {

constexpr int xml_options = XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;

struct ctxt_deleter {
  void operator()(xmlParserCtxt* c) const noexcept { xmlFreeParserCtxt(c); }
};
using ctxt_ptr = std::unique_ptr<xmlParserCtxt, ctxt_deleter>;

int checked_size(std::string_view bytes, const std::string& what) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    throw extract_error(what + ": too large to parse (" +
                        std::to_string(bytes.size()) + " bytes)");
  return static_cast<int>(bytes.size());
}

std::string describe(const xmlError* e) {
  if (!e || !e->message)
    return "unknown error";
  std::string msg = e->message;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
    msg.pop_back();
  if (e->line > 0)
    msg = "at line " + std::to_string(e->line) + ": " + msg;
  return msg;
}

bool is_depth_error(const xmlError* e) {
  return e && e->message &&
         std::string_view(e->message).find("Excessive depth") !=
             std::string_view::npos;
}

} // namespace

void init_xml() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

doc_ptr parse_xml(std::string_view bytes, const std::string& what) {
  init_xml();
  const int size = checked_size(bytes, what);
  ctxt_ptr ctxt(xmlNewParserCtxt());
  if (!ctxt)
    throw std::bad_alloc();
  doc_ptr doc(xmlCtxtReadMemory(ctxt.get(), bytes.data(), size, nullptr,
                                nullptr, xml_options));
  if (!doc || !ctxt->wellFormed) {
    const xmlError* e = xmlCtxtGetLastError(ctxt.get());
    if (is_depth_error(e))
      throw extract_error(what + ": XML nested more than 256 levels deep");
    throw extract_error(what + ": invalid XML " + describe(e));
  }
  return doc;
}

doc_ptr parse_html(std::string_view bytes, const char* encoding,
                   const std::string& what) {
  init_xml();
  const int size = checked_size(bytes, what);
  ctxt_ptr ctxt(htmlNewParserCtxt());
  if (!ctxt)
    throw std::bad_alloc();
  doc_ptr doc(htmlCtxtReadMemory(
      ctxt.get(), bytes.data(), size, nullptr, encoding,
      HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
          HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC | HTML_PARSE_COMPACT));
  const xmlError* e = xmlCtxtGetLastError(ctxt.get());
  if (is_depth_error(e))
    throw extract_error(what + ": HTML nested more than 256 elements deep");
  if (!doc)
    throw extract_error(what + ": unreadable HTML " + describe(e));
  return doc;
}

std::string_view name_of(const xmlNode* n) noexcept {
  if (!n || n->type != XML_ELEMENT_NODE || !n->name)
    return {};
  return reinterpret_cast<const char*>(n->name);
}

std::string attribute(const xmlNode* n, const char* local_name) {
  if (!n || n->type != XML_ELEMENT_NODE)
    return {};
  // xmlGetProp matches the local name whatever the namespace (w:val, val).
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(local_name));
  if (!v)
    return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

std::string text_of(const xmlNode* n) {
  std::string out;
  walk(
      const_cast<xmlNode*>(n),
      [&](xmlNode* c) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
            c->content)
          out += reinterpret_cast<const char*>(c->content);
        return true;
      },
      [](xmlNode*) {});
  return out;
}

// -- xml_reader
// ----------------------------------------------------------------

xml_reader::xml_reader(std::string_view bytes, std::string what)
    : what_(std::move(what)) {
  init_xml();
  const int size = checked_size(bytes, what_);
  reader_ = xmlReaderForMemory(bytes.data(), size, nullptr, nullptr,
                               XML_PARSE_NONET | XML_PARSE_NOCDATA);
  if (!reader_)
    throw extract_error(what_ + ": cannot read the XML");
  xmlTextReaderSetStructuredErrorHandler(reader_, &xml_reader::on_error, this);
}

xml_reader::~xml_reader() {
  if (reader_)
    xmlFreeTextReader(reader_);
}

void xml_reader::on_error(void* self, xmlError* error) {
  auto* r = static_cast<xml_reader*>(self);
  if (!error || error->level < XML_ERR_ERROR || !r->error_.empty())
    return;
  r->error_ = is_depth_error(error) ? std::string("XML nested more than 256 "
                                                  "levels deep")
                                    : "invalid XML " + describe(error);
}

bool xml_reader::read() {
  const int rc = xmlTextReaderRead(reader_);
  if (rc < 0 || !error_.empty())
    throw extract_error(what_ + ": " +
                        (error_.empty() ? std::string("invalid XML") : error_));
  return rc == 1;
}

std::string_view xml_reader::name() const {
  const xmlChar* n = xmlTextReaderConstLocalName(reader_);
  return n ? reinterpret_cast<const char*>(n) : "";
}

std::string xml_reader::attribute(const char* local_name) const {
  // Attributes are matched by local name, whatever their prefix (w:val).
  std::string out;
  if (xmlTextReaderMoveToFirstAttribute(reader_) != 1)
    return out;
  do {
    const xmlChar* n = xmlTextReaderConstLocalName(reader_);
    if (n && std::string_view(reinterpret_cast<const char*>(n)) == local_name) {
      const xmlChar* v = xmlTextReaderConstValue(reader_);
      if (v)
        out = reinterpret_cast<const char*>(v);
      break;
    }
  } while (xmlTextReaderMoveToNextAttribute(reader_) == 1);
  xmlTextReaderMoveToElement(reader_);
  return out;
}

std::string_view xml_reader::value() const {
  const xmlChar* v = xmlTextReaderConstValue(reader_);
  return v ? reinterpret_cast<const char*>(v) : "";
}

} // namespace distiller::documents::xml
