#pragma once
// An Assessor judges a scan as a whole once every object in it has been inspected: it sees
// the outermost object, every finding the detectors made in it and every URL they found,
// and adds findings of its own. The phishing score works this way, combining sender
// authentication, URL and content findings with the message's own signals.
//
// Thread safety: one instance serves every scan on every thread at once; Assess() is const.
// (C++17-clean: included by sources built as C++17 for qpdf's headers.)

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/status.h"
#include "bulwark/content/object.h"
#include "bulwark/engine/finding.h"
#include "bulwark/engine/root_forms.h"

namespace bulwark::engine {

class Assessor {
 public:
  virtual ~Assessor() = default;

  // Stable identifier; the `detector` of every finding it makes.
  virtual std::string_view Name() const = 0;

  // Cheap check on the outermost object's type; when false the engine skips Assess().
  virtual bool Accepts(const content::ObjectInfo& root) const = 0;

  // Appends findings about the outermost object (`bytes`: after a scan, without the stored
  // forms of the members that hold no text — a mail's archives, documents and images,
  // which the scan inspected as members; headers and text bodies stay). `forms`: what the
  // scan's steps built from the whole object and kept for reuse (a mail's parse; may be
  // empty, as when a report is assessed again later). `findings` are the scan's findings
  // so far (paths below the outermost object), `urls` its normalised URLs (never to be
  // fetched, logged or stored). Must be bounded in time by the object's size: it runs
  // after the scan's deadline has been checked. Returns non-OK only on a fault.
  virtual Status Assess(const content::ObjectInfo& root, std::string_view bytes,
                        const RootForms& forms, const std::vector<Finding>& findings,
                        const std::vector<std::string>& urls, FindingSink& sink) const = 0;
};

using AssessorPtr = std::unique_ptr<const Assessor>;

}  // namespace bulwark::engine
