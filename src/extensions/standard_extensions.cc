#include "extensions/standard_extensions.h"

#include "detectors/activecontent/activecontent_detector.h"
#include "detectors/clamav/clamav_detector.h"
#include "detectors/dlp/dlp_detector.h"
#include "detectors/hashes/hash_detector.h"
#include "detectors/phishing/phishing_assessor.h"
#include "detectors/senderauth/senderauth_detector.h"
#include "detectors/urls/urls_detector.h"
#include "detectors/yara/yara_detector.h"
#include "unpackers/archive/archive_unpacker.h"
#include "unpackers/encoded/encoded_unpacker.h"
#include "unpackers/mime/mime_unpacker.h"
#include "unpackers/ole2/ole2_unpacker.h"
#include "unpackers/pdf/pdf_unpacker.h"

namespace bulwark::extensions {
namespace {

void RegisterSenderAuth(engine::Registry& registry, const ExtensionOptions& options) {
  detectors::SenderAuthDetectorConfig config;
  config.options.trusted_authserv_ids = options.sender_auth_trusted_authserv_ids;
  config.options.trusted_arc_sealers = options.sender_auth_trusted_arc_sealers;
  config.resolver = options.sender_auth_resolver;
  if (config.resolver == nullptr) {
    auto resolver = senderauth::CreateStubResolver({options.sender_auth_nameserver});
    if (!resolver.ok()) {
      const Status error = resolver.status();
      registry.AddDetector([error](const engine::SignatureSources&) -> Result<engine::DetectorPtr> {
        return error;
      });
      return;
    }
    config.resolver = std::move(resolver).value();
  }
  detectors::RegisterSenderAuthDetector(registry, std::move(config));
}

}  // namespace

void RegisterStandardExtensions(engine::Registry& registry, const ExtensionOptions& options) {
  // Unpackers: the first that accepts an object opens it.
  unpackers::RegisterMimeUnpacker(registry);
  unpackers::RegisterArchiveUnpacker(registry);
  unpackers::RegisterPdfUnpacker(registry);
  unpackers::RegisterOle2Unpacker(registry);
  // Last: it accepts text and unknown bytes that no container unpacker opened.
  unpackers::RegisterEncodedUnpacker(registry);
  // Detectors: every one that accepts an object inspects it, cheapest first.
  detectors::RegisterHashDetector(registry);
  detectors::RegisterYaraDetector(registry);
  detectors::RegisterClamavDetector(registry);
  detectors::RegisterActiveContentDetector(registry);
  detectors::RegisterUrlsDetector(registry);
  detectors::RegisterPhishingAssessor(registry);
  if (options.dlp) detectors::RegisterDlpDetector(registry);
  if (options.sender_auth) RegisterSenderAuth(registry, options);
}

}  // namespace bulwark::extensions
