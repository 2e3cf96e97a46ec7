// paddock-agent: the in-sandbox helper that runs commands and file operations
// on behalf of paddockd.
//
// Why it exists: `runc exec` costs ~16 ms per command on our machines while
// fork+exec costs ~0.5 ms. The agent runs beside PID 1 (tini) inside every
// sandbox, listens on a unix socket in a directory the daemon bind-mounts in,
// and forks one handler per connection. Every path it touches is resolved in
// the sandbox's own mount namespace, so `..` and symlinks can never reach the
// host: confinement comes from the kernel, not from string checks.
//
// Wire format, both directions: [u8 type][u32 big-endian length][payload].
// The first frame on a connection is a request 'Q' whose payload is a list of
// NUL-terminated "k:value" fields. Frame letters, field keys and operation
// names come from agent-protocol.h, generated from
// packages/engine/src/agent/agent-protocol-table.ts.
//
// Commands outlive the daemon: the handler that runs a command stays as its
// supervisor until the daemon has collected its exit ('C'); at most
// MAX_SUPERVISED commands are held so at a time. It keeps the last
// RING_BYTES of stdout and of stderr, and listens on PROCS_DIR/<pid>, where a
// later connection ("attach") is handed over to it with SCM_RIGHTS, so a
// restarted daemon lists ("procs") and re-attaches to what it started.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "agent-protocol.h"
#include "egress-listeners.h"
#include "fd-io.h"
#include "fd-relay.h"

#define MAX_FRAME (1u << 20)
#define CHUNK 65536
#define MAX_FIELDS 4096
// Output kept per stream of each command for a daemon that re-attaches.
#define RING_BYTES (1u << 20)
// What the daemon asked to be kept beside a command (its request), at most.
#define MAX_META 65536
// Root-only, on the sandbox's own /dev tmpfs: not reachable from the host nor by sandbox users.
#define PROCS_DIR "/dev/.paddock-procs"
// Commands held for re-attach at most, running or exited and not yet collected;
// past it a new command runs as before but does not outlive the daemon.
#define MAX_SUPERVISED 1024

struct request {
  const char *op;
  int argc;
  int envc;
  const char *cwd;
  const char *user;
  const char *path;
  const char *path2;
  int mode;
  int recursive;
  int pty;
  unsigned short cols, rows;
  const char *meta;
  const char *target;
  unsigned long long offsets[2];
  // Last, and not cleared before a parse (see parse_request): only the first argc and envc are ever read.
  const char *argv[MAX_FIELDS];
  const char *envp[MAX_FIELDS];
};

static int conn_fd = -1;
static int conn_open = 1;
static int sigchld_pipe[2] = {-1, -1};

// ---------------------------------------------------------------- framing

static void send_frame(char type, const void *payload, size_t len) {
  if (!conn_open) return;
  unsigned char head[5];
  head[0] = (unsigned char)type;
  head[1] = (unsigned char)(len >> 24);
  head[2] = (unsigned char)(len >> 16);
  head[3] = (unsigned char)(len >> 8);
  head[4] = (unsigned char)len;
  // Head and payload in one system call when the socket takes both: under
  // gVisor each call costs ~50 us.
  struct iovec iov[2] = {{head, 5}, {(void *)payload, len}};
  ssize_t n;
  do n = writev(conn_fd, iov, len > 0 ? 2 : 1);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    conn_open = 0;
    return;
  }
  size_t sent = (size_t)n, body = sent > 5 ? sent - 5 : 0;
  if ((sent < 5 && write_all(conn_fd, head + sent, 5 - sent) < 0) || (body < len && write_all(conn_fd, (const char *)payload + body, len - body) < 0))
    conn_open = 0;
}

static void send_text(char type, const char *text) { send_frame(type, text, strlen(text)); }

// Reads one frame; the payload is NUL-terminated for convenience. Caller frees.
// Returns -1 when the connection ends or breaks, RECV_NO_MEMORY when the frame
// could not be held: the stream is then out of step, and the caller must say so.
#define RECV_NO_MEMORY (-2)
static int recv_frame(char *type, char **payload, uint32_t *len) {
  unsigned char head[5];
  if (read_all(conn_fd, head, 5) < 0) return -1;
  uint32_t n = ((uint32_t)head[1] << 24) | ((uint32_t)head[2] << 16) | ((uint32_t)head[3] << 8) | head[4];
  if (n > MAX_FRAME) return -1;
  char *buf = malloc(n + 1);
  if (!buf) return RECV_NO_MEMORY;
  if (n > 0 && read_all(conn_fd, buf, n) < 0) {
    free(buf);
    return -1;
  }
  buf[n] = 0;
  *type = (char)head[0];
  *payload = buf;
  *len = n;
  return 0;
}

static void send_errno(int err, const char *what) {
  char msg[PATH_MAX + 256];
  const char *name = strerrorname_np(err);
  snprintf(msg, sizeof msg, "%s %s: %s", name ? name : "EIO", what, strerror(err));
  send_text(F_FAIL, msg);
}

static void send_ok(void) { send_text(F_EXIT, "0 0"); }

// A failure after which nothing more may be sent on this connection (an answer
// that would otherwise arrive with a part silently missing).
static void send_errno_and_close(int err, const char *what) {
  send_errno(err, what);
  conn_open = 0;
}

// ---------------------------------------------------------------- request parsing

static int parse_request(char *payload, uint32_t len, struct request *req) {
  // Not the 64 KiB of argv and envp: clearing them would touch 16 fresh pages
  // of the handler's stack, each a page fault the sentry serves under gVisor.
  memset(req, 0, offsetof(struct request, argv));
  req->mode = -1;
  char *p = payload, *end = payload + len;
  while (p < end) {
    char *field = p;
    size_t flen = strnlen(field, (size_t)(end - p));
    p += flen + 1;
    if (flen < 2 || field[1] != ':') return -1;
    const char *v = field + 2;
    switch (field[0]) {
      case K_OP: req->op = v; break;
      case K_ARG: if (req->argc < MAX_FIELDS - 1) req->argv[req->argc++] = v; break;
      case K_ENV: if (req->envc < MAX_FIELDS - 1) req->envp[req->envc++] = v; break;
      case K_CWD: req->cwd = v; break;
      case K_USER: req->user = v; break;
      case K_PATH: req->path = v; break;
      case K_PATH2: req->path2 = v; break;
      case K_MODE: req->mode = (int)strtol(v, NULL, 8); break;
      case K_RECURSIVE: req->recursive = v[0] == '1'; break;
      case K_META: req->meta = strlen(v) <= MAX_META ? v : NULL; break;
      case K_TARGET: req->target = v; break;
      case K_OFFSETS: sscanf(v, "%llu %llu", &req->offsets[0], &req->offsets[1]); break;
      case K_PTY: {
        unsigned cols = 80, rows = 24;
        sscanf(v, "%u %u", &cols, &rows);
        req->pty = 1;
        req->cols = (unsigned short)cols;
        req->rows = (unsigned short)rows;
        break;
      }
      default: break;
    }
  }
  return req->op ? 0 : -1;
}

