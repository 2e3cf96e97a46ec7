// paddock-spawn: starts programs for paddockd (see lean-spawner.ts), so that a
// spawn costs neither a fork of the daemon (fork copies the caller's page
// tables) nor the JavaScript of a Node helper. It posix_spawn()s (a vfork:
// nothing is copied), writes each child's input, gathers its output, and
// reports its end. It never decides anything: the daemon names the program,
// its arguments and environment.
//
// Frames on stdin (requests) and stdout (answers), integers little-endian:
//   request: u32 size | u32 id | u8 collect | u8 detached | u32 argc | u32 envc
//            | file\0 cwd\0 arg\0… env\0… | input (the rest of the frame)
//     collect 1: stdin is a pipe given <input> then closed, stdout and stderr
//     are gathered; 0: all three are /dev/null. An empty cwd means ours.
//   answer:  u32 size | u8 kind | u32 id | i32 a | i32 b | [u32 n | stdout (n) | stderr (the rest)]
//     's' spawned, a = pid;  'e' not started, a = errno;
//     'x' ended, a = exit code or -1, b = signal or 0, then the output when gathered
//     (sent once the process has exited and its output pipes have closed).
// End of stdin ends this program; children it started run on.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct buffer {
  char *data;
  size_t len, cap;
};

struct child {
  uint32_t id;
  pid_t pid;
  int collect, exited, status;
  int fds[3];  // our ends: stdin (write), stdout, stderr (read); -1 once closed
  struct buffer out, err, input;
  size_t written;
};

static struct child *children;
static size_t nchildren, capchildren;

static void die(const char *what) {
  fprintf(stderr, "paddock-spawn: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void append(struct buffer *b, const void *data, size_t len) {
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + len) cap *= 2;
    b->data = realloc(b->data, cap);
    if (!b->data) die("realloc");
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

static void put_u32(struct buffer *b, uint32_t v) {
  unsigned char bytes[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
  append(b, bytes, 4);
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void write_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) exit(0);  // the daemon is gone
    data += n;
    len -= (size_t)n;
  }
}

static void answer(char kind, uint32_t id, int32_t a, int32_t b, const struct child *output) {
  struct buffer f = {0};
  put_u32(&f, 0);
  append(&f, &kind, 1);
  put_u32(&f, id);
  put_u32(&f, (uint32_t)a);
  put_u32(&f, (uint32_t)b);
  if (output) {
    put_u32(&f, (uint32_t)output->out.len);
    if (output->out.len) append(&f, output->out.data, output->out.len);
    if (output->err.len) append(&f, output->err.data, output->err.len);
  }
  uint32_t size = (uint32_t)f.len - 4;
  unsigned char bytes[4] = {size & 0xff, (size >> 8) & 0xff, (size >> 16) & 0xff, (size >> 24) & 0xff};
  memcpy(f.data, bytes, 4);
  write_all(1, f.data, f.len);
  free(f.data);
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// Reports and forgets a child once it has exited and (when gathered) its output has ended.
static void maybe_finish(size_t i) {
  struct child *c = &children[i];
  if (!c->exited || c->fds[1] >= 0 || c->fds[2] >= 0) return;
  close_fd(&c->fds[0]);
  int code = WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1;
  int sig = WIFSIGNALED(c->status) ? WTERMSIG(c->status) : 0;
  answer('x', c->id, code, sig, c->collect ? c : NULL);
  free(c->out.data);
  free(c->err.data);
  free(c->input.data);
  children[i] = children[--nchildren];
}

static void start(const unsigned char *frame, size_t size) {
  if (size < 14) return;
  uint32_t id = get_u32(frame);
  int collect = frame[4], detached = frame[5];
  uint32_t argc = get_u32(frame + 6), envc = get_u32(frame + 10);
  const char *p = (const char *)frame + 14, *end = (const char *)frame + size;
  if (argc > 65536 || envc > 65536) return;
  char **argv = calloc(argc + 2, sizeof *argv), **envp = calloc(envc + 1, sizeof *envp);
  if (!argv || !envp) die("calloc");
  const char *file = NULL, *cwd = NULL;
  uint32_t wanted = 2 + argc + envc;
  for (uint32_t n = 0; n < wanted; n++) {
    const char *nul = memchr(p, 0, (size_t)(end - p));
    if (!nul) {
      free(argv);
      free(envp);
      answer('e', id, EINVAL, 0, NULL);
      return;
    }
    if (n == 0) file = p;
    else if (n == 1) cwd = p;
    else if (n < 2 + argc) argv[n - 1] = (char *)p;
    else envp[n - 2 - argc] = (char *)p;
    p = nul + 1;
  }
  argv[0] = (char *)file;

  struct child c = {.id = id, .collect = collect, .fds = {-1, -1, -1}};
  int theirs[3] = {-1, -1, -1};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (collect) {
    for (int i = 0; i < 3; i++) {
      int pair[2];
      if (pipe2(pair, O_CLOEXEC) < 0) {
        // Out of descriptors, say: this one is refused, the others run on.
        int e = errno;
        for (int k = 0; k < i; k++) {
          close_fd(&c.fds[k]);
          close_fd(&theirs[k]);
        }
        posix_spawn_file_actions_destroy(&actions);
        free(argv);
        free(envp);
        answer('e', id, e, 0, NULL);
        return;
      }
      c.fds[i] = i == 0 ? pair[1] : pair[0];
      theirs[i] = i == 0 ? pair[0] : pair[1];
      posix_spawn_file_actions_adddup2(&actions, theirs[i], i);
    }
    append(&c.input, p, (size_t)(end - p));
  } else {
    for (int i = 0; i < 3; i++) posix_spawn_file_actions_addopen(&actions, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
  }
  if (*cwd) posix_spawn_file_actions_addchdir_np(&actions, cwd);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (detached ? POSIX_SPAWN_SETSID : 0));
  int err = posix_spawnp(&c.pid, file, &actions, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  free(argv);
  free(envp);
  for (int i = 0; i < 3; i++) close_fd(&theirs[i]);
  if (err) {
    for (int i = 0; i < 3; i++) close_fd(&c.fds[i]);
    free(c.input.data);
    answer('e', id, err, 0, NULL);
    return;
  }
  for (int i = 0; i < 3; i++)
    if (c.fds[i] >= 0) fcntl(c.fds[i], F_SETFL, O_NONBLOCK);
  if (collect && c.input.len == 0) close_fd(&c.fds[0]);
  if (nchildren == capchildren) {
    capchildren = capchildren ? capchildren * 2 : 16;
    children = realloc(children, capchildren * sizeof *children);
    if (!children) die("realloc");
  }
  children[nchildren++] = c;
  answer('s', id, c.pid, 0, NULL);
}

static void reap(void) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (size_t i = 0; i < nchildren; i++) {
      if (children[i].pid != pid) continue;
      children[i].exited = 1;
      children[i].status = status;
      maybe_finish(i);
      break;
    }
  }
}

