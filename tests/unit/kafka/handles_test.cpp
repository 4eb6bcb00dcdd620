#include "bridges/kafka/handles.hpp"

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <stdexcept>
#include <string>

using namespace distiller;

TEST(handles, make_conf_sets_properties) {
  auto conf =
      kafka::make_conf({{"client.id", "handles-test"}, {"linger.ms", "7"}});
  ASSERT_NE(conf, nullptr);
  char buf[64];
  size_t size = sizeof(buf);
  ASSERT_EQ(rd_kafka_conf_get(conf.get(), "linger.ms", buf, &size),
            RD_KAFKA_CONF_OK);
  EXPECT_STREQ(buf, "7");
}

TEST(handles, make_conf_names_the_rejected_property) {
  try {
    kafka::make_conf({{"client.id", "x"}, {"linger.ms", "soon"}});
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find("'linger.ms'"), std::string::npos)
        << e.what();
  }
  try {
    kafka::make_conf({{"no.such.property", "1"}});
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find("no.such.property"), std::string::npos)
        << e.what();
  }
}

TEST(handles, make_client_owns_the_conf_and_the_handle) {
  auto rk = kafka::make_client(RD_KAFKA_PRODUCER,
                               kafka::make_conf({{"client.id", "owner"}}));
  ASSERT_NE(rk, nullptr);
  kafka::topic_partition_list_ptr list{rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(list.get(), "t", 0);
  kafka::headers_ptr headers{rd_kafka_headers_new(1)};
  rd_kafka_header_add(headers.get(), "k", -1, "v", -1);
  kafka::queue_ptr queue{rd_kafka_queue_new(rk.get())};
  kafka::topic_ptr topic{rd_kafka_topic_new(rk.get(), "t", nullptr)};
  EXPECT_NE(topic, nullptr);
  // Handles made from rk are declared after it and so released before it.
}

TEST(handles, from_rdkafka_translates_errors) {
  EXPECT_FALSE(kafka::from_rdkafka(RD_KAFKA_RESP_ERR_NO_ERROR, "noop"));
  auto err = kafka::from_rdkafka(RD_KAFKA_RESP_ERR__TRANSPORT, "connect");
  ASSERT_TRUE(err);
  EXPECT_EQ(err.category(), caf::atom("kafka"));
  EXPECT_EQ(err.code(), static_cast<uint8_t>(kafka::errc::broker_unavailable));
  ASSERT_TRUE(err.context().match_elements<std::string>());
  auto text = err.context().get_as<std::string>(0);
  EXPECT_EQ(text.rfind("connect: ", 0), 0u) << text;
  EXPECT_NE(text.find("_TRANSPORT"), std::string::npos) << text;
  EXPECT_EQ(err, caf::make_error(kafka::errc::broker_unavailable, text));
}

TEST(handles, classify_maps_codes) {
  using kafka::errc;
  EXPECT_EQ(kafka::classify(RD_KAFKA_RESP_ERR__TIMED_OUT), errc::timeout);
  EXPECT_EQ(kafka::classify(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART),
            errc::unknown_topic);
  EXPECT_EQ(kafka::classify(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS),
            errc::topic_exists);
  EXPECT_EQ(kafka::classify(RD_KAFKA_RESP_ERR_INVALID_PARTITIONS),
            errc::invalid_request);
  EXPECT_EQ(kafka::classify(RD_KAFKA_RESP_ERR__QUEUE_FULL),
            errc::produce_failed);
  EXPECT_EQ(kafka::classify(RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS),
            errc::group_failed);
  EXPECT_EQ(kafka::classify(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED),
            errc::not_authorized);
  EXPECT_EQ(kafka::classify(RD_KAFKA_RESP_ERR__FATAL), errc::fatal);
  EXPECT_EQ(kafka::classify(RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION),
            errc::broker_error);
  EXPECT_EQ(kafka::to_string(errc::broker_unavailable), "broker_unavailable");
  EXPECT_EQ(kafka::to_string(errc::no_cluster), "no_cluster");
}

TEST(handles, the_kafka_category_renders_codes_by_name) {
  caf::actor_system_config cfg;
  kafka::add_kafka_error_category(cfg);
  caf::actor_system sys{cfg};
  auto text =
      sys.render(kafka::from_rdkafka(RD_KAFKA_RESP_ERR__TIMED_OUT, "metadata"));
  EXPECT_EQ(text.rfind("kafka: timeout (", 0), 0u) << text;
  EXPECT_NE(text.find("metadata: "), std::string::npos) << text;
}
