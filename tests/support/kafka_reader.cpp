#include "tests/support/kafka_reader.hpp"

#include <stdexcept>

#include <librdkafka/rdkafka.h>

#include "bridges/kafka/fetched_record.hpp"
#include "bridges/kafka/handles.hpp"

namespace distiller::testing {

/// Reads `count` records of `topic` (partitions 0..partitions-1) from the
/// beginning without a group (no ~3 s join), or whatever arrived by the
/// deadline.
std::vector<kafka::in_record>
read_back(const std::string& bootstrap, const std::string& topic,
          int partitions, size_t count,
          std::chrono::milliseconds read_deadline) {
  auto conf = kafka::make_conf({{"bootstrap.servers", bootstrap},
                                {"client.id", "test-reader"},
                                {"group.id", "test-reader"},
                                {"enable.auto.commit", "false"},
                                {"enable.partition.eof", "false"}});
  auto rk = kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
  kafka::topic_partition_list_ptr parts{
      rd_kafka_topic_partition_list_new(partitions)};
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  if (rd_kafka_assign(rk.get(), parts.get()) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("assign failed");
  std::vector<kafka::in_record> out;
  auto hash = kafka::topic_hash(topic);
  auto deadline = std::chrono::steady_clock::now() + read_deadline;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    kafka::message_ptr msg{rd_kafka_consumer_poll(rk.get(), 100)};
    if (!msg || msg->err != RD_KAFKA_RESP_ERR_NO_ERROR)
      continue;
    kafka::fill_record(out.emplace_back(), topic, hash, msg.get());
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

} // namespace distiller::testing
