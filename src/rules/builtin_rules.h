#pragma once
// Bulwark's own rule set, compiled into the binary from rules/builtin/.

#include <string_view>

namespace bulwark::rules {

std::string_view BuiltinYaraRules();  // rules/builtin/bulwark.yar
std::string_view BuiltinHashList();   // rules/builtin/bulwark.sha256

}  // namespace bulwark::rules
