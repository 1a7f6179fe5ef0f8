// What twitch-eventsub's --types names subscribe to: each alert type's EventSub subscription
// types with their versions, condition keys and the scopes Twitch wants for them
// (twitch-protocols.md section 6), and the parser of --subscribe TYPE[@VERSION][:CONDITION-JSON].
// One table, read by twitch-eventsub, twitch-hook --subscribe-for and twitch-subs' messages.
//
// channel.subscribe and channel.subscription.* tell the same alerts as channel.chat.notification
// (sub, resub, sub_gift, community_sub_gift), and channel.raid as its raid notice: the default set
// takes the chat notifications, whose events carry the IRC message id (so an alert seen through
// IRC and EventSub is shown once), and leaves "sub" and "raid" to be asked for by name.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"

/// One EventSub subscription type and how to ask for it.
struct EventSubTypeSpec {
  std::string type;     ///< "channel.follow"
  std::string version;  ///< "2"
  /// The condition's keys. "broadcaster_user_id" and "to_broadcaster_user_id" take the channel's
  /// id; "moderator_user_id" and "user_id" the reader's (the token's user, or the broadcaster
  /// for an app token).
  std::vector<std::string> condition_keys;
  /// The scopes of which the token needs one (empty: none).
  std::vector<std::string> scopes;
};

/// An alert type of --types ("follow") and the subscriptions it creates.
struct EventSubAlertType {
  std::string name;
  std::vector<EventSubTypeSpec> subscriptions;
  bool in_default;  ///< part of the default --types
};

/// Every alert type, in the order the man page lists them.
const std::vector<EventSubAlertType>& EventSubAlertTypes();

/// The default --types, comma-separated ("follow,chat,cheer,redemption,hypetrain").
std::string EventSubDefaultTypes();

/// The spec of subscription type |type| from the table, or null when it is not there.
const EventSubTypeSpec* FindEventSubType(const std::string& type);

/// The subscriptions of the comma-separated alert type names |names| (each subscription type once,
/// in table order). False with |err| naming an unknown name.
bool ResolveAlertTypes(const std::string& names, std::vector<EventSubTypeSpec>* out,
                       std::string* err);

/// "a or b": the scopes of |spec|, for messages ("no scope" when none).
std::string DescribeScopes(const EventSubTypeSpec& spec);

/// The condition of |spec| for channel |broadcaster_id| read by |reader_id|: one string member
/// per condition key.
JsonPtr BuildCondition(const EventSubTypeSpec& spec, const std::string& broadcaster_id,
                       const std::string& reader_id);

/// One --subscribe TYPE[@VERSION][:CONDITION-JSON].
struct SubscribeArg {
  std::string type;
  std::string version;  ///< as given; else the table's; else "1"
  JsonPtr condition;    ///< as given (an object); null when not given
};

/// Parses |text| as TYPE[@VERSION][:CONDITION-JSON]: TYPE of [a-z0-9_.], VERSION of [a-z0-9],
/// the condition a JSON object of string values. False with |err| saying what is wrong.
bool ParseSubscribeArg(const std::string& text, SubscribeArg* out, std::string* err);
