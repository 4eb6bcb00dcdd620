#pragma once

/// A guard in front of toml++ for the two TOML readers (the config loader
/// and the topic catalog): toml++ 3.3.0, as Debian 12 ships it, reaches
/// `__builtin_unreachable()` — undefined behaviour — in its generated
/// whitespace lookup (`is_non_ascii_horizontal_whitespace`) for most code
/// points from U+00A1 to U+FEFF (upstream issues 190 and 295, fixed after
/// 3.3.0). The parser asks that lookup wherever whitespace may stand:
/// between tokens, and after a line-ending backslash in a multi-line basic
/// string. Such text is not valid TOML between tokens anyway (non-ASCII
/// belongs inside strings and comments), so the guard refuses it before
/// toml++ sees it, as does a non-ASCII character right after a line-ending
/// backslash (legal TOML, refused here with a sentence saying why).
/// Found by tests/fuzz (config_fuzz, catalog_fuzz).
///
/// Pure function. Failure: throws config_error(`key`, "cannot parse
/// <origin> at line N: …").

#include <string>
#include <string_view>

namespace distiller::config {

void check_toml_text(std::string_view text, const std::string& key,
                     const std::string& origin);

} // namespace distiller::config
