// AmqpConnection: opening (TCP or TLS, login, channel 1), failure classification, the
// non-blocking frame step of the poll loop, and reconnect backoff. Also the checks of a client
// certificate and key at parse time, and the reading of a broker's TLS alert that refuses one.
#include "amqp/connection.h"

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "core/exit_status.h"
#include "core/log.h"
#include "core/tls_options.h"

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct EvpPkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// A PEM password callback that refuses: an encrypted key is an error, never a terminal prompt.
int NoPassword(char*, int, int, void*) { return -1; }

// How long Close() waits for the broker's channel.close-ok and connection.close-ok.
constexpr struct timeval kCloseTimeout = {2, 0};

// The reason of the first OpenSSL error queued ("tlsv1 alert unknown ca"), or "" if none; the
// queue is emptied.
std::string TakeOpensslError(unsigned long* first) {
  unsigned long e = ERR_get_error();
  *first = e;
  std::string reason;
  if (e != 0) {
    const char* r = ERR_reason_error_string(e);
    reason = r != nullptr ? r : "error " + std::to_string(ERR_GET_REASON(e));
  }
  ERR_clear_error();
  return reason;
}

// After a failed TLS connect or login: describes a TLS alert from the broker in |what|. An alert
// about the client certificate (refused, unknown CA, required, ...) will come again on every
// attempt: kFatal. Other TLS errors only gain their reason and stay kTransient.
AmqpFailure DescribeTlsError(AmqpFailure f, std::string* what) {
  unsigned long e = 0;
  std::string reason = TakeOpensslError(&e);
  if (e == 0 || ERR_GET_LIB(e) != ERR_LIB_SSL) return f;
  switch (ERR_GET_REASON(e)) {
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      *what = "TLS handshake: the broker refused the client certificate (" + reason + ")";
      return AmqpFailure::kFatal;
    default:
      *what += " (" + reason + ")";
      return f;
  }
}

std::string BytesToString(amqp_bytes_t b) {
  return std::string(static_cast<const char*>(b.bytes), b.len);
}

AmqpFailure ClassifyCloseCode(int code, bool connection_level) {
  if (code == AMQP_ACCESS_REFUSED && connection_level) return AmqpFailure::kCredentials;
  if (code == AMQP_CONNECTION_FORCED || code == AMQP_INTERNAL_ERROR ||
      code == AMQP_RESOURCE_ERROR) {
    return AmqpFailure::kTransient;
  }
  return AmqpFailure::kFatal;
}

struct timeval SecondsToTimeval(double s) {
  struct timeval tv;
  tv.tv_sec = static_cast<time_t>(s);
  tv.tv_usec = static_cast<suseconds_t>((s - static_cast<double>(tv.tv_sec)) * 1e6);
  return tv;
}

// Opens |file| for reading, or says why not in |err|.
std::unique_ptr<BIO, BioFree> OpenPem(const std::string& file, std::string* err) {
  std::unique_ptr<BIO, BioFree> in(BIO_new_file(file.c_str(), "r"));
  if (!in) {
    *err = file + ": " + strerror(errno);
    ERR_clear_error();
  }
  return in;
}

// The first certificate in PEM |file|, or null with |err|.
std::unique_ptr<X509, X509Free> ReadCertificate(const std::string& file, std::string* err) {
  std::unique_ptr<BIO, BioFree> in = OpenPem(file, err);
  if (!in) return nullptr;
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(in.get(), nullptr, NoPassword, nullptr));
  ERR_clear_error();
  if (!cert) *err = file + ": no PEM certificate in it";
  return cert;
}

// The first unencrypted private key in PEM |file| (other blocks are skipped), or null with |err|.
std::unique_ptr<EVP_PKEY, EvpPkeyFree> ReadPrivateKey(const std::string& file, std::string* err) {
  std::unique_ptr<BIO, BioFree> in = OpenPem(file, err);
  if (!in) return nullptr;
  std::unique_ptr<EVP_PKEY, EvpPkeyFree> key(
      PEM_read_bio_PrivateKey(in.get(), nullptr, NoPassword, nullptr));
  ERR_clear_error();
  if (!key) *err = file + ": no unencrypted PEM private key in it";
  return key;
}

// Whether |key| is the private key of |cert|.
bool KeyMatches(X509* cert, EVP_PKEY* key) {
  bool ok = X509_check_private_key(cert, key) == 1;
  ERR_clear_error();
  return ok;
}

