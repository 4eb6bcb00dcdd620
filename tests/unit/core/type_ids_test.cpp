#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "runtime/core/errc.hpp"
#include "runtime/core/type_ids.hpp"

namespace {

using namespace distiller;
using namespace std::chrono_literals;

struct system_fixture : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  void SetUp() override {
    cfg.add_message_types<caf::id_block::distiller_runtime>();
    add_runtime_error_category(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

TEST_F(system_fixture, TraceIdTravelsInsideMessages) {
  // The unused argument avoids a UBSan report inside CAF 0.17.6 for
  // function-based actors spawned without arguments.
  auto echo = sys->spawn(
      [](int) -> caf::behavior {
        return {[](const trace_id& t, const std::string& text) {
          return caf::make_message(t, text + "!");
        }};
      },
      0);
  caf::scoped_actor self{*sys};
  auto sent = make_trace_id();
  trace_id got;
  std::string text;
  self->request(echo, 5s, sent, std::string{"hello"})
      .receive(
          [&](const trace_id& t, const std::string& s) {
            got = t;
            text = s;
          },
          [&](const caf::error& e) { FAIL() << sys->render(e); });
  EXPECT_EQ(got, sent);
  EXPECT_EQ(text, "hello!");
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
}

TEST_F(system_fixture, TraceIdSerializesForRemoteNodes) {
  // Messages between nodes cross the middleman, which needs every registered
  // type to round-trip through CAF's binary serializer.
  auto sent = make_trace_id();
  std::vector<char> buf;
  caf::binary_serializer sink{*sys, buf};
  ASSERT_FALSE(sink(sent));
  trace_id got;
  caf::binary_deserializer source{*sys, buf};
  ASSERT_FALSE(source(got));
  EXPECT_EQ(got, sent);
  EXPECT_NE(sys->types().portable_name(caf::make_rtti_pair<trace_id>()), "");
}

TEST_F(system_fixture, RuntimeErrorsRenderWithTheirCategory) {
  auto err = caf::make_error(runtime_errc::restart_intensity, "pool-a");
  EXPECT_EQ(err.category(), caf::atom("runtime"));
  auto text = sys->render(err);
  EXPECT_NE(text.find("restart_intensity"), std::string::npos) << text;
}

} // namespace
