// libFuzzer target for the configuration loader (runtime/config/loader.hpp):
// the input is a config file's text, loaded into the schema of a whole node
// (actors/node/node_config.hpp: every module's keys, their parsers and
// ranges) as `distiller up --config` does, then checked by the node's
// cross-key rules.
//
// Invariants besides "no crash, no sanitizer report": the only exception
// is config_error, and it names a key; and what the loader accepted
// renders (render_toml, `config show`) into a file that loads again into a
// fresh schema and renders the same — the written form of every accepted
// value is one the loader reads back unchanged.
#include <cstdint>
#include <string>
#include <string_view>

#include "actors/node/node_config.hpp"
#include "runtime/config/loader.hpp"
#include "tests/fuzz/support/check.hpp"

using namespace distiller;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  node::node_config cfg;
  config::schema s;
  node::declare(s, cfg);
  try {
    config::load_text(s, text, "fuzz.toml");
    node::validate(cfg);
  } catch (const config::config_error& e) {
    FUZZ_CHECK(!e.key().empty(), "a config error names its key");
    return 0;
  }
  auto rendered = config::render_toml(s);
  node::node_config again_cfg;
  config::schema again;
  node::declare(again, again_cfg);
  try {
    config::load_text(again, rendered, "rendered.toml");
  } catch (const config::config_error& e) {
    std::fprintf(stderr, "%s: %s\n", e.key().c_str(), e.what());
    FUZZ_CHECK(false, "a rendered config loads again");
  }
  FUZZ_CHECK(config::render_toml(again) == rendered,
             "a rendered config renders the same after loading");
  return 0;
}
