list(APPEND SERVITOR_SOURCES
  lib/ws/address.cc
  lib/ws/broadcast.cc
  lib/ws/control.cc
  lib/ws/server.cc
  lib/ws/client.cc
  lib/ws/closing.cc
  lib/ws/loop.cc
  lib/ws/frame.cc
  lib/ws/reassembly.cc
  lib/ws/rooms.cc
  lib/ws/retain_file.cc
  lib/ws/ws_client.cc
)