// The check of --cert: a PEM certificate, and with no --key (|key_opt| unused), its private key
// in the same file. "" when good, as CLI11 wants it.
std::string CheckCertOption(const std::string& cert_file, const CLI::Option* key_opt) {
  std::string err;
  auto cert = ReadCertificate(cert_file, &err);
  if (!cert || key_opt->count() > 0) return err;
  auto key = ReadPrivateKey(cert_file, &err);
  if (!key) return cert_file + " holds no private key: name its key file with --key";
  if (!KeyMatches(cert.get(), key.get())) {
    return cert_file + ": the private key is not the certificate's";
  }
  return "";
}

// The check of --key: an unencrypted PEM private key, the one of --cert's certificate.
std::string CheckKeyOption(const std::string& key_file, const CLI::Option* cert_opt) {
  std::string err;
  auto key = ReadPrivateKey(key_file, &err);
  if (!key || cert_opt->count() == 0) return err;  // without --cert: "--key requires --cert"
  const std::string& cert_file = cert_opt->results().front();
  auto cert = ReadCertificate(cert_file, &err);
  if (!cert) return "";  // --cert reports it
  if (!KeyMatches(cert.get(), key.get())) {
    return key_file + " is not the private key of the certificate in " + cert_file;
  }
  return "";
}

}  // namespace

void AddAmqpConnectOptions(CLI::App& app, AmqpConnectOptions* opts) {
  app.add_option("--url", opts->urls,
                 "Broker URL amqp[s]://user:password@host:port/vhost (or AMQP_URL, URLs "
                 "separated by spaces); repeatable: a failure moves to the next; default: "
                 "RabbitMQ's guest account at 127.0.0.1:5672")
      ->type_name("URL")
      ->delimiter(' ')
      ->envname("AMQP_URL")
      ->default_str("");  // the default not shown as a URL: --help prints no password
  app.add_option("--heartbeat", opts->heartbeat, "Heartbeat interval in seconds, 0 disables")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  app.add_option("--retry-for", opts->retry_for,
                 "Give up after SECONDS of failed connecting (0: keep trying)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  app.add_option("--connect-timeout", opts->connect_timeout,
                 "Seconds allowed for connecting and logging in")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  AddTlsClientOptions(app, &opts->tls, /*client_cert=*/true);
  // A certificate and key that cannot work together are a usage error, found before connecting.
  CLI::Option* cert = app.get_option("--cert");
  CLI::Option* key = app.get_option("--key");
  key->needs(cert);
  cert->check(CLI::Validator([key](std::string& f) { return CheckCertOption(f, key); }, ""));
  key->check(CLI::Validator([cert](std::string& f) { return CheckKeyOption(f, cert); }, ""));
}

void WarnPasswordOnCommandLine(const AmqpConnectOptions& opts, int argc, char** argv) {
  for (const std::string& u : opts.urls) {
    if (!AmqpUrlHasPassword(u)) continue;
    // guest:guest is RabbitMQ's well-known default (accepted from loopback only): no secret.
    AmqpUrl url;
    std::string err;
    if (ParseAmqpUrl(u, &url, &err) && url.user == "guest" && url.password == "guest") continue;
    const std::string with_name = "--url=" + u;
    for (int i = 1; i < argc; ++i) {
      if (argv[i] == u || argv[i] == with_name) {
        LogWarning(
            "--url: the password in the URL can be read by other users of this machine (ps, "
            "/proc); give the URL in AMQP_URL instead");
        return;
      }
    }
  }
}

AmqpFailure DescribeStatus(int status, std::string* what) {
  if (status == AMQP_STATUS_OK) return AmqpFailure::kNone;
  *what = amqp_error_string2(status);
  return AmqpFailure::kTransient;
}

AmqpFailure DescribeReply(const amqp_rpc_reply_t& reply, std::string* what) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return AmqpFailure::kNone;
    case AMQP_RESPONSE_NONE:
      *what = "no reply from the broker";
      return AmqpFailure::kTransient;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return DescribeStatus(reply.library_error, what);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto* m = static_cast<amqp_connection_close_t*>(reply.reply.decoded);
        *what = "broker closed the connection: " + std::to_string(m->reply_code) + " " +
                BytesToString(m->reply_text);
        return ClassifyCloseCode(m->reply_code, true);
      }
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto* m = static_cast<amqp_channel_close_t*>(reply.reply.decoded);
        *what = "broker closed the channel: " + std::to_string(m->reply_code) + " " +
                BytesToString(m->reply_text);
        return ClassifyCloseCode(m->reply_code, false);
      }
      *what = "unexpected method from the broker";
      return AmqpFailure::kFatal;
  }
  *what = "unknown reply";
  return AmqpFailure::kTransient;
}

