// Moving bytes both ways between two non-blocking stream sockets until both
// directions have ended, shared by the egress relay (a sandbox's outgoing
// connections) and the agent's `connect` (ingress: a connection into it).
//
// A direction starts by copying (read(2) and write(2) through a 64 KiB
// buffer). Once one read fills the buffer, the direction carries a bulk
// transfer and moves on with splice(2) through a 1 MiB pipe of its own:
// socket -> pipe takes references to the socket's pages and pipe -> socket
// hands them on (to a unix socket too, since Linux 6.5). The CPU a byte costs
// is about that of the copy (a page reference costs what copying 4 KiB does);
// what it buys is fewer wake-ups (one moves up to 1 MiB instead of 64 KiB),
// which a busy machine, where every wake-up waits for a CPU, pays for.
// Short connections never hold a pipe, and an idle one gives its pipe back:
// pipes count against the user's pipe quota (fs.pipe-user-pages-soft, 64 MiB
// by default), which the sandbox's root shares with the agent. Where splice
// is refused (EINVAL) or the pipe cannot be made that large (a smaller one
// costs more than the copy), the direction keeps copying; so does every
// direction out of a unix socket unless relay_splice_unix is set (see
// relay_fds).
#ifndef PADDOCK_FD_RELAY_H
#define PADDOCK_FD_RELAY_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define RELAY_BUF_SIZE 65536
#define RELAY_PIPE_SIZE (1 << 20)
#define RELAY_PIPE_IDLE_MS 1000
// What a relay asks of a unix socket's send buffer (see the agent's `connect`).
#define RELAY_SOCKET_BUF (4 << 20)

// Set by a program that knows it runs on Linux itself (the container tier),
// not under gVisor: only then are bytes spliced out of a unix socket too.
static int relay_splice_unix = 0;

// One direction of a connection. Taking only into an empty buffer (or pipe)
// keeps the bookkeeping trivial and lets TCP flow control push back on a fast
// sender: at most one buffer's (or pipe's) worth is held per direction.
struct relay_half {
  int from, to;
  char *buf;
  size_t off, len;  // buffered bytes not yet written (read/write path)
  int pipe_r, pipe_w;
  size_t in_pipe;   // spliced in, not yet spliced out
  int spliced_out;  // a splice out has worked: the pipe may be filled whole
  int copy_only;    // splice was refused, or no pipe: copy to the end
  int eof;
};

static inline size_t relay_pending(const struct relay_half *h) { return h->len + h->in_pipe; }

static inline void relay_close_pipe(struct relay_half *h) {
  if (h->pipe_r >= 0) close(h->pipe_r);
  if (h->pipe_w >= 0) close(h->pipe_w);
  h->pipe_r = h->pipe_w = -1;
}

// The pipe of a direction that turned out to be a bulk transfer; without one
// (no descriptors, the pipe quota spent) it keeps copying.
static inline void relay_open_pipe(struct relay_half *h) {
  int p[2];
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
    h->copy_only = 1;
    return;
  }
  h->pipe_r = p[0];
  h->pipe_w = p[1];
  if (fcntl(p[1], F_SETPIPE_SZ, RELAY_PIPE_SIZE) < RELAY_PIPE_SIZE) {
    relay_close_pipe(h);
    h->copy_only = 1;
  }
}

// Splice refused on the way out, with bytes already in the pipe: they come
// back out through the buffer (the pipe never holds more than one buffer's
// worth before the first splice out has been tried) and this direction copies
// from now on.
static inline int relay_unsplice(struct relay_half *h) {
  while (h->in_pipe > 0 && h->len < RELAY_BUF_SIZE) {
    ssize_t n = read(h->pipe_r, h->buf + h->len, RELAY_BUF_SIZE - h->len);
    if (n <= 0) return -1;
    h->len += (size_t)n;
    h->in_pipe -= (size_t)n;
  }
  if (h->in_pipe > 0) return -1;
  h->off = 0;
  relay_close_pipe(h);
  h->copy_only = 1;
  return 0;
}

