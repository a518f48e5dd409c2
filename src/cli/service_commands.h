#pragma once
// `bulwark serve` and the administration commands (`tenant`, `user`, `token`, `audit`, `db`),
// all reading the site configuration from --config or the embedded default (--data).

#include <CLI/CLI.hpp>

namespace bulwark::cli {

// Each sets `exit_code` when its command runs (0 success, 1 a failed check such as a broken
// audit chain, 2 an error).
void AddServeCommand(CLI::App& app, int& exit_code);
void AddAdminCommands(CLI::App& app, int& exit_code);

}  // namespace bulwark::cli
