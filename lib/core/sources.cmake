list(APPEND SERVITOR_SOURCES
  lib/core/atomic_file.cc
  lib/core/backoff.cc
  lib/core/cli.cc
  lib/core/event.cc
  lib/core/json.cc
  lib/core/line_reader.cc
  lib/core/log.cc
  lib/core/output.cc
  lib/core/output_queue.cc
  lib/core/secret.cc
  lib/core/signals.cc
  lib/core/time.cc
  lib/core/utf8.cc
)
