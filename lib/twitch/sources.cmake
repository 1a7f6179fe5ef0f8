list(APPEND SERVITOR_SOURCES lib/twitch/trigger.cc)
