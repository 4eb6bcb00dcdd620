// The analyse agent: RAKE keywords, lexicon sentiment with negation and
// intensifiers, rule-based entities, dates and numbers.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "actors/thoughts/agents/builtin.hpp"
#include "actors/thoughts/agents/detail/agents.hpp"
#include "actors/thoughts/agents/detail/keywords.hpp"
#include "actors/thoughts/agents/detail/lexicon.hpp"

namespace distiller::thoughts::detail {

namespace {

namespace json = boost::json;

constexpr size_t max_keywords = 8;
constexpr size_t max_entities = 20;
constexpr size_t max_dates = 20;
constexpr size_t max_numbers = 50;
/// How far back a negator reaches: "not really that good".
constexpr size_t negation_window = 3;

bool one_of(std::string_view w, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), w) != list.end();
}

// -- sentiment ---------------------------------------------------------------

json::object sentiment(const prepared_thought& p) {
  double positive = 0, negative = 0; // weighted
  int64_t n_positive = 0, n_negative = 0;
  for (size_t s = 0; s < p.sentences.size(); ++s) {
    const auto [first, last] = p.sentence_words[s];
    const bool exclaims = p.sentences[s].text.ends_with("!");
    for (size_t i = first; i < last; ++i) {
      const std::string& w = p.words[i].folded;
      int pol = polarity(w);
      if (pol == 0)
        continue;
      // "super good": "super" intensifies, it is not a sentiment itself.
      if (intensity(w) != 1.0 && i + 1 < last &&
          polarity(p.words[i + 1].folded) != 0)
        continue;
      double weight = 1.0;
      if (i > first)
        weight *= intensity(p.words[i - 1].folded);
      bool negated = false;
      for (size_t k = i; k > first && i - k < negation_window; --k) {
        const std::string& before = p.words[k - 1].folded;
        if (before == "but")
          break;
        if (is_negator(before)) {
          negated = true;
          break;
        }
      }
      if (negated) {
        // "not bad" is weaker praise than "good".
        pol = -pol;
        weight *= 0.75;
      }
      if (exclaims)
        weight *= 1.2;
      if (pol > 0) {
        positive += weight;
        ++n_positive;
      } else {
        negative += weight;
        ++n_negative;
      }
    }
  }
  const double score = (positive - negative) / (positive + negative + 1.0);
  const char* label = "neutral";
  if (positive > 0 && negative > 0 &&
      std::min(positive, negative) / std::max(positive, negative) >= 0.5)
    label = "mixed";
  else if (score >= 0.15)
    label = "positive";
  else if (score <= -0.15)
    label = "negative";
  else if (positive > 0 && negative > 0)
    label = "mixed";
  json::object out;
  out["score"] = round_to(score);
  out["label"] = label;
  out["positive"] = n_positive;
  out["negative"] = n_negative;
  return out;
}

// -- entities ----------------------------------------------------------------

struct span {
  size_t begin = 0;
  size_t end = 0;
  std::string text;
  const char* type = "other";
};

bool inside(const std::vector<span>& spans, size_t begin, size_t end) {
  for (const auto& s : spans)
    if (begin < s.end && end > s.begin)
      return true;
  return false;
}

bool is_title(std::string_view folded) {
  return one_of(folded, {"mr", "mrs", "ms", "dr", "prof", "sir", "madam",
                         "herr", "frau", "mme", "mlle", "monsieur", "madame",
                         "miss", "professor", "doctor", "uncle", "aunt"});
}

/// The type a name's own words give it, or nullptr.
const char* type_by_words(const prepared_thought& p, size_t first,
                          size_t last) {
  const std::string& tail = p.words[last].folded;
  const std::string& head = p.words[first].folded;
  if (one_of(tail, {"inc",         "ltd",        "llc",          "gmbh",
                    "ag",          "corp",       "corporation",  "co",
                    "company",     "plc",        "sa",           "group",
                    "bank",        "university", "institute",    "foundation",
                    "association", "labs",       "technologies", "systems",
                    "studio",      "studios",    "agency",       "council",
                    "ministry",    "department", "college",      "hospital",
                    "airlines",    "church",     "club",         "team"}) ||
      one_of(head, {"university", "bank", "ministry", "department"}))
    return "organization";
  if (one_of(tail,
             {"city",     "street",    "st",     "avenue", "ave",
              "road",     "rd",        "river",  "lake",   "mount",
              "mountain", "mountains", "park",   "county", "island",
              "islands",  "beach",     "bay",    "valley", "station",
              "airport",  "square",    "bridge", "straße", "strasse",
              "platz",    "gasse",     "rue",    "lane",   "boulevard"}) ||
      one_of(head, {"mount", "lake", "saint", "san", "santa", "rue"}))
    return "place";
  if (is_title(head))
    return "person";
  const std::string& raw = p.words[first].text;
  if (first == last && raw.size() >= 3 && raw.size() <= 5 &&
      std::all_of(raw.begin(), raw.end(),
                  [](char c) { return c >= 'A' && c <= 'Z'; }))
    return "organization"; // an acronym: "NASA", "IBM"
  return nullptr;
}

