list(APPEND SERVITOR_SOURCES
  lib/http/client.cc
)