// ---------------------------------------------------------------- identity

struct identity {
  uid_t uid;
  gid_t gid;
  char home[PATH_MAX];
  char name[256];
};

// Parses /etc/passwd of the sandbox by hand: static glibc's getpwnam would try
// to dlopen NSS modules from the template, which we must not depend on.
static int lookup_user(const char *spec, struct identity *id) {
  if (!spec || !*spec) spec = "root";
  char *endp;
  long numeric = strtol(spec, &endp, 10);
  int by_uid = *endp == 0;
  FILE *f = fopen("/etc/passwd", "re");
  if (f) {
    char line[1024];
    while (fgets(line, sizeof line, f)) {
      char *fields[7] = {0};
      char *save = NULL, *tok = line;
      int i = 0;
      for (; i < 7; i++) {
        fields[i] = strsep(&tok, ":");
        if (!fields[i]) break;
      }
      (void)save;
      if (i < 7) continue;
      fields[6][strcspn(fields[6], "\n")] = 0;
      uid_t uid = (uid_t)strtoul(fields[2], NULL, 10);
      if ((by_uid && uid == (uid_t)numeric) || (!by_uid && strcmp(fields[0], spec) == 0)) {
        id->uid = uid;
        id->gid = (gid_t)strtoul(fields[3], NULL, 10);
        snprintf(id->home, sizeof id->home, "%s", fields[5]);
        snprintf(id->name, sizeof id->name, "%s", fields[0]);
        fclose(f);
        return 0;
      }
    }
    fclose(f);
  }
  // Root and numeric uids work even when the sandbox broke its /etc/passwd.
  if (!by_uid && strcmp(spec, "root") == 0) {
    by_uid = 1;
    numeric = 0;
  }
  if (by_uid && numeric >= 0) {
    id->uid = (uid_t)numeric;
    id->gid = (gid_t)numeric;
    snprintf(id->home, sizeof id->home, "%s", numeric == 0 ? "/root" : "/");
    snprintf(id->name, sizeof id->name, numeric == 0 ? "root" : "%ld", numeric);
    return 0;
  }
  errno = ESRCH;
  return -1;
}

static int become(const struct identity *id) {
  if (id->uid == getuid() && id->gid == getgid()) return 0;
  if (setgroups(1, &id->gid) < 0) return -1;
  if (setgid(id->gid) < 0) return -1;
  if (setuid(id->uid) < 0) return -1;
  return 0;
}

// ---------------------------------------------------------------- exec

static void on_sigchld(int sig) {
  (void)sig;
  int saved = errno;
  char b = 1;
  if (write(sigchld_pipe[1], &b, 1) < 0) { /* pipe full: a wakeup is already pending */ }
  errno = saved;
}

// Signals whose disposition is not the default in this agent, bit s-1 for
// signal s: those it was started with ignored, and those it sets itself. A
// command must start with every signal at its default, and only these need
// putting back: one rt_sigaction costs ~50 us under gVisor's ptrace
// platform, ~3 ms for all 64. A mask of our own, as glibc's sigset_t calls
// refuse the signals it reserves (32, 33), which may be inherited ignored too.
static unsigned long long non_default_signals;
#define SIGNAL_BIT(s) (1ull << ((s) - 1))
#define KERNEL_SIGNALS 64

// Reads which signals the agent was started with ignored (SigIgn in
// /proc/self/status). gVisor's /proc has no such line; there the agent is the
// sandbox's first process, which the sentry starts with every signal at its
// default. Anywhere else that cannot be told, every signal is reset.
static void note_inherited_signals(void) {
  int found = 0;
  FILE *f = fopen("/proc/self/status", "re");
  if (f) {
    char line[256];
    while (!found && fgets(line, sizeof line, f)) found = sscanf(line, "SigIgn: %llx", &non_default_signals) == 1;
    fclose(f);
  }
  if (!found) non_default_signals = getpid() == 1 ? 0 : ~0ull;
  non_default_signals |= SIGNAL_BIT(SIGPIPE) | SIGNAL_BIT(SIGCHLD);
}

// The raw call: glibc's signal() refuses the signals it reserves. A zeroed
// kernel sigaction is SIG_DFL with no flags and an empty mask on every
// architecture.
static void reset_signals_for_child(void) {
  unsigned long dfl[4] = {0};
  for (int s = 1; s <= KERNEL_SIGNALS; s++)
    if ((non_default_signals & SIGNAL_BIT(s)) && s != SIGKILL && s != SIGSTOP) syscall(SYS_rt_sigaction, s, dfl, NULL, sizeof(uint64_t));
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

// Stack of a child started by spawn_sharing_memory: one at a time, as the
// parent waits until the child has exec'd or exited. Large enough for
// execvpe, which puts the path it tries and a script's argv on the stack.
#define CHILD_STACK_BYTES (256 * 1024)
static char child_stack[CHILD_STACK_BYTES] __attribute__((aligned(64)));

// Starts run(arg) in a child that shares this process's memory until it execs
// or exits (clone with CLONE_VM | CLONE_VFORK, as posix_spawn does), and
// returns its pid once it has. A fork would copy the address space only for
// the exec to throw it away, which under gVisor costs milliseconds in the
// sentry. run() may read the caller's data and write results into it, and
// must end in an exec or _exit. Every signal is blocked when it starts, so no
// handler of ours runs on the memory it shares: run() puts back the signal
// dispositions and mask the program it execs should have; the mask this
// process had is left in *mask_before for it.
static pid_t spawn_sharing_memory(int (*run)(void *), void *arg, sigset_t *mask_before) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, mask_before);
  pid_t pid = clone(run, child_stack + sizeof child_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
  int err = errno;
  sigprocmask(SIG_SETMASK, mask_before, NULL);
  errno = err;
  return pid;
}

