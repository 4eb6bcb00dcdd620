#include "bridges/http/router.hpp"

#include <algorithm>
#include <mutex>
#include <set>
#include <stdexcept>

#include "bridges/http/url.hpp"

namespace distiller::http {

namespace bhttp = boost::beast::http;

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> result;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto part = path.substr(0, slash);
    if (!part.empty())
      result.push_back(part);
    if (slash == std::string_view::npos)
      break;
    path = path.substr(slash + 1);
  }
  return result;
}

std::vector<route_entry::segment> parse_pattern(const std::string& pattern) {
  auto fail = [&pattern](const char* why) {
    throw std::invalid_argument("invalid route pattern \"" + pattern +
                                "\": " + why);
  };
  if (pattern.empty() || pattern.front() != '/')
    fail("it must start with '/'");
  std::vector<route_entry::segment> result;
  std::set<std::string> names;
  for (auto part : split_path(pattern)) {
    route_entry::segment seg;
    if (part.front() == '{') {
      if (part.back() != '}' || part.size() < 3)
        fail("a parameter segment is \"{name}\"");
      auto name = part.substr(1, part.size() - 2);
      if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
        seg.rest = true;
        name.remove_suffix(3);
      }
      if (name.empty() || name.find_first_of("{}/") != std::string_view::npos)
        fail("a parameter needs a plain name");
      seg.param = true;
      seg.text = std::string{name};
      if (!names.insert(seg.text).second)
        fail("a parameter name is used twice");
    } else {
      if (part.find_first_of("{}") != std::string_view::npos)
        fail("braces are allowed only around a whole segment");
      seg.text = std::string{part};
    }
    if (!result.empty() && result.back().rest)
      fail("\"{name...}\" must be the last segment");
    result.push_back(std::move(seg));
  }
  return result;
}

/// Matches `segs` (split, still encoded) against `route`; on success fills
/// `params` and `rank` (2 literal, 1 parameter, 0 rest, per segment).
bool match_route(const route_entry& route,
                 const std::vector<std::string_view>& segs,
                 std::map<std::string, std::string>& params,
                 std::vector<int>& rank) {
  params.clear();
  rank.clear();
  size_t i = 0;
  for (auto& seg : route.segments) {
    if (seg.rest) {
      std::string rest;
      for (size_t j = i; j < segs.size(); ++j) {
        if (j > i)
          rest += '/';
        rest += percent_decode(segs[j]);
      }
      params[seg.text] = std::move(rest);
      rank.push_back(0);
      return true;
    }
    if (i >= segs.size())
      return false;
    if (seg.param) {
      params[seg.text] = percent_decode(segs[i]);
      rank.push_back(1);
    } else {
      if (percent_decode(segs[i]) != seg.text)
        return false;
      rank.push_back(2);
    }
    ++i;
  }
  return i == segs.size();
}

} // namespace

access_level access_of(const route_options& opts, bhttp::verb method) {
  if (opts.access)
    return *opts.access;
  return method == bhttp::verb::get || method == bhttp::verb::head
             ? access_level::read
             : access_level::write;
}

void router::add(bhttp::verb method, std::string pattern, handler h,
                 route_options opts) {
  if (!h)
    throw std::invalid_argument("route " + pattern + " has no handler");
  auto entry = std::make_shared<route_entry>();
  entry->segments = parse_pattern(pattern);
  entry->method = method;
  entry->pattern = std::move(pattern);
  entry->fn = std::move(h);
  entry->options = opts;
  std::unique_lock guard{mtx_};
  for (auto& r : routes_)
    if (r->method == method && r->segments.size() == entry->segments.size() &&
        std::equal(r->segments.begin(), r->segments.end(),
                   entry->segments.begin(), [](auto& a, auto& b) {
                     return a.param == b.param && a.rest == b.rest &&
                            (a.param || a.text == b.text);
                   }))
      throw std::invalid_argument(
          "duplicate route " +
          std::string{std::string_view{bhttp::to_string(method)}} + " " +
          entry->pattern + " (already " + r->pattern + ")");
  routes_.push_back(std::move(entry));
}

route_match router::match(bhttp::verb method, std::string_view path) const {
  auto segs = split_path(path);
  route_match result;
  std::vector<int> best_rank;
  std::vector<int> rank;
  std::map<std::string, std::string> params;
  std::set<std::string_view> allowed;
  auto consider = [&](bhttp::verb wanted) {
    std::shared_lock guard{mtx_};
    for (auto& r : routes_) {
      if (!match_route(*r, segs, params, rank))
        continue;
      allowed.insert(bhttp::to_string(r->method));
      if (r->method == bhttp::verb::get)
        allowed.insert(bhttp::to_string(bhttp::verb::head));
      if (r->method != wanted)
        continue;
      if (!result.found() || rank > best_rank) {
        result.result = route_match::outcome::found;
        result.route = r;
        result.params = params;
        best_rank = rank;
      }
    }
  };
  consider(method);
  if (!result.found() && method == bhttp::verb::head)
    consider(bhttp::verb::get);
  if (result.found() || allowed.empty())
    return result;
  result.result = route_match::outcome::method_not_allowed;
  for (auto m : allowed) {
    if (!result.allow.empty())
      result.allow += ", ";
    result.allow += m;
  }
  // Keep a route on this path for the metrics label.
  std::shared_lock guard{mtx_};
  for (auto& r : routes_)
    if (match_route(*r, segs, params, rank)) {
      result.route = r;
      break;
    }
  return result;
}

response router::reject(const route_match& m, bhttp::verb method,
                        std::string_view method_text, std::string_view path) {
  std::string verb{method == bhttp::verb::unknown
                       ? method_text
                       : std::string_view{bhttp::to_string(method)}};
  if (m.result == route_match::outcome::method_not_allowed) {
    auto r = response::error(405, "method_not_allowed",
                             "method " + verb + " is not allowed for " +
                                 std::string{path} + "; allowed: " + m.allow);
    r.with_header("Allow", m.allow);
    return r;
  }
  return response::error(404, "not_found",
                         "no route for " + verb + " " + std::string{path});
}

std::vector<std::pair<bhttp::verb, std::string>> router::routes() const {
  std::shared_lock guard{mtx_};
  std::vector<std::pair<bhttp::verb, std::string>> result;
  for (auto& r : routes_)
    result.emplace_back(r->method, r->pattern);
  return result;
}

std::optional<access_level> router::access(bhttp::verb method,
                                           const std::string& pattern) const {
  std::shared_lock guard{mtx_};
  for (auto& r : routes_)
    if (r->method == method && r->pattern == pattern)
      return access_of(r->options, method);
  return std::nullopt;
}

} // namespace distiller::http
