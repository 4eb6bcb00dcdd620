#include "tests/support/zip_writer.hpp"

#include <memory>
#include <stdexcept>

#include <zip.h>

namespace distiller::testing {

zip_writer& zip_writer::add(std::string name, std::string content,
                            bool stored) {
  entries_.push_back({std::move(name), std::move(content), stored});
  return *this;
}

std::string zip_writer::str() const {
  zip_error_t error;
  zip_error_init(&error);
  // An empty buffer source that libzip writes the archive into.
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!src)
    throw std::runtime_error("zip_source_buffer_create failed");
  zip_source_keep(src); // still needed after zip_close, to read the bytes
  zip_t* z = zip_open_from_source(src, ZIP_TRUNCATE, &error);
  if (!z) {
    zip_source_free(src);
    throw std::runtime_error("zip_open_from_source failed");
  }
  for (auto& e : entries_) {
    zip_source_t* data =
        zip_source_buffer(z, e.content.data(), e.content.size(), 0);
    const zip_int64_t index =
        zip_file_add(z, e.name.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(data);
      zip_discard(z);
      zip_source_free(src);
      throw std::runtime_error("zip_file_add failed for " + e.name);
    }
    zip_set_file_compression(z, static_cast<zip_uint64_t>(index),
                             e.stored ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 9);
  }
  if (zip_close(z) != 0) {
    zip_discard(z);
    zip_source_free(src);
    throw std::runtime_error("zip_close failed");
  }
  std::string out;
  zip_stat_t st;
  if (zip_source_stat(src, &st) == 0 && zip_source_open(src) == 0) {
    out.resize(st.size);
    zip_source_read(src, out.data(), st.size);
    zip_source_close(src);
  }
  zip_source_free(src);
  return out;
}

std::string make_docx(const std::string& body_xml, const std::string& title) {
  const std::string w =
      "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/"
      "main\"";
  zip_writer z;
  z.add("[Content_Types].xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/"
        "content-types\"><Override PartName=\"/word/document.xml\" "
        "ContentType=\"application/"
        "vnd.openxmlformats-officedocument.wordprocessingml.document.main+"
        "xml\"/></Types>");
  z.add("_rels/.rels",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships "
        "xmlns=\"http://schemas.openxmlformats.org/package/2006/"
        "relationships\"><Relationship Id=\"rId1\" Type=\"http://"
        "schemas.openxmlformats.org/officeDocument/2006/relationships/"
        "officeDocument\" Target=\"word/document.xml\"/></Relationships>");
  z.add("word/document.xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document " + w +
            "><w:body>" + body_xml + "</w:body></w:document>");
  z.add("word/styles.xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:styles " + w +
            "><w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name "
            "w:val=\"heading 1\"/></w:style><w:style w:type=\"paragraph\" "
            "w:styleId=\"Heading2\"><w:name w:val=\"heading 2\"/></w:style>"
            "<w:style w:type=\"paragraph\" w:styleId=\"Normal\"><w:name "
            "w:val=\"Normal\"/></w:style></w:styles>");
  if (!title.empty())
    z.add("docProps/core.xml",
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><cp:coreProperties "
          "xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/"
          "metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/"
          "elements/1.1/\"><dc:title>" +
              title + "</dc:title></cp:coreProperties>");
  return z.str();
}

std::string make_odt(const std::string& text_xml, const std::string& title) {
  const std::string ns =
      "xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "
      "xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" "
      "xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" "
      "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"";
  zip_writer z;
  z.add("mimetype", "application/vnd.oasis.opendocument.text", true);
  z.add("META-INF/manifest.xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><manifest:manifest "
        "xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\">"
        "<manifest:file-entry manifest:full-path=\"/\" manifest:media-type="
        "\"application/vnd.oasis.opendocument.text\"/></manifest:manifest>");
  z.add("content.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                       "<office:document-content " +
                           ns + "><office:body><office:text>" + text_xml +
                           "</office:text></office:body>"
                           "</office:document-content>");
  if (!title.empty())
    z.add("meta.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                      "<office:document-meta " +
                          ns + "><office:meta><dc:title>" + title +
                          "</dc:title></office:meta></office:document-meta>");
  return z.str();
}

std::string
make_epub(const std::string& title,
          const std::vector<std::pair<std::string, std::string>>& chapters) {
  zip_writer z;
  z.add("mimetype", "application/epub+zip", true);
  z.add("META-INF/container.xml",
        "<?xml version=\"1.0\"?><container version=\"1.0\" xmlns=\"urn:oasis:"
        "names:tc:opendocument:xmlns:container\"><rootfiles><rootfile "
        "full-path=\"OEBPS/content.opf\" media-type=\"application/"
        "oebps-package+xml\"/></rootfiles></container>");
  std::string manifest;
  std::string spine;
  for (size_t i = 0; i < chapters.size(); ++i) {
    const std::string id = "c" + std::to_string(i);
    manifest += "<item id=\"" + id + "\" href=\"" + chapters[i].first +
                "\" media-type=\"application/xhtml+xml\"/>";
    spine += "<itemref idref=\"" + id + "\"/>";
    z.add("OEBPS/" + chapters[i].first,
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><html xmlns=\"http://"
          "www.w3.org/1999/xhtml\"><head><title>" +
              title + "</title></head><body>" + chapters[i].second +
              "</body></html>");
  }
  z.add("OEBPS/content.opf",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><package xmlns=\"http://"
        "www.idpf.org/2007/opf\" version=\"3.0\"><metadata xmlns:dc=\"http://"
        "purl.org/dc/elements/1.1/\"><dc:title>" +
            title + "</dc:title></metadata><manifest>" + manifest +
            "</manifest><spine>" + spine + "</spine></package>");
  return z.str();
}

} // namespace distiller::testing