AmqpConnection::~AmqpConnection() { Drop(); }

void AmqpConnection::Drop() {
  if (conn_ != nullptr) amqp_destroy_connection(conn_);
  conn_ = nullptr;
  opening_ssl_ = nullptr;  // freed with the connection
}

AmqpFailure AmqpConnection::Check(const char* what, std::string* err) {
  std::string why;
  AmqpFailure f = DescribeReply(amqp_get_rpc_reply(conn_), &why);
  if (f != AmqpFailure::kNone) *err = std::string(what) + ": " + why;
  return f;
}

// rabbitmq-c keeps the SSL object of a TLS socket to itself: the handshake callback, set on the
// socket's own SSL_CTX whose app data is the AmqpConnection, notes it in opening_ssl_.
void AmqpConnection::NoteOpeningSsl(const SSL* ssl, int where, int) noexcept {
  if ((where & SSL_CB_HANDSHAKE_START) == 0) return;
  auto* self = static_cast<AmqpConnection*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (self != nullptr) self->opening_ssl_ = const_cast<SSL*>(ssl);
}

// With TLS 1.3 the broker judges a client certificate after our side of the handshake is done,
// and answers a refusal with an alert and a reset. Once the reset is here, rabbitmq-c's first
// write fails and closes the socket with the alert unread, so an alert that has arrived is read
// before logging in. Returns true with |err| if the connection is already over (the OpenSSL
// error stays queued for DescribeTlsError); false when nothing has arrived, as usual.
bool AmqpConnection::TakeEarlyTlsAlert(std::string* err) {
  int sock = fd();
  if (opening_ssl_ == nullptr || sock < 0) return false;
  struct pollfd p = {sock, POLLIN, 0};
  if (poll(&p, 1, 0) != 1) return false;
  char byte;
  ERR_clear_error();
  int n = SSL_peek(opening_ssl_, &byte, 1);
  if (n > 0) return false;
  int e = SSL_get_error(opening_ssl_, n);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return false;
  *err = "TLS: the broker closed the connection before login";
  return true;
}

AmqpFailure AmqpConnection::NewTlsSocket(const TlsClientOptions& tls, amqp_socket_t** socket,
                                         std::string* err) {
  *socket = amqp_ssl_socket_new(conn_);
  auto* ctx =
      *socket != nullptr ? static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(*socket)) : nullptr;
  if (ctx == nullptr) {
    *err = "cannot create a TLS socket";
    return AmqpFailure::kFatal;
  }
  SSL_CTX_set_app_data(ctx, this);
  SSL_CTX_set_info_callback(ctx, NoteOpeningSsl);
  SSL_CTX_set_default_passwd_cb(ctx, NoPassword);
  if (!tls.cacert.empty()) {
    if (amqp_ssl_socket_set_cacert(*socket, tls.cacert.c_str()) != AMQP_STATUS_OK) {
      *err = "--cacert " + tls.cacert + ": cannot load the CA certificates";
      return AmqpFailure::kFatal;
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    *err = "cannot load the system's CA certificates";
    return AmqpFailure::kFatal;
  }
  if (!tls.cert.empty()) {
    // The key may be in the certificate's file (AddAmqpConnectOptions checked it is somewhere).
    const std::string& key = tls.key.empty() ? tls.cert : tls.key;
    if (amqp_ssl_socket_set_key(*socket, tls.cert.c_str(), key.c_str()) != AMQP_STATUS_OK) {
      unsigned long e = 0;
      std::string reason = TakeOpensslError(&e);
      *err = "--cert " + tls.cert + ", --key " + key +
             ": cannot use the client certificate and key" +
             (reason.empty() ? "" : " (" + reason + ")");
      return AmqpFailure::kFatal;
    }
  }
  if (amqp_ssl_socket_set_ssl_versions(*socket, AMQP_TLSv1_2, AMQP_TLSvLATEST) != AMQP_STATUS_OK) {
    *err = "cannot require TLS 1.2 or later";
    return AmqpFailure::kFatal;
  }
  amqp_ssl_socket_set_verify_peer(*socket, tls.insecure ? 0 : 1);
  amqp_ssl_socket_set_verify_hostname(*socket, tls.insecure ? 0 : 1);
  return AmqpFailure::kNone;
}

