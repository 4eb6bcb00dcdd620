// The index role's two indexes over their lifetime (pipeline_state.hpp):
// opened at start from their snapshots plus the chunks embedded after the
// snapshots' mark, or rebuilt from PostgreSQL; caught up and saved again by
// the snapshotter (a detached actor: saving blocks) and at a clean stop.
// The rules (mark, identity, policy) are index_snapshots.hpp's; the design
// is in docs/document-pipeline.md, "Index snapshots".

#include <algorithm>
#include <chrono>

#include <caf/all.hpp>
#include <prometheus/gauge.h>

#include "actors/documents/pipeline_state.hpp"
#include "actors/documents/type_ids.hpp"
#include "runtime/logging/log.hpp"

namespace distiller::documents {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using detail::snapshot_tick_atom; // type_ids.hpp

/// Rows read per page when the indexes are filled from PostgreSQL.
constexpr int page_rows = 2000;

long long ms_since(steady::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() -
                                                               t0)
      .count();
}

fs::path dense_path(const index_snapshots& s) {
  return s.dir / "dense.snapshot";
}

fs::path sparse_path(const index_snapshots& s) {
  return s.dir / "sparse";
}

/// "flat" or "hnsw-m32": the structure a dense snapshot must have.
std::string dense_kind(const search::vector_index_config& c) {
  return c.kind == search::index_kind::hnsw
             ? "hnsw-m" + std::to_string(c.hnsw_m)
             : "flat";
}

search::vector_index_config dense_config(const pipeline_state& st) {
  search::vector_index_config ic;
  ic.dimension = st.model->dimension();
  ic.kind = *search::parse_index_kind(st.cfg.index_kind);
  ic.hnsw_m = st.cfg.hnsw_m;
  ic.hnsw_ef_search = st.cfg.hnsw_ef_search;
  return ic;
}

search::sparse_index_config sparse_config(const pipeline_state& st) {
  search::sparse_index_config sc;
  sc.k1 = st.cfg.bm25_k1;
  sc.b = st.cfg.bm25_b;
  return sc;
}

void ignored(const char* index, const fs::path& path, const std::string& why) {
  log::warn("index_snapshot_ignored",
            {{"index", index}, {"path", path.string()}, {"reason", why}});
}

/// Adds `chunks` to both indexes (known ids are skipped by each).
std::pair<size_t, size_t> add_chunks(pipeline_state& st,
                                     std::vector<indexed_chunk>& chunks) {
  std::vector<std::pair<int64_t, std::vector<float>>> items;
  std::vector<std::pair<int64_t, std::string>> texts;
  items.reserve(chunks.size());
  texts.reserve(chunks.size());
  size_t skipped = 0;
  for (auto& c : chunks) {
    texts.emplace_back(c.vector_id, std::move(c.text));
    if (c.embedding.size() != st.index->dimension()) {
      if (skipped++ == 0)
        log::warn("index_vector_skipped",
                  {{"chunk_id", c.chunk_id},
                   {"dimension", c.embedding.size()},
                   {"expected", st.index->dimension()}});
      continue;
    }
    items.emplace_back(c.vector_id, std::move(c.embedding));
  }
  return {st.index->add_batch(items), st.sparse->add_batch(texts)};
}

/// The dense snapshot if it serves this node, else null (logged).
std::unique_ptr<search::vector_index>
load_dense(pipeline_state& st, const search::vector_index_config& want,
           snapshot_meta& meta) {
  auto path = dense_path(st.snapshots);
  std::error_code ec;
  if (!fs::exists(path, ec))
    return nullptr;
  try {
    std::string bytes;
    auto ix = search::vector_index::load(path, want.hnsw_ef_search, &bytes);
    auto m = decode_meta(bytes);
    if (!m) {
      ignored("dense", path, "no snapshot metadata");
      return nullptr;
    }
    if (auto why = mismatch(m->identity, st.snapshots.dense); !why.empty()) {
      ignored("dense", path, why);
      return nullptr;
    }
    // The FAISS header's own view must agree with the metadata.
    if (ix->dimension() != want.dimension || ix->config().kind != want.kind ||
        (want.kind == search::index_kind::hnsw &&
         ix->config().hnsw_m != want.hnsw_m)) {
      ignored("dense", path, "the index's header disagrees with its metadata");
      return nullptr;
    }
    meta = *m;
    return ix;
  } catch (const search::vector_index_error& e) {
    ignored("dense", path, e.what());
    return nullptr;
  }
}

