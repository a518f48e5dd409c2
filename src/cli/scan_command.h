#pragma once
// `bulwark scan PATH... | -`: scans files, directories (recursively) and standard input.
// Exit codes as clamscan: 0 all clean, 1 any detection (unscannable counts), 2 an error.

#include <CLI/CLI.hpp>

namespace bulwark::cli {

// Adds the `scan` subcommand to `app`; `exit_code` receives its result when it runs.
void AddScanCommand(CLI::App& app, int& exit_code);

}  // namespace bulwark::cli
