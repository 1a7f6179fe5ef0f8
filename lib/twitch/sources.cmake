list(APPEND SERVITOR_SOURCES lib/twitch/trigger.cc)
list(APPEND SERVITOR_SOURCES
  lib/twitch/irc_client.cc
  lib/twitch/irc_events.cc
  lib/twitch/irc_message.cc
  lib/twitch/irc_output.cc
)
list(APPEND SERVITOR_SOURCES
  lib/twitch/auth_commands.cc
  lib/twitch/oauth.cc
  lib/twitch/token_provider.cc
  lib/twitch/token_store.cc
)
