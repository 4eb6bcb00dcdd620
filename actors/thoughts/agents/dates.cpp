#include "actors/thoughts/agents/dates.hpp"

#include <cstdio>

#include "actors/thoughts/agents/detail/date_scanner.hpp"
#include "actors/thoughts/agents/detail/date_words.hpp"

namespace distiller::thoughts {

namespace chr = std::chrono;
using chr::sys_days;
using namespace detail;

std::optional<sys_days> parse_iso_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-')
    return std::nullopt;
  const auto y = s.substr(0, 4), m = s.substr(5, 2), d = s.substr(8, 2);
  if (!all_digits(y) || !all_digits(m) || !all_digits(d))
    return std::nullopt;
  return make_day(to_int(y), to_int(m), to_int(d));
}

std::optional<sys_days> reference_day(std::string_view rfc3339) {
  if (rfc3339.size() < 10)
    return std::nullopt;
  if (rfc3339.size() > 10 && rfc3339[10] != 'T' && rfc3339[10] != 't' &&
      rfc3339[10] != ' ')
    return std::nullopt;
  return parse_iso_date(rfc3339.substr(0, 10));
}

std::string format_date(sys_days day) {
  const chr::year_month_day ymd{day};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()));
  return buf;
}

bool is_calendar_word(std::string_view folded) {
  return weekday_of(folded, false) != 0 || month_of(folded) != 0;
}

std::vector<date_mention> find_dates(std::string_view text,
                                     const std::vector<text::word>& words,
                                     std::optional<sys_days> reference) {
  std::vector<date_mention> out;
  const scanner scan(text, words, reference);
  for (size_t i = 0; i < words.size(); ++i) {
    if (auto m = scan.at(i)) {
      out.push_back(scan.mention(*m));
      i = m->last;
    }
  }
  return out;
}

std::vector<date_mention> find_dates(std::string_view text,
                                     std::optional<sys_days> reference) {
  return find_dates(text, text::words(text), reference);
}

} // namespace distiller::thoughts
