#pragma once
// ARC chain validation (RFC 8617): the ARC-Seal, ARC-Message-Signature and
// ARC-Authentication-Results sets that forwarders and mailing lists add, so that a receiver
// can see the authentication results a message had before an intermediary changed it.
// Debian packages no ARC library (OpenARC is not in Debian 12), so the checks are ours:
// DKIM canonicalisation (RFC 6376 §3.4), rsa-sha256 through OpenSSL, keys through the same
// Resolver as SPF, DKIM and DMARC. Validated against the ValiMail ARC test suite
// (../shared/corpus/arc-test-suite).

#include <string>
#include <string_view>

#include "detectors/senderauth/dns_resolver.h"
#include "detectors/senderauth/sender_auth.h"

namespace bulwark::senderauth {

// Validates the ARC chain (ArcCheck: sender_auth.h) of `message` (LF or CR LF line ends). Never fails as a call: a
// key that cannot be fetched is a failed chain with the reason.
ArcCheck VerifyArc(std::string_view message, const Resolver& resolver);

}  // namespace bulwark::senderauth
