/* The least a client can do with rabbitmq-c, as the floor bench/amqp times its peers against.
 *
 * floor URL QUEUE confirm WINDOW|none <lines
 *   Every line of stdin as one persistent message to QUEUE through the default exchange, content
 *   type application/json, and nothing else (no parsing, no reconnect). With "confirm" it enables
 *   publisher confirms and keeps at most WINDOW messages unconfirmed (the window every confirming
 *   peer of the benchmark gets), then waits for the broker's ack of every message; with "none" it
 *   confirms nothing, as `amqp-publish -l` does.
 * floor URL QUEUE consume COUNT PREFETCH >lines
 *   Consumes COUNT messages from QUEUE with prefetch PREFETCH and writes each body and a newline
 *   to stdout; every PREFETCH/2 messages it flushes stdout and then acknowledges them all at once
 *   (basic.ack multiple), the ack-after-write of amqp-sub with nothing else around it.
 */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what) {
  fprintf(stderr, "floor: %s\n", what);
  exit(1);
}

static void check(amqp_connection_state_t c, const char *what) {
  if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL) die(what);
}

/* Publisher confirms: which tags are acked (acks come with "multiple" or one by one, in any
 * order: each tag is counted once). */
struct confirms {
  char *done;
  uint64_t lowest; /* every tag up to here is counted */
  uint64_t acked;
};

/* Reads frames until one ack has arrived, and counts what it settles. */
static void take_ack(amqp_connection_state_t c, struct confirms *k, uint64_t sent) {
  for (;;) {
    amqp_frame_t f;
    if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK) die("waiting for confirms");
    if (f.frame_type != AMQP_FRAME_METHOD) continue;
    if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) die("nacked");
    if (f.payload.method.id != AMQP_BASIC_ACK_METHOD) continue;
    amqp_basic_ack_t *ack = f.payload.method.decoded;
    uint64_t from = ack->multiple ? k->lowest + 1 : ack->delivery_tag;
    for (uint64_t t = from; t <= ack->delivery_tag && t <= sent; t++) {
      if (!k->done[t]) {
        k->done[t] = 1;
        k->acked++;
      }
    }
    if (ack->multiple && ack->delivery_tag > k->lowest) k->lowest = ack->delivery_tag;
    amqp_maybe_release_buffers(c);
    return;
  }
}

static void publish(amqp_connection_state_t c, const char *queue, int confirm, uint64_t window) {
  if (confirm) {
    amqp_confirm_select(c, 1);
    check(c, "confirm.select");
  }
  amqp_basic_properties_t props;
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.content_type = amqp_cstring_bytes("application/json");
  props.delivery_mode = 2;
  struct confirms k = {NULL, 0, 0};
  size_t cap_tags = 1 << 16;
  k.done = calloc(cap_tags, 1);
  if (k.done == NULL) die("out of memory");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  uint64_t sent = 0;
  while ((n = getline(&line, &cap, stdin)) > 0) {
    while (confirm && sent - k.acked >= window) take_ack(c, &k, sent);
    amqp_bytes_t body = {(size_t)n - (line[n - 1] == '\n'), line};
    if (amqp_basic_publish(c, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 0, 0, &props,
                           body) != AMQP_STATUS_OK)
      die("publish");
    sent++;
    if (sent + 1 >= cap_tags) {
      k.done = realloc(k.done, cap_tags * 2);
      if (k.done == NULL) die("out of memory");
      memset(k.done + cap_tags, 0, cap_tags);
      cap_tags *= 2;
    }
  }
  while (confirm && k.acked < sent) take_ack(c, &k, sent);
  free(k.done);
  free(line);
}

static void consume(amqp_connection_state_t c, const char *queue, long count, int prefetch) {
  amqp_basic_qos(c, 1, 0, (uint16_t)prefetch, 0);
  check(c, "basic.qos");
  amqp_basic_consume(c, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                     amqp_empty_table);
  check(c, "basic.consume");
  int batch = prefetch / 2 > 0 ? prefetch / 2 : 1;
  int unacked = 0;
  for (long i = 0; i < count; i++) {
    amqp_envelope_t e;
    amqp_maybe_release_buffers(c);
    if (amqp_consume_message(c, &e, NULL, 0).reply_type != AMQP_RESPONSE_NORMAL) die("consume");
    fwrite(e.message.body.bytes, 1, e.message.body.len, stdout);
    putchar('\n');
    uint64_t tag = e.delivery_tag;
    amqp_destroy_envelope(&e);
    if (++unacked >= batch || i + 1 == count) {
      if (fflush(stdout) != 0) die("writing stdout");
      if (amqp_basic_ack(c, 1, tag, 1) != AMQP_STATUS_OK) die("ack");
      unacked = 0;
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 4) die("usage: floor URL QUEUE confirm WINDOW|none <lines | consume COUNT PREFETCH");
  struct amqp_connection_info info;
  char *url = strdup(argv[1]);
  if (amqp_parse_url(url, &info) != AMQP_STATUS_OK) die("bad URL");
  amqp_connection_state_t c = amqp_new_connection();
  amqp_socket_t *s = amqp_tcp_socket_new(c);
  if (s == NULL || amqp_socket_open(s, info.host, info.port) != AMQP_STATUS_OK) die("connect");
  if (amqp_login(c, info.vhost, 0, AMQP_DEFAULT_FRAME_SIZE, 0, AMQP_SASL_METHOD_PLAIN, info.user,
                 info.password)
          .reply_type != AMQP_RESPONSE_NORMAL)
    die("login");
  amqp_channel_open(c, 1);
  check(c, "channel.open");
  if (strcmp(argv[3], "confirm") == 0 && argc == 5) {
    publish(c, argv[2], 1, strtoull(argv[4], NULL, 10));
  } else if (strcmp(argv[3], "none") == 0) {
    publish(c, argv[2], 0, 0);
  } else if (strcmp(argv[3], "consume") == 0 && argc == 6) {
    consume(c, argv[2], strtol(argv[4], NULL, 10), atoi(argv[5]));
  } else {
    die("usage: floor URL QUEUE confirm WINDOW|none <lines | consume COUNT PREFETCH");
  }
  amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(c, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(c);
  free(url);
  return 0;
}
