#include "actors/documents/text/extract.hpp"

#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "actors/documents/text/html.hpp"
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
  EXPECT_EQ(supported_extensions().size(), 10u); // formats_test lists them
}

TEST(extract, unsupported_types_name_the_supported_ones) {
  auto msg = error_of([] { extract_text("photo.jpg", "image/jpeg", "x"); });
  EXPECT_THAT(msg, HasSubstr("unsupported file type '.jpg'"));
  EXPECT_THAT(msg, HasSubstr(".csv, .docx, .epub, .htm, .html, .json, .md, "
                             ".odt, .pdf, .txt"));
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

TEST(extract, detects_undeclared_legacy_charsets) {
  // Latin-1 without a label: ICU's detector recognises it.
  const std::string latin1 = "Die Stra\xDF"
                             "e f\xFChrt \xFC"
                             "ber die Br\xFC"
                             "cke. Der M\xFCller "
                             "mahlt das Korn, und die B\xE4"
                             "ckerin backt das Brot f\xFCr das "
                             "ganze Dorf. Gr\xFC\xDF"
                             "e aus K\xF6ln und M\xFCnchen.";
  auto r = extract_text("de.txt", "", latin1);
  EXPECT_THAT(r.text, HasSubstr("Die Stra\xC3\x9F"
                                "e f\xC3\xBChrt"));
  EXPECT_THAT(r.text, HasSubstr("K\xC3\xB6ln"));
  // A declared charset ICU knows wins: Shift_JIS for 日本語.
  r = extract_text("ja.txt", "text/plain; charset=Shift_JIS",
                   "\x93\xFA\x96\x7B\x8C\xEA");
  EXPECT_EQ(r.text, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
  // UTF-16 without a byte order mark.
  std::string utf16;
  for (char c : std::string("Plain words in UTF-16, little endian, no mark."))
    utf16 += std::string{c, '\0'};
  EXPECT_EQ(extract_text("w.txt", "", utf16).text,
            "Plain words in UTF-16, little endian, no mark.");
}

TEST(extract, normalises_to_nfc) {
  // "e" + COMBINING ACUTE ACCENT is "é" once normalised.
  EXPECT_EQ(normalize_text("cafe\xCC\x81"), "caf\xC3\xA9");
  EXPECT_EQ(extract_text("n.md", "", "Cafe\xCC\x81 cre\xCC\x80me\n").text,
            "Caf\xC3\xA9 cr\xC3\xA8me");
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
  // "-" and "*" bullets are two lists in CommonMark.
  EXPECT_THAT(t, HasSubstr("first item\n\nsecond item\n\ndone task"));
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

std::string md(const std::string& markdown) {
  return extract_text("x.md", "", markdown).text;
}

TEST(extract, markdown_inline_rules) {
  EXPECT_EQ(md("see [the *docs*](http://x/y \"t\") now\n"), "see the docs now");
  EXPECT_EQ(md("a ``code with ` tick`` b\n"), "a code with ` tick b");
  EXPECT_EQ(md("visit <https://example.com> or <br> here\n"),
            "visit https://example.com or here");
  EXPECT_EQ(md("~~old~~ new\n"), "old new");
  EXPECT_EQ(md("## Title ##\n"), "Title");
  EXPECT_EQ(md("#hashtag\n"), "#hashtag");
  EXPECT_EQ(md("+++\ntitle = \"toml\"\n+++\nBody\n"), "Body");
  EXPECT_EQ(md("---\nnot closed\n"), "not closed"); // a thematic break
  EXPECT_EQ(md("<div>\n<b>block</b> html\n</div>\n\nafter\n"),
            "block html\n\nafter");
  EXPECT_EQ(md("3. three\n4. four\n"), "3. three\n4. four");
}

TEST(extract, markdown_headings_are_sections) {
  auto r = extract_text("s.md", "",
                        "intro\n\n# One\n\ntext one\n\n## Two\n\n"
                        "text two\n");
  ASSERT_EQ(r.sections.size(), 2u);
  EXPECT_EQ(section_at(r, 0), "");
  EXPECT_EQ(section_at(r, r.text.find("text one")), "One");
  EXPECT_EQ(section_at(r, r.text.find("text two")), "Two");
}

// -- HTML --------------------------------------------------------------------

TEST(extract, html_drops_head_scripts_and_styles) {
  auto r = extract_text("page.html", "text/html", fixture("page.html"));
  EXPECT_EQ(r.kind, document_kind::html);
  const auto& t = r.text;
  EXPECT_EQ(r.title, "Head title");
  // The title leads the text (it is the page's summary), once.
  EXPECT_THAT(t, ::testing::StartsWith("Head title\n\nMain heading\n\n"));
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

std::string html(const std::string& page) {
  return normalize_text(html_to_text(page).text);
}

TEST(extract, html_entities) {
  EXPECT_EQ(html("&amp;x &#233; &#x1F600; &nosuch; a & b &lt;&copy;"),
            "&x \xC3\xA9 \xF0\x9F\x98\x80 &nosuch; a & b <\xC2\xA9");
}

TEST(extract, html_structure_and_charset) {
  EXPECT_EQ(html("a<br>b<p>c</p>d"), "a\nb\n\nc\n\nd");
  EXPECT_EQ(html("x<span>y</span>z  <b>w</b>"), "xyz w");
  EXPECT_EQ(html("<script>if (a < b) { x = '</p>'; }</script>ok"), "ok");
  EXPECT_EQ(html("1 < 2 <3"), "1 < 2 <3");
  EXPECT_EQ(html("<a title=\"x > y\" href='z'>link</a>"), "link");
  EXPECT_EQ(html("<p>wrapped\n   source\tline</p>"), "wrapped source line");
  // A head that never closes ends where the body starts.
  EXPECT_EQ(html_to_text("<head><title>T</title><body>text").title, "T");
  EXPECT_EQ(html("<head><title>T</title><body>text"), "text");
  const std::string latin =
      "<html><head><meta charset=\"iso-8859-1\">"
      "</head><body><p>caf\xE9 \x93q\x94</p></body></html>";
  EXPECT_EQ(extract_text("l.html", "text/html", latin).text,
            "caf\xC3\xA9 \xE2\x80\x9Cq\xE2\x80\x9D");
  const std::string equiv =
      "<meta http-equiv=\"Content-Type\" content=\"text/html; "
      "charset=windows-1252\"><p>na\xEFve</p>";
  EXPECT_EQ(extract_text("e.html", "", equiv).text, "na\xC3\xAFve");
}

TEST(extract, html_hidden_elements_and_lists) {
  EXPECT_EQ(html("<p hidden>no</p><p style=\"display: none\">no</p>"
                 "<span aria-hidden=\"true\">no</span><p>yes</p>"
                 "<template><p>no</p></template><noscript>no</noscript>"),
            "yes");
  EXPECT_EQ(html("<ul><li>one<li>two</ul><ol><li><p>three</p></li></ol>"),
            "one\ntwo\n\nthree");
  EXPECT_EQ(html("<pre>  keep\n    indent</pre>"), "keep\nindent");
  EXPECT_EQ(html("<p>unclosed <b>bold <i>both</p><p>next"),
            "unclosed bold both\n\nnext");
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
  // libmagic sees text where a PDF was promised.
  auto msg = error_of([] { extract_text("fake.pdf", "", "hello world"); });
  EXPECT_THAT(msg, HasSubstr("named as a PDF document"));
  EXPECT_THAT(msg, HasSubstr("text/plain"));
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
