list(APPEND SERVITOR_SOURCES
  lib/twitch/auth_commands.cc
  lib/twitch/eventsub_dedup.cc
  lib/twitch/eventsub_events.cc
  lib/twitch/eventsub_message.cc
  lib/twitch/irc_client.cc
  lib/twitch/irc_events.cc
  lib/twitch/irc_message.cc
  lib/twitch/irc_output.cc
  lib/twitch/oauth.cc
  lib/twitch/pubsub_events.cc
  lib/twitch/pubsub_protocol.cc
  lib/twitch/token_provider.cc
  lib/twitch/token_store.cc
  lib/twitch/trigger.cc
  lib/twitch/webhook.cc
  lib/twitch/webhook_server.cc
)
