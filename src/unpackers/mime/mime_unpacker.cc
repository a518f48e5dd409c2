#include "unpackers/mime/mime_unpacker.h"

#include <memory>
#include <string>
#include <utility>

#include "unpackers/mime/mime_walker.h"

namespace bulwark::unpackers {
namespace {

// Forwards each leaf of the walk to the engine as a child object.
class ChildForwarder : public MimeLeafSink {
 public:
  explicit ChildForwarder(engine::ChildSink& children) : children_(children) {}
  Status Add(MimeLeaf leaf, content::Blob data) override {
    if (leaf.stored) {
      return children_.AddStored(std::move(leaf.name), std::move(data), *leaf.stored);
    }
    return children_.Add(std::move(leaf.name), std::move(data));
  }

 private:
  engine::ChildSink& children_;
};

// Stateless: every scan gets its own GMime parser and objects inside Unpack().
class MimeUnpacker : public engine::Unpacker {
 public:
  std::string_view Name() const override { return "mime"; }
  bool Accepts(const content::ObjectInfo& object) const override {
    return object.type.kind == content::FileKind::kEmail;
  }

  Status Unpack(const content::Object& object, engine::ScanContext& ctx,
                engine::ChildSink& children, engine::FindingSink& findings) const override {
    std::shared_ptr<const mime::ParsedMessage> parsed = mime::ParsedMessage::Parse(object.bytes());
    // The outermost mail's parse is kept for the assessors (the phishing score), which
    // would otherwise parse it again; the object's bytes live until the scan ends.
    if (object.info.depth == 0) ctx.root_forms().Keep(parsed);
    ChildForwarder forwarder(children);
    return WalkParsedMessage(*parsed, ctx, forwarder, findings);
  }
};

}  // namespace

engine::UnpackerPtr CreateMimeUnpacker() { return std::make_unique<MimeUnpacker>(); }

void RegisterMimeUnpacker(engine::Registry& registry) {
  registry.AddUnpacker(CreateMimeUnpacker());
}

}  // namespace bulwark::unpackers
