#pragma once

/// A document job's status: the one vocabulary of the store, the records,
/// the routes and the streams (docs/document-pipeline.md, "Job states").
/// Text only at the edges — PostgreSQL's `status` column, the JSON of the
/// API and of job-updates, the `?status=` filter — through `to_string` and
/// `parse_job_status`.

#include <cstdint>
#include <optional>
#include <string_view>

namespace distiller::documents {

/// In pipeline order: a job only moves forward, and ends completed or
/// failed.
enum class job_status : uint8_t {
  pending,
  processing,
  chunking,
  embedding,
  completed,
  failed,
};

/// The wire name ("pending" … "failed").
std::string_view to_string(job_status s) noexcept;

/// The status a wire name names; nullopt for anything else.
std::optional<job_status> parse_job_status(std::string_view text) noexcept;

/// completed or failed: nothing changes the job any more.
constexpr bool is_final(job_status s) noexcept {
  return s == job_status::completed || s == job_status::failed;
}

/// The position in pipeline order (pending 0 … failed 5).
constexpr int order(job_status s) noexcept {
  return static_cast<int>(s);
}

/// Every status, in order (the filter's help text, the OpenAPI enum).
inline constexpr job_status all_job_statuses[] = {
    job_status::pending,   job_status::processing, job_status::chunking,
    job_status::embedding, job_status::completed,  job_status::failed};

} // namespace distiller::documents
