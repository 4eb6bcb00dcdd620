#pragma once

#include <memory>
#include <string>

#include "actors/load/workload.hpp"

/// `distiller load docs`: document uploads (POST /api/v2/documents/upload,
/// multipart) at the schedule's pace, each job then followed over its event
/// stream (GET /api/v2/documents/{job_id}/events) until `completed` or
/// `failed`.
///
/// Histograms: `upload` (planned send → 202, primary) and `completed`
/// (planned send → the `completed` event). The files come from `folder`
/// (regular files, sorted by name, cycled) or are generated texts of `size`
/// bytes, each unique. At most `max_streams` job streams are open at once
/// (below the node's sse.max_connections); further jobs wait for a slot.
/// A stream that breaks is resumed with Last-Event-ID; a 503 is retried
/// after a second; a job without a final state after `job_timeout` counts
/// as timed out. Tracked jobs are bounded (`max_tracked`), so memory stays
/// constant when the node falls behind.
namespace distiller::load {

struct docs_options {
  std::string folder;
  uint64_t size = 2048;
  std::chrono::nanoseconds job_timeout{std::chrono::seconds{300}};
  int max_streams = 800;
  size_t max_tracked = 200000;
  std::string run_id;
};

std::unique_ptr<http_workload> make_docs_workload(const docs_options& o);

/// The generated text of document `index` (pure; for tests).
std::string generated_document(const std::string& run_id, uint64_t index,
                               uint64_t size);

} // namespace distiller::load
