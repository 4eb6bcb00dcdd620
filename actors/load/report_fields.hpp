#pragma once

/// Reading a load report's JSON with errors that name the field
/// ("report: missing summary.latency", "report: runs.0.rate is not a
/// number"): report_json.cpp reads reports with them, print_compare
/// (report.cpp) its numbers. Private to actors/load.

#include <cstdint>
#include <map>
#include <string>

#include <boost/json.hpp>

namespace distiller::load::detail {

/// `o[key]`; throws std::runtime_error naming `where` + `key` if missing.
const boost::json::value& field(const boost::json::object& o, const char* key,
                                const std::string& where);
/// field() that must be an object, an array, a string.
const boost::json::object& obj(const boost::json::object& o, const char* key,
                               const std::string& where);
const boost::json::array& arr(const boost::json::object& o, const char* key,
                              const std::string& where);
std::string str(const boost::json::object& o, const char* key,
                const std::string& where);

/// A number of any JSON kind; throws naming `what` otherwise.
double num(const boost::json::value& v, const std::string& what);
double num(const boost::json::object& o, const char* key,
           const std::string& where);

/// A count: a non-negative integer; throws naming `what` otherwise.
uint64_t count(const boost::json::value& v, const std::string& what);
uint64_t count(const boost::json::object& o, const char* key,
               const std::string& where);

/// An object of counts.
std::map<std::string, uint64_t>
counts(const boost::json::object& o, const char* key, const std::string& where);
boost::json::object counts_json(const std::map<std::string, uint64_t>& m);

} // namespace distiller::load::detail
