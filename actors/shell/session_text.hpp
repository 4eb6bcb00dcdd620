#pragma once

/// The words and text helpers of the shell's session (session.cpp): looking
/// a command up, the usage error its parser throws, and how answers become
/// cells and tables. Private to actors/shell; `commands()` and
/// `split_commands()` are public in session.hpp.

#include <cstdint>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "actors/shell/session.hpp"

namespace distiller::shell::detail {

/// The command `name` (or its alias: exit → quit), or null.
const command_info* find_command(const std::string& name);

/// A command used wrongly: its message is printed with the command's use.
struct usage_error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// `v` as an integer in lo..hi; usage_error naming `what` otherwise.
int64_t positive(const std::string& what, const std::string& v, int64_t lo,
                 int64_t hi);

/// A JSON value as a cell: strings as they are, numbers (one decimal for
/// doubles), yes/no, "-" for null, arrays comma-separated.
std::string text(const boost::json::value* v);

/// text() of `row[key]`; "" if `row` is not an object.
std::string field(const boost::json::value& row, const char* key);

/// `body[key]` if it is an array, else an empty one.
const boost::json::array& array_of(const boost::json::object& body,
                                   const char* key);

/// Columns padded to their widest cell; numbers right-aligned.
void print_table(std::ostream& out, const std::vector<std::string>& head,
                 const std::vector<std::vector<std::string>>& rows);

/// Seconds since `rfc3339` (UTC, as the nodes write it), or -1.
int64_t age_s(const std::string& rfc3339);

/// 42s, 5m, 3h7m, 2d; "?" for a negative age.
std::string duration_text(int64_t s);

} // namespace distiller::shell::detail

namespace distiller::shell {

/// A command line as the session parsed it: the command, its positional
/// arguments and its --options.
struct session::parsed {
  const command_info* cmd = nullptr;
  std::vector<std::string> args;
  std::map<std::string, std::string> opts;
  bool json = false;

  std::string opt(const std::string& k) const {
    auto i = opts.find(k);
    return i == opts.end() ? "" : i->second;
  }
};

} // namespace distiller::shell
