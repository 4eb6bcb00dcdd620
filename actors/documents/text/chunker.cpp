#include "actors/documents/text/chunker.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <stdexcept>

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/utext.h>

#include "actors/documents/text/utf8.hpp"

namespace distiller::documents {

namespace {

// -- characters -------------------------------------------------------------

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// ICU's sentence rules (UAX #29). Creating an iterator loads and compiles
/// rules, so each thread keeps one.
icu::BreakIterator* sentence_iterator() {
  thread_local std::unique_ptr<icu::BreakIterator> it = [] {
    UErrorCode err = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> bi(
        icu::BreakIterator::createSentenceInstance(icu::Locale::getRoot(),
                                                   err));
    if (U_FAILURE(err))
      bi.reset();
    return bi;
  }();
  return it.get();
}

/// Whether the sentence `s` (trimmed) ends with an abbreviation rather than
/// a full stop, so a capitalised word after it does not start a new
/// sentence. ICU's own suppression lists (CLDR's `ss=standard`) miss
/// "Dr.", lower-case "e.g.", initials and dotted words whatever their
/// length, hence this short tailoring; ICU already keeps "Fig. 3", "3.14"
/// and "etc. and" together.
bool ends_with_abbreviation(std::string_view s) {
  if (s.size() < 2 || s.back() != '.' || s[s.size() - 2] == '.')
    return false;
  size_t begin = s.size() - 1;
  while (begin > 0 && !is_space(s[begin - 1]))
    --begin;
  std::string_view word = s.substr(begin, s.size() - 1 - begin);
  while (!word.empty() && (word.front() == '(' || word.front() == '"' ||
                           word.front() == '\'' || word.front() == '['))
    word.remove_prefix(1);
  if (word.empty())
    return false;
  if (word.size() == 1 && std::isupper(static_cast<unsigned char>(word[0])))
    return true; // an initial: "J. R. Tolkien"
  const std::string w = lower_ascii(word);
  static constexpr std::array<std::string_view, 36> always = {
      "mr",  "mrs", "ms",  "dr",  "prof", "sr",   "jr",   "st",   "vs",
      "cf",  "e.g", "i.e", "al",  "inc",  "ltd",  "corp", "dept", "approx",
      "ca",  "mt",  "gen", "col", "capt", "sgt",  "rev",  "jan",  "feb",
      "apr", "jun", "jul", "aug", "sep",  "sept", "oct",  "nov",  "dec"};
  if (std::find(always.begin(), always.end(), w) != always.end())
    return true;
  // Dotted letters: "U.S", "Ph.D", "a.m".
  if (w.find('.') == std::string::npos)
    return false;
  size_t part = 0;
  for (char c : w) {
    if (c == '.') {
      if (part == 0)
        return false;
      part = 0;
    } else if (!std::isalpha(static_cast<unsigned char>(c)) || ++part > 2) {
      return false;
    }
  }
  return part > 0;
}

/// Sentence slices as byte ranges, trimmed, none empty.
struct span {
  size_t begin;
  size_t end;
};

void emit_trimmed(std::string_view s, size_t b, size_t e,
                  std::vector<span>& spans) {
  while (b < e && is_space(s[b]))
    ++b;
  while (e > b && is_space(s[e - 1]))
    --e;
  if (b < e)
    spans.push_back({b, e});
}

/// The sentences of one paragraph `s[b, e)` (no blank line inside). ICU
/// ends a sentence at every line break (UAX #29 treats LF as a paragraph
/// separator), but a single line break inside a paragraph is how text is
/// wrapped, not how it is divided: ICU reads a copy with line breaks as
/// spaces (same length, so its offsets are this text's offsets).
void paragraph_sentences(std::string_view s, size_t b, size_t e,
                         std::vector<span>& spans) {
  icu::BreakIterator* bi = sentence_iterator();
  if (!bi || e - b > static_cast<size_t>(INT32_MAX)) {
    emit_trimmed(s, b, e, spans);
    return;
  }
  std::string flat(s.substr(b, e - b));
  std::replace_if(
      flat.begin(), flat.end(), [](char c) { return c == '\n' || c == '\r'; },
      ' ');
  UErrorCode err = U_ZERO_ERROR;
  UText text = UTEXT_INITIALIZER;
  utext_openUTF8(&text, flat.data(), static_cast<int64_t>(flat.size()), &err);
  bi->setText(&text, err);
  if (U_FAILURE(err)) {
    utext_close(&text);
    emit_trimmed(s, b, e, spans);
    return;
  }
  size_t start = b;
  bi->first();
  for (int32_t end = bi->next(); end != icu::BreakIterator::DONE;
       end = bi->next()) {
    const size_t stop = b + static_cast<size_t>(end);
    std::string_view sentence = s.substr(start, stop - start);
    while (!sentence.empty() && is_space(sentence.back()))
      sentence.remove_suffix(1);
    if (stop < e && ends_with_abbreviation(sentence))
      continue; // the next sentence continues this one
    emit_trimmed(s, start, stop, spans);
    start = stop;
  }
  emit_trimmed(s, start, e, spans);
  // The iterator must not point at the copy once it is gone.
  bi->setText(icu::UnicodeString());
  utext_close(&text);
}

/// Paragraphs end at a blank line (a line with nothing but spaces); each
/// is split into sentences by ICU.
std::vector<span> sentence_spans(std::string_view s) {
  std::vector<span> spans;
  const size_t n = s.size();
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] != '\n')
      continue;
    size_t j = i + 1;
    while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r'))
      ++j;
    if (j < n && s[j] == '\n') {
      paragraph_sentences(s, start, i, spans);
      start = j;
      i = j - 1;
    }
  }
  paragraph_sentences(s, start, n, spans);
  return spans;
}