static int has_env(const struct request *req, const char *key) {
  size_t klen = strlen(key);
  for (int i = 0; i < req->envc; i++)
    if (strncmp(req->envp[i], key, klen) == 0 && req->envp[i][klen] == '=') return 1;
  return 0;
}

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// The last RING_BYTES of a stream; `total` counts every byte it ever took, so
// a position in the stream stays valid across re-attaches.
struct ring {
  char *buf;
  unsigned long long total;
};

static unsigned long long ring_start(const struct ring *r) {
  if (!r->buf) return r->total;
  return r->total > RING_BYTES ? r->total - RING_BYTES : 0;
}

static void ring_append(struct ring *r, const char *data, size_t n) {
  // Pages of the buffer are only committed as output fills them. Without
  // memory for it nothing is kept, and ring_start says so: a daemon that
  // re-attaches gets a 'd' frame naming the bytes, never a silent gap.
  if (!r->buf && !(r->buf = malloc(RING_BYTES))) {
    r->total += n;
    return;
  }
  if (n > RING_BYTES) {
    r->total += n - RING_BYTES;
    data += n - RING_BYTES;
    n = RING_BYTES;
  }
  size_t at = (size_t)(r->total % RING_BYTES);
  size_t first = n < RING_BYTES - at ? n : RING_BYTES - at;
  memcpy(r->buf + at, data, first);
  memcpy(r->buf, data + first, n - first);
  r->total += n;
}

// Sends what is kept from position `from` on; output no longer kept is named
// by a 'd' frame ("stdout <bytes>") instead.
static void ring_replay(const struct ring *r, unsigned long long from, char type, const char *name) {
  unsigned long long start = ring_start(r);
  if (from > r->total) from = r->total;
  if (from < start) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s %llu", name, start - from);
    send_text(F_DROPPED, msg);
    from = start;
  }
  while (from < r->total && conn_open) {
    size_t at = (size_t)(from % RING_BYTES);
    unsigned long long left = r->total - from;
    size_t n = RING_BYTES - at;
    if (n > left) n = (size_t)left;
    if (n > CHUNK) n = CHUNK;
    send_frame(type, r->buf + at, n);
    from += n;
  }
}

// Forwards one chunk (or, with drain, all the fd has now); returns 0 at EOF
// (or EIO from a pty master). One chunk per poll round keeps a fast producer
// from starving the control frames (signals, stdin) the daemon sends. Every
// chunk is kept in the ring too; with no daemon attached, that is all.
static int pump(int fd, char type, struct ring *ring, int drain) {
  char buf[CHUNK];
  // A background grandchild writing without end must not keep a drain going.
  size_t budget = 4 * RING_BYTES;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      ring_append(ring, buf, (size_t)n);
      send_frame(type, buf, (size_t)n);
      if (drain && budget > (size_t)n) {
        budget -= (size_t)n;
        continue;
      }
      return 1;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 1;
    return 0;
  }
}

// End of input: a terminal gets ^D (it stays open for output), a pipe is closed.
static void end_stdin(int *fd, int pty) {
  if (pty) {
    char eot = 4;
    if (write(*fd, &eot, 1) < 0) { /* the terminal is gone */ }
    return;
  }
  close(*fd);
  *fd = -1;
}

// ---------------------------------------------------------------- supervision

// The socket a command's supervisor takes re-attaches on; -1 if there cannot
// be one (the command then runs as before, but does not outlive the daemon).
static int all_digits(const char *s);

static int supervised_count(void) {
  DIR *d = opendir(PROCS_DIR);
  if (!d) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (all_digits(e->d_name)) n++;
  closedir(d);
  return n;
}

static int listen_for_attach(const char *path) {
  if (mkdir(PROCS_DIR, 0700) < 0 && errno != EEXIST) return -1;
  struct stat st;
  if (lstat(PROCS_DIR, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) return -1;
  if (supervised_count() >= MAX_SUPERVISED) return -1;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return -1;
  unlink(path);
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod(path, 0600) < 0 || listen(s, 16) < 0) {
    close(s);
    unlink(path);
    return -1;
  }
  return s;
}

static int connect_supervisor(const char *pid) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%s", PROCS_DIR, pid);
  int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c < 0) return -1;
  if (connect(c, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int err = errno;
    close(c);
    // Its supervisor is gone (killed from inside the sandbox): nothing to find there.
    if (err == ECONNREFUSED) unlink(addr.sun_path);
    errno = err;
    return -1;
  }
  return c;
}

static int all_digits(const char *s) {
  if (!s || !*s || strlen(s) > 10) return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

// One visitor on a supervisor's socket: "I" asks what the command is (answered
// on that socket), "A <stdout offset> <stderr offset>" hands over a daemon
// connection, which gets the start, the kept output from those offsets and,
// if the command ended, its exit. Only root of the sandbox reaches the socket.
static void take_attach(int ctl, pid_t pid, const struct ring *rings, const char *result, const char *meta) {
  int c = accept4(ctl, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) return;
  struct ucred cred;
  socklen_t clen = sizeof cred;
  struct pollfd p = {c, POLLIN, 0};
  if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.uid != 0 || poll(&p, 1, 1000) <= 0) {
    close(c);
    return;
  }
  char msg[128];
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {msg, sizeof msg - 1};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
  int passed = -1;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof(int))) memcpy(&passed, CMSG_DATA(cm), sizeof(int));
  if (n <= 0) {
    if (passed >= 0) close(passed);
    close(c);
    return;
  }
  msg[n] = 0;
  if (msg[0] == 'I') {
    char head[256];
    int hlen = snprintf(head, sizeof head, "%d %s %s %llu %llu %llu %llu\n", pid, result ? "exited" : "running", result ? result : "- -",
                        rings[0].total, ring_start(&rings[0]), rings[1].total, ring_start(&rings[1]));
    if (write_all(c, head, (size_t)hlen) == 0 && meta) write_all(c, meta, strlen(meta));
  } else if (msg[0] == 'A' && passed >= 0) {
    unsigned long long off[2] = {0, 0};
    sscanf(msg + 1, "%llu %llu", &off[0], &off[1]);
    // The last daemon to attach is the one listening; an earlier connection is dead.
    if (conn_fd >= 0) close(conn_fd);
    conn_fd = passed;
    conn_open = 1;
    passed = -1;
    char pidtext[32];
    snprintf(pidtext, sizeof pidtext, "%d", pid);
    send_text(F_STARTED, pidtext);
    ring_replay(&rings[0], off[0], F_STDOUT, "stdout");
    ring_replay(&rings[1], off[1], F_STDERR, "stderr");
    if (result) send_text(F_EXIT, result);
  }
  if (passed >= 0) close(passed);
  close(c);
}