/// The persistent sparse index, with its metadata when it serves this node
/// (else emptied: logged).
std::unique_ptr<search::sparse_index>
open_sparse(pipeline_state& st, std::optional<snapshot_meta>& meta) {
  auto dir = sparse_path(st.snapshots);
  auto cfg = sparse_config(st);
  std::unique_ptr<search::sparse_index> ix;
  try {
    ix = std::make_unique<search::sparse_index>(cfg, dir);
  } catch (const search::sparse_index_error& e) {
    ignored("sparse", dir, e.what());
    search::sparse_index::remove_files(dir);
    return std::make_unique<search::sparse_index>(cfg, dir);
  }
  auto bytes = ix->meta();
  if (bytes.empty() && ix->size() == 0)
    return ix; // new
  std::string why;
  auto m = decode_meta(bytes);
  if (!m)
    why = "no snapshot metadata";
  else
    why = mismatch(m->identity, st.snapshots.sparse);
  if (why.empty()) {
    meta = *m;
    return ix;
  }
  ignored("sparse", dir, why);
  ix.reset();
  search::sparse_index::remove_files(dir);
  return std::make_unique<search::sparse_index>(cfg, dir);
}

} // namespace

// -- filling ------------------------------------------------------------------

size_t rebuild_index(pipeline_state& st) {
  size_t read = 0;
  int64_t after = 0;
  for (;;) {
    auto page = st.store->embedded_chunks_after(after, page_rows);
    if (page.empty())
      break;
    after = std::max(after, page.back().vector_id);
    read += page.size();
    add_chunks(st, page);
  }
  return read;
}

catch_up_result catch_up(pipeline_state& st, pg_micros since) {
  catch_up_result r;
  // The clock first: every row stamped before the mark is visible to the
  // read that follows (index_snapshots.hpp).
  auto clock = st.store->read_clock();
  r.mark =
      mark_after_read(clock.now, clock.oldest_open,
                      std::chrono::duration_cast<std::chrono::microseconds>(
                          st.cfg.snapshot_margin));
  auto ids = st.store->embedded_ids_since(since);
  r.read = ids.size();
  std::vector<int64_t> missing;
  for (auto id : ids)
    if (!st.index->contains(id) || !st.sparse->contains(id))
      missing.push_back(id);
  std::sort(missing.begin(), missing.end());
  for (size_t at = 0; at < missing.size(); at += page_rows) {
    auto end = std::min(missing.size(), at + page_rows);
    auto chunks = st.store->embedded_chunks_by_ids(
        {missing.begin() + static_cast<ptrdiff_t>(at),
         missing.begin() + static_cast<ptrdiff_t>(end)});
    auto [dense, sparse] = add_chunks(st, chunks);
    r.dense_added += dense;
    r.sparse_added += sparse;
  }
  return r;
}

void update_index_gauges(pipeline_state& st) {
  if (st.dense_entries && st.index)
    st.dense_entries->Set(static_cast<double>(st.index->size()));
  if (st.sparse_entries && st.sparse)
    st.sparse_entries->Set(static_cast<double>(st.sparse->size()));
}

// -- opening ------------------------------------------------------------------

