#include "actors/documents/text/extract.hpp"

#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "actors/documents/text/html.hpp"
#include "actors/documents/text/markdown.hpp"
#include "actors/documents/text/normalize.hpp"
#include "actors/documents/text/utf8.hpp"
#include "tests/support/pdf_writer.hpp"
#include "tests/support/testing.hpp"

namespace dt = distiller::testing;
using namespace distiller::documents;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

/// The message of the extract_error `f` throws ("" if it does not throw).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const extract_error& e) {
    return e.what();
  }
  return "";
}

std::string fixture(const std::string& name) {
  return dt::read_file(dt::source_dir() / "tests/fixtures/documents" / name);
}

// -- type detection ----------------------------------------------------------

TEST(extract, picks_the_type_by_extension_then_content_type) {
  EXPECT_EQ(detect_kind("Report.PDF", ""), document_kind::pdf);
  EXPECT_EQ(detect_kind("dir/notes.md", "application/octet-stream"),
            document_kind::markdown);
  EXPECT_EQ(detect_kind("page.htm", "text/plain"), document_kind::html);
  EXPECT_EQ(detect_kind("README", "text/markdown; charset=utf-8"),
            document_kind::markdown);
  EXPECT_EQ(detect_kind("server.log", "Text/Plain"), document_kind::text);
  EXPECT_EQ(detect_kind("blob", "application/pdf"), document_kind::pdf);
  EXPECT_FALSE(detect_kind("slides.pptx", "application/vnd.ms-powerpoint"));
  EXPECT_FALSE(is_supported("image.png", "image/png"));
  EXPECT_TRUE(is_supported("a.txt", ""));
  EXPECT_EQ(supported_extensions(),
            (std::vector<std::string>{".htm", ".html", ".md", ".pdf", ".txt"}));
}

TEST(extract, unsupported_types_name_the_supported_ones) {
  auto msg = error_of([] { extract_text("photo.jpg", "image/jpeg", "x"); });
  EXPECT_THAT(msg, HasSubstr("unsupported file type '.jpg'"));
  EXPECT_THAT(msg, HasSubstr(".htm, .html, .md, .pdf, .txt"));
}

// -- plain text --------------------------------------------------------------

TEST(extract, normalises_plain_text) {
  auto r =
      extract_text("a.txt", "text/plain",
                   "\xEF\xBB\xBF  Hello\t\t  world  \r\n"
                   "second line\r\n\r\n\r\n\r\n\r\nnext   paragraph \x01\n\n");
  EXPECT_EQ(r.kind, document_kind::text);
  EXPECT_EQ(r.pages, 1u);
  EXPECT_EQ(r.text, "Hello world\nsecond line\n\nnext paragraph");
}

TEST(extract, normalize_text_rules) {
  EXPECT_EQ(normalize_text("a\rb\r\nc\fd"), "a\nb\nc\n\nd");
  EXPECT_EQ(normalize_text("x\xC2\xA0\xC2\xA0y"), "x y"); // no-break spaces
  EXPECT_EQ(normalize_text("  \n \t \n"), "");
  EXPECT_EQ(normalize_text("one\n \n\t\n  \ntwo"), "one\n\ntwo");
  EXPECT_EQ(normalize_text("bad\xFF byte"), "bad\xEF\xBF\xBD byte");
}

TEST(extract, replaces_invalid_utf8_instead_of_failing) {
  auto r = extract_text("a.txt", "", "caf\xE9 ol\xC3\xA9 \xED\xA0\x80!");
  EXPECT_TRUE(utf8::is_valid(r.text));
  EXPECT_EQ(r.text, "caf\xEF\xBF\xBD ol\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD\xEF"
                    "\xBF\xBD!");
}

TEST(extract, honours_a_declared_latin1_charset) {
  auto r = extract_text("a.txt", "text/plain; charset=ISO-8859-1",
                        "caf\xE9 cr\xE8me");
  EXPECT_EQ(r.text, "caf\xC3\xA9 cr\xC3\xA8me");
  // Valid UTF-8 under a Latin-1 label was mislabelled: kept as UTF-8.
  r = extract_text("a.txt", "text/plain; charset=latin1", "caf\xC3\xA9");
  EXPECT_EQ(r.text, "caf\xC3\xA9");
}