AmqpFailure AmqpConnection::OpenSocket(const AmqpUrl& url, const AmqpConnectOptions& opts,
                                       std::string* err) {
  amqp_socket_t* socket = nullptr;
  if (url.tls) {
    AmqpFailure f = NewTlsSocket(opts.tls, &socket, err);
    if (f != AmqpFailure::kNone) return f;
    if (opts.tls.insecure) WarnInsecure(url.host + ":" + std::to_string(url.port));
  } else {
    socket = amqp_tcp_socket_new(conn_);
    if (socket == nullptr) {
      *err = "cannot create a socket";
      return AmqpFailure::kFatal;
    }
  }
  struct timeval tv = SecondsToTimeval(opts.connect_timeout);
  amqp_set_handshake_timeout(conn_, &tv);
  amqp_set_rpc_timeout(conn_, &tv);
  ERR_clear_error();
  int rc = amqp_socket_open_noblock(socket, url.host.c_str(), url.port, &tv);
  if (rc != AMQP_STATUS_OK) {
    *err = std::string("cannot connect: ") + amqp_error_string2(rc);
    // A certificate that does not verify will not verify on the next attempt either.
    AmqpFailure f =
        rc == AMQP_STATUS_SSL_PEER_VERIFY_FAILED || rc == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED
            ? AmqpFailure::kFatal
            : AmqpFailure::kTransient;
    if (url.tls && rc == AMQP_STATUS_SSL_CONNECTION_FAILED) f = DescribeTlsError(f, err);
    return f;
  }
  if (url.tls && TakeEarlyTlsAlert(err)) return DescribeTlsError(AmqpFailure::kTransient, err);
  return AmqpFailure::kNone;
}

AmqpFailure AmqpConnection::LogIn(const AmqpUrl& url, const AmqpConnectOptions& opts,
                                  std::string* err) {
  // Client properties: the command's name, shown by `rabbitmqctl list_connections
  // client_properties`, and the capability that makes the broker say when a resource alarm
  // blocks publishing (connection.blocked); rabbitmq-c adds its own capabilities to these.
  amqp_table_entry_t capabilities[] = {
      {amqp_cstring_bytes("connection.blocked"), {AMQP_FIELD_KIND_BOOLEAN, {.boolean = 1}}}};
  amqp_table_entry_t properties[] = {
      {amqp_cstring_bytes("capabilities"), {AMQP_FIELD_KIND_TABLE, {.table = {1, capabilities}}}},
      {amqp_cstring_bytes("connection_name"),
       {AMQP_FIELD_KIND_UTF8, {.bytes = amqp_cstring_bytes(LogProgram())}}}};
  amqp_table_t client_properties = {2, properties};
  amqp_rpc_reply_t reply = amqp_login_with_properties(
      conn_, url.vhost.c_str(), 0, AMQP_DEFAULT_FRAME_SIZE, opts.heartbeat, &client_properties,
      AMQP_SASL_METHOD_PLAIN, url.user.c_str(), url.password.c_str());
  std::string why;
  AmqpFailure f = DescribeReply(reply, &why);
  if (f != AmqpFailure::kNone) {
    *err = "login as " + url.user + ": " + why;
    // The broker's alert, when it came after our first write (see TakeEarlyTlsAlert).
    if (url.tls && reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        reply.library_error == AMQP_STATUS_SSL_ERROR) {
      f = DescribeTlsError(f, err);
    }
    return f;
  }
  heartbeat_ = amqp_get_heartbeat(conn_);
  return AmqpFailure::kNone;
}

AmqpFailure AmqpConnection::Open(const AmqpUrl& url, const AmqpConnectOptions& opts,
                                 std::string* err) {
  Drop();
  conn_ = amqp_new_connection();
  if (conn_ == nullptr) {
    *err = "out of memory";
    return AmqpFailure::kFatal;
  }
  AmqpFailure f = OpenSocket(url, opts, err);
  if (f == AmqpFailure::kNone) f = LogIn(url, opts, err);
  if (f == AmqpFailure::kNone) {
    amqp_channel_open(conn_, kAmqpChannel);
    f = Check("opening a channel", err);
  }
  if (f != AmqpFailure::kNone) Drop();
  return f;
}

void AmqpConnection::Close() {
  if (conn_ == nullptr) return;
  struct timeval tv = kCloseTimeout;
  amqp_set_rpc_timeout(conn_, &tv);
  amqp_rpc_reply_t r = amqp_channel_close(conn_, kAmqpChannel, AMQP_REPLY_SUCCESS);
  if (r.reply_type == AMQP_RESPONSE_NORMAL) amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
  Drop();
}

