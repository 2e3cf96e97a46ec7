// paddock-splice: moves the bytes of connections paddockd has already decided
// on, in the kernel, so that bulk transfers do not pass through Node.
//
// Why it exists: a byte copied by paddockd costs a read into a JS buffer, a
// trip through its streams and a write back, about a second of CPU per 100 MB
// on our machines. splice(2) through a pipe moves the same bytes between two
// sockets without them ever reaching user space.
//
// One helper runs per daemon, as its child, for the daemon's life. It never
// decides anything and never looks at a byte: paddockd admits a connection
// (policy, audit, the first bytes it must check), then hands the two sockets
// over by number; the helper takes its own copies of them with pidfd_getfd(2)
// (which needs the right to ptrace the daemon: its own child, same user) and
// checks that each is the stream socket paddockd named (its inode).
//
// Commands on stdin, one a line (from paddockd alone; malformed ones are
// dropped):
//   J <id> <fd-a> <ino-a> <fd-b> <ino-b> t <idle-ms>
//       a tunnel: a <-> b until both directions have ended (half-close is
//       passed on as shutdown(SHUT_WR)); idle-ms 0 means no idle limit
//   J <id> <fd-a> <ino-a> <fd-b> <ino-b> b <bytes>
//       a body: exactly <bytes> from b to a, then both are left open
//   C <id>
//       cancel: both sockets are shut down at once
// Answers on stdout, one a line, once per job:
//   D <id> <bytes a->b> <bytes b->a> <outcome>
// outcome: ok, cancelled, idle, eof (b ended before the body did), error,
// badfd (not the socket named), busy (too many jobs).
// An error, cancel or idle limit shuts both sockets down (shutdown acts on the
// socket itself, so paddockd's own descriptors see it too). End of stdin, or
// the daemon's death, ends the helper and with it every job.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "command-lines.h"
#include "fd-io.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

// Each job holds two sockets and two pipes: six descriptors.
#define MAX_JOBS 2048
#define PIPE_BYTES (1 << 20)

enum mode { TUNNEL, BODY };

struct half {
  int from, to;
  int pipe_r, pipe_w;
  size_t in_pipe;    // read from `from`, not yet written to `to`
  uint64_t moved;    // written to `to`
  uint64_t left;     // BODY: bytes still to read from `from`
  int eof;           // `from` ended (and, once the pipe drained, `to` was shut)
  int done;
};

struct job {
  int used;
  uint64_t id;
  enum mode mode;
  int a, b;
  struct half ab, ba;  // a -> b and b -> a
  uint32_t armed_a, armed_b;
  uint64_t idle_ms, last_ms;
};

static struct job jobs[MAX_JOBS];
static int epfd = -1, pidfd = -1;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void answer(uint64_t id, uint64_t ab, uint64_t ba, const char *outcome) {
  char line[128];
  int n = snprintf(line, sizeof line, "D %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n", id, ab, ba, outcome);
  // paddockd reads every line; if it is gone, so are we (SIGPIPE is ignored).
  if (write_all(1, line, (size_t)n) < 0) _exit(0);
}

static void close_half(struct half *h) {
  if (h->pipe_r >= 0) close(h->pipe_r);
  if (h->pipe_w >= 0) close(h->pipe_w);
  h->pipe_r = h->pipe_w = -1;
}

static void finish(struct job *j, const char *outcome, int shut) {
  if (shut) {
    shutdown(j->a, SHUT_RDWR);
    shutdown(j->b, SHUT_RDWR);
  }
  // Taken out explicitly: paddockd still holds the same sockets, and epoll
  // forgets a socket only when its last descriptor anywhere is closed.
  if (j->armed_a) epoll_ctl(epfd, EPOLL_CTL_DEL, j->a, NULL);
  if (j->armed_b) epoll_ctl(epfd, EPOLL_CTL_DEL, j->b, NULL);
  close(j->a);
  close(j->b);
  close_half(&j->ab);
  close_half(&j->ba);
  answer(j->id, j->ab.moved, j->ba.moved, outcome);
  j->used = 0;
}