TEST(extract, decodes_utf16_with_a_bom) {
  const std::string le("\xFF\xFEH\x00i\x00 \x00\xE9\x00", 10);
  EXPECT_EQ(extract_text("u.txt", "", le).text, "Hi \xC3\xA9");
}

TEST(extract, refuses_binary_data_named_as_text) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string junk;
  for (int i = 0; i < 4096; ++i)
    junk.push_back(static_cast<char>(byte(rng)));
  auto msg = error_of([&] { extract_text("data.txt", "text/plain", junk); });
  EXPECT_THAT(msg, HasSubstr("file is not text: "));
  EXPECT_THAT(msg, HasSubstr("% of bytes are"));

  std::string zeros(1000, '\0');
  zeros.replace(0, 5, "hello");
  msg = error_of([&] { extract_text("z.md", "", zeros); });
  EXPECT_THAT(msg, HasSubstr("100% of bytes are control characters"));

  // A few stray control bytes in real text are dropped, not fatal.
  auto r = extract_text("ok.txt", "", "almost \x07 clean text\x1b here");
  EXPECT_EQ(r.text, "almost clean text here");
}

TEST(extract, empty_or_blank_documents_are_errors) {
  EXPECT_THAT(error_of([] { extract_text("e.txt", "", ""); }),
              HasSubstr("no text found"));
  EXPECT_THAT(error_of([] { extract_text("e.html", "", "<p> &nbsp; </p>"); }),
              HasSubstr("no text found"));
}

// -- Markdown ----------------------------------------------------------------

TEST(extract, markdown_keeps_text_and_drops_markup) {
  auto r = extract_text("guide.md", "", fixture("guide.md"));
  EXPECT_EQ(r.kind, document_kind::markdown);
  const auto& t = r.text;
  EXPECT_THAT(t, Not(HasSubstr("title: front matter")));
  EXPECT_THAT(t, HasSubstr("Getting started\n\nDistiller splits documents"));
  EXPECT_THAT(t, HasSubstr("Read the architecture overview first"));
  EXPECT_THAT(t, Not(HasSubstr("https://example.com/arch")));
  EXPECT_THAT(t, HasSubstr("A diagram of the pipeline"));
  EXPECT_THAT(t, Not(HasSubstr("diagram.png")));
  EXPECT_THAT(t, HasSubstr("important and emphasised and gone"));
  EXPECT_THAT(t, HasSubstr("Call chunk_text with 2 * 3 items"));
  EXPECT_THAT(t, HasSubstr("the config_file option"));
  EXPECT_THAT(t, HasSubstr("first item\nsecond item\ndone task"));
  EXPECT_THAT(t, HasSubstr("1. ordered stays"));
  EXPECT_THAT(t, HasSubstr("int main() {\nreturn 0;\n}"));
  EXPECT_THAT(t, Not(HasSubstr("```")));
  EXPECT_THAT(t, Not(HasSubstr("cpp")));
  EXPECT_THAT(t, HasSubstr("Quoted wisdom"));
  EXPECT_THAT(t, HasSubstr("key value\nsize 1000"));
  EXPECT_THAT(t, Not(HasSubstr("---")));
  EXPECT_THAT(t, Not(HasSubstr("[ref]")));
  EXPECT_THAT(t, Not(HasSubstr("#")));
  EXPECT_THAT(t, Not(HasSubstr("**")));
  EXPECT_THAT(t, HasSubstr("Setext title\n\n"));
  EXPECT_THAT(t, HasSubstr("literal *stars* kept"));
}