// Lists the commands supervisors hold: one 'D' frame each, with the line a
// supervisor answers to "I" ("pid state code signal outTotal outStart
// errTotal errStart") followed by what the daemon asked it to keep.
static void handle_procs(void) {
  DIR *d = opendir(PROCS_DIR);
  if (!d) return send_ok();
  struct dirent *e;
  char *buf = malloc(MAX_META + 512);
  if (!buf) {
    closedir(d);
    return send_errno(ENOMEM, "procs");
  }
  while ((e = readdir(d)) && conn_open) {
    if (!all_digits(e->d_name)) continue;
    int c = connect_supervisor(e->d_name);
    if (c < 0) continue;
    size_t got = 0;
    if (write_all(c, "I", 1) == 0) {
      for (;;) {
        // A supervisor busy writing to a live daemon answers late; it is left out.
        struct pollfd p = {c, POLLIN, 0};
        if (poll(&p, 1, 2000) <= 0) break;
        ssize_t n = read(c, buf + got, MAX_META + 512 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
        if (got == MAX_META + 512) break;
      }
    }
    close(c);
    if (got > 0) send_frame(F_ENTRY, buf, got);
  }
  free(buf);
  closedir(d);
  send_ok();
}

// Hands this connection to the supervisor of a command: from here on the
// supervisor answers on it as it did to the exec that started the command.
static void handle_attach(struct request *req) {
  if (!all_digits(req->target)) return send_text(F_FAIL, "EINVAL attach: bad process id");
  int c = connect_supervisor(req->target);
  if (c < 0) {
    char msg[96];
    snprintf(msg, sizeof msg, "ENOENT process %s: no such process", req->target);
    return send_text(F_FAIL, msg);
  }
  char msg[64];
  int len = snprintf(msg, sizeof msg, "A %llu %llu", req->offsets[0], req->offsets[1]);
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {msg, (size_t)len};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &conn_fd, sizeof(int));
  ssize_t sent = sendmsg(c, &mh, MSG_NOSIGNAL);
  int err = errno;
  if (sent == len) {
    // Wait until the supervisor has taken it: closing first could drop the socket we pass.
    char sink;
    struct pollfd p = {c, POLLIN, 0};
    if (poll(&p, 1, 5000) > 0 && read(c, &sink, 1) < 0) { /* closed either way */ }
  }
  close(c);
  if (sent != len) return send_errno(err, "attach");
  // The supervisor speaks on the connection now; this handler must stay silent.
  conn_open = 0;
}

// The supervisor cannot go on watching its command (poll failed, no memory
// for the stdin it was sent): the command is killed rather than left running
// unwatched or fed a stdin with a hole in it, and the daemon hears why instead
// of a connection that just ends.
static void give_up_command(pid_t pid, int exited, int err, const char *what) {
  if (!exited) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  send_errno(err, what);
}

// What a command's child needs, on the handler's stack: the child shares it
// (see spawn_sharing_memory) and writes back which step failed, if one did.
struct command_start {
  const struct request *req;
  const struct identity *id;
  int pty_slave;  // -1 when stdio is three pipes
  int stdio[3];   // the pipes' child ends, becoming 0, 1, 2
  int failed_step;  // 1 user, 2 working directory, 3 exec; 0 once it exec'd
  int failed_errno;
};

static int start_command(void *arg) {
  struct command_start *start = arg;
  const struct request *req = start->req;
  reset_signals_for_child();
  setsid();
  if (start->pty_slave >= 0) {
    ioctl(start->pty_slave, TIOCSCTTY, 0);
    dup2(start->pty_slave, 0);
    dup2(start->pty_slave, 1);
    dup2(start->pty_slave, 2);
    if (start->pty_slave > 2) close(start->pty_slave);
  } else {
    for (int i = 0; i < 3; i++) dup2(start->stdio[i], i);
  }
  if (become(start->id) < 0) start->failed_step = 1;
  else if (req->cwd && *req->cwd && chdir(req->cwd) < 0) start->failed_step = 2;
  else {
    execvpe(req->argv[0], (char *const *)req->argv, (char *const *)req->envp);
    start->failed_step = 3;
  }
  start->failed_errno = errno;
  _exit(127);
}

