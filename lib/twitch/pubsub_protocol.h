// The legacy Twitch PubSub protocol (twitch-protocols.md §7) as pure functions, without I/O:
// the frames a client sends (LISTEN, UNLISTEN, PING), the frames a server sends (RESPONSE,
// MESSAGE, PONG, RECONNECT, AUTH_REVOKED) parsed and sorted, RESPONSE errors classified, topics
// named and split into connections, and the PING interval. twitch-pubsub's connection code
// drives these; the tests and the fuzz target call them directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

/// The most topics one connection may LISTEN to (Twitch's limit).
constexpr size_t kPubSubMaxTopicsPerConnection = 50;

/// How long a PONG may take after our PING before the connection counts as dead.
constexpr int64_t kPubSubPongTimeoutMs = 10 * 1000;

/// The longest wait between two PINGs (Twitch asks for one at least every 5 minutes; we keep a
/// minute's margin below that).
constexpr int64_t kPubSubMaxPingIntervalMs = 4 * 60 * 1000;

/// After a RECONNECT, the new connection must be listening again within this time.
constexpr int64_t kPubSubReconnectDeadlineMs = 30 * 1000;

/// What a server frame is, by its "type".
enum class PubSubFrameType {
  kResponse,     ///< the answer to a LISTEN or UNLISTEN, matched by nonce
  kMessage,      ///< an event on a topic: "data":{"topic","message"}
  kPong,         ///< the answer to our PING
  kReconnect,    ///< the server is going away: reconnect and LISTEN again
  kAuthRevoked,  ///< the token was revoked: "data":{"topics"} are no longer listened to
  kUnknown,      ///< any other "type" (kept in |type| for the log)
};

/// One server frame, parsed once. Only the fields of its type are filled.
struct PubSubFrame {
  PubSubFrameType kind = PubSubFrameType::kUnknown;
  std::string type;   ///< "type" as sent
  std::string nonce;  ///< RESPONSE: the nonce of the request it answers ("" when absent)
  std::string error;  ///< RESPONSE: "" for success, else ERR_BADAUTH, ERR_BADTOPIC, ...
  std::string topic;  ///< MESSAGE: "channel-bits-events-v2.777000222"
  std::vector<std::string> topics;  ///< AUTH_REVOKED: the topics dropped (strings only)
  /// MESSAGE: the inner message as the text of a JSON value. Twitch sends it as a JSON string
  /// holding JSON, which is unwrapped here; a capture that holds the object itself (as the
  /// documentation's examples do) gives that object's text. It is not parsed any further: a
  /// malformed inner message is the mapper's to report (pubsub_events.h).
  std::string message;
};

/// Parses one server frame (one WebSocket text message, or one line of a capture). Returns false
/// with |err| when it is not a JSON object with a string "type", or when a MESSAGE lacks its
/// "data" object, string "topic" or "message". An unknown type is no error (kind kUnknown).
bool ParsePubSubFrame(std::string_view text, PubSubFrame* out, std::string* err);

/// What a RESPONSE's "error" means for the client.
enum class PubSubResponseOutcome {
  kOk,          ///< "": the topics are being listened to
  kBadAuth,     ///< ERR_BADAUTH: the token was refused or lacks a scope (exit status 3)
  kBadTopic,    ///< ERR_BADTOPIC: a topic of the request does not exist; name it and go on
  kServer,      ///< ERR_SERVER: Twitch failed; send the request again after a backoff
  kBadMessage,  ///< ERR_BADMESSAGE: the request itself was malformed (a bug on our side)
  kUnknown,     ///< any other string: treated as fatal for the request, logged as sent
};

/// Classifies a RESPONSE's |error| string.
PubSubResponseOutcome ClassifyPubSubError(std::string_view error);

/// A LISTEN or UNLISTEN sent and not yet answered.
struct PubSubRequest {
  std::string type;                 ///< "LISTEN" or "UNLISTEN"
  std::string nonce;                ///< the nonce its RESPONSE will carry
  std::vector<std::string> topics;  ///< the topics it names
  std::string frame;                ///< the text to send; holds the token: never log it
  /// The frame as it may be logged: the token replaced by "[redacted]".
  std::string ForLog() const;
};

/// Builds a LISTEN for |topics| with |nonce| and the OAuth |token| (without "oauth:"):
/// {"type":"LISTEN","nonce":...,"data":{"topics":[...],"auth_token":...}}.
PubSubRequest PubSubListen(std::string_view nonce, const std::vector<std::string>& topics,
                           std::string_view token);

/// Builds an UNLISTEN for |topics| with |nonce|: {"type":"UNLISTEN","nonce":...,"data":{"topics":
/// [...]}} (no token: the documented frame has none).
PubSubRequest PubSubUnlisten(std::string_view nonce, const std::vector<std::string>& topics);

/// The PING frame: {"type":"PING"}.
std::string PubSubPingFrame();

/// A fresh nonce: 32 random characters from [A-Za-z0-9].
std::string NewPubSubNonce();

/// The requests sent on one connection and not yet answered, to match each RESPONSE to its
/// request by nonce.
class PubSubPendingRequests {
 public:
  /// Remembers |request| until its RESPONSE arrives.
  void Add(PubSubRequest request);
  /// Moves the request that |response| answers into |out| and forgets it. Returns false when no
  /// pending request has that nonce (a late, duplicated or foreign RESPONSE).
  bool Take(const PubSubFrame& response, PubSubRequest* out);
  /// The requests still unanswered (to send again after a reconnect, or to time out).
  const std::vector<PubSubRequest>& pending() const { return pending_; }
  void Clear() { pending_.clear(); }

 private:
  std::vector<PubSubRequest> pending_;
};

/// Splits |topics| into groups of at most |per_connection| (one group per connection), in order,
/// each topic once (a repeated topic keeps its first place). Empty input gives no group.
std::vector<std::vector<std::string>> SplitPubSubTopics(
    const std::vector<std::string>& topics, size_t per_connection = kPubSubMaxTopicsPerConnection);

/// The topic for event type |type| of channel |channel_id|: "sub" →
/// channel-subscribe-events-v1, "subgifts" → channel-sub-gifts-v1 (the gift bombs), "bits" →
/// channel-bits-events-v2, "bitsbadge" → channel-bits-badge-unlocks, "points" →
/// channel-points-channel-v1; "<name>.<channel_id>". Returns false with |err| for any other
/// type or a channel id that is not all digits.
bool PubSubTopicFor(std::string_view type, std::string_view channel_id, std::string* topic,
                    std::string* err);

/// The types PubSubTopicFor() knows, in its order, for --help and error messages.
const std::vector<std::string>& PubSubTypes();

/// The wait before the next PING: between 3 and 4 minutes (kPubSubMaxPingIntervalMs), spread by
/// |random| (any 32-bit value, uniform) so that connections opened together do not PING
/// together.
int64_t PubSubPingDelayMs(uint32_t random);