TEST(extract, markdown_inline_rules) {
  EXPECT_EQ(markdown_to_text("see [the *docs*](http://x/y \"t\") now\n"),
            "see the docs now\n");
  EXPECT_EQ(markdown_to_text("a ``code with ` tick`` b\n"),
            "a code with ` tick b\n");
  EXPECT_EQ(markdown_to_text("visit <https://example.com> or <br> here\n"),
            "visit https://example.com or   here\n");
  EXPECT_EQ(markdown_to_text("~~old~~ new, ~approx~\n"), "old new, ~approx~\n");
  EXPECT_EQ(markdown_to_text("## Title ##\n"), "\n\nTitle\n\n");
  EXPECT_EQ(markdown_to_text("#hashtag\n"), "#hashtag\n");
}

// -- HTML --------------------------------------------------------------------

TEST(extract, html_drops_head_scripts_and_styles) {
  auto r = extract_text("page.html", "text/html", fixture("page.html"));
  EXPECT_EQ(r.kind, document_kind::html);
  const auto& t = r.text;
  EXPECT_THAT(t, Not(HasSubstr("Head title")));
  EXPECT_THAT(t, Not(HasSubstr("alert")));
  EXPECT_THAT(t, Not(HasSubstr("color")));
  EXPECT_THAT(t, Not(HasSubstr("comment")));
  EXPECT_THAT(t, Not(HasSubstr("<b>")));
  EXPECT_THAT(t, Not(HasSubstr("<p")));
  EXPECT_THAT(t, HasSubstr("Main heading\n\nFirst paragraph with bold text."));
  EXPECT_THAT(t, HasSubstr("Fish & chips < 5 \xE2\x82\xAC \xE2\x80\x94 caf"
                           "\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\x9Cquoted\xE2"
                           "\x80\x9D \xC2\xA9 &unknown; a&b"));
  EXPECT_THAT(t, HasSubstr("one\ntwo\n\nCell A Cell B\nCell C Cell D"));
  EXPECT_THAT(t, HasSubstr("line 1\nline 2"));
  EXPECT_THAT(t, HasSubstr("indented code\nnext code line"));
  EXPECT_THAT(t, HasSubstr("After the script."));
}

TEST(extract, html_entities) {
  std::string out;
  EXPECT_EQ(decode_html_entity("&amp;x", 0, out), 5u);
  EXPECT_EQ(decode_html_entity("&#233;", 0, out), 6u);
  EXPECT_EQ(decode_html_entity("&#x1F600;", 0, out), 9u);
  EXPECT_EQ(decode_html_entity("&#0;", 0, out), 4u);
  EXPECT_EQ(decode_html_entity("&#99999999999999;", 0, out), 17u);
  EXPECT_EQ(decode_html_entity("&#150;", 0, out), 6u); // Windows-1252 dash
  EXPECT_EQ(decode_html_entity("&nosuch;", 0, out), 1u);
  EXPECT_EQ(decode_html_entity("& ", 0, out), 1u);
  EXPECT_EQ(out, "&\xC3\xA9\xF0\x9F\x98\x80\xEF\xBF\xBD\xEF\xBF\xBD"
                 "\xE2\x80\x93&&");
}

TEST(extract, html_structure_and_charset) {
  EXPECT_EQ(html_to_text("a<br>b<p>c</p>d"), "a\nb\n\nc\n\nd");
  EXPECT_EQ(html_to_text("x<span>y</span>z  <b>w</b>"), "xyz w");
  EXPECT_EQ(html_to_text("<script>if (a < b) { x = '</p>'; }</script>ok"),
            "ok");
  EXPECT_EQ(html_to_text("1 < 2 <3"), "1 < 2 <3");
  EXPECT_EQ(html_to_text("<a title=\"x > y\" href='z'>link</a>"), "link");
  EXPECT_EQ(html_to_text("<![CDATA[raw <b>]]>"), "raw <b>");
  // A head that never closes ends where the body starts.
  EXPECT_EQ(html_to_text("<head><title>T</title><body>text"), "\n\ntext");
  const std::string latin = "<html><head><meta charset=\"iso-8859-1\">"
                            "</head><body><p>caf\xE9</p></body></html>";
  EXPECT_EQ(html_declared_charset(latin), "iso-8859-1");
  EXPECT_EQ(extract_text("l.html", "text/html", latin).text, "caf\xC3\xA9");
}