static void handle_exec(struct request *req) {
  if (req->argc == 0) {
    send_text(F_FAIL, "EINVAL exec: empty command");
    return;
  }
  struct identity id;
  if (lookup_user(req->user, &id) < 0) {
    char msg[512];
    snprintf(msg, sizeof msg, "ESRCH exec: unknown user %s", req->user ? req->user : "root");
    send_text(F_FAIL, msg);
    return;
  }
  // Defaults a login would set, unless the caller chose otherwise.
  char home_env[PATH_MAX + 8], user_env[300], logname_env[300];
  snprintf(home_env, sizeof home_env, "HOME=%s", id.home);
  snprintf(user_env, sizeof user_env, "USER=%s", id.name);
  snprintf(logname_env, sizeof logname_env, "LOGNAME=%s", id.name);
  if (!has_env(req, "HOME") && req->envc < MAX_FIELDS - 1) req->envp[req->envc++] = home_env;
  if (!has_env(req, "USER") && req->envc < MAX_FIELDS - 1) req->envp[req->envc++] = user_env;
  if (!has_env(req, "LOGNAME") && req->envc < MAX_FIELDS - 1) req->envp[req->envc++] = logname_env;
  if (!has_env(req, "PATH") && req->envc < MAX_FIELDS - 1)
    req->envp[req->envc++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  if (req->pty && !has_env(req, "TERM") && req->envc < MAX_FIELDS - 1) req->envp[req->envc++] = "TERM=xterm-256color";
  req->envp[req->envc] = NULL;
  req->argv[req->argc] = NULL;

  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  int master = -1, slave = -1;
  if (req->pty) {
    struct winsize ws = {.ws_row = req->rows, .ws_col = req->cols};
    if (openpty(&master, &slave, NULL, NULL, &ws) < 0) return send_errno(errno, "openpty");
    fcntl(master, F_SETFD, FD_CLOEXEC);
  } else if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
    return send_errno(errno, "pipe");
  }

  struct command_start start = {.req = req, .id = &id, .pty_slave = slave, .stdio = {in[0], out[1], err[1]}};
  sigset_t handler_mask;  // a command starts with none blocked, whatever the handler had
  pid_t pid = spawn_sharing_memory(start_command, &start, &handler_mask);
  if (pid < 0) return send_errno(errno, "fork");
  if (req->pty) close(slave);
  else {
    close(in[0]);
    close(out[1]);
    close(err[1]);
  }
  if (start.failed_step) {
    waitpid(pid, NULL, 0);
    char what[PATH_MAX + 32];
    if (start.failed_step == 1) snprintf(what, sizeof what, "user %s", id.name);
    else if (start.failed_step == 2) snprintf(what, sizeof what, "cwd %s", req->cwd);
    else snprintf(what, sizeof what, "exec %s", req->argv[0]);
    return send_errno(start.failed_errno, what);
  }

  char pidtext[32];
  snprintf(pidtext, sizeof pidtext, "%d", pid);
  // Listening before the daemon hears of the pid: it can re-attach from then on.
  char ctl_path[sizeof PROCS_DIR + 32];
  snprintf(ctl_path, sizeof ctl_path, "%s/%d", PROCS_DIR, pid);
  int ctl = listen_for_attach(ctl_path);
  send_text(F_STARTED, pidtext);

  int stdin_fd = req->pty ? master : in[1];
  int out_fd = req->pty ? master : out[0];
  int err_fd = req->pty ? -1 : err[0];
  set_nonblock(out_fd);
  if (err_fd >= 0) set_nonblock(err_fd);

  // stdin is written without blocking from a pending buffer: a command that
  // stops reading stdin while its output fills up must not deadlock the loop.
  char *pending = NULL;
  size_t pending_len = 0;
  int pending_eof = 0;
  if (stdin_fd >= 0 && !req->pty) set_nonblock(stdin_fd);
  struct ring rings[2] = {{NULL, 0}, {NULL, 0}};
  int exited = 0, collected = 0, wstatus = 0;
  char result[64] = "";
  for (;;) {
    struct pollfd fds[6];
    int n = 0;
    int i_conn = -1, i_out = -1, i_err = -1, i_in = -1, i_ctl = -1, i_sig;
    // While stdin is backed up, stop taking more from the daemon (back-pressure).
    if (conn_open && pending_len < (1u << 20)) { fds[n] = (struct pollfd){conn_fd, POLLIN, 0}; i_conn = n++; }
    if (pending_len > 0 && stdin_fd >= 0) { fds[n] = (struct pollfd){stdin_fd, POLLOUT, 0}; i_in = n++; }
    if (out_fd >= 0) { fds[n] = (struct pollfd){out_fd, POLLIN, 0}; i_out = n++; }
    if (err_fd >= 0) { fds[n] = (struct pollfd){err_fd, POLLIN, 0}; i_err = n++; }
    if (ctl >= 0) { fds[n] = (struct pollfd){ctl, POLLIN, 0}; i_ctl = n++; }
    fds[n] = (struct pollfd){sigchld_pipe[0], POLLIN, 0};
    i_sig = n++;
    if (poll(fds, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      give_up_command(pid, exited, errno, "poll (the command was killed)");
      break;
    }
    if (i_out >= 0 && fds[i_out].revents && !pump(out_fd, F_STDOUT, &rings[0], 0)) {
      if (out_fd != stdin_fd) close(out_fd);
      out_fd = -1;
    }
    if (i_err >= 0 && fds[i_err].revents && !pump(err_fd, F_STDERR, &rings[1], 0)) {
      close(err_fd);
      err_fd = -1;
    }
    if (i_conn >= 0 && fds[i_conn].revents) {
      char type;
      char *payload;
      uint32_t len;
      int got = recv_frame(&type, &payload, &len);
      if (got == RECV_NO_MEMORY) {
        give_up_command(pid, exited, ENOMEM, "a frame from the daemon (the command was killed)");
        break;
      }
      if (got < 0) {
        // The daemon went away (restart or client gone): keep the process
        // running and its output in the rings until a daemon re-attaches.
        conn_open = 0;
      } else {
        int out_of_memory = 0;
        if (type == F_COLLECT && exited) {
          collected = 1;
        } else if (type == F_DATA_IN && stdin_fd >= 0 && len > 0) {
          char *grown = realloc(pending, pending_len + len);
          if (grown) {
            memcpy(grown + pending_len, payload, len);
            pending = grown;
            pending_len += len;
          } else {
            out_of_memory = 1;
          }
        } else if (type == F_EOF_IN && stdin_fd >= 0 && pending_len > 0) {
          // Close once everything queued has been written.
          pending_eof = 1;
        } else if (type == F_EOF_IN && stdin_fd >= 0) {
          end_stdin(&stdin_fd, req->pty);
        } else if (type == F_SIGNAL && !exited) {
          int sig = atoi(payload);
          if (kill(-pid, sig) < 0) kill(pid, sig);
        } else if (type == F_RESIZE && req->pty && master >= 0) {
          unsigned cols = 80, rows = 24;
          sscanf(payload, "%u %u", &cols, &rows);
          struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
          ioctl(master, TIOCSWINSZ, &ws);
        }
        free(payload);
        if (out_of_memory) {
          give_up_command(pid, exited, ENOMEM, "stdin of the command (the command was killed)");
          break;
        }
      }
    }
    if (i_in >= 0 && fds[i_in].revents) {
      ssize_t w = write(stdin_fd, pending, pending_len);
      if (w > 0) {
        memmove(pending, pending + w, pending_len - (size_t)w);
        pending_len -= (size_t)w;
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        pending_len = 0;  // the command closed its stdin: drop the rest
      }
      if (pending_len == 0 && pending_eof) {
        end_stdin(&stdin_fd, req->pty);
        pending_eof = 0;
      }
    }
    if (i_ctl >= 0 && fds[i_ctl].revents) take_attach(ctl, pid, rings, exited ? result : NULL, req->meta);
    if (fds[i_sig].revents) {
      char drain[64];
      while (read(sigchld_pipe[0], drain, sizeof drain) > 0) {}
    }
    if (!exited && waitpid(pid, &wstatus, WNOHANG) == pid) {
      exited = 1;
      // Take what the pipes hold now; a background grandchild that keeps them
      // open must not hold the command's result hostage.
      if (out_fd >= 0) pump(out_fd, F_STDOUT, &rings[0], 1);
      if (err_fd >= 0) pump(err_fd, F_STDERR, &rings[1], 1);
      if (out_fd >= 0) close(out_fd);
      if (err_fd >= 0) close(err_fd);
      if (stdin_fd >= 0 && stdin_fd != out_fd) close(stdin_fd);
      out_fd = err_fd = stdin_fd = master = -1;
      pending_len = 0;
      if (WIFSIGNALED(wstatus)) snprintf(result, sizeof result, "%d %d", 128 + WTERMSIG(wstatus), WTERMSIG(wstatus));
      else snprintf(result, sizeof result, "%d 0", WEXITSTATUS(wstatus));
      send_text(F_EXIT, result);
    }
    // Done once a daemon has the result, or when none could ever fetch it.
    if (exited && (collected || (!conn_open && ctl < 0))) break;
  }
  if (ctl >= 0) {
    unlink(ctl_path);
    close(ctl);
  }
  free(pending);
}

// ---------------------------------------------------------------- files

static const char *type_name(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "symlink";
  return "other";
}

static void send_entry(const char *path, const struct stat *st) {
  char target[PATH_MAX] = "";
  if (S_ISLNK(st->st_mode)) {
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n > 0) target[n] = 0;
  }
  char head[256];
  int hlen = snprintf(head, sizeof head, "%s%c%lld%c%o%c%lld%c%u%c%u", type_name(st->st_mode), 0,
                      (long long)st->st_size, 0, (unsigned)(st->st_mode & 07777), 0,
                      (long long)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000, 0,
                      (unsigned)st->st_uid, 0, (unsigned)st->st_gid);
  size_t plen = strlen(path), tlen = strlen(target);
  size_t total = (size_t)hlen + 1 + plen + 1 + tlen;
  char *buf = malloc(total);
  if (!buf) return send_errno_and_close(ENOMEM, path);
  memcpy(buf, head, (size_t)hlen + 1);
  memcpy(buf + hlen + 1, path, plen + 1);
  memcpy(buf + hlen + 1 + plen + 1, target, tlen);
  send_frame(F_ENTRY, buf, total);
  free(buf);
}

