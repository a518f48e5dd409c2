#pragma once
// A mail verdict (src/mail) as the gateway acts on it: relay the rewritten message, or
// answer the client — 5xx for a rejection, 250 for a quarantined or discarded message
// (saying so), 4xx when Bulwark could not decide.

#include <string>
#include <string_view>

#include "mail/mail_scan.h"
#include "smtp/smtp_session.h"

namespace bulwark::smtp {

// `relay_message` is the message to hand on for kDeliver (RewriteMessage's output); it is
// moved into the decision. Reply codes the verdict gives in the wrong class are replaced by
// the class's standard reply (never a 250 for a rejection, never a 5xx for a tempfail).
SmtpDecision DecisionFor(const mail::MailVerdict& verdict, std::string relay_message);

}  // namespace bulwark::smtp