bool AmqpConnection::HasBufferedInput() const {
  return amqp_frames_enqueued(conn_) || amqp_data_in_buffer(conn_);
}

AmqpConnection::Next AmqpConnection::NextMethod(amqp_frame_t* frame, std::string* why) {
  for (;;) {
    amqp_maybe_release_buffers(conn_);
    struct timeval tv = {0, 0};
    int rc = amqp_simple_wait_frame_noblock(conn_, frame, &tv);
    if (rc == AMQP_STATUS_TIMEOUT) return Next::kNone;
    if (rc != AMQP_STATUS_OK) {
      DescribeStatus(rc, why);
      return Next::kLost;
    }
    if (frame->frame_type == AMQP_FRAME_METHOD) return Next::kMethod;
  }
}

AmqpFailure AmqpConnection::HandleClose(const amqp_frame_t& frame, std::string* err) {
  if (frame.frame_type != AMQP_FRAME_METHOD) return AmqpFailure::kNone;
  amqp_rpc_reply_t reply;
  reply.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
  reply.reply = frame.payload.method;
  reply.library_error = 0;
  if (frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
    AmqpFailure f = DescribeReply(reply, err);
    amqp_connection_close_ok_t ok;
    amqp_send_method(conn_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    return f;
  }
  if (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD) {
    AmqpFailure f = DescribeReply(reply, err);
    amqp_channel_close_ok_t ok;
    amqp_send_method(conn_, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    return f;
  }
  return AmqpFailure::kNone;
}

int AmqpConnection::HeartbeatWakeMs() const {
  // Four looks per heartbeat interval, and one every few seconds at least (also without one).
  constexpr int kLongestWaitMs = 5000;
  if (heartbeat_ <= 0) return kLongestWaitMs;
  return std::min(kLongestWaitMs, heartbeat_ * 1000 / 4);
}

bool AmqpConnection::SendHeartbeat() {
  if (conn_ == nullptr || heartbeat_ <= 0) return true;
  amqp_frame_t frame;
  frame.frame_type = AMQP_FRAME_HEARTBEAT;
  frame.channel = 0;
  return amqp_send_frame(conn_, &frame) == AMQP_STATUS_OK;
}

Reconnector::Result Reconnector::AfterAttempt(AmqpFailure f, const std::string& err,
                                              const std::string& unsent, int* exit_status) {
  std::string url = RedactedUrl(url_);
  if (f == AmqpFailure::kNone) {
    LogInfo("connected to %s", url.c_str());
    backoff_.Reset();
    first_failure_ms_ = -1;
    return Result::kConnected;
  }
  if (f != AmqpFailure::kTransient) {
    LogError("%s: %s", url.c_str(), err.c_str());
    *exit_status = f == AmqpFailure::kCredentials ? kExitCredentials : kExitFailure;
    return Result::kExit;
  }
  int delay = 0;
  if (!NextDelay(&delay)) {
    LogError("%s: %s; giving up after %g s%s", url.c_str(), err.c_str(), retry_for_,
             unsent.empty() ? "" : (" (" + unsent + ")").c_str());
    *exit_status = kExitFailure;
    return Result::kExit;
  }
  LogWarning("%s: %s; retrying in %d ms (attempt %d)", url.c_str(), err.c_str(), delay,
             backoff_.failures());
  attempt_at_ = MonotonicMs() + delay;
  return Result::kWaiting;
}

void Reconnector::Lost(const std::string& why, const std::string& note) {
  LogWarning("connection to %s lost: %s%s", RedactedUrl(url_).c_str(), why.c_str(),
             note.empty() ? "" : (" (" + note + ")").c_str());
  int delay = 0;
  if (!NextDelay(&delay)) delay = 0;  // the next attempt notices the spent budget
  attempt_at_ = MonotonicMs() + delay;
}

// --retry-for: the budget counts from the first failure since the last success, and the last
// wait is cut to what is left of it.
bool Reconnector::NextDelay(int* delay_ms) {
  int64_t now = MonotonicMs();
  if (first_failure_ms_ < 0) first_failure_ms_ = now;
  int delay = backoff_.NextDelayMs();
  if (retry_for_ > 0) {
    double left = retry_for_ * 1000 - static_cast<double>(now - first_failure_ms_);
    if (left <= 0) return false;
    if (delay > left) delay = std::max(1, static_cast<int>(left));
  }
  *delay_ms = delay;
  return true;
}

int Reconnector::WaitMs() const {
  return static_cast<int>(std::max<int64_t>(0, attempt_at_ - MonotonicMs()));
}
