// Our side of a closing handshake (see closing.h).
#include "ws/closing.h"

#include <cstring>

int WsClosing::Send(struct lws* wsi, enum lws_close_status status, const char* reason) {
  sent_ = true;
  lws_close_reason(wsi, status, reinterpret_cast<unsigned char*>(const_cast<char*>(reason)),
                   strlen(reason));
  return -1;
}
