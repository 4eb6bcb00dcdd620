#include "actors/documents/search/vector_index.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <system_error>

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

namespace distiller::documents::search {

namespace fs = std::filesystem;
using faiss_idx = faiss::Index::idx_t;

// -- FAISS objects ---------------------------------------------------------

struct vector_index::faiss_state {
  /// Owns its inner index (own_fields).
  std::unique_ptr<faiss::IndexIDMap2> map;
  /// The inner index when it is HNSW (for per-search parameters).
  const faiss::IndexHNSWFlat* hnsw = nullptr;
};

namespace {

constexpr char snapshot_magic[8] = {'D', 'S', 'T', 'V', 'I', 'D', 'X', '1'};
constexpr uint32_t snapshot_version = 2;

constexpr uint64_t fnv_offset = 14695981039346656037ull;

uint64_t fnv1a64(const uint8_t* data, size_t size, uint64_t h = fnv_offset) {
  for (size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 1099511628211ull;
  }
  return h;
}

/// Appends/reads fixed-size fields in host byte order.
class header_writer {
 public:
  template <class T>
  void put(T value) {
    auto* p = reinterpret_cast<const char*>(&value);
    bytes_.append(p, sizeof(T));
  }
  void put_bytes(const char* p, size_t n) { bytes_.append(p, n); }
  const std::string& bytes() const noexcept { return bytes_; }

 private:
  std::string bytes_;
};

class header_reader {
 public:
  header_reader(std::string_view bytes, const fs::path& path)
      : bytes_(bytes), path_(path) {}