static int mkdir_parents(const char *path, int include_last) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  if (!include_last) {
    char *slash = strrchr(tmp, '/');
    if (!slash || slash == tmp) return 0;
    *slash = 0;
  }
  for (char *p = tmp + 1;; p++) {
    if (*p == '/' || *p == 0) {
      char saved = *p;
      *p = 0;
      if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return -1;
      struct stat st;
      if (stat(tmp, &st) < 0) return -1;
      if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
      }
      *p = saved;
      if (saved == 0) break;
    }
  }
  return 0;
}

static void handle_read(struct request *req) {
  int fd = open(req->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return send_errno(errno, req->path);
  struct stat st;
  if (fstat(fd, &st) < 0) return send_errno(errno, req->path);
  if (S_ISDIR(st.st_mode)) return send_errno(EISDIR, req->path);
  send_entry(req->path, &st);
  char buf[CHUNK];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return send_errno(errno, req->path);
    if (n == 0) break;
    send_frame(F_STDOUT, buf, (size_t)n);
    if (!conn_open) return;
  }
  send_ok();
}

// Writes go to a temporary file beside the target and are renamed into place,
// so an interrupted upload never leaves a half-written file behind.
static void handle_write(struct request *req) {
  struct stat st;
  if (stat(req->path, &st) == 0 && S_ISDIR(st.st_mode)) return send_errno(EISDIR, req->path);
  if (mkdir_parents(req->path, 0) < 0) return send_errno(errno, req->path);
  char tmp[PATH_MAX];
  const char *slash = strrchr(req->path, '/');
  int dirlen = slash ? (int)(slash - req->path) : 0;
  if (snprintf(tmp, sizeof tmp, "%.*s/.paddock-upload-XXXXXX", dirlen, req->path) >= (int)sizeof tmp)
    return send_errno(ENAMETOOLONG, req->path);
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) return send_errno(errno, req->path);
  // Tell the daemon the target is writable before it streams any data.
  send_text(F_STARTED, "ready");
  int ok = 0, failed = 0;
  for (;;) {
    char type;
    char *payload;
    uint32_t len;
    int got = recv_frame(&type, &payload, &len);
    if (got == RECV_NO_MEMORY) {
      close(fd);
      unlink(tmp);
      return send_errno_and_close(ENOMEM, req->path);
    }
    if (got < 0) break;
    if (type == F_EOF_IN) {
      free(payload);
      ok = 1;
      break;
    }
    // After a failed write keep reading to the end of the upload, so the
    // daemon is still listening when the reason (e.g. ENOSPC) is sent.
    if (type == F_DATA_IN && !failed && write_all(fd, payload, len) < 0) failed = errno;
    free(payload);
  }
  if (failed) {
    close(fd);
    unlink(tmp);
    return send_errno(failed, req->path);
  }
  mode_t mode = req->mode >= 0 ? (mode_t)req->mode : 0644;
  if (!ok || fchmod(fd, mode) < 0 || close(fd) < 0 || rename(tmp, req->path) < 0) {
    int e = ok ? errno : ECONNRESET;
    unlink(tmp);
    return send_errno(e, req->path);
  }
  if (lstat(req->path, &st) == 0) send_entry(req->path, &st);
  send_ok();
}

static void handle_list(struct request *req) {
  DIR *d = opendir(req->path);
  if (!d) return send_errno(errno, req->path);
  struct dirent *e;
  char child[PATH_MAX];
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    const char *sep = req->path[strlen(req->path) - 1] == '/' ? "" : "/";
    if (snprintf(child, sizeof child, "%s%s%s", req->path, sep, e->d_name) >= (int)sizeof child) continue;
    struct stat st;
    if (lstat(child, &st) == 0) send_entry(child, &st);
  }
  closedir(d);
  send_ok();
}

