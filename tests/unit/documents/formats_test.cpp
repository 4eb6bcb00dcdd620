// The formats beyond text, Markdown, HTML and PDF — DOCX, ODT, EPUB, CSV,
// JSON — and what keeps hostile input harmless: content type checks, ZIP
// bombs, deep nesting, huge records. Every document is generated here.
#include "actors/documents/text/extract.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "actors/documents/text/chunker.hpp"
#include "actors/documents/text/utf8.hpp"
#include "tests/support/pdf_writer.hpp"
#include "tests/support/zip_writer.hpp"

namespace dt = distiller::testing;
using namespace distiller::documents;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const extract_error& e) {
    return e.what();
  }
  return "";
}

std::string p(const std::string& text, const std::string& style = {}) {
  std::string props =
      style.empty() ? "" : "<w:pPr><w:pStyle w:val=\"" + style + "\"/></w:pPr>";
  return "<w:p>" + props + "<w:r><w:t xml:space=\"preserve\">" + text +
         "</w:t></w:r></w:p>";
}

std::vector<std::string> labels(const extracted_text& r) {
  std::vector<std::string> out;
  for (auto& s : r.sections)
    out.push_back(s.label);
  return out;
}

// -- types
// ---------------------------------------------------------------------

TEST(formats, new_extensions_and_media_types_are_supported) {
  EXPECT_EQ(supported_extensions(),
            (std::vector<std::string>{".csv", ".docx", ".epub", ".htm", ".html",
                                      ".json", ".md", ".odt", ".pdf", ".txt"}));
  EXPECT_EQ(detect_kind("Report.DOCX", ""), document_kind::docx);
  EXPECT_EQ(detect_kind("a.odt", ""), document_kind::odt);
  EXPECT_EQ(detect_kind("book.epub", ""), document_kind::epub);
  EXPECT_EQ(detect_kind("data", "text/csv; charset=utf-8"), document_kind::csv);
  EXPECT_EQ(detect_kind("data", "application/json"), document_kind::json);
  EXPECT_STREQ(media_type_for(document_kind::epub), "application/epub+zip");
  EXPECT_STREQ(to_string(document_kind::docx), "docx");
}

TEST(formats, content_of_another_type_is_named) {
  const std::string zip = dt::zip_writer().add("a.txt", "hello").str();
  auto why = content_mismatch(document_kind::pdf, zip);
  ASSERT_TRUE(why);
  EXPECT_THAT(*why, HasSubstr("named as a PDF document"));
  EXPECT_THAT(*why, HasSubstr("application/zip"));
  EXPECT_THAT(error_of([&] { extract_text("report.pdf", "", zip); }),
              HasSubstr("application/zip"));
  // A PDF under a text name, a PNG under a Markdown name.
  EXPECT_TRUE(content_mismatch(document_kind::text, dt::make_pdf({"x"})));
  const std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01"
                        "\x08\x02\0\0\0\x90wS\xde",
                        33);
  auto png_why = content_mismatch(document_kind::markdown, png);
  ASSERT_TRUE(png_why);
  EXPECT_THAT(*png_why, HasSubstr("image/png"));
  // What fits, fits: text of any kind under any text name, the ZIP
  // formats as themselves or as plain ZIP.
  EXPECT_FALSE(content_mismatch(document_kind::csv, "a,b\n1,2\n"));
  EXPECT_FALSE(content_mismatch(document_kind::text, "<html><p>x</p></html>"));
  EXPECT_FALSE(content_mismatch(document_kind::json, "{\"a\": 1}"));
  EXPECT_FALSE(content_mismatch(document_kind::docx, dt::make_docx(p("x"))));
  EXPECT_FALSE(content_mismatch(document_kind::odt, dt::make_odt("")));
  EXPECT_FALSE(content_mismatch(document_kind::epub, dt::make_epub("t", {})));
  EXPECT_FALSE(content_mismatch(document_kind::docx, zip));
  // But one ZIP format is not another.
  EXPECT_TRUE(content_mismatch(document_kind::docx, dt::make_epub("t", {})));
}

// -- DOCX
// ----------------------------------------------------------------------