// -- PDF ---------------------------------------------------------------------

TEST(extract, reads_every_page_of_a_pdf_in_order) {
  dt::pdf_writer w;
  w.add_page({"Distributed systems need careful design.",
              "Page one, second line (with parentheses) and a \\ backslash."});
  w.add_page({"The second page talks about Kafka."});
  w.add_page({"Third page: caf\xC3\xA9 na\xC3\xAFve \xE2\x82\xAC 5."});
  auto r = extract_text("paper.pdf", "application/pdf", w.str());
  EXPECT_EQ(r.kind, document_kind::pdf);
  EXPECT_EQ(r.pages, 3u);
  const auto& t = r.text;
  const auto p1 = t.find("Distributed systems need careful design.");
  const auto p1b = t.find("(with parentheses) and a \\ backslash.");
  const auto p2 = t.find("The second page talks about Kafka.");
  const auto p3 =
      t.find("Third page: caf\xC3\xA9 na\xC3\xAFve \xE2\x82\xAC 5.");
  ASSERT_NE(p1, std::string::npos) << t;
  ASSERT_NE(p1b, std::string::npos) << t;
  ASSERT_NE(p2, std::string::npos) << t;
  ASSERT_NE(p3, std::string::npos) << t;
  EXPECT_LT(p1, p1b);
  EXPECT_LT(p1b, p2);
  EXPECT_LT(p2, p3);
  // Pages are paragraphs of their own.
  EXPECT_THAT(t, HasSubstr("backslash.\n\nThe second page"));
}

TEST(extract, make_pdf_splits_lines) {
  auto r = extract_text("x.pdf", "",
                        dt::make_pdf({"alpha line\nbeta line", "gamma"}));
  EXPECT_EQ(r.pages, 2u);
  EXPECT_EQ(r.text, "alpha line\nbeta line\n\ngamma");
}

TEST(extract, refuses_files_that_are_not_pdfs) {
  auto msg = error_of([] { extract_text("fake.pdf", "", "hello world"); });
  EXPECT_THAT(msg, HasSubstr("not a PDF document"));
  EXPECT_THAT(msg, HasSubstr("\"hello world\""));
  EXPECT_THAT(error_of([] { extract_text("empty.pdf", "", ""); }),
              HasSubstr("not a PDF document"));
}

TEST(extract, refuses_corrupt_pdfs) {
  auto msg = error_of([] {
    extract_text("broken.pdf", "", "%PDF-1.4\n1 0 obj <<< garbage >>\n%%EOF");
  });
  EXPECT_THAT(msg, HasSubstr("corrupt PDF"));
}

TEST(extract, truncated_pdfs_fail_cleanly_or_yield_text) {
  // poppler repairs what it can; either way there is no crash, and what
  // comes back is an error or valid text.
  const std::string whole =
      dt::make_pdf({"First page text.", "Second page text."});
  for (size_t cut : {whole.size() / 4, whole.size() / 2, whole.size() - 30}) {
    try {
      auto r = extract_text("cut.pdf", "", whole.substr(0, cut));
      EXPECT_TRUE(utf8::is_valid(r.text));
    } catch (const extract_error& e) {
      EXPECT_FALSE(std::string(e.what()).empty());
    }
  }
}

TEST(extract, refuses_password_protected_pdfs) {
  dt::pdf_writer w;
  w.add_page({"secret"}).password_protected();
  EXPECT_THAT(error_of([&] { extract_text("locked.pdf", "", w.str()); }),
              HasSubstr("password-protected"));
}

TEST(extract, reports_pdfs_without_text) {
  dt::pdf_writer w;
  w.add_page({});
  EXPECT_THAT(error_of([&] { extract_text("scan.pdf", "", w.str()); }),
              HasSubstr("no text found"));
}

} // namespace
