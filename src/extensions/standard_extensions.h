#pragma once
// The one place that lists every detector and unpacker Bulwark ships.

#include <memory>
#include <string>
#include <vector>

#include "bulwark/engine/registry.h"

namespace bulwark::senderauth {
class Resolver;
}

namespace bulwark::extensions {

// Detectors that are off unless asked for.
struct ExtensionOptions {
  // Data loss prevention with the built-in templates (PCI-DSS, GDPR, US PII, credentials).
  // Off by default: whether finding personal data is a violation is the tenant's policy.
  bool dlp = false;

  // Sender authentication (SPF, DKIM, DMARC) of top-level messages. It asks DNS, so it is
  // off unless `sender_auth` is set; then it uses `sender_auth_resolver` when given (the
  // service's shared one, or a test's), else a stub resolver for `sender_auth_nameserver`
  // ("192.0.2.53", "127.0.0.1:5353"; empty: the system's /etc/resolv.conf). See
  // docs/sender-auth.md.
  bool sender_auth = false;
  std::shared_ptr<const senderauth::Resolver> sender_auth_resolver;
  std::string sender_auth_nameserver;
  // authserv-ids (the organisation's receiving MTAs) whose Authentication-Results fields are
  // believed; all others are ignored.
  std::vector<std::string> sender_auth_trusted_authserv_ids;
  // Domains whose ARC seals may override a DMARC failure (lower-case; mailing lists and
  // forwarders the organisation's mail passes through).
  std::vector<std::string> sender_auth_trusted_arc_sealers;
};

// Adds the standard unpackers (MIME, archives and Office packages, PDF, OLE2,
// encoded command payloads) and detectors (hash lists, ClamAV, YARA, active content and
// file names, URLs; DLP when `options.dlp`; sender authentication when
// `options.sender_auth`) to `registry`. A sender-authentication name server that does not
// parse makes every engine load fail with kInvalidArgument (no silent fallback).
void RegisterStandardExtensions(engine::Registry& registry, const ExtensionOptions& options = {});

}  // namespace bulwark::extensions