TEST(formats, docx_paragraphs_headings_and_tables_in_reading_order) {
  const std::string body =
      p("Annual report", "Heading1") + p("Sales grew in the north.") +
      "<w:p><w:r><w:t>Split </w:t></w:r><w:r><w:t>across runs</w:t>"
      "<w:tab/><w:t>after a tab</w:t><w:br/><w:t>next line</w:t></w:r></w:p>"
      "<w:p><w:del><w:r><w:delText>deleted words</w:delText></w:r></w:del>"
      "<w:r><w:instrText>PAGEREF _Toc1</w:instrText><w:t>kept</w:t></w:r>"
      "</w:p>" +
      p("Regions", "Heading2") + "<w:tbl><w:tr><w:tc>" + p("Region") +
      "</w:tc><w:tc>" + p("Revenue") + "</w:tc></w:tr><w:tr><w:tc>" +
      p("North") + "</w:tc><w:tc>" + p("12 &amp; rising") +
      "</w:tc></w:tr></w:tbl>" + p("After the table.");
  auto r = extract_text("report.docx", "", dt::make_docx(body, "Report 2024"));
  EXPECT_EQ(r.kind, document_kind::docx);
  EXPECT_EQ(r.title, "Report 2024");
  EXPECT_EQ(r.text, "Annual report\n\nSales grew in the north.\n"
                    "Split across runs after a tab\nnext line\nkept\n\n"
                    "Regions\n\nRegion Revenue\nNorth 12 & rising\n\n"
                    "After the table.");
  EXPECT_THAT(labels(r), ::testing::ElementsAre("Annual report", "Regions"));
  EXPECT_EQ(section_at(r, r.text.find("Sales")), "Annual report");
  EXPECT_EQ(section_at(r, r.text.find("North")), "Regions");
}

TEST(formats, broken_docx_files_fail_with_a_reason) {
  EXPECT_THAT(error_of([] {
                extract_text("a.docx", "",
                             dt::zip_writer().add("x.xml", "<a/>").str());
              }),
              HasSubstr("no 'word/document.xml'"));
  EXPECT_THAT(
      error_of([] { extract_text("a.docx", "", dt::make_docx("<w:p><w:r>")); }),
      HasSubstr("word/document.xml: invalid XML"));
  EXPECT_THAT(error_of([] { extract_text("a.docx", "", "PK\x03\x04junk"); }),
              HasSubstr("not a valid ZIP archive"));
  // Truncated archives: an error, never a crash.
  const std::string whole = dt::make_docx(p("Some text here."));
  for (size_t cut : {whole.size() / 3, whole.size() / 2, whole.size() - 10})
    EXPECT_FALSE(error_of([&] {
                   extract_text("c.docx", "", whole.substr(0, cut));
                 }).empty());
}

// -- ODT
// -----------------------------------------------------------------------

TEST(formats, odt_headings_paragraphs_spaces_and_tables) {
  const std::string body =
      "<text:h text:outline-level=\"1\">Introduction</text:h>"
      "<text:p>Hello<text:s text:c=\"3\"/>world<text:tab/>tabbed"
      "<text:line-break/>broken <text:span>span text</text:span></text:p>"
      "<text:p/>" // an empty paragraph: a blank line
      "<text:list><text:list-item><text:p>item one</text:p></text:list-item>"
      "</text:list>"
      "<text:h text:outline-level=\"2\">Data</text:h>"
      "<table:table><table:table-row><table:table-cell><text:p>A1</text:p>"
      "</table:table-cell><table:table-cell><text:p>B1</text:p>"
      "</table:table-cell></table:table-row></table:table>"
      "<text:p>Note<office:annotation><text:p>a comment</text:p>"
      "</office:annotation> end.</text:p>";
  auto r = extract_text("notes.odt", "", dt::make_odt(body, "My notes"));
  EXPECT_EQ(r.kind, document_kind::odt);
  EXPECT_EQ(r.title, "My notes");
  EXPECT_EQ(r.text, "Introduction\n\nHello world tabbed\nbroken span text\n"
                    "\nitem one\n\nData\n\nA1 B1\n\nNote end.");
  EXPECT_THAT(labels(r), ::testing::ElementsAre("Introduction", "Data"));
}

// -- EPUB
// ----------------------------------------------------------------------

TEST(formats, epub_chapters_in_spine_order_are_sections) {
  auto book = dt::make_epub(
      "The Sea",
      {{"one.xhtml", "<h1>Tides</h1><p>The moon pulls the water.</p>"},
       {"two.xhtml", "<p>No heading in this chapter.</p>"},
       {"three.xhtml", "<h2>Starfish</h2><p>Starfish open mussels.</p>"
                       "<script>hidden()</script>"}});
  auto r = extract_text("sea.epub", "", book);
  EXPECT_EQ(r.kind, document_kind::epub);
  EXPECT_EQ(r.title, "The Sea");
  EXPECT_EQ(r.text, "Tides\n\nThe moon pulls the water.\n\n"
                    "No heading in this chapter.\n\n"
                    "Starfish\n\nStarfish open mussels.");
  EXPECT_THAT(labels(r),
              ::testing::ElementsAre("Tides", "chapter 2", "Starfish"));
  EXPECT_EQ(section_at(r, r.text.find("mussels")), "Starfish");
}

