#pragma once
// Impersonation of a tenant's own people and domains, the heart of business email
// compromise: a message whose sender's display name is one of the tenant's protected people
// (its executives, its finance staff) while the address is none of theirs, and senders or
// reply addresses on domains that look like the tenant's (homoglyphs and mixed scripts by
// Unicode's confusable skeletons from ICU, typos, another top-level domain, the name with
// a word added). Pure functions of the message and the tenant's list; nothing is resolved.
// See docs/phishing.md ("Impersonation").

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/engine/finding.h"

namespace bulwark::impersonation {

struct ProtectedPerson {
  std::string name;                    // "Jane Doe"
  std::vector<std::string> addresses;  // the addresses that are really theirs (lower-case)
};

struct ProtectedIdentities {
  std::vector<ProtectedPerson> people;
  // The tenant's own domains and its brands' ("acme.com", "acme-bank.com"); mail from them
  // and their subdomains is never a lookalike.
  std::vector<std::string> domains;
  bool empty() const { return people.empty() && domains.empty(); }
};

// What the tenant's sender history says of this message's sender (ScanContent looks it up;
// hashes only). `first_seen`: an external sender with no earlier mail to the tenant, while
// the tenant's history is old enough to tell.
struct SenderContext {
  bool first_seen = false;
};

// Findings for `message` (RFC 5322 bytes):
//  - Impersonation.DisplayName (high): the From display name is a protected person's name
//    (any order, case, punctuation or accents) and the address is not one of theirs nor on
//    a protected domain.
//  - Impersonation.LookalikeDomain (high): the From or Reply-To domain is not protected but
//    looks like a protected one ("homoglyph", "typo", "other TLD", "name with a word
//    added").
// Their detail is the score with every reason: the trigger(s) (+3 each) and the supporting
// evidence that alone is no impersonation — Reply-To on another domain (+1.5), payment
// change and urgency language (+1 each), a first-seen external sender (+1), e.g. "score 6.5:
// display_name +3 (the sender calls itself Jane Doe but writes from x.example);
// reply_to_other_domain +1.5 (…); …". Thread safety: may run on many threads at once.
std::vector<engine::Finding> CheckImpersonation(std::string_view message,
                                                const ProtectedIdentities& identities,
                                                const SenderContext& sender = {});

// At most one finding for links (`urls`: normalised URLs the scan found, e.g.
// ScanReport::urls) whose host imitates a protected domain — the sign-in page of the
// tenant's own brand, faked: Url.LookalikeDomain (detector "urls", so it falls under the
// phishing protection; suspicious, high) naming how many links and up to three hosts with
// the domain each imitates and how ("links to acme-c0rp.com, which imitates acme-corp.com
// (homoglyph)"). Hosts only, never paths or queries. Nothing is fetched or resolved.
std::optional<engine::Finding> CheckLinks(std::span<const std::string> urls,
                                          const ProtectedIdentities& identities);

// How `candidate` (a registrable domain, ASCII or Unicode) imitates `protected_domain`, or
// nullopt when it does not (or is the same domain).
std::optional<std::string> LookalikeReason(std::string_view candidate,
                                           std::string_view protected_domain);

// A display name reduced for comparison: lower-case, accents and punctuation removed, words
// sorted ("Doe, Jane" and "JANE DOE" → "doe jane").
std::string NameKey(std::string_view display_name);

}  // namespace bulwark::impersonation
