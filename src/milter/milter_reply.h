#pragma once
// The verdict on one message → the milter's answer at end of message (docs/milter.md,
// "Actions"): header insertions, the subject change, the replaced body, then accept; or a
// reply code (reject, tempfail), discard, or quarantine (Postfix's hold queue). No I/O.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/mail_scan.h"
#include "milter/milter_codec.h"

namespace bulwark::milter {

// What the front-end decided for one message.
struct MilterDecision {
  mail::MailVerdict verdict;
  // kDeliver with attachments stripped: the new body (everything after the header block of
  // mail::RewriteMessage). nullopt = the body stays as it is.
  std::optional<std::string> replacement_body;
  // With a replacement body: top-level MIME fields (Content-Type, …) whose values the
  // rewrite changed, to be changed too (SMFIR_CHGHEADER) so that body and header agree.
  std::vector<mail::HeaderField> changed_headers;
};

// Splits a rewritten message (mail::RewriteMessage of `original`) into the milter's terms:
// the new body, and the top-level MIME fields (Content-Type, Content-Transfer-Encoding,
// MIME-Version) whose values differ from those of `original`.
struct BodyReplacement {
  std::string body;
  std::vector<mail::HeaderField> changed_headers;
};
BodyReplacement SplitRewrittenMessage(std::string_view original, std::string_view rewritten);

// The packets that answer SMFIC_BODYEOB for `decision`, given the options negotiated with
// the MTA and the message's header fields as the MTA sent them. When the MTA did not grant
// an action the verdict needs, the answer degrades safely and never passes unchanged what
// should have changed: no SMFIF_CHGBODY → the message is rejected (its attachments could
// not be removed); no SMFIF_QUARANTINE → discarded (Bulwark's quarantine holds the sealed
// copy); no SMFIF_ADDHDRS / SMFIF_CHGHDRS → the headers or subject stay unchanged.
std::string EndOfMessageReply(const MilterDecision& decision, const Options& negotiated,
                              const std::vector<Header>& headers);

// A reply code packet for kReject / kTempFail verdicts: the verdict's code when it has the
// right class, else 550 5.7.1 / 451 4.7.1.
std::string RejectReply(const mail::MailVerdict& verdict);
std::string TempFailReply(const mail::MailVerdict& verdict);

// The new Subject value (without the leading space) for `prefix`, or nullopt when
// `current` (as sent, leading blanks allowed) already starts with it.
std::optional<std::string> TaggedSubject(std::string_view current, std::string_view prefix);

// `value` folded for a header called `name`: a line break ("\n") is put before a blank
// wherever a line would pass 78 characters. The MTA turns "\n" into its own line ends.
std::string FoldHeaderValue(std::string_view name, std::string_view value);

}  // namespace bulwark::milter
