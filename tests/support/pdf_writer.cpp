#include "tests/support/pdf_writer.hpp"

#include <array>
#include <cstdio>

#include "actors/documents/text/utf8.hpp"

namespace distiller::testing {

namespace {

namespace utf8 = distiller::documents::utf8;

/// The Windows-1252 byte for `cp`, or '?' when the encoding lacks it.
unsigned char win_ansi(char32_t cp) {
  static constexpr std::array<char32_t, 32> high = {
      0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
      0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
      0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};
  if ((cp >= 0x20 && cp < 0x7F) || (cp >= 0xA0 && cp <= 0xFF))
    return static_cast<unsigned char>(cp);
  for (size_t i = 0; i < high.size(); ++i)
    if (high[i] != 0 && high[i] == cp)
      return static_cast<unsigned char>(0x80 + i);
  return '?';
}

/// A PDF literal string "(…)" holding `text` in WinAnsiEncoding.
std::string literal(std::string_view text) {
  std::string out = "(";
  for (size_t i = 0; i < text.size();) {
    auto d = utf8::decode(text, i);
    i += d.length;
    const unsigned char b = win_ansi(d.valid ? d.cp : U'?');
    if (b == '(' || b == ')' || b == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(b));
    } else if (b >= 0x80) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\%03o", b);
      out += esc;
    } else {
      out.push_back(static_cast<char>(b));
    }
  }
  return out + ")";
}

std::string content_stream(const std::vector<std::string>& lines) {
  std::string s = "BT\n/F1 12 Tf\n14 TL\n72 720 Td\n";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0)
      s += "T*\n";
    s += literal(lines[i]) + " Tj\n";
  }
  return s + "ET\n";
}

} // namespace

pdf_writer& pdf_writer::add_page(std::vector<std::string> lines) {
  pages_.push_back(std::move(lines));
  return *this;
}

pdf_writer& pdf_writer::password_protected(bool on) {
  protected_ = on;
  return *this;
}

std::string pdf_writer::str() const {
  // Objects: 1 catalog, 2 page tree, 3 font, then a page and its content
  // stream per page, then the encryption dictionary if any.
  std::vector<std::string> objects;
  objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  std::string kids;
  for (size_t p = 0; p < pages_.size(); ++p)
    kids += std::to_string(4 + 2 * p) + " 0 R ";
  objects.push_back("<< /Type /Pages /Kids [ " + kids + "] /Count " +
                    std::to_string(pages_.size()) + " >>");
  objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                    "/Encoding /WinAnsiEncoding >>");
  for (size_t p = 0; p < pages_.size(); ++p) {
    objects.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                      "/Resources << /Font << /F1 3 0 R >> >> /Contents " +
                      std::to_string(5 + 2 * p) + " 0 R >>");
    const std::string stream = content_stream(pages_[p]);
    objects.push_back("<< /Length " + std::to_string(stream.size()) +
                      " >>\nstream\n" + stream + "endstream");
  }
  const std::string id = "<00112233445566778899AABBCCDDEEFF>";
  if (protected_) {
    // Standard security handler, RC4 40 bit; /U is not the value an empty
    // user password produces, so only the (unknown) password opens it.
    const std::string filler(64, 'A');
    objects.push_back("<< /Filter /Standard /V 1 /R 2 /O <" + filler +
                      "> /U <" + filler + "> /P -44 >>");
  }

  std::string out = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objects.size() + 1) + "\n";
  out += "0000000000 65535 f \n";
  for (size_t offset : offsets) {
    char entry[32];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
    out += entry;
  }
  out += "trailer\n<< /Size " + std::to_string(objects.size() + 1) +
         " /Root 1 0 R /ID [" + id + " " + id + "]";
  if (protected_)
    out += " /Encrypt " + std::to_string(objects.size()) + " 0 R";
  out += " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return out;
}

std::string make_pdf(const std::vector<std::string>& pages) {
  pdf_writer w;
  for (auto& page : pages) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start <= page.size()) {
      size_t end = page.find('\n', start);
      if (end == std::string::npos)
        end = page.size();
      lines.push_back(page.substr(start, end - start));
      start = end + 1;
    }
    w.add_page(std::move(lines));
  }
  return w.str();
}

} // namespace distiller::testing
