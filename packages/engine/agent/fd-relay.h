// Moving bytes both ways between two non-blocking stream sockets until both
// directions have ended, shared by the egress relay (a sandbox's outgoing
// connections) and the agent's `connect` (ingress: a connection into it).
#ifndef PADDOCK_FD_RELAY_H
#define PADDOCK_FD_RELAY_H

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define RELAY_BUF_SIZE 65536

// One direction of a connection. Reading only into an empty buffer keeps the
// bookkeeping trivial and lets TCP flow control push back on a fast sender.
struct relay_half {
  int from, to;
  char *buf;
  size_t off, len;
  int eof;
};

// Moves what it can without blocking; -1 ends the connection. `eof` is set
// only when the buffer is empty, so EOF implies drained and the write side of
// the peer can be shut at once: that is what lets a client half-close and
// still read its answer.
static inline int relay_pump(struct relay_half *h, short rev_from, short rev_to) {
  int fresh = 0;
  if (h->len == 0 && !h->eof && rev_from) {
    ssize_t n = read(h->from, h->buf, RELAY_BUF_SIZE);
    if (n > 0) {
      h->off = 0;
      h->len = (size_t)n;
      fresh = 1;
    } else if (n == 0) {
      h->eof = 1;
      shutdown(h->to, SHUT_WR);
    } else if (errno != EAGAIN && errno != EINTR) {
      return -1;
    }
  }
  if (!fresh && !rev_to) return 0;
  while (h->len > 0) {
    ssize_t n = write(h->to, h->buf + h->off, h->len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return -1;
    }
    h->off += (size_t)n;
    h->len -= (size_t)n;
  }
  return 0;
}

// Relays a <-> b. With hangup_ends set, a hangup (POLLHUP: closed, not only
// half-closed) on `a` ends the relay even while b still has nothing to say:
// the agent's end of an ingress connection whose daemon side is gone must not
// linger for as long as an idle server in the sandbox keeps its end open.
static inline void relay_fds(int a, int b, int hangup_ends) {
  char *mem = malloc(2 * RELAY_BUF_SIZE);
  if (!mem) return;
  struct relay_half h[2] = {{a, b, mem, 0, 0, 0}, {b, a, mem + RELAY_BUF_SIZE, 0, 0, 0}};
  while (!(h[0].eof && h[1].eof)) {
    // pollfd i watches h[i].from, which is also h[1-i].to. An fd with nothing
    // to wait for is left out (-1): otherwise a lingering POLLHUP on it would
    // wake poll forever.
    struct pollfd p[2];
    for (int i = 0; i < 2; i++) {
      short ev = 0;
      if (h[i].len == 0 && !h[i].eof) ev |= POLLIN;
      if (h[1 - i].len > 0) ev |= POLLOUT;
      p[i].fd = ev || (i == 0 && hangup_ends) ? h[i].from : -1;
      p[i].events = ev;
      p[i].revents = 0;
    }
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (hangup_ends && (p[0].revents & (POLLHUP | POLLERR)) && !(p[0].revents & POLLIN)) break;
    if (relay_pump(&h[0], p[0].revents, p[1].revents) < 0 || relay_pump(&h[1], p[1].revents, p[0].revents) < 0) break;
  }
  free(mem);
}

#endif
