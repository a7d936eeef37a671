#define _GNU_SOURCE
/* An HTTP/1.1 hello service for socket mode: serves on the listening socket the agent preopens
 * (fd 3, LISTEN_FDS=1, as wasmtime's --tcplisten), keep-alive, many connections at once, one
 * poll() loop. Prints GREETING (env) or "hello"; argv[1] is prepended to the body if given.
 * With HELLO_JSON set it answers {"task":"<MESOS_TASK_ID>"} instead (which task answered, for
 * the rolling-restart test and bench through `pacer lb`).
 * Build: clang --target=wasm32-wasi -O2 (npm run build:wasm-tasks). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 64
#define BUF_BYTES 4096

struct conn {
  int fd;
  size_t used;
  char buf[BUF_BYTES];
};

static struct conn conns[MAX_CONNS];
static struct pollfd fds[MAX_CONNS + 1];
static char body[512];
static size_t body_len;

static void drop(int i) {
  close(conns[i].fd);
  conns[i].fd = -1;
}

/* Answers every complete request in the buffer; returns -1 to close the connection. */
static int serve(struct conn *c) {
  for (;;) {
    char *end = NULL;
    for (size_t i = 0; i + 3 < c->used; i++) {
      if (memcmp(c->buf + i, "\r\n\r\n", 4) == 0) {
        end = c->buf + i + 4;
        break;
      }
    }
    if (!end) return c->used == BUF_BYTES ? -1 : 0;
    int is_close = memmem(c->buf, end - c->buf, "Connection: close", 17) != NULL;
    char head[160];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n",
                     body_len, is_close ? "Connection: close\r\n" : "");
    char out[sizeof head + sizeof body];
    memcpy(out, head, n);
    memcpy(out + n, body, body_len);
    size_t total = n + body_len, sent = 0;
    while (sent < total) {
      ssize_t w = write(c->fd, out + sent, total - sent);
      if (w < 0) {
        if (errno == EAGAIN) continue;
        return -1;
      }
      sent += w;
    }
    size_t rest = c->used - (end - c->buf);
    memmove(c->buf, end, rest);
    c->used = rest;
    if (is_close) return -1;
  }
}

int main(int argc, char **argv) {
  const char *listen_fds = getenv("LISTEN_FDS");
  if (!listen_fds || atoi(listen_fds) < 1) {
    fprintf(stderr, "no listening socket (LISTEN_FDS)\n");
    return 2;
  }
  const char *greeting = getenv("GREETING");
  const char *task = getenv("MESOS_TASK_ID");
  if (getenv("HELLO_JSON")) {
    body_len = (size_t)snprintf(body, sizeof body, "{\"task\":\"%s\"}\n", task ? task : "");
  } else {
    body_len = (size_t)snprintf(body, sizeof body, "%s%s%s\n", argc > 1 ? argv[1] : "",
                                argc > 1 ? " " : "", greeting ? greeting : "hello");
  }
  if (body_len >= sizeof body) body_len = sizeof body - 1;
  printf("listening on fd 3\n");
  fflush(stdout);
  for (int i = 0; i < MAX_CONNS; i++) conns[i].fd = -1;
  for (;;) {
    int n = 0;
    fds[n].fd = 3;
    fds[n].events = POLLIN;
    n++;
    int map[MAX_CONNS + 1];
    for (int i = 0; i < MAX_CONNS; i++) {
      if (conns[i].fd < 0) continue;
      fds[n].fd = conns[i].fd;
      fds[n].events = POLLIN;
      map[n] = i;
      n++;
    }
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      perror("poll");
      return 1;
    }
    if (fds[0].revents & POLLIN) {
      int fd = accept(3, NULL, NULL);
      if (fd >= 0) {
        int slot = -1;
        for (int i = 0; i < MAX_CONNS; i++) {
          if (conns[i].fd < 0) {
            slot = i;
            break;
          }
        }
        if (slot < 0) {
          close(fd);
        } else {
          conns[slot].fd = fd;
          conns[slot].used = 0;
        }
      }
    }
    for (int k = 1; k < n; k++) {
      if (!fds[k].revents) continue;
      struct conn *c = &conns[map[k]];
      ssize_t r = read(c->fd, c->buf + c->used, BUF_BYTES - c->used);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        drop(map[k]);
        continue;
      }
      c->used += (size_t)r;
      if (serve(c) < 0) drop(map[k]);
    }
  }
}
