#pragma once
// MilterFrontEnd: the milter server of a site (docs/milter.md). An MTA (Postfix's
// smtpd_milters / non_smtpd_milters, Sendmail's INPUT_MAIL_FILTER) keeps its queue and asks
// it about each message; it scans the message through mail::MailScanner for the tenant of
// its recipients ([[mail.domains]], else milter.tenant) and answers accept (with headers
// added, subject tagged, attachments stripped), reject, tempfail, discard or quarantine
// (Postfix's hold queue).

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "bulwark/common/result.h"
#include "milter/milter_session.h"
#include "net/stream_server.h"
#include "service/config.h"
#include "service/site.h"

namespace bulwark::milter {

class MilterFrontEnd {
 public:
  // Resolves the fallback tenant (kInvalidArgument names it when it does not exist) and
  // binds config.listener (port 0: any free port). The site must outlive the front-end and
  // have been opened with an engine. `config.enabled` is the caller's to check.
  static Result<std::unique_ptr<MilterFrontEnd>> Start(service::Site& site,
                                                       const service::MilterConfig& config,
                                                       const service::MailConfig& mail);
  ~MilterFrontEnd();  // Stop(0s)
  MilterFrontEnd(const MilterFrontEnd&) = delete;
  MilterFrontEnd& operator=(const MilterFrontEnd&) = delete;

  // The listener as bound (its port filled in when 0 was asked for).
  const std::vector<net::Endpoint>& bound() const;
  // Stops accepting; sessions get `grace` to finish their message, then their connections
  // are cut (the MTA applies milter_default_action). Returns when every session has ended.
  // Idempotent.
  void Stop(std::chrono::milliseconds grace);

 private:
  class Backend;
  MilterFrontEnd();

  std::atomic<bool> stopping_{false};
  MilterSessionOptions session_options_;  // constant once the server has started
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<net::StreamServer> server_;
};

}  // namespace bulwark::milter
