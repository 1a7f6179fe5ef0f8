list(APPEND SERVITOR_SOURCES
  lib/ws/address.cc
  lib/ws/broadcast.cc
  lib/ws/server.cc
  lib/ws/client.cc
  lib/ws/loop.cc
  lib/ws/frame.cc
  lib/ws/retain_file.cc
)