// -- measuring ----------------------------------------------------------------

/// A piece of text the packer treats as indivisible: a sentence, or a part
/// of a sentence too long for one chunk. `first`/`last` are the unit
/// offsets (code points or words) of its start and end in the whole text,
/// so the measure of any run of pieces, separators included, is
/// `last(j) - first(i)`.
struct piece {
  size_t begin;
  size_t end;
  size_t first = 0;
  size_t last = 0;
};

size_t measure(std::string_view s, chunk_unit u) {
  return u == chunk_unit::characters ? utf8::count_code_points(s)
                                     : count_tokens(s);
}

/// Splits an over-long sentence into pieces of at most `size` units at word
/// boundaries, cutting a single word only when it alone is too long.
void split_long(std::string_view s, span sentence, const chunk_options& opt,
                std::vector<piece>& out) {
  size_t pos = sentence.begin;
  size_t piece_begin = sentence.begin;
  size_t piece_end = sentence.begin; // end of the last whole word taken
  size_t taken = 0;                  // units from piece_begin to piece_end
  auto flush = [&] {
    if (piece_end > piece_begin)
      out.push_back({piece_begin, piece_end});
  };
  while (pos < sentence.end) {
    size_t word_begin = pos;
    while (word_begin < sentence.end && is_space(s[word_begin]))
      ++word_begin;
    size_t word_end = word_begin;
    while (word_end < sentence.end && !is_space(s[word_end]))
      ++word_end;
    const size_t gap = measure(s.substr(pos, word_begin - pos), opt.unit);
    const size_t word =
        measure(s.substr(word_begin, word_end - word_begin), opt.unit);
    pos = word_end;
    if (piece_end > piece_begin && taken + gap + word <= opt.size) {
      taken += gap + word;
      piece_end = word_end;
      continue;
    }
    flush();
    if (word <= opt.size) {
      piece_begin = word_begin;
      piece_end = word_end;
      taken = word;
      continue;
    }
    // One word longer than a chunk (characters only: a word is one token).
    size_t cut = word_begin;
    while (cut < word_end) {
      const size_t len =
          utf8::prefix_bytes(s.substr(cut, word_end - cut), opt.size);
      out.push_back({cut, cut + len});
      cut += len;
    }
    piece_begin = piece_end = word_end;
    taken = 0;
  }
  flush();
}

} // namespace

