#include "actors/documents/text/zip_archive.hpp"

#include <zip.h>

namespace distiller::documents {

namespace {

std::string libzip_message(zip_error_t* error) {
  std::string msg = zip_error_strerror(error);
  zip_error_fini(error);
  return msg;
}

struct file_closer {
  void operator()(zip_file_t* f) const noexcept { zip_fclose(f); }
};

} // namespace

void zip_archive::closer::operator()(zip* z) const noexcept {
  zip_discard(z); // read-only: nothing to write back
}

zip_archive::zip_archive(std::string_view bytes, const extract_limits& limits,
                         std::string what)
    : limits_(limits), what_(std::move(what)) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src =
      zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!src)
    throw extract_error("not a valid ZIP archive (" + what_ +
                        "): " + libzip_message(&error));
  zip* z = zip_open_from_source(src, ZIP_RDONLY, &error);
  if (!z) {
    zip_source_free(src); // only an opened archive owns its source
    throw extract_error(
        what_ + " is not a valid ZIP archive: " + libzip_message(&error));
  }
  zip_error_fini(&error);
  zip_.reset(z);
  const zip_int64_t entries = zip_get_num_entries(z, 0);
  if (entries < 0 ||
      static_cast<uint64_t>(entries) > limits_.max_archive_entries)
    throw extract_error(what_ + ": ZIP archive has " + std::to_string(entries) +
                        " entries; the limit is " +
                        std::to_string(limits_.max_archive_entries));
}

zip_archive::~zip_archive() = default;

bool zip_archive::contains(const std::string& name) const {
  return zip_name_locate(zip_.get(), name.c_str(), 0) >= 0;
}

std::optional<std::string> zip_archive::read(const std::string& name) {
  const zip_int64_t index = zip_name_locate(zip_.get(), name.c_str(), 0);
  if (index < 0)
    return std::nullopt;
  const auto i = static_cast<zip_uint64_t>(index);
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(zip_.get(), i, 0, &st) != 0)
    throw extract_error(what_ + ": ZIP entry '" + name +
                        "' is damaged: " + zip_strerror(zip_.get()));
  if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
      st.encryption_method != ZIP_EM_NONE)
    throw extract_error(what_ + ": ZIP entry '" + name + "' is encrypted");
  std::unique_ptr<zip_file_t, file_closer> file(
      zip_fopen_index(zip_.get(), i, 0));
  if (!file)
    throw extract_error(what_ + ": ZIP entry '" + name +
                        "' cannot be read: " + zip_strerror(zip_.get()));
  const uint64_t packed = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 0;
  std::string out;
  char buffer[64 * 1024];
  for (;;) {
    const zip_int64_t n = zip_fread(file.get(), buffer, sizeof buffer);
    if (n < 0)
      throw extract_error(what_ + ": ZIP entry '" + name +
                          "' is damaged: " + zip_file_strerror(file.get()));
    if (n == 0)
      break;
    out.append(buffer, static_cast<size_t>(n));
    unpacked_ += static_cast<uint64_t>(n);
    if (out.size() > limits_.max_entry_bytes)
      throw extract_error(what_ + ": ZIP entry '" + name +
                          "' unpacks to more than " +
                          std::to_string(limits_.max_entry_bytes) + " bytes");
    if (unpacked_ > limits_.max_unpacked_bytes)
      throw extract_error(what_ + ": the ZIP archive unpacks to more than " +
                          std::to_string(limits_.max_unpacked_bytes) +
                          " bytes");
    if (out.size() > (1u << 20) &&
        out.size() >
            limits_.max_compression_ratio * std::max<uint64_t>(packed, 1))
      throw extract_error(
          what_ + ": ZIP entry '" + name + "' is compressed more than " +
          std::to_string(limits_.max_compression_ratio) + "x (a ZIP bomb?)");
  }
  return out;
}

std::string zip_archive::require(const std::string& name) {
  auto bytes = read(name);
  if (!bytes)
    throw extract_error(what_ + ": the archive has no '" + name + "'");
  return std::move(*bytes);
}

} // namespace distiller::documents
