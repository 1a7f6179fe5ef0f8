list(APPEND SERVITOR_SOURCES
  lib/http/responder.cc
  lib/http/static_files.cc
)
