// bulwark: one binary, with subcommands (docs/cli.md).
#include <CLI/CLI.hpp>

#include "cli/scan_command.h"
#include "cli/service_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Bulwark: self-hosted cloud app security (mail and file scanning)", "bulwark"};
  app.set_version_flag("--version", std::string("bulwark ") + BULWARK_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  bulwark::cli::AddScanCommand(app, exit_code);
  bulwark::cli::AddServeCommand(app, exit_code);
  bulwark::cli::AddAdminCommands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // usage errors are errors (clamscan's 2)
  }
  return exit_code;
}
