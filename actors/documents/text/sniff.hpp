#pragma once

/// Content type detection through libmagic (the `file` command's library
/// and database): what the bytes of an upload are, whatever their name
/// says. `content_mismatch` (extract.hpp) compares it with the type the
/// extension promises.
///
/// Threads: safe from any thread; each thread opens its own libmagic handle
/// on first use (a handle is not thread-safe) and keeps it for its life.
/// Only the first 1 MiB is examined.
/// Failure: never throws; when libmagic or its database is missing, the
/// answer is "" (cannot tell), and nothing is refused for it.

#include <string>
#include <string_view>

namespace distiller::documents {

struct sniffed_type {
  /// "application/zip", "text/plain", …; "" when libmagic cannot tell.
  std::string media_type;
  /// libmagic's description up to its first comma ("Zip archive data").
  std::string description;
};

sniffed_type sniff(std::string_view bytes);

} // namespace distiller::documents
