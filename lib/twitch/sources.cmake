list(APPEND SERVITOR_SOURCES lib/twitch/trigger.cc)
list(APPEND SERVITOR_SOURCES
  lib/twitch/eventsub_dedup.cc
  lib/twitch/eventsub_events.cc
  lib/twitch/eventsub_message.cc
  lib/twitch/irc_client.cc
  lib/twitch/irc_events.cc
  lib/twitch/irc_message.cc
  lib/twitch/irc_output.cc
)
list(APPEND SERVITOR_SOURCES lib/twitch/pubsub_events.cc lib/twitch/pubsub_protocol.cc)
