#include "bridges/kafka/in_record.hpp"

#include <charconv>

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/message.hpp>

namespace distiller::kafka {

std::optional<std::string_view> in_record::header(std::string_view name) const {
  for (auto& h : headers)
    if (h.key == name)
      return std::string_view{h.value};
  return std::nullopt;
}

void append_origin(std::string& out, std::string_view topic, int32_t partition,
                   int64_t offset) {
  char buf[24]; // an int64_t has at most 20 characters
  out.append(topic);
  out += '/';
  out.append(buf, std::to_chars(buf, buf + sizeof(buf), partition).ptr);
  out += '@';
  out.append(buf, std::to_chars(buf, buf + sizeof(buf), offset).ptr);
}

std::string origin_of(const in_record& r) {
  std::string out;
  append_origin(out, r.topic, r.partition, r.offset);
  return out;
}

std::string to_string(record_errc x) {
  switch (x) {
  case record_errc::undecodable:
    return "undecodable";
  case record_errc::permanent:
    return "permanent";
  }
  return "record_errc(" + std::to_string(static_cast<int>(x)) + ")";
}

bool is_permanent(const caf::error& err) noexcept {
  return err && err.category() == caf::atom("record");
}

void add_record_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(caf::atom("record"), [](uint8_t code, caf::atom_value,
                                                 const caf::message& ctx) {
    // "record: permanent: unknown job job-4"; CAF's own rendering of the
    // context would read (("unknown job job-4")).
    auto text = "record: " + to_string(static_cast<record_errc>(code));
    for (size_t i = 0; i < ctx.size(); ++i)
      text += (i == 0 ? ": " : "; ") + (ctx.match_element<std::string>(i)
                                            ? ctx.get_as<std::string>(i)
                                            : ctx.cvals()->stringify(i));
    return text;
  });
}

} // namespace distiller::kafka