static void handle_stat(struct request *req) {
  struct stat st;
  if (lstat(req->path, &st) < 0) return send_errno(errno, req->path);
  send_entry(req->path, &st);
  send_ok();
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void handle_remove(struct request *req) {
  struct stat st;
  if (lstat(req->path, &st) < 0) return send_errno(errno, req->path);
  int rc;
  if (S_ISDIR(st.st_mode)) rc = req->recursive ? nftw(req->path, remove_one, 64, FTW_DEPTH | FTW_PHYS) : rmdir(req->path);
  else rc = unlink(req->path);
  if (rc < 0) return send_errno(errno, req->path);
  send_ok();
}

static void handle_mkdir(struct request *req) {
  if (mkdir_parents(req->path, 1) < 0) return send_errno(errno, req->path);
  struct stat st;
  if (lstat(req->path, &st) == 0) send_entry(req->path, &st);
  send_ok();
}

static void handle_rename(struct request *req) {
  if (!req->path2) return send_text(F_FAIL, "EINVAL rename: missing destination");
  if (mkdir_parents(req->path2, 0) < 0) return send_errno(errno, req->path2);
  if (rename(req->path, req->path2) < 0) return send_errno(errno, req->path);
  struct stat st;
  if (lstat(req->path2, &st) == 0) send_entry(req->path2, &st);
  send_ok();
}

// ---------------------------------------------------------------- connect

// Dials a port on the sandbox's own loopback, where a server bound to
// 127.0.0.1 (or ::1 only) listens; no other address is reachable this way, so
// ingress gives no route beyond what the sandbox itself can reach locally.
static int dial_loopback(int port) {
  struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&v4, sizeof v4) == 0) return fd;
  int err = errno;
  if (fd >= 0) close(fd);
  fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&v6, sizeof v6) == 0) return fd;
  if (fd >= 0) close(fd);
  errno = err;  // the IPv4 answer is the one to report
  return -1;
}