TEST(formats, broken_epubs_fail_with_a_reason) {
  auto no_container = dt::zip_writer()
                          .add("mimetype", "application/epub+zip", true)
                          .add("OEBPS/a.xhtml", "<p>x</p>")
                          .str();
  EXPECT_THAT(error_of([&] { extract_text("b.epub", "", no_container); }),
              HasSubstr("META-INF/container.xml"));
  auto no_spine =
      dt::zip_writer()
          .add("mimetype", "application/epub+zip", true)
          .add("META-INF/container.xml",
               "<container><rootfiles><rootfile full-path=\"p.opf\"/>"
               "</rootfiles></container>")
          .add("p.opf", "<package><manifest/></package>")
          .str();
  EXPECT_THAT(error_of([&] { extract_text("b.epub", "", no_spine); }),
              HasSubstr("no spine"));
  // A spine item pointing outside the archive is skipped, not followed.
  auto escape =
      dt::zip_writer()
          .add("mimetype", "application/epub+zip", true)
          .add("META-INF/container.xml",
               "<container><rootfiles><rootfile full-path=\"p.opf\"/>"
               "</rootfiles></container>")
          .add("p.opf", "<package><manifest><item id=\"a\" href=\"../../etc/"
                        "passwd\" media-type=\"application/xhtml+xml\"/>"
                        "</manifest><spine><itemref idref=\"a\"/></spine>"
                        "</package>")
          .str();
  EXPECT_THAT(error_of([&] { extract_text("b.epub", "", escape); }),
              HasSubstr("no text found"));
}

// -- CSV
// -----------------------------------------------------------------------

TEST(formats, csv_rows_carry_their_header_names) {
  auto r = extract_text("cities.csv", "",
                        "city,country,population\r\n"
                        "Oslo,Norway,709000\r\n"
                        "\"Rio de Janeiro\",Brazil,\"6,7 million\"\r\n"
                        ",,\r\n"
                        "\"Say \"\"hi\"\"\nthere\",,1,extra\r\n");
  EXPECT_EQ(r.kind, document_kind::csv);
  EXPECT_EQ(r.text, "city: Oslo; country: Norway; population: 709000\n\n"
                    "city: Rio de Janeiro; country: Brazil; population: 6,7 "
                    "million\n\n"
                    "city: Say \"hi\"\nthere; population: 1; column 4: extra");
  // Semicolons and tabs are found as delimiters too.
  EXPECT_EQ(extract_text("s.csv", "", "a;b\n1;2\n").text, "a: 1; b: 2");
  EXPECT_EQ(extract_text("t.csv", "", "a\tb\n1\t2\n").text, "a: 1; b: 2");
  // Each row is a unit of its own for the chunker.
  EXPECT_EQ(split_sentences(r.text).size(), 3u);
  // A header without rows has nothing to say.
  EXPECT_THAT(error_of([] { extract_text("h.csv", "", "a,b\n"); }),
              HasSubstr("no text found"));
}

TEST(formats, huge_csv_records_fail_instead_of_eating_memory) {
  extract_limits limits;
  limits.max_csv_record_bytes = 1000;
  const std::string unclosed = "a,b\n\"" + std::string(5000, 'x') + "\n1,2\n";
  EXPECT_THAT(error_of([&] { extract_text("u.csv", "", unclosed, limits); }),
              HasSubstr("CSV record at line 2 is longer than 1000 bytes"));
  const std::string line = "a\n" + std::string(2000, 'y') + "\n";
  EXPECT_THAT(error_of([&] { extract_text("l.csv", "", line, limits); }),
              HasSubstr("longer than 1000 bytes"));
}

// -- JSON
// ----------------------------------------------------------------------

TEST(formats, json_keys_and_values_are_flattened_with_paths) {
  auto r = extract_text("store.json", "",
                        R"({"store": {"name": "Books & Co", "open": true,
                            "books": [{"title": "Dune", "price": 9.5},
                                      {"title": "Emma", "tags": []}],
                            "odd key": "spaced", "none": null}})");
  EXPECT_EQ(r.kind, document_kind::json);
  EXPECT_EQ(r.text, "store.name: Books & Co\n\nstore.open: true\n\n"
                    "store.books[0].title: Dune\n\nstore.books[0].price: "
                    "9.5E0\n\nstore.books[1].title: Emma\n\n"
                    "store[\"odd key\"]: spaced");
  EXPECT_EQ(extract_text("s.json", "", "\"just a string\"").text,
            "just a string");
}

TEST(formats, bad_json_fails_with_a_reason) {
  EXPECT_THAT(error_of([] { extract_text("b.json", "", "{\"a\": [1, 2"); }),
              HasSubstr("invalid JSON"));
  EXPECT_THAT(error_of([] { extract_text("b.json", "", "{\"a\": \"\xff\"}"); }),
              HasSubstr("invalid JSON at byte"));
  const std::string deep = std::string(10000, '[') + std::string(10000, ']');
  EXPECT_THAT(error_of([&] { extract_text("d.json", "", deep); }),
              HasSubstr("JSON nested more than 64 levels deep"));
}

