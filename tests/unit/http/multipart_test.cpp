// Unit tests of the multipart/form-data parser: boundaries from the
// Content-Type, Content-Disposition parameters, byte-exact contents (CR, LF,
// NUL, boundary-like text), lenient line ends, and the error messages of
// malformed bodies. No sockets.

#include <gtest/gtest.h>

#include <string>

#include "bridges/http/multipart.hpp"

using namespace distiller::http;
using namespace std::string_literals;

namespace {

/// A well-formed body with the given (already formatted) parts.
std::string body_of(const std::string& boundary,
                    const std::vector<std::string>& parts) {
  std::string out;
  for (auto& p : parts)
    out += "--" + boundary + "\r\n" + p + "\r\n";
  out += "--" + boundary + "--\r\n";
  return out;
}

std::string file_part(const std::string& name, const std::string& filename,
                      const std::string& type, const std::string& content) {
  return "Content-Disposition: form-data; name=\"" + name + "\"; filename=\"" +
         filename + "\"\r\nContent-Type: " + type + "\r\n\r\n" + content;
}

/// The message of the multipart_error `f` throws ("" when none).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const multipart_error& e) {
    return e.what();
  }
  return {};
}

} // namespace

// -- boundary ----------------------------------------------------------------

TEST(multipart, boundary_plain_and_quoted) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc123"),
            "abc123");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;boundary=\"a b:c\""),
            "a b:c");
  EXPECT_EQ(multipart_boundary(
                "multipart/form-data; charset=utf-8; BOUNDARY=--x--; y=1"),
            "--x--");
}

TEST(multipart, boundary_errors_name_the_problem) {
  EXPECT_NE(error_of([] {
              multipart_boundary("application/json");
            }).find("application/json, not multipart/form-data"),
            std::string::npos);
  EXPECT_NE(error_of([] { multipart_boundary(""); }).find("no Content-Type"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              multipart_boundary("multipart/form-data");
            }).find("no boundary"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              multipart_boundary("multipart/form-data; boundary=");
            }).find("no boundary"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              multipart_boundary("multipart/form-data; boundary=" +
                                 std::string(71, 'x'));
            }).find("longer than 70"),
            std::string::npos);
}

// -- parts -------------------------------------------------------------------