  template <class T>
  T get() {
    T value;
    need(sizeof(T));
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string_view get_bytes(size_t n) {
    need(n);
    std::string_view out{bytes_.data() + pos_, n};
    pos_ += n;
    return out;
  }
  size_t remaining() const noexcept { return bytes_.size() - pos_; }
  size_t position() const noexcept { return pos_; }

 private:
  void need(size_t n) const {
    if (bytes_.size() - pos_ < n)
      throw vector_index_error("vector index snapshot " + path_.string() +
                               " is truncated");
  }
  std::string_view bytes_;
  const fs::path& path_;
  size_t pos_ = 0;
};

std::string errno_text(const std::string& what, const fs::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

/// Writes `parts` to a fresh file and fsyncs it.
void write_synced(const fs::path& path,
                  std::initializer_list<std::string_view> parts) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw vector_index_error(errno_text("cannot create", path));
  auto fail = [&](const char* what) {
    auto msg = errno_text(what, path);
    ::close(fd);
    ::unlink(path.c_str());
    throw vector_index_error(msg);
  };
  for (auto part : parts) {
    const char* p = part.data();
    size_t left = part.size();
    while (left > 0) {
      auto n = ::write(fd, p, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        fail("cannot write");
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  if (::fsync(fd) != 0)
    fail("cannot fsync");
  if (::close(fd) != 0) {
    auto msg = errno_text("cannot close", path);
    ::unlink(path.c_str());
    throw vector_index_error(msg);
  }
}

/// Makes a rename durable (best effort: some file systems refuse).
void sync_directory(const fs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(),
                  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void validate(const vector_index_config& cfg) {
  if (cfg.dimension == 0)
    throw std::invalid_argument("vector_index: dimension must be > 0");
  if (cfg.kind == index_kind::hnsw &&
      (cfg.hnsw_m < 1 || cfg.hnsw_ef_search < 1 ||
       cfg.hnsw_ef_construction < 1))
    throw std::invalid_argument(
        "vector_index: hnsw_m, hnsw_ef_search and hnsw_ef_construction must be "
        ">= 1");
}

} // namespace

std::string to_string(index_kind kind) {
  return kind == index_kind::hnsw ? "hnsw" : "flat";
}

std::optional<index_kind> parse_index_kind(std::string_view text) {
  if (text == "flat")
    return index_kind::flat;
  if (text == "hnsw")
    return index_kind::hnsw;
  return std::nullopt;
}

// -- construction ------------------------------------------------------------

vector_index::vector_index(vector_index_config cfg) : cfg_(cfg) {
  validate(cfg_);
  auto d = static_cast<faiss_idx>(cfg_.dimension);
  faiss_ = std::make_unique<faiss_state>();
  std::unique_ptr<faiss::Index> inner;
  if (cfg_.kind == index_kind::hnsw) {
    auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(
        d, cfg_.hnsw_m, faiss::METRIC_INNER_PRODUCT);
    hnsw->hnsw.efConstruction = cfg_.hnsw_ef_construction;
    hnsw->hnsw.efSearch = cfg_.hnsw_ef_search;
    faiss_->hnsw = hnsw.get();
    inner = std::move(hnsw);
  } else {
    inner = std::make_unique<faiss::IndexFlatIP>(d);
  }
  faiss_->map = std::make_unique<faiss::IndexIDMap2>(inner.get());
  faiss_->map->own_fields = true;
  inner.release();
}

vector_index::vector_index(vector_index_config cfg,
                           std::unique_ptr<faiss_state> state)
    : cfg_(cfg), faiss_(std::move(state)) {
  for (auto id : faiss_->map->id_map) {
    ids_.insert(id);
    if (!max_id_ || id > *max_id_)
      max_id_ = id;
  }
}

vector_index::~vector_index() = default;

std::shared_lock<std::shared_mutex> vector_index::read_lock() const {
  // Waits here while a writer holds the turnstile.
  { std::lock_guard pass{turnstile_}; }
  return std::shared_lock{mtx_};
}

void vector_index::check_dimension(size_t got, const char* what) const {
  if (got != cfg_.dimension)
    throw std::invalid_argument("vector_index: " + std::string{what} +
                                " has dimension " + std::to_string(got) +
                                ", the index has dimension " +
                                std::to_string(cfg_.dimension));
}

// -- writing -----------------------------------------------------------------

bool vector_index::add(int64_t id, std::span<const float> vector) {
  check_dimension(vector.size(), "vector");
  std::lock_guard turnstile{turnstile_}; // in this order, see read_lock
  std::unique_lock guard{mtx_};
  if (ids_.contains(id))
    return false;
  faiss_idx label = id;
  try {
    faiss_->map->add_with_ids(1, vector.data(), &label);
  } catch (const faiss::FaissException& e) {
    throw vector_index_error(std::string{"vector_index: add failed: "} +
                             e.what());
  }
  ids_.insert(id);
  if (!max_id_ || id > *max_id_)
    max_id_ = id;
  return true;
}

size_t vector_index::add_batch(
    const std::vector<std::pair<int64_t, std::vector<float>>>& items) {
  for (const auto& item : items)
    check_dimension(item.second.size(), "vector");
  std::lock_guard turnstile{turnstile_}; // in this order, see read_lock
  std::unique_lock guard{mtx_};
  std::vector<faiss_idx> labels;
  std::vector<float> data;
  std::unordered_set<int64_t> batch;
  for (const auto& [id, vec] : items) {
    if (ids_.contains(id) || !batch.insert(id).second)
      continue;
    labels.push_back(id);
    data.insert(data.end(), vec.begin(), vec.end());
  }
  if (labels.empty())
    return 0;
  try {
    faiss_->map->add_with_ids(static_cast<faiss_idx>(labels.size()),
                              data.data(), labels.data());
  } catch (const faiss::FaissException& e) {
    throw vector_index_error(std::string{"vector_index: add failed: "} +
                             e.what());
  }
  for (auto id : labels) {
    ids_.insert(id);
    if (!max_id_ || id > *max_id_)
      max_id_ = id;
  }
  return labels.size();
}

// -- reading -----------------------------------------------------------------

std::vector<scored_id> vector_index::search(std::span<const float> query,
                                            size_t k) const {
  check_dimension(query.size(), "query");
  auto guard = read_lock();
  const auto& map = *faiss_->map;
  auto n = std::min<size_t>(k, static_cast<size_t>(map.ntotal));
  if (n == 0)
    return {};
  std::vector<float> scores(n);
  std::vector<faiss_idx> labels(n);
  try {
    // The inner index is searched directly so HNSW gets per-call parameters
    // (efSearch >= k) without writing to the shared index; its labels are
    // positions, translated through the id map below.
    if (faiss_->hnsw) {
      faiss::SearchParametersHNSW params;
      params.efSearch = std::max(cfg_.hnsw_ef_search, static_cast<int>(n));
      faiss_->hnsw->search(1, query.data(), static_cast<faiss_idx>(n),
                           scores.data(), labels.data(), &params);
    } else {
      map.index->search(1, query.data(), static_cast<faiss_idx>(n),
                        scores.data(), labels.data());
    }
  } catch (const faiss::FaissException& e) {
    throw vector_index_error(std::string{"vector_index: search failed: "} +
                             e.what());
  }
  std::vector<scored_id> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto pos = labels[i];
    if (pos < 0 || static_cast<size_t>(pos) >= map.id_map.size())
      continue; // fewer reachable results than asked for
    out.push_back({map.id_map[static_cast<size_t>(pos)], scores[i]});
  }
  return out;
}

bool vector_index::contains(int64_t id) const {
  auto guard = read_lock();
  return ids_.contains(id);
}

size_t vector_index::size() const {
  auto guard = read_lock();
  return ids_.size();
}

std::optional<int64_t> vector_index::max_id() const {
  auto guard = read_lock();
  return max_id_;
}

// -- snapshots ---------------------------------------------------------------

void vector_index::save(const fs::path& path, std::string_view meta) const {
  faiss::VectorIOWriter payload;
  header_writer header;
  {
    auto guard = read_lock();
    try {
      faiss::write_index(faiss_->map.get(), &payload);
    } catch (const faiss::FaissException& e) {
      throw vector_index_error("vector_index: cannot serialise for " +
                               path.string() + ": " + e.what());
    }
    header.put_bytes(snapshot_magic, sizeof(snapshot_magic));
    header.put<uint32_t>(snapshot_version);
    header.put<uint32_t>(cfg_.kind == index_kind::hnsw ? 1 : 0);
    header.put<uint64_t>(cfg_.dimension);
    header.put<uint64_t>(ids_.size());
    header.put<uint8_t>(max_id_ ? 1 : 0);
    header.put<int64_t>(max_id_.value_or(0));
    header.put<int32_t>(cfg_.hnsw_m);
    header.put<int32_t>(cfg_.hnsw_ef_construction);
    header.put<int32_t>(cfg_.hnsw_ef_search);
  }
  header.put<uint64_t>(meta.size());
  header.put_bytes(meta.data(), meta.size());
  header.put<uint64_t>(payload.data.size());
  header.put<uint64_t>(fnv1a64(
      payload.data.data(), payload.data.size(),
      fnv1a64(reinterpret_cast<const uint8_t*>(meta.data()), meta.size())));
  auto tmp = path;
  tmp += ".tmp";
  write_synced(
      tmp, {header.bytes(),
            std::string_view{reinterpret_cast<const char*>(payload.data.data()),
                             payload.data.size()}});
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp);
    throw vector_index_error("vector_index: cannot rename " + tmp.string() +
                             " to " + path.string() + ": " + ec.message());
  }
  sync_directory(path.parent_path());
}

std::unique_ptr<vector_index> vector_index::load(const fs::path& path,
                                                 std::optional<int> ef_search,
                                                 std::string* meta) {
  // The whole file goes into the reader FAISS parses from (one copy of a
  // snapshot that may be hundreds of megabytes); the header is read from
  // its start and FAISS starts after it.
  faiss::VectorIOReader reader;
  {
    std::ifstream in{path, std::ios::binary | std::ios::ate};
    if (!in)
      throw vector_index_error(errno_text("cannot open", path));
    auto size = static_cast<size_t>(in.tellg());
    in.seekg(0);
    reader.data.resize(size);
    in.read(reinterpret_cast<char*>(reader.data.data()),
            static_cast<std::streamsize>(size));
    if (!in || static_cast<size_t>(in.gcount()) != size)
      throw vector_index_error(errno_text("cannot read", path));
  }
  auto corrupt = [&](const std::string& why) {
    return vector_index_error("vector index snapshot " + path.string() + ": " +
                              why);
  };
  header_reader r{
      std::string_view{reinterpret_cast<const char*>(reader.data.data()),
                       reader.data.size()},
      path};
  if (r.get_bytes(sizeof(snapshot_magic)) !=
      std::string_view{snapshot_magic, sizeof(snapshot_magic)})
    throw corrupt("not a snapshot (bad magic)");
  auto version = r.get<uint32_t>();
  if (version != snapshot_version)
    throw corrupt("unsupported format version " + std::to_string(version));
  vector_index_config cfg;
  auto kind = r.get<uint32_t>();
  if (kind > 1)
    throw corrupt("unknown index kind " + std::to_string(kind));
  cfg.kind = kind == 1 ? index_kind::hnsw : index_kind::flat;
  cfg.dimension = r.get<uint64_t>();
  auto count = r.get<uint64_t>();
  bool has_max = r.get<uint8_t>() != 0;
  auto max_id = r.get<int64_t>();
  cfg.hnsw_m = r.get<int32_t>();
  cfg.hnsw_ef_construction = r.get<int32_t>();
  auto saved_ef_search = r.get<int32_t>();
  cfg.hnsw_ef_search = ef_search.value_or(saved_ef_search);
  auto meta_size = r.get<uint64_t>();
  if (meta_size > r.remaining())
    throw corrupt("metadata of " + std::to_string(meta_size) +
                  " bytes runs past the end");
  auto saved_meta = r.get_bytes(meta_size);
  auto payload_size = r.get<uint64_t>();
  auto checksum = r.get<uint64_t>();
  if (r.remaining() != payload_size)
    throw corrupt("payload has " + std::to_string(r.remaining()) +
                  " bytes, the header says " + std::to_string(payload_size));
  reader.rp = r.position();
  if (fnv1a64(reader.data.data() + reader.rp, payload_size,
              fnv1a64(reinterpret_cast<const uint8_t*>(saved_meta.data()),
                      saved_meta.size())) != checksum)
    throw corrupt("checksum mismatch");
  if (meta)
    meta->assign(saved_meta);
  try {
    validate(cfg);
  } catch (const std::invalid_argument& e) {
    throw corrupt(e.what());
  }
  std::unique_ptr<faiss::Index> index;
  try {
    index.reset(faiss::read_index(&reader));
  } catch (const faiss::FaissException& e) {
    throw corrupt(std::string{"FAISS cannot read it: "} + e.what());
  }
  auto state = std::make_unique<faiss_state>();
  state->map.reset(dynamic_cast<faiss::IndexIDMap2*>(index.get()));
  if (!state->map)
    throw corrupt("not an IndexIDMap2");
  index.release();
  auto& map = *state->map;
  if (static_cast<size_t>(map.d) != cfg.dimension)
    throw corrupt("FAISS dimension " + std::to_string(map.d) +
                  " differs from the header's " +
                  std::to_string(cfg.dimension));
  if (static_cast<uint64_t>(map.ntotal) != count || map.id_map.size() != count)
    throw corrupt("holds " + std::to_string(map.ntotal) +
                  " vectors, the header says " + std::to_string(count));
  if (cfg.kind == index_kind::hnsw) {
    auto* hnsw = dynamic_cast<faiss::IndexHNSWFlat*>(map.index);
    if (!hnsw || hnsw->metric_type != faiss::METRIC_INNER_PRODUCT)
      throw corrupt("header says hnsw, FAISS holds something else");
    hnsw->hnsw.efSearch = cfg.hnsw_ef_search;
    state->hnsw = hnsw;
  } else if (!dynamic_cast<faiss::IndexFlatIP*>(map.index)) {
    throw corrupt("header says flat, FAISS holds something else");
  }
  auto result =
      std::unique_ptr<vector_index>(new vector_index(cfg, std::move(state)));
  if (result->ids_.size() != count)
    throw corrupt("repeated vector ids");
  if (result->max_id_.has_value() != has_max ||
      (has_max && *result->max_id_ != max_id))
    throw corrupt("max id does not match the stored ids");
  return result;
}

} // namespace distiller::documents::search
