#include "actors/documents/job_status.hpp"

namespace distiller::documents {

std::string_view to_string(job_status s) noexcept {
  switch (s) {
  case job_status::pending:
    return "pending";
  case job_status::processing:
    return "processing";
  case job_status::chunking:
    return "chunking";
  case job_status::embedding:
    return "embedding";
  case job_status::completed:
    return "completed";
  case job_status::failed:
    return "failed";
  }
  return "unknown";
}

std::optional<job_status> parse_job_status(std::string_view text) noexcept {
  for (auto s : all_job_statuses)
    if (to_string(s) == text)
      return s;
  return std::nullopt;
}

} // namespace distiller::documents
