#pragma once
// QuarantineVault: the inline gateway's own quarantine. Each object is sealed with
// AES-256-GCM under its tenant's data key (created on first use, stored wrapped by the
// site KEK) with the tenant and item ids as associated data, then written to the object
// store; the database holds metadata only.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "bulwark/common/result.h"
#include "security/envelope.h"
#include "security/object_store.h"
#include "storage/store.h"

namespace bulwark::service {

class QuarantineVault {
 public:
  QuarantineVault(storage::Store& store, security::ObjectStore& objects, security::Key kek)
      : store_(store), objects_(objects), kek_(std::move(kek)) {}

  struct HoldRequest {
    std::string tenant_id;
    std::int64_t event_seq = 0;
    std::string object_name;
    std::string sha256;
    std::int64_t retention_days = 30;
  };
  Result<storage::QuarantineItem> Hold(const HoldRequest& request, std::string_view bytes,
                                       storage::UnixSeconds now);
  // The decrypted object. kNotFound for another tenant's or an unknown id; kPermissionDenied
  // when the sealed bytes fail authentication (tampering).
  Result<std::string> Retrieve(const std::string& tenant_id, const std::string& item_id);
  // Deletes the sealed bytes and marks the item deleted.
  Status Remove(const std::string& tenant_id, const std::string& item_id);
  // Connector credentials (mailbox passwords, OAuth2 tokens): sealed with the tenant's data
  // key, `context` (the connector id) as associated data, as lower-case hex for the
  // database. OpenCredential: kPermissionDenied for another tenant, context or KEK.
  Result<std::string> SealCredential(const std::string& tenant_id, std::string_view context,
                                     std::string_view secret);
  Result<std::string> OpenCredential(const std::string& tenant_id, std::string_view context,
                                     std::string_view sealed_hex);
  // Removes the tenant's items past their expiry; returns how many.
  Result<std::int64_t> PurgeExpired(const std::string& tenant_id, storage::UnixSeconds now);

 private:
  Result<security::Key> DataKey(const std::string& tenant_id);
  static std::string Aad(std::string_view tenant_id, std::string_view item_id);

  storage::Store& store_;
  security::ObjectStore& objects_;
  security::Key kek_;
  // One data key per tenant: inside a process the mutex serialises creation; across
  // processes the store refuses a second key and the loser uses the winner's.
  std::mutex key_mutex_;
};

}  // namespace bulwark::service