TEST(multipart, fields_and_file_parts) {
  auto body = body_of(
      "XyZ", {"Content-Disposition: form-data; name=\"title\"\r\n\r\nHello",
              file_part("file", "notes.txt", "text/plain", "line 1\nline 2")});
  auto form = parse_multipart("multipart/form-data; boundary=XyZ", body);
  ASSERT_EQ(form.parts.size(), 2u);
  EXPECT_EQ(form.parts[0].name, "title");
  EXPECT_FALSE(form.parts[0].filename.has_value());
  EXPECT_EQ(form.parts[0].content, "Hello");
  EXPECT_EQ(form.parts[0].content_type, "");
  auto* f = form.find("file");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->filename, "notes.txt");
  EXPECT_EQ(f->content_type, "text/plain");
  EXPECT_EQ(f->content, "line 1\nline 2");
  EXPECT_EQ(f->header("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(form.find("other"), nullptr);
}

TEST(multipart, binary_content_is_byte_exact) {
  // CR, LF, NUL, a CRLF before boundary-like text, and the boundary with a
  // suffix at the start of a line: all content, not delimiters.
  std::string content = "\x00\x01\r\n\r\n--bnd\x00--bndX\r\n--bndary\r\n--bn"s
                        "\r\r\n\n\xff\xfe\x00"s;
  auto body = body_of("bnd", {file_part("file", "blob.bin",
                                        "application/octet-stream", content)});
  auto form = parse_multipart("multipart/form-data; boundary=bnd", body);
  ASSERT_EQ(form.parts.size(), 1u);
  EXPECT_EQ(std::string{form.parts[0].content}, content);
}

TEST(multipart, content_ending_in_line_breaks_keeps_them) {
  auto body = body_of("b", {file_part("file", "a.txt", "text/plain", "x\r\n"),
                            file_part("g", "b.txt", "text/plain", "\n")});
  auto form = parse_multipart("multipart/form-data; boundary=b", body);
  ASSERT_EQ(form.parts.size(), 2u);
  EXPECT_EQ(form.parts[0].content, "x\r\n");
  EXPECT_EQ(form.parts[1].content, "\n");
}

TEST(multipart, empty_content_and_empty_filename) {
  auto body = body_of("b", {file_part("file", "", "text/plain", "")});
  auto form = parse_multipart("multipart/form-data; boundary=b", body);
  ASSERT_EQ(form.parts.size(), 1u);
  EXPECT_EQ(form.parts[0].filename, "");
  EXPECT_TRUE(form.parts[0].content.empty());
}

TEST(multipart, empty_content_without_line_break_before_boundary) {
  // Some clients put the next boundary right after the blank line.
  std::string body = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
                     "--b\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n"
                     "v\r\n--b--";
  auto form = parse_multipart("multipart/form-data; boundary=b", body);
  ASSERT_EQ(form.parts.size(), 2u);
  EXPECT_EQ(form.parts[0].content, "");
  EXPECT_EQ(form.parts[1].content, "v");
}

TEST(multipart, preamble_epilogue_and_padding_are_ignored) {
  std::string body = "This is the preamble.\r\nIt is ignored.\r\n"
                     "--b  \t\r\n"
                     "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
                     "one\r\n"
                     "--b--\r\nThis is the epilogue.\r\n--b\r\nnot a part";
  auto form = parse_multipart("multipart/form-data; boundary=b", body);
  ASSERT_EQ(form.parts.size(), 1u);
  EXPECT_EQ(form.parts[0].content, "one");
}

TEST(multipart, bare_lf_line_ends_are_accepted) {
  std::string body = "--b\nContent-Disposition: form-data; name=\"a\"\n"
                     "Content-Type: text/plain\n\nalpha\n--b\n"
                     "Content-Disposition: form-data; name=\"z\"\n\n"
                     "omega\n--b--\n";
  auto form = parse_multipart("multipart/form-data; boundary=b", body);
  ASSERT_EQ(form.parts.size(), 2u);
  EXPECT_EQ(form.parts[0].content, "alpha");
  EXPECT_EQ(form.parts[0].content_type, "text/plain");
  EXPECT_EQ(form.parts[1].content, "omega");
}

TEST(multipart, folded_headers_and_case_insensitive_names) {
  std::string body = "--b\r\ncontent-DISPOSITION: form-data;\r\n"
                     "\tname=\"file\"; filename=\"x.md\"\r\n\r\n#\r\n--b--";
  auto form = parse_multipart("multipart/form-data; boundary=b", body);
  ASSERT_EQ(form.parts.size(), 1u);
  EXPECT_EQ(form.parts[0].name, "file");
  EXPECT_EQ(form.parts[0].filename, "x.md");
}

TEST(multipart, no_parts_is_an_empty_form) {
  auto form = parse_multipart("multipart/form-data; boundary=b", "--b--\r\n");
  EXPECT_TRUE(form.parts.empty());
}

// -- Content-Disposition -----------------------------------------------------

TEST(multipart, extended_filename_wins_and_is_decoded) {
  std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"file\"; "
      "filename=\"fallback.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20v2.txt"
      "\r\n\r\nx\r\n--b--";
  auto form = parse_multipart("multipart/form-data; boundary=b", body);
  ASSERT_EQ(form.parts.size(), 1u);
  EXPECT_EQ(form.parts[0].filename, "r\xC3\xA9sum\xC3\xA9 v2.txt");
}

TEST(multipart, malformed_extended_filename_falls_back) {
  std::string body = "--b\r\nContent-Disposition: form-data; name=\"file\"; "
                     "filename*=UTF-8''bad%ZZ; filename=\"plain.txt\""
                     "\r\n\r\nx\r\n--b--";
  auto form = parse_multipart("multipart/form-data; boundary=b", body);
  EXPECT_EQ(form.parts.at(0).filename, "plain.txt");
}

TEST(multipart, quoted_values_unescape_quotes_but_keep_windows_paths) {
  auto hv = parse_header_value(
      R"(form-data; name="a;b"; filename="C:\docs\say \"hi\".txt"; flag)");
  EXPECT_EQ(hv.value, "form-data");
  EXPECT_EQ(hv.param("name"), "a;b");
  EXPECT_EQ(hv.param("FILENAME"), R"(C:\docs\say "hi".txt)");
  EXPECT_EQ(hv.param("flag"), "");
  EXPECT_FALSE(hv.param("missing").has_value());
}

TEST(multipart, ext_values) {
  EXPECT_EQ(decode_ext_value("UTF-8''a%20b"), "a b");
  EXPECT_EQ(decode_ext_value("utf-8'en'%E2%82%AC"), "\xE2\x82\xAC");
  EXPECT_EQ(decode_ext_value("iso-8859-1''caf%E9"), "caf\xC3\xA9");
  EXPECT_FALSE(decode_ext_value("UTF-8''%E9").has_value()); // not UTF-8
  EXPECT_FALSE(decode_ext_value("UTF-8''%4").has_value());
  EXPECT_FALSE(decode_ext_value("koi8-r''x").has_value());
  EXPECT_FALSE(decode_ext_value("no quotes").has_value());
}

// -- errors ------------------------------------------------------------------

TEST(multipart, body_without_the_boundary) {
  auto e = error_of(
      [] { parse_multipart("multipart/form-data; boundary=b", "just text"); });
  EXPECT_NE(e.find("does not contain the boundary --b"), std::string::npos)
      << e;
}

TEST(multipart, unterminated_part) {
  auto e = error_of([] {
    parse_multipart("multipart/form-data; boundary=b",
                    "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n"
                    "\r\nthe content never ends");
  });
  EXPECT_NE(e.find("part 1 ('file') is unterminated"), std::string::npos) << e;
}

TEST(multipart, missing_final_boundary) {
  for (std::string tail : {"--b", "--b\r\n", "--b  "}) {
    auto e = error_of([&] {
      parse_multipart("multipart/form-data; boundary=b",
                      "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n"
                      "\r\nv\r\n" +
                          tail);
    });
    EXPECT_NE(e.find("missing final boundary --b--"), std::string::npos)
        << "tail '" << tail << "': " << e;
  }
}

TEST(multipart, unterminated_headers) {
  auto e = error_of([] {
    parse_multipart("multipart/form-data; boundary=b",
                    "--b\r\nContent-Disposition: form-data; name=\"a\"");
  });
  EXPECT_NE(e.find("not terminated by an empty line"), std::string::npos) << e;
}

TEST(multipart, malformed_header_line) {
  auto e = error_of([] {
    parse_multipart("multipart/form-data; boundary=b",
                    "--b\r\nno colon here\r\n\r\nv\r\n--b--");
  });
  EXPECT_NE(e.find("malformed header line 'no colon here'"), std::string::npos)
      << e;
}

TEST(multipart, control_characters_in_part_headers_are_refused) {
  // A bare CR would be stored with the job and written back into a response
  // header; NUL and other control bytes have no place in a header either.
  for (std::string bad : {"text/plain\rX-Injected: 1"s, "text/pl\0ain"s,
                          "text/plain\x1b[31m"s, "text/plain\x7f"s}) {
    auto e = error_of([&] {
      parse_multipart("multipart/form-data; boundary=b",
                      body_of("b", {file_part("file", "a.txt", bad, "x")}));
    });
    EXPECT_NE(e.find("part 1: a header contains the control character 0x"),
              std::string::npos)
        << e;
  }
  // A tab inside a value is allowed (RFC 9110 field-value).
  auto ok = parse_multipart(
      "multipart/form-data; boundary=b",
      body_of("b",
              {file_part("file", "a.txt", "text/plain;\tcharset=utf-8", "x")}));
  EXPECT_EQ(ok.parts.at(0).content_type, "text/plain;\tcharset=utf-8");
}

TEST(multipart, part_headers_must_be_utf8) {
  auto e = error_of([] {
    parse_multipart(
        "multipart/form-data; boundary=b",
        body_of("b", {file_part("file", "a.txt", "text/\xff\xfe", "x")}));
  });
  EXPECT_NE(e.find("part 1: a header is not valid UTF-8"), std::string::npos)
      << e;
  // UTF-8 file names (as browsers send them) pass.
  auto ok = parse_multipart(
      "multipart/form-data; boundary=b",
      body_of("b", {file_part("file", "r\xc3\xa9sum\xc3\xa9.txt", "text/plain",
                              "x")}));
  EXPECT_EQ(ok.parts.at(0).filename, "r\xc3\xa9sum\xc3\xa9.txt");
}

TEST(multipart, limits) {
  std::string many;
  for (int i = 0; i < 5; ++i)
    many += "--b\r\n\r\nx\r\n";
  many += "--b--";
  multipart_limits small;
  small.max_parts = 4;
  auto e = error_of([&] { parse_multipart_body(many, "b", small); });
  EXPECT_NE(e.find("more than 4 parts"), std::string::npos) << e;
  EXPECT_EQ(parse_multipart_body(many, "b").parts.size(), 5u);

  small.max_header_bytes = 10;
  e = error_of([&] {
    parse_multipart_body("--b\r\nContent-Disposition: form-data; "
                         "name=\"long\"\r\n\r\nv\r\n--b--",
                         "b", small);
  });
  EXPECT_NE(e.find("headers exceed 10 bytes"), std::string::npos) << e;
}
