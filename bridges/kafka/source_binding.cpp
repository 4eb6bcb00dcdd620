#include "bridges/kafka/source_binding.hpp"

#include "bridges/kafka/catalog.hpp"

namespace distiller::kafka {

namespace {

std::string range_error(const char* field, const std::string& allowed,
                        long long got) {
  return std::string{field} + " must be " + allowed + ", got " +
         std::to_string(got);
}

} // namespace

std::vector<std::string> validate(const source_binding& b) {
  std::vector<std::string> problems;
  if (b.name.empty())
    problems.emplace_back("name must not be empty");
  if (!valid_topic_name(b.topic))
    problems.push_back("topic \"" + b.topic + "\" is not a valid topic name");
  if (b.group.empty())
    problems.emplace_back("group must not be empty");
  if (b.pool_size < 1 || b.pool_size > 1024)
    problems.push_back(range_error("pool_size", "1..1024", b.pool_size));
  if (!b.worker)
    problems.emplace_back("worker factory must be set");
  if (b.retry.max_attempts < 1)
    problems.push_back(
        range_error("retry.max_attempts", ">= 1", b.retry.max_attempts));
  if (!valid_topic_name(b.dlq_topic()))
    problems.push_back("dead_letter_topic \"" + b.dlq_topic() +
                       "\" is not a valid topic name");
  if (b.dlq_topic() == b.topic)
    problems.emplace_back("dead_letter_topic must differ from topic");
  if (b.max_in_flight < 1)
    problems.emplace_back("max_in_flight must be >= 1");
  if (b.max_in_flight_per_partition < 1)
    problems.emplace_back("max_in_flight_per_partition must be >= 1");
  if (b.max_buffered_per_partition < 2 || b.max_buffered_per_partition > 65536)
    problems.push_back(
        range_error("max_buffered_per_partition", "2..65536",
                    static_cast<long long>(b.max_buffered_per_partition)));
  if (b.max_buffered != 0 &&
      (b.max_buffered < 2 || b.max_buffered > (size_t{1} << 24)))
    problems.push_back(range_error("max_buffered", "0 (no limit) or 2..2^24",
                                   static_cast<long long>(b.max_buffered)));
  if (b.max_poll_records < 1 || b.max_poll_records > 100000)
    problems.push_back(range_error("max_poll_records", "1..100000",
                                   static_cast<long long>(b.max_poll_records)));
  if (b.max_batch < 1)
    problems.emplace_back("max_batch must be >= 1");
  if (b.max_batches_per_worker < 1)
    problems.emplace_back("max_batches_per_worker must be >= 1");
  if (b.commit_interval.count() < 1)
    problems.push_back(
        range_error("commit_interval", ">= 1 ms", b.commit_interval.count()));
  if (b.stall_after.count() < 0)
    problems.push_back(
        range_error("stall_after", ">= 0 ms", b.stall_after.count()));
  if (b.drain_timeout.count() < 0)
    problems.push_back(
        range_error("drain_timeout", ">= 0 ms", b.drain_timeout.count()));
  if (b.worker_timeout.count() < 1)
    problems.push_back(
        range_error("worker_timeout", ">= 1 ms", b.worker_timeout.count()));
  if (b.auto_offset_reset != "earliest" && b.auto_offset_reset != "latest" &&
      b.auto_offset_reset != "error")
    problems.push_back("auto_offset_reset must be earliest, latest or error, "
                       "got \"" +
                       b.auto_offset_reset + "\"");
  return problems;
}

} // namespace distiller::kafka
