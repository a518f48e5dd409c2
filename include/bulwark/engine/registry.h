#pragma once
// Registry: the detectors, unpackers and assessors an Engine is built from. Each extension adds
// itself with an explicit Register(Registry&) call; src/extensions/ lists them in one
// place. Tests build a Registry with exactly what they need.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "bulwark/common/result.h"
#include "bulwark/engine/assessor.h"
#include "bulwark/engine/detector.h"
#include "bulwark/engine/limits.h"
#include "bulwark/engine/unpacker.h"

namespace bulwark::engine {

// Where signature-based detectors load their databases from. Every reload re-reads them.
struct SignatureSources {
  // Directories with .hdb .hsb .ndb .ldb .cvd .cld (ClamAV), .yar .yara (YARA) and
  // .sha256 (hash lists). Read in the order given.
  std::vector<std::filesystem::path> directories;
  // The system ClamAV database directory, loaded when it exists and holds databases
  // (so freshclam users get full coverage). Empty: don't look.
  std::filesystem::path system_clamav_directory = "/var/lib/clamav";
  // Bulwark's own small rule set compiled into the binary (EICAR and generic rules).
  bool builtin_rules = true;
  // Limits that detectors with their own unpackers (libclamav) should apply too.
  Limits limits;
};

// Builds a detector from the current signature sources. Called on every (re)load, on the
// reloading thread; a non-OK result aborts the load and the old detectors stay in use.
using DetectorFactory = std::function<Result<DetectorPtr>(const SignatureSources&)>;

class Registry {
 public:
  void AddDetector(DetectorFactory factory) { detector_factories_.push_back(std::move(factory)); }
  void AddUnpacker(UnpackerPtr unpacker) { unpackers_.push_back(std::move(unpacker)); }
  // Assessors hold no signatures: built once, kept across reloads.
  void AddAssessor(AssessorPtr assessor) { assessors_.push_back(std::move(assessor)); }

  const std::vector<DetectorFactory>& detector_factories() const { return detector_factories_; }
  std::vector<UnpackerPtr> TakeUnpackers() { return std::move(unpackers_); }
  std::vector<AssessorPtr> TakeAssessors() { return std::move(assessors_); }

 private:
  std::vector<DetectorFactory> detector_factories_;
  std::vector<UnpackerPtr> unpackers_;
  std::vector<AssessorPtr> assessors_;
};

}  // namespace bulwark::engine