// -- hostile archives and XML
// --------------------------------------------------

TEST(formats, zip_bombs_are_refused_while_inflating) {
  // 64 MiB of zeros deflate to about 64 KiB: far beyond any ratio text
  // reaches.
  const std::string zeros(64u << 20, '\0');
  const std::string bomb = dt::zip_writer()
                               .add("[Content_Types].xml", "<Types/>")
                               .add("word/document.xml", zeros)
                               .str();
  ASSERT_LT(bomb.size(), 1u << 20);
  auto msg = error_of([&] { extract_text("bomb.docx", "", bomb); });
  EXPECT_THAT(msg, HasSubstr("word/document.xml"));
  EXPECT_THAT(msg, HasSubstr("ZIP bomb"));

  extract_limits limits;
  limits.max_compression_ratio = 1'000'000;
  limits.max_entry_bytes = 8u << 20;
  msg = error_of([&] { extract_text("bomb.docx", "", bomb, limits); });
  EXPECT_THAT(msg, HasSubstr("unpacks to more than 8388608 bytes"));
}

TEST(formats, archives_with_too_many_entries_are_refused) {
  dt::zip_writer z;
  for (int i = 0; i < 60; ++i)
    z.add("f" + std::to_string(i), "x");
  extract_limits limits;
  limits.max_archive_entries = 50;
  EXPECT_THAT(error_of([&] { extract_text("many.epub", "", z.str(), limits); }),
              HasSubstr("60 entries; the limit is 50"));
}

TEST(formats, deeply_nested_xml_and_entity_bombs_are_refused) {
  std::string deep;
  for (int i = 0; i < 5000; ++i)
    deep += "<w:sdt>";
  deep += p("deep");
  for (int i = 0; i < 5000; ++i)
    deep += "</w:sdt>";
  EXPECT_THAT(
      error_of([&] { extract_text("d.docx", "", dt::make_docx(deep)); }),
      HasSubstr("nested more than 256 levels deep"));

  // "Billion laughs": entities are never expanded, so nothing explodes.
  std::string laughs = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a "
                       "\"lol\">";
  for (char c = 'b'; c <= 'k'; ++c) {
    laughs += std::string("<!ENTITY ") + c + " \"";
    for (int i = 0; i < 10; ++i)
      laughs += std::string("&") + static_cast<char>(c - 1) + ";";
    laughs += "\">";
  }
  laughs += "]><office:document-content xmlns:office=\"urn:oasis:names:tc:"
            "opendocument:xmlns:office:1.0\" xmlns:text=\"urn:oasis:names:tc:"
            "opendocument:xmlns:text:1.0\"><office:body><office:text>"
            "<text:p>&k;</text:p><text:p>plain</text:p></office:text>"
            "</office:body></office:document-content>";
  auto odt =
      dt::zip_writer()
          .add("mimetype", "application/vnd.oasis.opendocument.text", true)
          .add("content.xml", laughs)
          .str();
  std::string out;
  auto msg = error_of([&] { out = extract_text("l.odt", "", odt).text; });
  // Either libxml2 refuses the amplification or the reference stays
  // unexpanded; both are bounded.
  if (msg.empty()) {
    EXPECT_LT(out.size(), 10000u);
  }
}

TEST(formats, deeply_nested_html_is_refused_not_recursed) {
  std::string deep;
  for (int i = 0; i < 100000; ++i)
    deep += "<div>";
  deep += "bottom";
  EXPECT_THAT(error_of([&] { extract_text("d.html", "", deep); }),
              HasSubstr("nested more than 256 elements deep"));
}

// -- sections
// ------------------------------------------------------------------

TEST(formats, pdf_pages_are_sections) {
  auto r = extract_text("p.pdf", "", dt::make_pdf({"First page.", "Second."}));
  EXPECT_THAT(labels(r), ::testing::ElementsAre("page 1", "page 2"));
  EXPECT_EQ(section_at(r, 0), "page 1");
  EXPECT_EQ(section_at(r, r.text.find("Second")), "page 2");
  EXPECT_EQ(section_at(r, r.text.size() - 1), "page 2");
}

TEST(formats, every_extractor_yields_valid_utf8) {
  for (auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"a.docx", dt::make_docx(p("caf\xC3\xA9 ok"))},
           {"a.odt", dt::make_odt("<text:p>na\xC3\xAFve</text:p>")},
           {"a.csv", std::string("k\ncaf\xE9\n")},
           {"a.md", std::string("# T\xE9l\xE9phone\n")}}) {
    auto r = extract_text(name, "", bytes);
    EXPECT_TRUE(utf8::is_valid(r.text)) << name;
    EXPECT_FALSE(r.text.empty()) << name;
  }
}

} // namespace
