#pragma once
// The "urls" detector: finds the URLs of text and HTML (e-mail bodies arrive decoded from
// the MIME unpacker), normalises them, notes them in the ScanContext (they end up in
// ScanReport::urls), checks them against local block/allow feeds and reports heuristic
// findings: Url.Blocklisted, Url.DisplayMismatch, Url.IpLiteralHost, Url.Shortener,
// Url.PunycodeHost, Url.MixedScriptHost, Url.CredentialForm. See docs/urls.md.
//
// It never fetches, resolves or otherwise touches a URL on the network.

#include "bulwark/engine/registry.h"
#include "detectors/urls/url_feeds.h"

namespace bulwark::detectors {

// Registers the detector; each (re)load reads the feeds under <dir>/urls/ of every
// signature directory.
void RegisterUrlsDetector(engine::Registry& registry);

// Builds the detector around `reputation` (tests pass feeds built in memory).
engine::DetectorPtr CreateUrlsDetector(urls::UrlReputation reputation);

}  // namespace bulwark::detectors
