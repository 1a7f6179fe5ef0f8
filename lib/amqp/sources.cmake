list(APPEND SERVITOR_SOURCES
  lib/amqp/confirm_window.cc
  lib/amqp/connection.cc
  lib/amqp/envelope.cc
  lib/amqp/key_template.cc
  lib/amqp/publisher.cc
  lib/amqp/session.cc
  lib/amqp/stop_pipe.cc
  lib/amqp/subscriber.cc
  lib/amqp/url.cc
)
