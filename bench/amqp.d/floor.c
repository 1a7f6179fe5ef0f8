/* The least a publisher can do with rabbitmq-c: every line of stdin as one persistent message to
 * QUEUE through the default exchange, content type application/json, and nothing else (no
 * parsing, no window, no reconnect). With "confirm" it enables publisher confirms and, after the
 * last line, waits for the broker's ack of every message; with "none" it confirms nothing, as
 * `amqp-publish -l` does. bench/amqp times it beside amqp-pub: what "confirm" takes is the floor
 * any confirming client of this broker can reach.
 *
 * Usage: floor URL QUEUE confirm|none <lines
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

int main(int argc, char **argv) {
  if (argc != 4) die("usage: floor URL QUEUE confirm|none <lines");
  int confirm = strcmp(argv[3], "confirm") == 0;
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
  if (confirm) {
    amqp_confirm_select(c, 1);
    check(c, "confirm.select");
  }
  amqp_basic_properties_t props;
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.content_type = amqp_cstring_bytes("application/json");
  props.delivery_mode = 2;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  uint64_t sent = 0, acked = 0;
  while ((n = getline(&line, &cap, stdin)) > 0) {
    amqp_bytes_t body = {(size_t)n - (line[n - 1] == '\n'), line};
    if (amqp_basic_publish(c, 1, amqp_empty_bytes, amqp_cstring_bytes(argv[2]), 0, 0, &props,
                           body) != AMQP_STATUS_OK)
      die("publish");
    sent++;
  }
  char *done = calloc(sent + 1, 1);
  uint64_t lowest = 0; /* every tag up to here is counted */
  if (done == NULL) die("out of memory");
  while (confirm && acked < sent) {
    amqp_frame_t f;
    if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK) die("waiting for confirms");
    if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_NACK_METHOD)
      die("nacked");
    if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
      /* Acks come with "multiple" or one by one, in any order: count each tag once. */
      amqp_basic_ack_t *ack = f.payload.method.decoded;
      uint64_t from = ack->multiple ? lowest + 1 : ack->delivery_tag;
      for (uint64_t t = from; t <= ack->delivery_tag && t <= sent; t++) {
        if (!done[t]) {
          done[t] = 1;
          acked++;
        }
      }
      if (ack->multiple) lowest = ack->delivery_tag;
    }
    amqp_maybe_release_buffers(c);
  }
  amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(c, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(c);
  free(done);
  free(line);
  free(url);
  return 0;
}