const char* to_string(chunk_unit u) noexcept {
  return u == chunk_unit::tokens ? "tokens" : "characters";
}

std::optional<chunk_unit> parse_chunk_unit(std::string_view text) {
  const std::string t = lower_ascii(text);
  if (t == "characters" || t == "chars")
    return chunk_unit::characters;
  if (t == "tokens" || t == "words")
    return chunk_unit::tokens;
  return std::nullopt;
}

void validate(const chunk_options& options) {
  if (options.size == 0)
    throw std::invalid_argument("chunk options: size must be greater than 0");
  if (options.overlap >= options.size)
    throw std::invalid_argument(
        "chunk options: overlap (" + std::to_string(options.overlap) +
        ") must be smaller than size (" + std::to_string(options.size) + ")");
}

size_t count_tokens(std::string_view text) noexcept {
  size_t n = 0;
  bool in_word = false;
  for (char c : text) {
    if (is_space(c)) {
      in_word = false;
    } else if (!in_word) {
      in_word = true;
      ++n;
    }
  }
  return n;
}

std::vector<std::string_view> split_sentences(std::string_view text) {
  std::vector<std::string_view> out;
  for (auto sp : sentence_spans(text))
    out.push_back(text.substr(sp.begin, sp.end - sp.begin));
  return out;
}

std::vector<chunk> split_into_chunks(std::string_view input,
                                     const chunk_options& opt) {
  validate(opt);
  std::string repaired;
  if (!utf8::is_valid(input)) {
    repaired = utf8::sanitize(input);
    input = repaired;
  }
  const std::string_view s = input;

  std::vector<piece> pieces;
  for (auto sentence : sentence_spans(s)) {
    auto text = s.substr(sentence.begin, sentence.end - sentence.begin);
    if (measure(text, opt.unit) <= opt.size)
      pieces.push_back({sentence.begin, sentence.end});
    else
      split_long(s, sentence, opt, pieces);
  }

  // Unit offsets of every piece's start and end, in one forward pass
  // (pieces are ordered and disjoint).
  {
    size_t pos = 0;
    size_t count = 0;
    bool in_word = false;
    auto advance_to = [&](size_t target) {
      for (; pos < target; ++pos) {
        const char c = s[pos];
        if (opt.unit == chunk_unit::characters) {
          if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
            ++count;
        } else if (is_space(c)) {
          in_word = false;
        } else if (!in_word) {
          in_word = true;
          ++count;
        }
      }
      return count;
    };
    for (auto& p : pieces) {
      p.first = advance_to(p.begin);
      p.last = advance_to(p.end);
    }
  }

  auto measure_run = [&](size_t i, size_t j) { // pieces [i, j]
    return pieces[j].last - pieces[i].first;
  };

  std::vector<chunk> chunks;
  const size_t n = pieces.size();
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1; // one past the chunk's last piece
    while (j < n && measure_run(i, j) <= opt.size)
      ++j;
    chunk c;
    c.index = chunks.size();
    c.offset = pieces[i].begin;
    c.text = std::string(s.substr(c.offset, pieces[j - 1].end - c.offset));
    c.char_count = utf8::count_code_points(c.text);
    c.token_count = count_tokens(c.text);
    chunks.push_back(std::move(c));
    if (j == n)
      break;
    // The next chunk repeats the longest run of trailing pieces that fits
    // in `overlap` and still leaves room for the next new piece; it always
    // starts after i, so every chunk brings something new.
    size_t k = j;
    while (k - 1 > i && measure_run(k - 1, j - 1) <= opt.overlap &&
           measure_run(k - 1, j) <= opt.size)
      --k;
    i = k;
  }
  return chunks;
}

} // namespace distiller::documents