// Moves what it can without blocking; -1 ends the connection. `eof` is set
// only when nothing is pending, so EOF implies drained and the write side of
// the peer can be shut at once: that is what lets a client half-close and
// still read its answer.
static inline int relay_pump(struct relay_half *h, short rev_from, short rev_to) {
  int fresh = 0;
  if (relay_pending(h) == 0 && !h->eof && rev_from) {
    ssize_t n = -1;
    errno = EINVAL;
    // Until the first splice out has worked, take no more than the buffer could give back.
    size_t want = h->spliced_out ? RELAY_PIPE_SIZE : RELAY_BUF_SIZE;
    if (h->pipe_w >= 0) n = splice(h->from, NULL, h->pipe_w, NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0 && errno == EINVAL) {
      if (h->pipe_w >= 0) h->copy_only = 1;
      relay_close_pipe(h);
      n = read(h->from, h->buf, RELAY_BUF_SIZE);
      if (n > 0) {
        h->off = 0;
        h->len = (size_t)n;
        if (n == RELAY_BUF_SIZE && !h->copy_only) relay_open_pipe(h);
      }
    } else if (n > 0) {
      h->in_pipe = (size_t)n;
    }
    if (n > 0) {
      fresh = 1;
    } else if (n == 0) {
      h->eof = 1;
      shutdown(h->to, SHUT_WR);
    } else if (errno != EAGAIN && errno != EINTR) {
      return -1;
    }
  }
  if (!fresh && !rev_to) return 0;
  while (h->in_pipe > 0) {
    ssize_t n = splice(h->pipe_r, NULL, h->to, NULL, h->in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (errno == EINVAL && relay_unsplice(h) == 0) break;
      return -1;
    }
    h->in_pipe -= (size_t)n;
    h->spliced_out = 1;
  }
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
  struct relay_half h[2] = {{.from = a, .to = b, .buf = mem, .pipe_r = -1, .pipe_w = -1},
                            {.from = b, .to = a, .buf = mem + RELAY_BUF_SIZE, .pipe_r = -1, .pipe_w = -1}};
  // Under gVisor only what comes out of a TCP socket is spliced: spliced out
  // of the daemon's unix socket there, an upload followed by a half-close
  // reached the server altered (the half-close test of ingress-probes; why is
  // not known). Linux splices out of a unix socket as it does out of TCP, and
  // an egress download comes out of the daemon's unix socket.
  for (int i = 0; i < 2; i++) {
    int domain = 0;
    socklen_t len = sizeof domain;
    if (getsockopt(h[i].from, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || (domain == AF_UNIX && !relay_splice_unix)) h[i].copy_only = 1;
  }
  while (!(h[0].eof && h[1].eof)) {
    // pollfd i watches h[i].from, which is also h[1-i].to. An fd with nothing
    // to wait for is left out (-1): otherwise a lingering POLLHUP on it would
    // wake poll forever.
    struct pollfd p[2];
    for (int i = 0; i < 2; i++) {
      short ev = 0;
      if (relay_pending(&h[i]) == 0 && !h[i].eof) ev |= POLLIN;
      if (relay_pending(&h[1 - i]) > 0) ev |= POLLOUT;
      p[i].fd = ev || (i == 0 && hangup_ends) ? h[i].from : -1;
      p[i].events = ev;
      p[i].revents = 0;
    }
    // A pipe is given back after a second with nothing moved: a kept-alive
    // connection that once carried a download holds none of the quota while idle.
    int holding = h[0].pipe_r >= 0 || h[1].pipe_r >= 0;
    int ready = poll(p, 2, holding ? RELAY_PIPE_IDLE_MS : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready == 0) {
      for (int i = 0; i < 2; i++) {
        if (h[i].pipe_r < 0 || h[i].in_pipe > 0) continue;
        relay_close_pipe(&h[i]);
        h[i].spliced_out = 0;
      }
      continue;
    }
    if (hangup_ends && (p[0].revents & (POLLHUP | POLLERR)) && !(p[0].revents & POLLIN)) break;
    if (relay_pump(&h[0], p[0].revents, p[1].revents) < 0 || relay_pump(&h[1], p[1].revents, p[0].revents) < 0) break;
  }
  relay_close_pipe(&h[0]);
  relay_close_pipe(&h[1]);
  free(mem);
}

#endif
