#include "service/quarantine_vault.h"

#include "bulwark/common/text.h"
#include "crypto/sha256.h"

#include "security/credentials.h"

namespace bulwark::service {

std::string QuarantineVault::Aad(std::string_view tenant_id, std::string_view item_id) {
  return "bulwark-quarantine:" + std::string(tenant_id) + ":" + std::string(item_id);
}

Result<security::Key> QuarantineVault::DataKey(const std::string& tenant_id) {
  std::lock_guard lock(key_mutex_);
  BULWARK_ASSIGN_OR_RETURN(std::optional<std::string> wrapped, store_.GetWrappedDataKey(tenant_id));
  if (wrapped) return security::UnwrapKey(kek_, *wrapped, tenant_id);
  security::Key key = security::Key::Random();
  BULWARK_ASSIGN_OR_RETURN(std::string fresh, security::WrapKey(kek_, key, tenant_id));
  Status stored = store_.PutWrappedDataKey(tenant_id, fresh);
  if (stored.code() == StatusCode::kAlreadyExists) {
    // Another process created the tenant's key first: use that one.
    BULWARK_ASSIGN_OR_RETURN(wrapped, store_.GetWrappedDataKey(tenant_id));
    if (!wrapped) return InternalError("data key vanished after a concurrent creation");
    return security::UnwrapKey(kek_, *wrapped, tenant_id);
  }
  BULWARK_RETURN_IF_ERROR(stored);
  return key;
}

Result<storage::QuarantineItem> QuarantineVault::Hold(const HoldRequest& request,
                                                      std::string_view bytes,
                                                      storage::UnixSeconds now) {
  BULWARK_ASSIGN_OR_RETURN(security::Key key, DataKey(request.tenant_id));
  storage::QuarantineItem item;
  item.id = storage::NewId("q_");
  item.tenant_id = request.tenant_id;
  item.event_seq = request.event_seq;
  item.object_name = request.object_name;
  item.sha256 = request.sha256;
  item.size = static_cast<std::int64_t>(bytes.size());
  item.storage_key = request.tenant_id + "/" + item.id;
  item.status = "held";
  item.created_at = now;
  item.expires_at = now + request.retention_days * 86400;
  BULWARK_ASSIGN_OR_RETURN(std::string sealed,
                           security::Seal(key, bytes, Aad(request.tenant_id, item.id)));
  BULWARK_RETURN_IF_ERROR(objects_.Put(item.storage_key, sealed));
  Status recorded = store_.AddQuarantineItem(item);
  if (!recorded.ok()) {
    (void)objects_.Delete(item.storage_key);  // no orphaned ciphertext
    return recorded;
  }
  return item;
}

Result<std::string> QuarantineVault::Retrieve(const std::string& tenant_id,
                                              const std::string& item_id) {
  BULWARK_ASSIGN_OR_RETURN(storage::QuarantineItem item,
                           store_.GetQuarantineItem(tenant_id, item_id));
  if (item.status == "deleted") return NotFoundError("quarantine item not found");
  BULWARK_ASSIGN_OR_RETURN(security::Key key, DataKey(tenant_id));
  BULWARK_ASSIGN_OR_RETURN(std::string sealed, objects_.Get(item.storage_key));
  return security::Open(key, sealed, Aad(tenant_id, item.id));
}

Status QuarantineVault::Remove(const std::string& tenant_id, const std::string& item_id) {
  BULWARK_ASSIGN_OR_RETURN(storage::QuarantineItem item,
                           store_.GetQuarantineItem(tenant_id, item_id));
  BULWARK_RETURN_IF_ERROR(objects_.Delete(item.storage_key));
  return store_.SetQuarantineStatus(tenant_id, item_id, "deleted");
}

Result<std::int64_t> QuarantineVault::PurgeExpired(const std::string& tenant_id,
                                                   storage::UnixSeconds now) {
  BULWARK_ASSIGN_OR_RETURN(std::vector<storage::QuarantineItem> expired,
                           store_.ExpiredQuarantine(tenant_id, now));
  std::int64_t removed = 0;
  for (const auto& item : expired) {
    if (item.status == "deleted") continue;
    BULWARK_RETURN_IF_ERROR(Remove(tenant_id, item.id));
    ++removed;
  }
  return removed;
}

Result<std::string> QuarantineVault::SealCredential(const std::string& tenant_id,
                                                    std::string_view context,
                                                    std::string_view secret) {
  BULWARK_ASSIGN_OR_RETURN(security::Key key, DataKey(tenant_id));
  BULWARK_ASSIGN_OR_RETURN(std::string sealed,
                           security::Seal(key, secret, "bulwark-credential:" + tenant_id + ":" +
                                                           std::string(context)));
  return crypto::ToHex(sealed);
}

Result<std::string> QuarantineVault::OpenCredential(const std::string& tenant_id,
                                                    std::string_view context,
                                                    std::string_view sealed_hex) {
  if (sealed_hex.size() % 2 != 0) return InvalidArgumentError("sealed credential is not hex");
  std::string sealed;
  sealed.reserve(sealed_hex.size() / 2);
  for (std::size_t i = 0; i < sealed_hex.size(); i += 2) {
    int hi = HexDigitValue(static_cast<unsigned char>(sealed_hex[i]));
    int lo = HexDigitValue(static_cast<unsigned char>(sealed_hex[i + 1]));
    if (hi < 0 || lo < 0) return InvalidArgumentError("sealed credential is not hex");
    sealed.push_back(static_cast<char>(hi * 16 + lo));
  }
  BULWARK_ASSIGN_OR_RETURN(security::Key key, DataKey(tenant_id));
  return security::Open(key, sealed,
                        "bulwark-credential:" + tenant_id + ":" + std::string(context));
}

}  // namespace bulwark::service
