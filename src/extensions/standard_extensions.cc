#include "extensions/standard_extensions.h"

#include "detectors/activecontent/activecontent_detector.h"
#include "detectors/clamav/clamav_detector.h"
#include "detectors/dlp/dlp_detector.h"
#include "detectors/hashes/hash_detector.h"
#include "detectors/urls/urls_detector.h"
#include "detectors/yara/yara_detector.h"
#include "unpackers/archive/archive_unpacker.h"
#include "unpackers/encoded/encoded_unpacker.h"
#include "unpackers/mime/mime_unpacker.h"
#include "unpackers/ole2/ole2_unpacker.h"
#include "unpackers/pdf/pdf_unpacker.h"

namespace bulwark::extensions {

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
  if (options.dlp) detectors::RegisterDlpDetector(registry);
}

}  // namespace bulwark::extensions
