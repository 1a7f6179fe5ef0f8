// Server-to-client text frames (see frame.h).
#include "ws/frame.h"

void AppendTextFrame(const unsigned char* data, size_t len, std::string* out) {
  unsigned char h[10];
  size_t n = 0;
  h[n++] = 0x81;  // FIN, opcode 1 (text)
  if (len < 126) {
    h[n++] = static_cast<unsigned char>(len);
  } else if (len < 65536) {
    h[n++] = 126;
    h[n++] = static_cast<unsigned char>(len >> 8);
    h[n++] = static_cast<unsigned char>(len);
  } else {
    h[n++] = 127;
    for (int shift = 56; shift >= 0; shift -= 8) {
      h[n++] = static_cast<unsigned char>(static_cast<unsigned long long>(len) >> shift);
    }
  }
  out->append(reinterpret_cast<const char*>(h), n);
  out->append(reinterpret_cast<const char*>(data), len);
}
