// twitch-hook --subscribe-for CHANNEL --callback URL: once the server listens, the default alert
// subscriptions (eventsub_types' table, or --types) for CHANNEL are created through Helix with
// the app token, on the server's own loop, so that Twitch's verification challenge, which may
// come before Helix has answered, finds the server up and answered. Each outcome is logged: a
// 409 (the subscription exists already, e.g. from the last run) is fine, a 403 names the scope
// the broadcaster has not granted the application, the rest are errors; the server keeps
// serving whatever happened.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "http/client.h"
#include "twitch/eventsub_types.h"
#include "twitch/helix_eventsub.h"
#include "twitch/token_provider.h"

/// The options of --subscribe-for.
struct HookSubscribeOptions {
  std::string channel;   ///< --subscribe-for LOGIN; empty: subscribe to nothing
  std::string callback;  ///< --callback URL (what Twitch posts to)
  std::string types;     ///< --types (default: eventsub_types' default set)
  TwitchAuthOptions auth;
};

/// Adds --subscribe-for, --callback, --types and the Twitch auth group to |app|.
void AddHookSubscribeOptions(CLI::App& app, HookSubscribeOptions* opts);

/// Creates the subscriptions of one twitch-hook run.
class HookSubscriber {
 public:
  HookSubscriber(const HookSubscribeOptions& opts, std::string secret);
  ~HookSubscriber();
  HookSubscriber(const HookSubscriber&) = delete;
  HookSubscriber& operator=(const HookSubscriber&) = delete;

  /// Before listening, blocking: checks the options, loads the app token (the stored one of
  /// --client-id unless --token-file or TWITCH_TOKEN names one), refuses a user token, and looks
  /// up the channel's user id. -1 when ready (or nothing to subscribe), else the exit status.
  int Prepare();

  /// Once the server listens on |context|: starts every create on that loop.
  void Start(struct lws_context* context);

  /// Before |context| is destroyed: drops what is in flight (logged).
  void Stop();

  /// Subscriptions not (yet) created or found existing.
  size_t missing() const { return missing_.size(); }

 private:
  void Create(const EventSubTypeSpec& spec);
  void Done(const EventSubTypeSpec& spec, const HelixResult& r, const EventSubSubscription& sub);

  HookSubscribeOptions opts_;
  std::string secret_;
  HttpClient http_;  // blocking: token and user lookup
  TokenProvider tokens_;
  HelixEventSub helix_;
  std::unique_ptr<HttpClient> loop_http_;
  std::vector<EventSubTypeSpec> specs_;
  std::vector<std::string> missing_;
  std::string broadcaster_id_;
  bool retried_401_ = false;
  int pending_ = 0;  // creates started and not done
};