// A copy of descriptor `fd` of paddockd, checked to be the stream socket with
// inode `ino` that paddockd named (a number it closed meanwhile and reused is
// refused). -1 when it is not.
static int take_fd(int fd, uint64_t ino) {
  int mine = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
  if (mine < 0) return -1;
  struct stat st;
  int type = 0, domain = 0;
  socklen_t len = sizeof type, dlen = sizeof domain;
  if (fstat(mine, &st) < 0 || !S_ISSOCK(st.st_mode) || (uint64_t)st.st_ino != ino ||
      getsockopt(mine, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM ||
      getsockopt(mine, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) < 0 ||
      (domain != AF_INET && domain != AF_INET6 && domain != AF_UNIX)) {
    close(mine);
    return -1;
  }
  return mine;
}

static int open_half(struct half *h, int from, int to) {
  int p[2];
  memset(h, 0, sizeof *h);
  h->from = from;
  h->to = to;
  h->pipe_r = h->pipe_w = -1;
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) return -1;
  h->pipe_r = p[0];
  h->pipe_w = p[1];
  // A larger pipe means fewer trips through epoll; the default (64 KiB) still works.
  fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES);
  return 0;
}

// Moves what it can without blocking. Returns -1 on an error, 1 when the body
// ended early (BODY), 0 otherwise.
static int pump(struct half *h, enum mode mode) {
  while (!h->done) {
    int progressed = 0;
    if (!h->eof && h->in_pipe < PIPE_BYTES && (mode == TUNNEL || h->left > 0)) {
      size_t want = PIPE_BYTES - h->in_pipe;
      if (mode == BODY && want > h->left) want = (size_t)h->left;
      ssize_t n = splice(h->from, NULL, h->pipe_w, NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        h->in_pipe += (size_t)n;
        if (mode == BODY) h->left -= (uint64_t)n;
        progressed = 1;
      } else if (n == 0) {
        if (mode == BODY) return 1;
        h->eof = 1;
        progressed = 1;
      } else if (errno != EAGAIN && errno != EINTR) {
        return -1;
      }
    }
    if (h->in_pipe > 0) {
      ssize_t n = splice(h->pipe_r, NULL, h->to, NULL, h->in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        h->in_pipe -= (size_t)n;
        h->moved += (uint64_t)n;
        progressed = 1;
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return -1;
      }
    }
    if (h->in_pipe == 0 && (h->eof || (mode == BODY && h->left == 0))) {
      if (mode == TUNNEL) shutdown(h->to, SHUT_WR);
      h->done = 1;
    }
    if (!progressed) break;
  }
  return 0;
}

// What each socket waits for: readable while its half may read into a pipe
// with room, writable while the other half has bytes in its pipe.
static uint32_t wants(const struct half *reading, const struct half *writing) {
  uint32_t ev = 0;
  if (!reading->done && !reading->eof && reading->in_pipe < PIPE_BYTES && reading->pipe_r >= 0) ev |= EPOLLIN;
  if (!writing->done && writing->in_pipe > 0) ev |= EPOLLOUT;
  return ev;
}

// An fd with nothing to wait for leaves the epoll set: a hangup, which epoll
// reports whatever was asked, would otherwise wake the loop for nothing, forever.
static int arm(int fd, uint32_t *armed, uint32_t ev, uint64_t tag) {
  if (*armed == ev) return 0;
  struct epoll_event e = {.events = ev, .data.u64 = tag};
  int op = ev == 0 ? EPOLL_CTL_DEL : *armed == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl(epfd, op, fd, &e) < 0) return -1;
  *armed = ev;
  return 0;
}

static void step(struct job *j) {
  int slot = (int)(j - jobs);
  uint64_t before = j->ab.moved + j->ba.moved + j->ab.in_pipe + j->ba.in_pipe + (uint64_t)j->ab.eof + (uint64_t)j->ba.eof;
  int r = pump(&j->ba, j->mode);
  if (r == 0 && j->mode == TUNNEL) r = pump(&j->ab, j->mode);
  if (r < 0) return finish(j, "error", 1);
  if (r > 0) return finish(j, "eof", 1);
  if (j->ba.done && (j->mode == BODY || j->ab.done)) return finish(j, "ok", 0);
  // Idle means no byte moved: a wake-up that moved nothing does not count.
  if (j->ab.moved + j->ba.moved + j->ab.in_pipe + j->ba.in_pipe + (uint64_t)j->ab.eof + (uint64_t)j->ba.eof != before) j->last_ms = now_ms();
  if (arm(j->a, &j->armed_a, wants(&j->ab, &j->ba), ((uint64_t)slot << 1)) < 0 ||
      arm(j->b, &j->armed_b, wants(&j->ba, &j->ab), ((uint64_t)slot << 1) | 1) < 0)
    finish(j, "error", 1);
}