void open_indexes(pipeline_state& st) {
  auto t0 = steady::now();
  auto want = dense_config(st);
  auto& snap = st.snapshots;
  std::lock_guard<std::mutex> guard{snap.mtx};
  if (snap.dir.empty()) {
    st.index = std::make_unique<search::vector_index>(want);
    st.sparse = std::make_unique<search::sparse_index>(sparse_config(st));
    auto read = rebuild_index(st);
    update_index_gauges(st);
    log::info("index_ready", {{"source", "rebuild"},
                              {"snapshots", false},
                              {"kind", st.cfg.index_kind},
                              {"dimension", want.dimension},
                              {"dense", st.index->size()},
                              {"sparse", st.sparse->size()},
                              {"read", read},
                              {"duration_ms", ms_since(t0)}});
    return;
  }
  auto database = st.store->database_id();
  snap.dense = {database, st.model->model(), want.dimension, dense_kind(want)};
  snap.sparse = {database, "", 0, search::sparse_analyzer};

  snapshot_meta dense_meta;
  st.index = load_dense(st, want, dense_meta);
  bool dense_ok = st.index != nullptr;
  if (!st.index)
    st.index = std::make_unique<search::vector_index>(want);
  std::optional<snapshot_meta> sparse_meta;
  st.sparse = open_sparse(st, sparse_meta);
  auto load_ms = ms_since(t0);
  size_t loaded = st.index->size() + st.sparse->size();

  const char* source = "snapshot";
  size_t read = 0;
  size_t dense_before = st.index->size();
  size_t sparse_before = st.sparse->size();
  if (dense_ok && sparse_meta) {
    // Both serve: the chunks after the older mark.
    auto r = catch_up(st, std::min(dense_meta.mark, sparse_meta->mark));
    snap.mark = r.mark;
    read = r.read;
  } else {
    // Everything, into whichever lacks it; the mark is read first.
    source = "rebuild";
    auto clock = st.store->read_clock();
    snap.mark =
        mark_after_read(clock.now, clock.oldest_open,
                        std::chrono::duration_cast<std::chrono::microseconds>(
                            st.cfg.snapshot_margin));
    read = rebuild_index(st);
    loaded = 0; // the next snapshot is due at once
  }
  snap.policy.emplace(st.cfg.snapshot_interval,
                      static_cast<size_t>(st.cfg.snapshot_every), steady::now(),
                      loaded);
  update_index_gauges(st);
  log::info("index_ready", {{"source", source},
                            {"snapshots", true},
                            {"kind", st.cfg.index_kind},
                            {"dimension", want.dimension},
                            {"dense", st.index->size()},
                            {"sparse", st.sparse->size()},
                            {"read", read},
                            {"added_dense", st.index->size() - dense_before},
                            {"added_sparse", st.sparse->size() - sparse_before},
                            {"load_ms", load_ms},
                            {"duration_ms", ms_since(t0)}});
}

// -- saving -------------------------------------------------------------------

bool snapshot_indexes(pipeline_state& st, const char* reason) {
  auto& snap = st.snapshots;
  if (snap.dir.empty() || !st.index || !st.sparse)
    return false;
  std::lock_guard<std::mutex> guard{snap.mtx};
  if (!snap.policy)
    return false;
  auto entries = [&] {
    return st.index->size() + st.sparse->size();
  };
  if (snap.policy->pending(entries()) == 0)
    return false;
  auto t0 = steady::now();
  size_t added = 0;
  try {
    auto r = catch_up(st, snap.mark);
    snap.mark = r.mark;
    added = r.dense_added + r.sparse_added;
  } catch (const store_error& e) {
    // The old mark still holds for what the indexes have.
    log::warn("index_catch_up_failed", {{"error", e.what()}});
  }
  try {
    std::error_code ec;
    fs::create_directories(snap.dir, ec);
    auto now = steady::now();
    auto total = entries();
    snapshot_meta dense{snap.dense, snap.mark, st.index->size()};
    st.index->save(dense_path(snap), encode_meta(dense));
    snapshot_meta sparse{snap.sparse, snap.mark, st.sparse->size()};
    st.sparse->commit(encode_meta(sparse));
    snap.policy->saved(now, total);
    update_index_gauges(st);
    log::info("index_snapshot_saved", {{"reason", reason},
                                       {"dense", dense.entries},
                                       {"sparse", sparse.entries},
                                       {"caught_up", added},
                                       {"mark", snap.mark},
                                       {"duration_ms", ms_since(t0)}});
    return true;
  } catch (const std::exception& e) {
    log::error(
        "index_snapshot_failed",
        {{"reason", reason}, {"dir", snap.dir.string()}, {"error", e.what()}});
    return false;
  }
}

snapshotter_actor spawn_index_snapshotter(caf::actor_system& sys,
                                          std::shared_ptr<pipeline_state> st,
                                          inspect::actor_entry_ptr entry) {
  auto tick =
      std::min<std::chrono::milliseconds>(1s, st->cfg.snapshot_interval);
  return sys.spawn<caf::detached>(
      [tick](
          snapshotter_actor::pointer self, std::shared_ptr<pipeline_state> st,
          inspect::actor_entry_ptr entry) -> snapshotter_actor::behavior_type {
        if (entry)
          entry->set_state("running");
        self->delayed_send(self, tick, snapshot_tick_atom::value);
        return {
            [self, st, entry, tick](snapshot_tick_atom) {
              bool due = false;
              {
                std::lock_guard<std::mutex> guard{st->snapshots.mtx};
                auto entries = st->index->size() + st->sparse->size();
                due = st->snapshots.policy &&
                      st->snapshots.policy->due(steady::now(), entries);
              }
              if (due)
                snapshot_indexes(*st, "due");
              if (entry)
                entry->on_message(0);
              self->delayed_send(self, tick, snapshot_tick_atom::value);
            },
        };
      },
      std::move(st), std::move(entry));
}

} // namespace distiller::documents
