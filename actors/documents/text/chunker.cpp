#include "actors/documents/text/chunker.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

#include "actors/documents/text/utf8.hpp"

namespace distiller::documents {

namespace {

// -- characters -------------------------------------------------------------

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

bool is_terminator(char c) noexcept {
  return c == '.' || c == '!' || c == '?';
}

/// Length of a closing quote or bracket at `pos`, or 0.
size_t closer_length(std::string_view s, size_t pos) {
  const char c = s[pos];
  if (c == '"' || c == '\'' || c == ')' || c == ']')
    return 1;
  if (static_cast<unsigned char>(c) < 0x80)
    return 0;
  // ” ’ » 」 』 ）
  static constexpr std::array<std::string_view, 6> closers = {
      "\xE2\x80\x9D", "\xE2\x80\x99", "\xC2\xBB",
      "\xE3\x80\x8D", "\xE3\x80\x8F", "\xEF\xBC\x89"};
  for (auto closer : closers)
    if (s.compare(pos, closer.size(), closer) == 0)
      return closer.size();
  return 0;
}

/// Length of an opening quote or bracket at `pos`, or 0.
size_t opener_length(std::string_view s, size_t pos) {
  const char c = s[pos];
  if (c == '"' || c == '\'' || c == '(' || c == '[')
    return 1;
  if (static_cast<unsigned char>(c) < 0x80)
    return 0;
  // “ ‘ « ¿ ¡ 「 『
  static constexpr std::array<std::string_view, 7> openers = {
      "\xE2\x80\x9C", "\xE2\x80\x98", "\xC2\xAB",    "\xC2\xBF",
      "\xC2\xA1",     "\xE3\x80\x8C", "\xE3\x80\x8E"};
  for (auto opener : openers)
    if (s.compare(pos, opener.size(), opener) == 0)
      return opener.size();
  return 0;
}

/// Length of '。', '！' or '？' at `pos`, or 0.
size_t cjk_terminator_length(std::string_view s, size_t pos) {
  const auto lead = static_cast<unsigned char>(s[pos]);
  if (lead != 0xE3 && lead != 0xEF) // the hot path: every byte asks
    return 0;
  static constexpr std::array<std::string_view, 3> marks = {
      "\xE3\x80\x82", "\xEF\xBC\x81", "\xEF\xBC\x9F"};
  for (auto mark : marks)
    if (s.compare(pos, mark.size(), mark) == 0)
      return mark.size();
  return 0;
}

/// Whether code point `cp` may begin a sentence: an upper-case letter of
/// the Latin, Greek or Cyrillic alphabets, a digit, or a letter of a script
/// without case (Hebrew, Arabic, CJK, …).
bool starts_sentence(char32_t cp) noexcept {
  if (cp < 0x80)
    return (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  if (cp >= 0xC0 && cp <= 0xDE)
    return cp != 0xD7;
  if (cp >= 0x100 && cp <= 0x17F) // Latin Extended-A pairs upper, lower
    return cp % 2 == 0;
  if (cp >= 0x391 && cp <= 0x3A9)
    return true;
  if (cp >= 0x400 && cp <= 0x42F)
    return true;
  return (cp >= 0x590 && cp <= 0x6FF) || cp >= 0x2E80;
}

bool starts_sentence_at(std::string_view s, size_t pos) {
  while (pos < s.size()) {
    size_t open = opener_length(s, pos);
    if (open == 0)
      break;
    pos += open;
  }
  if (pos >= s.size())
    return false;
  auto d = utf8::decode(s, pos);
  return d.valid && starts_sentence(d.cp);
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Whether the '.' at `dot` ends an abbreviation rather than a sentence;
/// `next` is the first visible character after it.
bool is_abbreviation(std::string_view s, size_t dot, size_t next) {
  size_t begin = dot;
  while (begin > 0 && !is_space(s[begin - 1]))
    --begin;
  while (begin < dot && opener_length(s, begin) > 0)
    begin += opener_length(s, begin);
  std::string_view word = s.substr(begin, dot - begin);
  if (word.empty())
    return false;
  // An initial: "J. Smith".
  if (word.size() == 1 && std::isupper(static_cast<unsigned char>(word[0])))
    return true;
  const std::string w = lower_ascii(word);
  static constexpr std::array<std::string_view, 36> always = {
      "mr",  "mrs", "ms",  "dr",  "prof", "sr",   "jr",   "st",   "vs",
      "cf",  "e.g", "i.e", "al",  "inc",  "ltd",  "corp", "dept", "approx",
      "ca",  "mt",  "gen", "col", "capt", "sgt",  "rev",  "jan",  "feb",
      "apr", "jun", "jul", "aug", "sep",  "sept", "oct",  "nov",  "dec"};
  if (std::find(always.begin(), always.end(), w) != always.end())
    return true;
  // Words that abbreviate only before a number: "No. 5", "Fig. 3".
  static constexpr std::array<std::string_view, 13> before_number = {
      "no", "nos", "fig", "figs", "vol", "vols", "pp",
      "p",  "eq",  "eqs", "sec",  "ch",  "art"};
  if (std::isdigit(static_cast<unsigned char>(s[next])) &&
      std::find(before_number.begin(), before_number.end(), w) !=
          before_number.end())
    return true;
  // Dotted letters: "U.S", "Ph.D", "a.m".
  if (w.find('.') != std::string::npos) {
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
  return false;
}

/// Sentence slices as byte ranges, trimmed, none empty.
struct span {
  size_t begin;
  size_t end;
};

std::vector<span> sentence_spans(std::string_view s) {
  std::vector<span> spans;
  size_t start = 0;
  auto emit = [&](size_t end) {
    size_t b = start;
    size_t e = end;
    while (b < e && is_space(s[b]))
      ++b;
    while (e > b && is_space(s[e - 1]))
      --e;
    if (b < e)
      spans.push_back({b, e});
    start = end;
  };
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const char c = s[i];
    if (c == '\n') {
      // A paragraph break: a line with nothing but spaces in between.
      size_t j = i + 1;
      while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r'))
        ++j;
      if (j < n && s[j] == '\n')
        emit(i);
      i = j;
      continue;
    }
    if (size_t cjk = cjk_terminator_length(s, i)) {
      size_t j = i + cjk;
      while (j < n && (cjk_terminator_length(s, j) || closer_length(s, j)))
        j += std::max(cjk_terminator_length(s, j), closer_length(s, j));
      emit(j);
      i = j;
      continue;
    }
    if (!is_terminator(c)) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && is_terminator(s[j]))
      ++j;
    const bool single_dot = j == i + 1 && c == '.';
    while (j < n && closer_length(s, j) > 0)
      j += closer_length(s, j);
    if (j >= n || !is_space(s[j])) {
      i = j; // "3.14", "example.com", or the end of the text
      continue;
    }
    size_t next = j;
    while (next < n && is_space(s[next]))
      ++next;
    if (next < n && starts_sentence_at(s, next) &&
        !(single_dot && is_abbreviation(s, i, next)))
      emit(j);
    i = j;
  }
  emit(n);
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
