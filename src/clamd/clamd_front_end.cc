#include "clamd/clamd_front_end.h"

#include <clamav.h>
#include <stdlib.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <utility>

#include <nlohmann/json.hpp>

#include "clamd/clamd_reply.h"
#include "service/administration.h"
#include "service/content_scan.h"
#include "service/token_auth.h"

namespace bulwark::clamd {
namespace {

void LogError(const std::string& message) {
  nlohmann::json line = {{"level", "error"}, {"component", "clamd"}, {"message", message}};
  std::fprintf(stderr, "%s\n", line.dump().c_str());
}

bool IsLoopback(const std::string& address) {
  return address == "localhost" || address == "::1" || address == "[::1]" ||
         address.rfind("127.", 0) == 0;
}

// The ClamAV database and date VERSION reports, for one signature set: the newest official
// database (.cvd/.cld, by its header) in the signature directories, with its build time;
// without one, database 0 and the time of the newest signature file.
struct DatabaseInfo {
  std::uint32_t version = 0;
  std::time_t time = 0;
};

DatabaseInfo InspectSignatures(const service::ServiceConfig& config) {
  DatabaseInfo info;
  std::time_t newest_file = 0;
  std::vector<std::string> dirs = config.signature_dirs;
  if (!config.clamav_db.empty()) dirs.push_back(config.clamav_db);
  for (const std::string& dir : dirs) {
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator it(
             dir, std::filesystem::directory_options::skip_permission_denied, ec),
         end;
         !ec && it != end; it.increment(ec)) {
      std::error_code file_ec;
      if (!it->is_regular_file(file_ec)) continue;
      struct stat st;
      if (stat(it->path().c_str(), &st) == 0 && st.st_mtime > newest_file) {
        newest_file = st.st_mtime;
      }
      std::string ext = it->path().extension().string();
      if (ext != ".cvd" && ext != ".cld") continue;
      cl_cvd* head = cl_cvdhead(it->path().c_str());
      if (head == nullptr) continue;
      if (head->version > info.version) {
        info.version = head->version;
        info.time = static_cast<std::time_t>(head->stime);
      }
      cl_cvdfree(head);
    }
  }
  if (info.version == 0) info.time = newest_file;
  return info;
}

double ResidentMegabytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0;
}

}  // namespace

// The backend of every session: the site's scan pipeline, its signatures and tokens.
class ClamdFrontEnd::SiteBackend : public ClamdBackend {
 public:
  SiteBackend(service::Site& site, const service::ClamdConfig& config,
              std::function<void()> request_shutdown)
      : site_(site), config_(config), request_shutdown_(std::move(request_shutdown)) {}

  void set_server(const net::StreamServer* server) { server_ = server; }

  Result<ClamdScanResult> Scan(const std::string& tenant_id, std::string_view data,
                               const std::string& name) override {
    service::ContentScanRequest request;
    request.tenant_id = tenant_id;
    request.data = data;
    request.name = name;
    request.subject.service = "clamd";
    auto outcome = service::ScanContent(site_, request);
    if (!outcome.ok()) {
      LogError("scan of " + name + " failed: " + outcome.status().ToString());
      return outcome.status();
    }
    return ResultFor(*outcome, !tenant_id.empty());
  }

  std::string Version() override {
    std::string signature_version = site_.engine().signature_version();
    std::lock_guard lock(mu_);
    if (signature_version != cached_signature_version_) {
      database_ = InspectSignatures(site_.config());
      cached_signature_version_ = signature_version;
    }
    return FormatVersion(cl_retver(), database_.version, database_.time);
  }

  void Reload() override {
    Status reloaded = site_.ReloadSignatures();
    if (!reloaded.ok()) LogError("RELOAD failed; the old signatures stay: " + reloaded.ToString());
  }

  bool Shutdown() override {
    if (!config_.allow_shutdown || !request_shutdown_) return false;
    request_shutdown_();
    return true;
  }

  ClamdAuthentication Authenticate(std::string_view secret) override {
    ClamdAuthentication result;
    service::TokenAuthentication auth = service::AuthenticateToken(site_, secret);
    if (!auth.ok()) {
      result.reason = auth.message.empty() ? "credentials are not valid" : auth.message;
    } else if (auth.principal->tenant_id.empty()) {
      result.reason = "this token belongs to no tenant";
    } else if (!auth.principal->Can(service::Permission::kScan)) {
      result.reason = "this token may not scan";
    } else {
      result.ok = true;
      result.tenant_id = auth.principal->tenant_id;
    }
    return result;
  }

  std::string Stats() override {
    std::size_t live = server_ != nullptr ? server_->active_connections() : 0;
    char memory[256];
    double rss = ResidentMegabytes();
    std::snprintf(memory, sizeof memory,
                  "MEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 "
                  "pools_used %.3fM pools_total %.3fM\n",
                  rss, rss);
    return "POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live " + std::to_string(live) +
           "  idle 0 max " + std::to_string(config_.max_connections) + " idle-timeout " +
           std::to_string(config_.idle_timeout.count()) + "\nQUEUE: 0 items\n\tSTATS 0.000000 \n\n" +
           memory + "END";
  }

