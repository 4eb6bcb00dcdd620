#pragma once

/// A ZIP container read from memory through libzip, with the limits of
/// `extract_limits` applied while it is read: the entry count when it is
/// opened, and the bytes of each entry and of the whole archive as they
/// are inflated (the sizes the central directory declares are the
/// uploader's to choose, so they are never trusted), plus the compression
/// ratio. Internal to actors/documents/text (DOCX, ODT, EPUB).
///
/// Threads: one archive per call; libzip keeps no global state.
/// Ownership: the archive (and the libzip source over the caller's bytes,
/// which must outlive it) is owned by a `std::unique_ptr` with a deleter.
/// Failure: throws `extract_error` — "not a valid ZIP archive: …",
/// "ZIP archive has N entries; the limit is …", "ZIP entry '…' unpacks to
/// more than … bytes", "ZIP entry '…' is compressed more than …×
/// (a ZIP bomb?)", "ZIP entry '…' is encrypted", "ZIP entry '…' is
/// damaged: …".

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "actors/documents/text/extract.hpp"

struct zip;

namespace distiller::documents {

class zip_archive {
 public:
  /// `what` names the document in errors ("DOCX").
  zip_archive(std::string_view bytes, const extract_limits& limits,
              std::string what);
  ~zip_archive();
  zip_archive(const zip_archive&) = delete;
  zip_archive& operator=(const zip_archive&) = delete;

  /// Whether an entry of that exact name exists.
  bool contains(const std::string& name) const;

  /// The entry's bytes, or nullopt when there is no such entry.
  std::optional<std::string> read(const std::string& name);

  /// Like `read`, but a missing entry is an error naming it.
  std::string require(const std::string& name);

 private:
  struct closer {
    void operator()(zip* z) const noexcept;
  };
  std::unique_ptr<zip, closer> zip_;
  extract_limits limits_;
  std::string what_;
  uint64_t unpacked_ = 0; // bytes read from every entry so far
};

} // namespace distiller::documents
