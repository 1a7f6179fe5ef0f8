// A small libwebsockets server run in a thread of its own, for the tests of the WebSocket
// client and of the protocols on it: each connection gets a script of messages.
#pragma once

#include <libwebsockets.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// The server: to each connection it sends |script| (a "|" inside a message splits it into
// fragments), then closes with |close_code|, unless |hold|.
struct TestServer {
  std::vector<std::string> script;
  int close_code = 1000;
  bool hold = false;
  std::atomic<int> port{0};
  std::atomic<int> connections{0};
  std::atomic<bool> stop{false};
  std::atomic<struct lws_context*> context{nullptr};
  std::thread thread;
  std::mutex paths_lock;
  std::vector<std::string> paths;  // the path each connection asked for

  struct Session {
    size_t next = 0;
    size_t frag = 0;
  };

  static int Callback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                      size_t len) {
    auto* self = static_cast<TestServer*>(lws_context_user(lws_get_context(wsi)));
    auto* s = static_cast<Session*>(user);
    switch (reason) {
      case LWS_CALLBACK_ESTABLISHED: {
        char uri[256] = "";
        lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
        std::lock_guard<std::mutex> g(self->paths_lock);
        self->paths.push_back(uri);
      }
        ++self->connections;
        *s = Session();
        lws_callback_on_writable(wsi);
        return 0;
      case LWS_CALLBACK_SERVER_WRITEABLE: {
        if (s->next >= self->script.size()) {
          if (self->hold) return 0;
          lws_close_reason(wsi, static_cast<enum lws_close_status>(self->close_code), nullptr, 0);
          return -1;
        }
        std::string msg = self->script[s->next];
        std::vector<std::string> parts;
        size_t at = 0, bar;
        while ((bar = msg.find('|', at)) != std::string::npos) {
          parts.push_back(msg.substr(at, bar - at));
          at = bar + 1;
        }
        parts.push_back(msg.substr(at));
        const std::string& part = parts[s->frag];
        std::vector<unsigned char> buf(LWS_PRE + part.size());
        memcpy(buf.data() + LWS_PRE, part.data(), part.size());
        int flags = lws_write_ws_flags(LWS_WRITE_TEXT, s->frag == 0, s->frag + 1 == parts.size());
        lws_write(wsi, buf.data() + LWS_PRE, part.size(),
                  static_cast<enum lws_write_protocol>(flags));
        if (++s->frag == parts.size()) {
          s->frag = 0;
          ++s->next;
        }
        lws_callback_on_writable(wsi);
        return 0;
      }
      default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
  }

  void Start() {
    thread = std::thread([this] {
      static const struct lws_protocols protocols[] = {
          {"test", &TestServer::Callback, sizeof(Session), 4096, 0, nullptr, 0},
          {nullptr, nullptr, 0, 0, 0, nullptr, 0}};
      struct lws_context_creation_info info;
      memset(&info, 0, sizeof info);
      info.port = 0;
      info.iface = "127.0.0.1";
      info.protocols = protocols;
      info.user = this;
      struct lws_context* ctx = lws_create_context(&info);
      context = ctx;
      port = lws_get_vhost_listen_port(lws_get_vhost_by_name(ctx, "default"));
      while (!stop) lws_service(ctx, 0);
      context = nullptr;
      lws_context_destroy(ctx);
    });
    while (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void Join() {  // lws 4.1 ignores lws_service()'s timeout: the loop is woken to see |stop|
    stop = true;
    if (context) lws_cancel_service(context);
    if (thread.joinable()) thread.join();
  }
  ~TestServer() { Join(); }
};