/// The type the word before a name gives it ("in Paris", "with Sarah").
const char* type_by_context(const prepared_thought& p, size_t first,
                            size_t sentence_first) {
  if (first == sentence_first)
    return nullptr;
  const std::string& before = p.words[first - 1].folded;
  if (one_of(before, {"in", "to", "from", "near", "visit", "visiting", "nach",
                      "à", "en", "around", "across", "towards"}))
    return "place";
  if (one_of(before, {"at", "for", "join", "joined", "joining", "bei"}))
    return "organization";
  if (one_of(before,
             {"with",   "call",    "email",   "text",      "ask",     "tell",
              "meet",   "message", "phone",   "ping",      "thank",   "remind",
              "invite", "asked",   "told",    "met",       "called",  "and",
              "mit",    "avec",    "appeler", "contacter", "demander"}))
    return "person";
  return nullptr;
}

/// Words that start sentences or are capitalised for other reasons.
bool is_common_capital(const prepared_thought& p, const std::string& folded) {
  return is_stop_word(folded, p.language) || is_imperative_verb(folded) ||
         is_calendar_word(folded) ||
         one_of(folded,
                {"i",     "i'm",    "i'll", "i've", "i'd",      "todo", "asap",
                 "fyi",   "ok",     "okay", "eod",  "eow",      "ps",   "am",
                 "pm",    "tbd",    "btw",  "note", "reminder", "hi",   "hey",
                 "hello", "thanks", "yes",  "no",   "maybe",    "dear"});
}

std::vector<span> capitalised_names(const prepared_thought& p) {
  std::vector<span> out;
  std::vector<span> dates;
  for (const auto& d : p.dates)
    dates.push_back({d.phrase_begin, d.end, {}, nullptr});
  auto capital = [&](size_t i) {
    const auto& w = p.words[i];
    return w.kind == text::word_kind::letter &&
           text::starts_uppercase(w.text) && !p.in_link[i] &&
           !inside(dates, w.begin, w.end);
  };
  // German capitalises every noun: a lone capital is no name there.
  const bool nouns_capitalised = p.language == "de";
  for (size_t s = 0; s < p.sentences.size(); ++s) {
    const auto [first, last] = p.sentence_words[s];
    for (size_t i = first; i < last; ++i) {
      if (!capital(i))
        continue;
      size_t j = i;
      // Extend over capitals joined by spaces, "Dr. Smith", or a
      // connector between two capitals ("Bank of America").
      for (;;) {
        if (j + 1 >= last)
          break;
        const std::string_view g = gap_after(p, j);
        if (spaces_only_after(p, j) && capital(j + 1)) {
          ++j;
          continue;
        }
        if ((g == ". " || g == ".") && is_title(p.words[j].folded) &&
            capital(j + 1)) {
          ++j;
          continue;
        }
        if (j + 2 < last && spaces_only_after(p, j) &&
            spaces_only_after(p, j + 1) &&
            one_of(p.words[j + 1].folded,
                   {"of", "de", "du", "von", "van", "der", "la", "del"}) &&
            capital(j + 2)) {
          j += 2;
          continue;
        }
        break;
      }
      size_t a = i;
      const size_t b = j;
      i = j;
      const char* type = type_by_words(p, a, b);
      // Drop a capitalised sentence opener ("Call", "The") from the name.
      if (a == first && is_common_capital(p, p.words[a].folded)) {
        if (a == b)
          continue;
        ++a;
        type = type_by_words(p, a, b);
      }
      if (a == b && is_common_capital(p, p.words[a].folded))
        continue;
      // A lone capital at the start of a sentence is just the first word.
      if (a == first && a == b && !type)
        continue;
      if (!type)
        type = type_by_context(p, a, first);
      if (nouns_capitalised && a == b && !type)
        continue;
      const size_t begin = p.words[a].begin, end = p.words[b].end;
      out.push_back({begin, end,
                     text::collapse_whitespace(
                         std::string_view(p.text).substr(begin, end - begin)),
                     type ? type : "other"});
    }
  }
  return out;
}

json::array entities(const prepared_thought& p) {
  std::vector<span> all;
  for (const auto& l : p.links)
    all.push_back({l.begin, l.end, l.text, l.type});
  const auto names = capitalised_names(p);
  all.insert(all.end(), names.begin(), names.end());
  std::stable_sort(all.begin(), all.end(), [](const span& x, const span& y) {
    return x.begin < y.begin;
  });
  json::array out;
  std::set<std::string> seen;
  for (const auto& e : all) {
    if (out.size() == max_entities)
      break;
    if (!seen.insert(e.text).second)
      continue;
    out.emplace_back(json::object{{"text", e.text}, {"type", e.type}});
  }
  return out;
}

// -- dates and numbers -------------------------------------------------------

