#include "actors/thoughts/agents/results.hpp"

#include <array>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace distiller::thoughts {

namespace {

using ft = field_type;

constexpr std::string_view categories = "idea|task|question|concern|reflection";
constexpr std::string_view priorities = "low|medium|high";

constexpr std::array<field_spec, 4> classify_fields{{
    {"category", ft::string, categories},
    {"confidence", ft::unit, {}},
    {"scores", ft::object, {}},
    {"signals", ft::array, {}},
}};

constexpr std::array<field_spec, 7> analyse_fields{{
    {"keywords", ft::array, {}},
    {"sentiment", ft::object, {}},
    {"entities", ft::array, {}},
    {"dates", ft::array, {}},
    {"numbers", ft::array, {}},
    {"words", ft::count, {}},
    {"sentences", ft::count, {}},
}};

constexpr std::array<field_spec, 6> value_fields{{
    {"importance", ft::unit, {}},
    {"urgency", ft::unit, {}},
    {"actionability", ft::unit, {}},
    {"score", ft::unit, {}},
    {"priority", ft::string, priorities},
    {"reasons", ft::array, {}},
}};

constexpr std::array<field_spec, 2> plan_fields{{
    {"actions", ft::array, {}},
    {"next_step", ft::string_or_null, {}},
}};

constexpr std::array<field_spec, 5> summarise_fields{{
    {"title", ft::string, {}},
    {"summary", ft::string, {}},
    {"category", ft::string, categories},
    {"priority", ft::string, priorities},
    {"action_count", ft::count, {}},
}};

bool allowed(std::string_view list, std::string_view value) {
  while (!list.empty()) {
    const size_t bar = list.find('|');
    if (list.substr(0, bar) == value)
      return true;
    if (bar == std::string_view::npos)
      break;
    list.remove_prefix(bar + 1);
  }
  return false;
}

const char* type_name(field_type t) {
  switch (t) {
  case ft::string:
    return "a string";
  case ft::string_or_null:
    return "a string or null";
  case ft::number:
    return "a number";
  case ft::count:
    return "a non-negative integer";
  case ft::unit:
    return "a number from 0 to 1";
  case ft::array:
    return "an array";
  case ft::object:
    return "an object";
  }
  return "?";
}

bool has_type(const boost::json::value& v, field_type t) {
  switch (t) {
  case ft::string:
    return v.is_string();
  case ft::string_or_null:
    return v.is_string() || v.is_null();
  case ft::number:
    return v.is_number();
  case ft::count:
    if (v.is_int64())
      return v.get_int64() >= 0;
    if (v.is_uint64())
      return true;
    // Models write 2.0 for 2; accept whole numbers.
    return v.is_double() && v.get_double() >= 0 &&
           v.get_double() ==
               static_cast<double>(static_cast<long long>(v.get_double()));
  case ft::unit: {
    if (!v.is_number())
      return false;
    boost::json::error_code ec;
    const double x = v.to_number<double>(ec);
    return !ec && x >= 0 && x <= 1;
  }
  case ft::array:
    return v.is_array();
  case ft::object:
    return v.is_object();
  }
  return false;
}

} // namespace

std::span<const field_spec> result_fields(agent_kind k) noexcept {
  switch (k) {
  case agent_kind::classify:
    return classify_fields;
  case agent_kind::analyse:
    return analyse_fields;
  case agent_kind::value:
    return value_fields;
  case agent_kind::plan:
    return plan_fields;
  case agent_kind::summarise:
    return summarise_fields;
  }
  return {};
}

std::string check_result(agent_kind k, const boost::json::object& result) {
  for (const auto& f : result_fields(k)) {
    const auto* v = result.if_contains(f.name);
    if (!v)
      return "missing field '" + std::string(f.name) + "'";
    if (!has_type(*v, f.type))
      return "field '" + std::string(f.name) + "' is not " + type_name(f.type);
    if (!f.allowed.empty() && v->is_string() &&
        !allowed(f.allowed, v->get_string()))
      return "field '" + std::string(f.name) + "' is " +
             boost::json::serialize(*v) + ", expected " +
             std::string(f.allowed);
  }
  return {};
}

} // namespace distiller::thoughts