// Moves what can move without blocking on child i's pipes.
static void pump(size_t i, const struct pollfd *ready) {
  struct child *c = &children[i];
  if (c->fds[0] >= 0 && ready[0].revents) {
    ssize_t n = write(c->fds[0], c->input.data + c->written, c->input.len - c->written);
    if (n > 0) c->written += (size_t)n;
    if ((n < 0 && errno != EAGAIN && errno != EINTR) || c->written == c->input.len) close_fd(&c->fds[0]);
  }
  for (int k = 1; k <= 2; k++) {
    if (c->fds[k] < 0 || !ready[k].revents) continue;
    char chunk[65536];
    ssize_t n = read(c->fds[k], chunk, sizeof chunk);
    if (n > 0) append(k == 1 ? &c->out : &c->err, chunk, (size_t)n);
    else if (n == 0 || (errno != EAGAIN && errno != EINTR)) close_fd(&c->fds[k]);
  }
  maybe_finish(i);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0) die("signalfd");
  fcntl(0, F_SETFD, FD_CLOEXEC);
  fcntl(1, F_SETFD, FD_CLOEXEC);
  struct buffer in = {0};
  struct pollfd *polls = NULL;
  size_t cappolls = 0;
  for (;;) {
    size_t want = 2 + 3 * nchildren;
    if (want > cappolls) {
      cappolls = want * 2;
      polls = realloc(polls, cappolls * sizeof *polls);
      if (!polls) die("realloc");
    }
    polls[0] = (struct pollfd){.fd = 0, .events = POLLIN};
    polls[1] = (struct pollfd){.fd = sigfd, .events = POLLIN};
    for (size_t i = 0; i < nchildren; i++)
      for (int k = 0; k < 3; k++) polls[2 + 3 * i + k] = (struct pollfd){.fd = children[i].fds[k], .events = k == 0 ? POLLOUT : POLLIN};
    if (poll(polls, want, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    // Children first (their slots in polls follow the table as it was), last to first: finishing one moves the last into its place.
    for (size_t i = nchildren; i-- > 0;) pump(i, &polls[2 + 3 * i]);
    if (polls[1].revents) {
      struct signalfd_siginfo info;
      while (read(sigfd, &info, sizeof info) > 0) {
      }
      reap();
    }
    if (polls[0].revents) {
      char chunk[65536];
      ssize_t n = read(0, chunk, sizeof chunk);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return 0;
      if (n > 0) append(&in, chunk, (size_t)n);
      size_t used = 0;
      while (in.len - used >= 4) {
        uint32_t size = get_u32((unsigned char *)in.data + used);
        if (in.len - used - 4 < size) break;
        start((unsigned char *)in.data + used + 4, size);
        used += 4 + size;
      }
      memmove(in.data, in.data + used, in.len - used);
      in.len -= used;
    }
  }
}
