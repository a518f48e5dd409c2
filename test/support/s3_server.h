#pragma once
// S3Server: a throw-away S3-compatible server (s3rver, pinned in tools/s3/package.json) for
// tests. Start() runs `node tools/s3/node_modules/s3rver/bin/s3rver.js` as a child process
// on 127.0.0.1 and a port the kernel picks, with its data in a fresh temporary directory and
// `bucket` created, and returns once it listens. Several test binaries can each run one.
//
// s3rver knows one account: access key "S3RVER", secret key "S3RVER". It checks that the
// access key exists and the request time, not the SigV4 signature itself.

#include <sys/types.h>

#include <memory>
#include <string>

#include "bulwark/common/result.h"
#include "bulwark/common/status.h"

namespace bulwark::testing {

class S3Server {
 public:
  // kUnavailable when node or s3rver is not installed (the message says to run
  // scripts/install-deps.sh --test) or the server does not start (with the end of its log).
  static Result<std::unique_ptr<S3Server>> Start(const std::string& bucket = "bulwark-test");

  // Stops the server (SIGTERM, then SIGKILL after 10 s; waitpid) and removes its directory.
  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& bucket() const { return bucket_; }
  // Where the server keeps its objects (tests look for plaintext there).
  const std::string& directory() const { return root_; }
  int port() const { return port_; }
  static std::string access_key() { return "S3RVER"; }
  static std::string secret_key() { return "S3RVER"; }

 private:
  S3Server() = default;

  std::string root_;  // the temporary directory (data/, server.log)
  std::string bucket_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace bulwark::testing
