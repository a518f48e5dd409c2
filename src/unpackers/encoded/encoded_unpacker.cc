#include "unpackers/encoded/encoded_unpacker.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "unpackers/encoded/encoded_payload_finder.h"

namespace bulwark::unpackers {
namespace {

using engine::Finding;
using engine::UnscannableReason;

constexpr std::size_t kMaxPayloadsPerObject = 64;

class EncodedUnpacker : public engine::Unpacker {
 public:
  std::string_view Name() const override { return "encoded"; }

  bool Accepts(const content::ObjectInfo& object) const override {
    return content::MayHoldText(object.type.kind) && object.size > 0;
  }

  Status Unpack(const content::Object& object, engine::ScanContext& ctx,
                engine::ChildSink& children, engine::FindingSink& findings) const override {
    PayloadFinderLimits limits;
    limits.max_payloads = kMaxPayloadsPerObject;
    limits.max_payload_bytes =
        static_cast<std::size_t>(std::min<std::uint64_t>(ctx.limits().max_object_bytes, SIZE_MAX));
    std::size_t index = 0;
    PayloadSearchSummary summary = FindEncodedPayloads(
        object.bytes(), limits,
        [&](std::string payload) {
          std::string name = "powershell-encoded-" + std::to_string(++index) + ".ps1";
          return children.Add(std::move(name), content::Blob::Own(std::move(payload))).ok();
        },
        [&ctx] { return ctx.Expired(); });

    if (summary.oversized > 0) {
      findings.Add(Finding::Unscannable(
          "encoded", UnscannableReason::kObjectSizeLimit,
          std::to_string(summary.oversized) + " encoded command(s) decode past the limit of " +
              std::to_string(ctx.limits().max_object_bytes) + " bytes"));
    }
    switch (summary.end) {
      case PayloadSearchEnd::kPayloadLimit:
        findings.Add(
            Finding::Unscannable("encoded", UnscannableReason::kObjectCountLimit,
                                 "more than " + std::to_string(kMaxPayloadsPerObject) +
                                     " encoded commands in one object; the rest were not decoded"));
        break;
      case PayloadSearchEnd::kExpired:
        findings.Add(Finding::Unscannable("encoded", UnscannableReason::kTimeLimit,
                                          "scan time limit reached"));
        break;
      case PayloadSearchEnd::kComplete:
      case PayloadSearchEnd::kStopped:  // the engine has recorded why it refused a child
        break;
    }
    return OkStatus();
  }
};

}  // namespace

engine::UnpackerPtr CreateEncodedUnpacker() { return std::make_unique<EncodedUnpacker>(); }

void RegisterEncodedUnpacker(engine::Registry& registry) {
  registry.AddUnpacker(CreateEncodedUnpacker());
}

}  // namespace bulwark::unpackers
