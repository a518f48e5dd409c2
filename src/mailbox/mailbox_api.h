#pragma once
// The mailbox connector's HTTPS API routes (docs/api.md "Mailboxes"): /api/v1/mailboxes…
// and /api/v1/mailbox-quarantine…. Added to the site's router by `bulwark serve`.

#include "http/server.h"
#include "service/site.h"

namespace bulwark::mailbox {

void AddMailboxRoutes(http::Router& router, service::Site& site);

}  // namespace bulwark::mailbox
