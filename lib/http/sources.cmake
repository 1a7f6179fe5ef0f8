list(APPEND SERVITOR_SOURCES
  lib/http/client.cc
  lib/http/responder.cc
  lib/http/static_files.cc
)