static struct job *find(uint64_t id) {
  for (int i = 0; i < MAX_JOBS; i++)
    if (jobs[i].used && jobs[i].id == id) return &jobs[i];
  return NULL;
}

static void start(uint64_t id, int fa, uint64_t ia, int fb, uint64_t ib, char mode, uint64_t arg) {
  struct job *j = NULL;
  for (int i = 0; i < MAX_JOBS && !j; i++)
    if (!jobs[i].used) j = &jobs[i];
  if (!j) return answer(id, 0, 0, "busy");
  int a = take_fd(fa, ia);
  int b = a < 0 ? -1 : take_fd(fb, ib);
  if (a < 0 || b < 0 || a == b) {
    if (a >= 0) close(a);
    if (b >= 0) close(b);
    return answer(id, 0, 0, "badfd");
  }
  memset(j, 0, sizeof *j);
  j->id = id;
  j->a = a;
  j->b = b;
  j->mode = mode == 'b' ? BODY : TUNNEL;
  j->idle_ms = j->mode == TUNNEL ? arg : 0;
  int ok = open_half(&j->ba, b, a) == 0;
  if (j->mode == BODY) {
    j->ba.left = arg;
    j->ab.pipe_r = j->ab.pipe_w = -1;
    j->ab.done = 1;
  } else {
    ok = ok && open_half(&j->ab, a, b) == 0;
  }
  j->used = 1;
  j->last_ms = now_ms();
  if (!ok) return finish(j, "error", 1);
  step(j);
}

static void command(char *line) {
  uint64_t id, ia, ib, arg;
  int fa, fb;
  char mode;
  if (sscanf(line, "J %" SCNu64 " %d %" SCNu64 " %d %" SCNu64 " %c %" SCNu64, &id, &fa, &ia, &fb, &ib, &mode, &arg) == 7) {
    if ((mode != 't' && mode != 'b') || find(id)) return;
    return start(id, fa, ia, fb, ib, mode, arg);
  }
  if (sscanf(line, "C %" SCNu64, &id) == 1) {
    struct job *j = find(id);
    if (j) finish(j, "cancelled", 1);
  }
}

static void expire_idle(void) {
  uint64_t now = now_ms();
  for (int i = 0; i < MAX_JOBS; i++)
    if (jobs[i].used && jobs[i].idle_ms && now - jobs[i].last_ms >= jobs[i].idle_ms) finish(&jobs[i], "idle", 1);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  // Our jobs are the daemon's connections: they end with it.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // Six descriptors a job: as many as the daemon may have (a job that still
  // finds none is refused as badfd, and the daemon copies that connection).
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  pid_t parent = getppid();
  if (parent == 1) return 1;
  pidfd = (int)syscall(SYS_pidfd_open, parent, 0);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (pidfd < 0 || epfd < 0) {
    answer(0, 0, 0, "unavailable");
    return 1;
  }
  // Whether we may take the daemon's descriptors at all (ptrace rights: Yama,
  // another user), asked once on its stdin: refused, every connection stays
  // with the daemon instead of failing one by one.
  int probe = (int)syscall(SYS_pidfd_getfd, pidfd, 0, 0);
  if (probe >= 0) close(probe);
  else if (errno == EPERM || errno == ENOSYS) {
    answer(0, 0, 0, "unavailable");
    return 1;
  }
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  struct epoll_event in = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &in) < 0) return 1;
  answer(0, 0, 0, "ready");
  uint64_t last_sweep = now_ms();
  for (;;) {
    struct epoll_event ev[64];
    int n = epoll_wait(epfd, ev, 64, 1000);
    if (n < 0 && errno != EINTR) return 1;
    for (int i = 0; i < n; i++) {
      if (ev[i].data.u64 == UINT64_MAX) {
        read_command_lines(0, command);
        continue;
      }
      struct job *j = &jobs[ev[i].data.u64 >> 1];
      if (j->used) step(j);
    }
    if (now_ms() - last_sweep >= 1000) {
      expire_idle();
      last_sweep = now_ms();
    }
  }
}