// Ingress: once 'P' is sent this connection carries the TCP stream's raw bytes
// both ways; it ends when both sides have, or when the daemon hangs up.
static void handle_connect(struct request *req) {
  char *end = NULL;
  long port = req->target ? strtol(req->target, &end, 10) : 0;
  if (!req->target || !end || *end || port < 1 || port > 65535) return send_text(F_FAIL, "EINVAL port must be 1 to 65535");
  int fd = dial_loopback((int)port);
  if (fd < 0) {
    char what[64];
    snprintf(what, sizeof what, "connect to port %ld", port);
    return send_errno(errno, what);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // A unix socket holds 208 KiB in flight by default (TCP on loopback grows to
  // MiBs): a download would wait on the daemon's side every 208 KiB. Asked up
  // to 4 MiB; the kernel caps it at net.core.wmem_max. Charged to the sandbox's
  // memory only while a slow client leaves it queued.
  int sndbuf = RELAY_SOCKET_BUF;
  setsockopt(conn_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  send_text(F_STARTED, "");
  if (conn_open) {
    set_nonblock(fd);
    set_nonblock(conn_fd);
    relay_fds(conn_fd, fd, 1);
  }
  close(fd);
  conn_open = 0;
}

// ---------------------------------------------------------------- dispatch

// What this agent speaks, "<version> <feature>…" in one entry frame: a daemon
// that adopts a sandbox started before an upgrade leaves out what its agent lacks.
static void handle_hello(void) {
  char text[32 + sizeof AGENT_FEATURES];
  snprintf(text, sizeof text, "%d %s", AGENT_PROTOCOL_VERSION, AGENT_FEATURES);
  send_text(F_ENTRY, text);
  send_ok();
}

static void handle_connection(void) {
  char type;
  char *payload;
  uint32_t len;
  int got = recv_frame(&type, &payload, &len);
  if (got == RECV_NO_MEMORY) return send_errno(ENOMEM, "request");
  if (got < 0) return;
  struct request req;
  if (type != F_REQUEST || parse_request(payload, len, &req) < 0) {
    send_text(F_FAIL, "EINVAL malformed request");
    return;
  }
  if (strcmp(req.op, OP_HELLO) == 0) return handle_hello();
  if (strcmp(req.op, OP_PING) == 0) return send_ok();
  if (strcmp(req.op, OP_EXEC) == 0) return handle_exec(&req);
  if (strcmp(req.op, OP_PROCS) == 0) return handle_procs();
  if (strcmp(req.op, OP_ATTACH) == 0) return handle_attach(&req);
  if (strcmp(req.op, OP_CONNECT) == 0) return handle_connect(&req);
  if (!req.path || req.path[0] != '/') return send_text(F_FAIL, "EINVAL path must be absolute");
  // File operations run with the caller's identity, so permissions inside the
  // sandbox apply to them exactly as they would to a command.
  struct identity id;
  if (lookup_user(req.user, &id) < 0) return send_text(F_FAIL, "ESRCH unknown user");
  if (become(&id) < 0) return send_errno(errno, "setuid");
  umask(022);
  if (strcmp(req.op, OP_READ) == 0) return handle_read(&req);
  if (strcmp(req.op, OP_WRITE) == 0) return handle_write(&req);
  if (strcmp(req.op, OP_LIST) == 0) return handle_list(&req);
  if (strcmp(req.op, OP_STAT) == 0) return handle_stat(&req);
  if (strcmp(req.op, OP_REMOVE) == 0) return handle_remove(&req);
  if (strcmp(req.op, OP_MKDIR) == 0) return handle_mkdir(&req);
  if (strcmp(req.op, OP_RENAME) == 0) return handle_rename(&req);
  send_text(F_FAIL, "EINVAL unknown operation");
}

// After the last frame, wait for the daemon to hang up instead of closing
// first: a frame it sent meanwhile (say, closing stdin of a command that just
// ended) would otherwise hit a closed socket, and the broken pipe would make
// it drop our exit frame unread.
static void linger_until_peer_closes(void) {
  if (!conn_open) return;
  shutdown(conn_fd, SHUT_WR);
  char buf[4096];
  for (;;) {
    struct pollfd p = {conn_fd, POLLIN, 0};
    int r = poll(&p, 1, 5000);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
    ssize_t n = read(conn_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
  }
}

// Only processes outside the sandbox may drive the agent: the kernel reports a
// peer from another pid namespace as pid 0. Code inside the sandbox, even as
// root, cannot use the agent to act as another user. Under gVisor the socket
// is a host socket the sentry holds for us, and every peer looks like the
// agent itself; there the socket's mode (0600, root of the sandbox) is the
// guard, which grants sandbox root nothing it does not already have.
static int peer_is_outside(int fd) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return 0;
  return cred.pid == 0;
}

// The daemon's readiness check on every new sandbox is a ping: answered here,
// on the accepting side, when its whole request has already arrived. That
// saves the fork of a handler (milliseconds under gVisor) on the way to a new
// sandbox's first command. Anything else, or a ping not fully in yet, goes to
// a handler as before: nothing here waits on the peer.
static int answered_ping_here(int c) {
  // The request frame: 'Q', its length, then the one field "o:ping\0".
  unsigned char want[5 + 2 + sizeof OP_PING] = {F_REQUEST, 0, 0, 0, 2 + sizeof OP_PING, K_OP, ':'};
  memcpy(want + 7, OP_PING, sizeof OP_PING);
  unsigned char got[sizeof want + 1];
  if (recv(c, got, sizeof got, MSG_PEEK | MSG_DONTWAIT) != (ssize_t)sizeof want || memcmp(got, want, sizeof want) != 0) return 0;
  if (recv(c, got, sizeof want, MSG_DONTWAIT) != (ssize_t)sizeof want) return 0;
  static const char ok[] = {F_EXIT, 0, 0, 0, 3, '0', ' ', '0'};
  if (send(c, ok, sizeof ok, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) { /* the daemon asks again */ }
  return 1;
}

// What the relay's child needs, on the agent's stack (see spawn_sharing_memory).
struct relay_start {
  const char *path;
  const char *egress_sock;
  const int *listeners;
  sigset_t mask;  // the agent's, which the relay has always inherited
};

static int exec_relay(void *arg) {
  const struct relay_start *start = arg;
  // Moved out of the way first, so that placing one at 3.. never overwrites another.
  int high[EGRESS_LISTENERS];
  for (int k = 0; k < EGRESS_LISTENERS; k++)
    if ((high[k] = fcntl(start->listeners[k], F_DUPFD_CLOEXEC, 64)) < 0) _exit(127);
  for (int k = 0; k < EGRESS_LISTENERS; k++)
    if (dup2(high[k], EGRESS_FIRST_FD + k) < 0) _exit(127);
  sigprocmask(SIG_SETMASK, &start->mask, NULL);
  execl(start->path, "paddock-egress", start->egress_sock, "--inherited", relay_splice_unix ? "--splice-unix" : (char *)NULL, (char *)NULL);
  _exit(127);
}

/*
 * Starts the egress relay (paddock-egress, next to this binary). Its
 * listeners are opened here, before the agent accepts a connection: a command
 * the daemon runs at once may connect before the relay serves them and simply
 * waits in the backlog. The relay is this agent's child for the sandbox's
 * life; the agent keeps no copy of its sockets.
 */
static int start_egress_relay(const char *self, const char *egress_sock) {
  char relay[PATH_MAX];
  const char *slash = strrchr(self, '/');
  int dir_len = slash ? (int)(slash - self) : 0;
  snprintf(relay, sizeof relay, "%.*s/paddock-egress", dir_len, self);
  int fds[EGRESS_LISTENERS];
  if (egress_listen_all(fds) < 0) return -1;
  struct relay_start start = {.path = relay, .egress_sock = egress_sock, .listeners = fds};
  pid_t pid = spawn_sharing_memory(exec_relay, &start, &start.mask);
  for (int k = 0; k < EGRESS_LISTENERS; k++) close(fds[k]);
  return pid < 0 ? -1 : 0;
}

int main(int argc, char **argv) {
  const char *sock_path = argc > 1 ? argv[1] : "/.paddock/run/agent.sock";
  int check_peer_pid_ns = 1;
  const char *egress_sock = NULL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--socket-mode-guard") == 0) check_peer_pid_ns = 0;
    else if (strcmp(argv[i], "--egress") == 0 && i + 1 < argc) egress_sock = argv[++i];
  }
  // The socket-mode guard is asked for on gVisor alone (oci-spec.ts): without it this is Linux itself.
  relay_splice_unix = check_peer_pid_ns;
  note_inherited_signals();
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_IGN);  // handlers (and the relay, should it die) are reaped by the kernel
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return perror("socket"), 1;
  // Bind under a temporary name and rename, so the daemon never connects to a
  // socket that is not listening yet. gVisor may create host sockets but not
  // rename them: there the final name is bound directly, and the daemon
  // retries a refused connection until the agent listens.
  int rename_into_place = check_peer_pid_ns;
  struct sockaddr_un bind_addr = {.sun_family = AF_UNIX};
  snprintf(bind_addr.sun_path, sizeof bind_addr.sun_path, rename_into_place ? "%s.new" : "%s", sock_path);
  unlink(bind_addr.sun_path);
  if (bind(s, (struct sockaddr *)&bind_addr, sizeof bind_addr) < 0) return perror("bind"), 1;
  chmod(bind_addr.sun_path, 0600);
  if (listen(s, 256) < 0) return perror("listen"), 1;
  if (rename_into_place && rename(bind_addr.sun_path, sock_path) < 0) return perror("rename"), 1;
  // The relay's listeners are open before the first connection is accepted,
  // so no command can find them missing; the daemon's first ping meanwhile
  // waits in the backlog instead of polling for a socket.
  if (egress_sock && start_egress_relay(argv[0], egress_sock) < 0) return fprintf(stderr, "egress relay did not start\n"), 1;

  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    dup2(devnull, 0);
    dup2(devnull, 1);
    if (devnull > 2) close(devnull);
  }

  for (;;) {
    int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM || errno == EAGAIN) {
        usleep(10000);
        continue;
      }
      return perror("accept"), 1;
    }
    if (check_peer_pid_ns && !peer_is_outside(c)) {
      close(c);
      continue;
    }
    if (answered_ping_here(c)) {
      close(c);
      continue;
    }
    pid_t pid = fork();
    if (pid < 0) {
      // Most likely the sandbox is at its pids limit: say so instead of hanging
      // up. The request is read first: closing with unread data would reset
      // the connection and the daemon would lose the answer.
      int err = errno;
      struct pollfd p = {c, POLLIN, 0};
      char sink[4096];
      if (poll(&p, 1, 200) > 0 && read(c, sink, sizeof sink) < 0) { /* answer anyway */ }
      conn_fd = c;
      send_errno(err, "fork (the sandbox is at its process limit?)");
      conn_fd = -1;
      conn_open = 1;
    } else if (pid == 0) {
      close(s);
      signal(SIGCHLD, SIG_DFL);
      if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) < 0) _exit(1);
      struct sigaction sa = {.sa_handler = on_sigchld, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
      sigemptyset(&sa.sa_mask);
      sigaction(SIGCHLD, &sa, NULL);
      conn_fd = c;
      handle_connection();
      linger_until_peer_closes();
      _exit(0);
    }
    close(c);
  }
}
