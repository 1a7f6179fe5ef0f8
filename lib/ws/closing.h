// Our side of a WebSocket closing handshake, started from LWS_CALLBACK_(CLIENT_)SERVER_WRITEABLE,
// shared by the server (ws-serve) and the client (lib/ws/ws_client).
//
// libwebsockets 4.1.6 sends the close frame when WRITEABLE returns -1 after lws_close_reason(),
// then waits for the peer's answer (LRS_AWAITING_CLOSE_ACK) but leaves POLLOUT on, so WRITEABLE
// comes again. A second -1 in that state drops the connection at once: the socket closes with
// what we sent still unread by the peer, and its answer meeting the closed socket resets the
// connection, which throws that data away. So once the close frame went, WRITEABLE does nothing;
// the handshake ends with the peer's close frame or lws's timeout.
#pragma once

#include <libwebsockets.h>

class WsClosing {
 public:
  /// True once the close frame went: WRITEABLE must return 0 and write nothing.
  bool sent() const { return sent_; }
  /// Sets the close frame's status and reason (may be empty) and returns -1, for WRITEABLE to
  /// return.
  int Send(struct lws* wsi, enum lws_close_status status, const char* reason);
  /// For a connection that starts over.
  void Reset() { sent_ = false; }

 private:
  bool sent_ = false;
};