 private:
  service::Site& site_;
  service::ClamdConfig config_;
  std::function<void()> request_shutdown_;
  const net::StreamServer* server_ = nullptr;  // set once, before the first connection
  std::mutex mu_;
  std::string cached_signature_version_;  // guarded by mu_
  DatabaseInfo database_;                 // guarded by mu_
};

Result<std::unique_ptr<ClamdFrontEnd>> ClamdFrontEnd::Start(
    service::Site& site, const service::ClamdConfig& config, std::string certificate_file,
    std::string private_key_file, std::function<void()> request_shutdown) {
  if (!site.has_engine()) return FailedPreconditionError("clamd: the site has no scan engine");
  std::vector<net::Endpoint> endpoints;
  if (config.tcp_enabled) {
    net::Endpoint tcp;
    tcp.transport = net::Transport::kTcp;
    tcp.address = config.tcp.address;
    tcp.port = config.tcp.port;
    endpoints.push_back(tcp);
  }
  if (!config.unix_socket.empty()) {
    net::Endpoint unix_socket;
    unix_socket.transport = net::Transport::kUnix;
    unix_socket.path = config.unix_socket;
    endpoints.push_back(unix_socket);
  }
  if (config.tls_enabled) {
    if (certificate_file.empty() || private_key_file.empty()) {
      return InvalidArgumentError("clamd: the TLS listener needs a certificate and a key");
    }
    net::Endpoint tls;
    tls.transport = net::Transport::kTls;
    tls.address = config.tls.address;
    tls.port = config.tls.port;
    tls.certificate_file = std::move(certificate_file);
    tls.private_key_file = std::move(private_key_file);
    endpoints.push_back(tls);
  }
  if (endpoints.empty()) {
    return InvalidArgumentError("clamd: no listener is enabled (tcp, unix_socket or tls)");
  }

  std::unique_ptr<ClamdFrontEnd> front(new ClamdFrontEnd());
  ClamdSessionOptions& legacy = front->legacy_options_;
  if (!config.tenant.empty()) {
    auto tenant = service::FindTenant(site, config.tenant);
    if (!tenant.ok()) {
      return InvalidArgumentError("clamd: tenant '" + config.tenant +
                                  "' (clamd.tenant) is not a tenant of this site: " +
                                  tenant.status().message());
    }
    legacy.tenant_id = tenant->id;
  }
  for (const std::string& dir : config.scan_directories) {
    char resolved[PATH_MAX];
    if (realpath(dir.c_str(), resolved) == nullptr || !std::filesystem::is_directory(resolved)) {
      return InvalidArgumentError("clamd: scan directory '" + dir +
                                  "' (clamd.scan_directories) is not a directory");
    }
    legacy.scan_directories.push_back(resolved);
  }
  legacy.stream_max_length = config.stream_max_length;
  legacy.max_file_bytes = config.stream_max_length;
  legacy.idle_timeout = config.idle_timeout;
  legacy.read_timeout = config.read_timeout;
  ClamdFrontEnd* raw = front.get();
  legacy.stopping = [raw] { return raw->stopping_.load(); };
  front->tls_options_ = legacy;
  front->tls_options_.tenant_id.clear();
  front->tls_options_.require_auth = true;

  if (config.tcp_enabled && !IsLoopback(config.tcp.address)) {
    std::fprintf(stderr,
                 "warning: the clamd TCP listener on %s:%u accepts unauthenticated clients "
                 "from the network; clamd's protocol is insecure by design — use loopback, "
                 "the Unix socket, or the TLS listener with AUTH (docs/clamd.md)\n",
                 config.tcp.address.c_str(), config.tcp.port);
  }

  front->backend_ = std::make_unique<SiteBackend>(site, config, std::move(request_shutdown));
  net::ServerOptions options;
  options.name = "clamd";
  options.max_connections = config.max_connections;
  auto handler = [raw](net::Connection& connection) {
    bool tls = connection.peer().transport == net::Transport::kTls;
    ClamdSession session(*raw->backend_, tls ? raw->tls_options_ : raw->legacy_options_);
    session.Run(connection);
  };
  auto overloaded = [](net::Connection& connection) {
    (void)connection.Write("Too many connections. ERROR\n", std::chrono::seconds(1));
  };
  BULWARK_ASSIGN_OR_RETURN(front->server_, net::StreamServer::Start(std::move(endpoints), options,
                                                                    handler, overloaded));
  front->backend_->set_server(front->server_.get());
  return front;
}

ClamdFrontEnd::~ClamdFrontEnd() { Stop(std::chrono::milliseconds(0)); }

const std::vector<net::Endpoint>& ClamdFrontEnd::bound() const { return server_->bound(); }

void ClamdFrontEnd::Stop(std::chrono::milliseconds grace) {
  stopping_ = true;
  if (server_) server_->Stop(grace);
}

}  // namespace bulwark::clamd