json::array dates(const prepared_thought& p) {
  json::array out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& d : p.dates) {
    if (!d.date || out.size() == max_dates)
      continue;
    const std::string day = format_date(*d.date);
    if (seen.emplace(d.text, day).second)
      out.emplace_back(json::object{{"text", d.text}, {"date", day}});
  }
  return out;
}

/// The value of a number word: any Unicode digits; "," and "." are
/// grouping or decimal separators as the grouping and the language say.
std::optional<double> number_value(std::string_view s,
                                   std::string_view language) {
  std::string digits; // ASCII digits and '.' / ',' as written
  int32_t i = 0;
  const auto* b = reinterpret_cast<const uint8_t*>(s.data());
  const auto len = static_cast<int32_t>(s.size());
  while (i < len) {
    UChar32 c;
    U8_NEXT(b, i, len, c);
    const int32_t d = c < 0 ? -1 : u_charDigitValue(c);
    if (d >= 0)
      digits.push_back(static_cast<char>('0' + d));
    else if (c == '.' || c == ',' || c == 0x066B || c == 0x066C)
      digits.push_back(c == ',' || c == 0x066C ? ',' : '.');
    else if (c != '\'' && c != 0x2019)
      return std::nullopt; // a digit group separator like 1'000 is fine
  }
  const size_t last_dot = digits.rfind('.'), last_comma = digits.rfind(',');
  const bool european = one_of(language, {"de", "fr", "es"});
  char decimal = 0;
  if (last_dot != std::string::npos && last_comma != std::string::npos)
    decimal = last_dot > last_comma ? '.' : ',';
  else if (last_dot != std::string::npos || last_comma != std::string::npos) {
    const char sep = last_dot != std::string::npos ? '.' : ',';
    const size_t pos = sep == '.' ? last_dot : last_comma;
    const size_t count =
        static_cast<size_t>(std::count(digits.begin(), digits.end(), sep));
    const bool groups_of_three = digits.size() - pos - 1 == 3;
    // "1,000" and "1.000.000" group; "3.5" and German "3,5" are decimals.
    if (count > 1 || (groups_of_three && (sep == ',') != european))
      decimal = sep == '.' ? ',' : '.';
    else
      decimal = sep;
  }
  std::string plain;
  for (char c : digits) {
    if (c >= '0' && c <= '9')
      plain.push_back(c);
    else if (c == decimal)
      plain.push_back('.');
  }
  if (plain.empty() || plain == ".")
    return std::nullopt;
  double value = 0;
  const auto [end, ec] =
      std::from_chars(plain.data(), plain.data() + plain.size(), value);
  if (ec != std::errc{} || end != plain.data() + plain.size() ||
      !std::isfinite(value))
    return std::nullopt;
  return value;
}

json::array numbers(const prepared_thought& p) {
  std::vector<span> skip;
  for (const auto& l : p.links)
    skip.push_back({l.begin, l.end, {}, nullptr});
  for (const auto& d : p.dates)
    skip.push_back({d.begin, d.end, {}, nullptr});
  json::array out;
  const std::string_view t = p.text;
  for (const auto& w : p.words) {
    if (w.kind != text::word_kind::number || inside(skip, w.begin, w.end))
      continue;
    auto value = number_value(w.text, p.language);
    if (!value)
      continue;
    size_t begin = w.begin, end = w.end;
    // "-5" (not "3-5"), "$20", "€20", "50%".
    if (begin > 0 && t[begin - 1] == '-' &&
        (begin == 1 || std::string_view(" \t\n(").find(t[begin - 2]) !=
                           std::string_view::npos)) {
      --begin;
      *value = -*value;
    }
    for (std::string_view currency : {"$", "€", "£", "¥"})
      if (t.substr(0, begin).ends_with(currency)) {
        begin -= currency.size();
        break;
      }
    if (end < t.size() && t[end] == '%')
      ++end;
    json::object n{{"text", std::string(t.substr(begin, end - begin))}};
    // Whole numbers print as integers ("3", not "3E0").
    if (std::abs(*value) < 9.0e15 && *value == std::floor(*value))
      n["value"] = static_cast<int64_t>(*value);
    else
      n["value"] = *value;
    out.emplace_back(std::move(n));
    if (out.size() == max_numbers)
      break;
  }
  return out;
}

} // namespace

boost::json::object analyse(const prepared_thought& p) {
  json::array keywords;
  for (const auto& k : extract_keywords(p, max_keywords))
    keywords.emplace_back(json::object{{"term", k.term}, {"score", k.score}});
  json::object out;
  out["keywords"] = std::move(keywords);
  out["sentiment"] = sentiment(p);
  out["entities"] = entities(p);
  out["dates"] = dates(p);
  out["numbers"] = numbers(p);
  out["words"] = static_cast<int64_t>(p.words.size());
  out["sentences"] = static_cast<int64_t>(p.sentences.size());
  out["language"] = p.language;
  return out;
}

} // namespace distiller::thoughts::detail

namespace distiller::thoughts {

boost::json::object analyse_thought(const agent_input& in) {
  return detail::analyse(detail::prepare(in.text, in.created_at));
}

} // namespace distiller::thoughts
