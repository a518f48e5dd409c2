#pragma once
// SmtpFrontEnd: the inline SMTP gateway of a site (docs/smtp-gateway.md). It accepts mail
// for the [[mail.domains]] of the site only (no open relay), relays each transaction
// before-queue to the domain's next hop, and scans each message through the mail layer
// (service::ScanContent, service "smtp") before the next hop gets it.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "bulwark/common/result.h"
#include "net/stream_server.h"
#include "service/config.h"
#include "service/site.h"

namespace bulwark::smtp {

class SmtpFrontEnd {
 public:
  // Resolves the tenant of every [[mail.domains]] entry (kNotFound names an unknown one),
  // loads the certificate for STARTTLS when smtp.starttls (kInvalidArgument names a file
  // that cannot be used) and binds smtp.listener (port 0: any free port). The site must
  // outlive the front-end. `smtp.enabled` is the caller's to check.
  static Result<std::unique_ptr<SmtpFrontEnd>> Start(service::Site& site,
                                                     const service::SmtpConfig& smtp,
                                                     const service::MailConfig& mail,
                                                     const std::string& certificate_file,
                                                     const std::string& private_key_file);
  ~SmtpFrontEnd();  // Stop(0s)
  SmtpFrontEnd(const SmtpFrontEnd&) = delete;
  SmtpFrontEnd& operator=(const SmtpFrontEnd&) = delete;

  const std::vector<net::Endpoint>& bound() const;
  // Stops accepting; sessions get `grace` to finish their transaction (idle ones are told
  // 421 at once), then their connections are cut. Returns when every session has ended.
  void Stop(std::chrono::milliseconds grace);

 private:
  class Backend;
  SmtpFrontEnd() = default;

  std::atomic<bool> stopping_{false};
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<net::StreamServer> server_;
};

}  // namespace bulwark::smtp
