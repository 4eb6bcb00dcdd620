#include "actors/documents/text/sniff.hpp"

#include <algorithm>
#include <memory>

#include <magic.h>

namespace distiller::documents {

namespace {

struct magic_closer {
  void operator()(magic_set* m) const noexcept { magic_close(m); }
};
using magic_ptr = std::unique_ptr<magic_set, magic_closer>;

/// A loaded handle with `flags`, or null when libmagic cannot load its
/// database. MAGIC_NO_CHECK_COMPRESS: never inflate a compressed upload
/// just to describe it.
magic_ptr open_magic(int flags) {
  magic_ptr m(magic_open(flags | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR));
  if (m && magic_load(m.get(), nullptr) != 0)
    m.reset();
  return m;
}

std::string ask(magic_set* m, std::string_view bytes) {
  if (!m)
    return {};
  const char* answer = magic_buffer(m, bytes.data(), bytes.size());
  return answer ? answer : "";
}

} // namespace

sniffed_type sniff(std::string_view bytes) {
  thread_local magic_ptr mime = open_magic(MAGIC_MIME_TYPE);
  thread_local magic_ptr text = open_magic(MAGIC_NONE);
  bytes = bytes.substr(0, std::min<size_t>(bytes.size(), 1u << 20));
  sniffed_type out;
  out.media_type = ask(mime.get(), bytes);
  out.description = ask(text.get(), bytes);
  out.description = out.description.substr(0, out.description.find(','));
  return out;
}

} // namespace distiller::documents
