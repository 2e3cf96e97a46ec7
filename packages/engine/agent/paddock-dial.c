// paddock-dial: opens a TCP connection to 127.0.0.1:<port> inside a container
// sandbox's own network namespace and hands the socket to paddockd, so that
// ingress bytes go client <-> server through the kernel alone (paddockd's
// splice helper joins the two sockets) instead of through the in-sandbox
// agent, a process started per connection.
//
// Why a helper: Node can neither setns(2) nor receive descriptors on a plain
// socket. It can receive them on its IPC channel, though: this program is a
// long-lived child of paddockd, spawned with an 'ipc' stdio entry, and sends
// each socket the way a Node child's process.send(msg, socket) does (one JSON
// line, the descriptor attached as SCM_RIGHTS), so paddockd's 'message'
// handler gets a net.Socket.
//
// The namespace entered is named by a sandbox id, never by a path: the
// program builds the paths itself from the folders it was started with.
//   paddock-dial <sandboxes-dir> <procs-dir> <cgroup-path>
// A sandbox with a network of its own has <sandboxes-dir>/<id>/netns (a bind
// mount made by paddock-netns); one without (network "none") has its
// namespace from runc, found through a process of its cgroup
// (<procs-dir>/<id>/cgroup.procs), checked by pidfd to be in that cgroup
// (/proc/<pid>/cgroup names <cgroup-path>/<id>), so that a pid reused by
// another process is never entered. The host's own namespace is refused
// whatever the path led to. It never reads or writes a byte of a connection.
//
// Requests, JSON strings on the channel (paddockd's child.send(string)):
//   "open <req> <sandbox-id> <port>"
// Answers, one per request:
//   {"cmd":"NODE_HANDLE","type":"net.Socket","msg":{"req":N}} + the socket
//   {"req":N,"error":"<errno name or reason>"}
// Node acknowledges each socket (NODE_HANDLE_ACK), in order; a socket it could
// not take (out of descriptors: NODE_HANDLE_NACK) is answered again as
// {"req":N,"error":"EMFILE"}, so that paddockd hears of that request at all.
// Anything else read on the channel is dropped. The first line sent is
// {"ready":true} or {"ready":false,"error":...}. End of the channel, or
// paddockd's death, ends the program.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sched.h>
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

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

// Connections still connecting at once; more are refused ("busy": paddockd
// opens those through the agent).
#define MAX_PENDING 1024
#define CONNECT_TIMEOUT_MS 10000
#define ID_MAX 64

struct pending {
  int fd;
  uint64_t req;
  uint64_t deadline_ms;
};

static struct pending pending[MAX_PENDING];
// Requests whose socket was sent and not yet acknowledged, oldest first.
#define MAX_UNACKED 4096
static uint64_t unacked[MAX_UNACKED];
static size_t unacked_head, unacked_count;
static int channel = -1, epfd = -1, own_netns = -1;
static ino_t own_netns_ino;
static const char *sandboxes_dir, *procs_dir, *cgroup_path;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

// One message on the channel, with `fd` attached when it is >= 0. A channel
// paddockd no longer reads means paddockd is gone: so are we.
static void send_line(const char *line, int fd) {
  size_t len = strlen(line);
  struct iovec iov = {.iov_base = (void *)line, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (fd >= 0) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  for (;;) {
    ssize_t n = sendmsg(channel, &msg, MSG_NOSIGNAL);
    if (n == (ssize_t)len) return;
    if (n < 0 && errno == EINTR) continue;
    // A short write leaves a broken message behind: nothing sensible follows it.
    _exit(0);
  }
}

static void fail_req(uint64_t req, const char *why) {
  char line[128];
  snprintf(line, sizeof line, "{\"req\":%" PRIu64 ",\"error\":\"%s\"}\n", req, why);
  send_line(line, -1);
}

static void hand_over(uint64_t req, int fd) {
  // A full queue forgets its oldest: that request's socket was surely taken by now.
  if (unacked_count == MAX_UNACKED) {
    unacked_head = (unacked_head + 1) % MAX_UNACKED;
    unacked_count--;
  }
  unacked[(unacked_head + unacked_count) % MAX_UNACKED] = req;
  unacked_count++;
  char line[128];
  snprintf(line, sizeof line, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"req\":%" PRIu64 "}}\n", req);
  send_line(line, fd);
  close(fd);
}

static const char *errno_name(int e) {
  switch (e) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECONNRESET: return "ECONNRESET";
    case ENETUNREACH: return "ENETUNREACH";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    case ENOBUFS: return "ENOBUFS";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    default: return "error";
  }
}

static int valid_id(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > ID_MAX) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_') return 0;
  return 1;
}

// Whether /proc/<pid>/cgroup names the sandbox's cgroup (any hierarchy: the
// line's path after its second colon).
static int in_cgroup(pid_t pid, const char *id) {
  char path[64], want[512], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
  if (snprintf(want, sizeof want, "%s/%s", cgroup_path, id) >= (int)sizeof want) return 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    char *p = strchr(line, ':');
    p = p ? strchr(p + 1, ':') : NULL;
    if (p && strcmp(p + 1, want) == 0) return 1;
  }
  return 0;
}

// A descriptor setns(2) takes to the sandbox's network namespace: its netns
// file, else a pidfd of a process checked to be in its cgroup. -1: none.
static int netns_of(const char *id) {
  char path[512];
  if (snprintf(path, sizeof path, "%s/%s/netns", sandboxes_dir, id) >= (int)sizeof path) return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) return fd;
  if (errno != ENOENT) return -1;
  if (snprintf(path, sizeof path, "%s/%s/cgroup.procs", procs_dir, id) >= (int)sizeof path) return -1;
  char buf[256];
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  // The first few pids listed: any process of the sandbox shares its namespace.
  char *save = NULL;
  int tries = 0;
  for (char *word = strtok_r(buf, "\n", &save); word && tries < 4; word = strtok_r(NULL, "\n", &save), tries++) {
    pid_t pid = (pid_t)atoi(word);
    if (pid <= 1) continue;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) continue;
    // Checked after the pidfd pins the process, and alive after the check:
    // the /proc file read was that process's, not a successor's by the same pid.
    if (in_cgroup(pid, id) && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0) return pidfd;
    close(pidfd);
  }
  return -1;
}

// A stream socket made inside namespace `ns`, or -1 (errno set). The host's
// own namespace is refused (EPERM).
static int socket_in(int ns) {
  if (setns(ns, CLONE_NEWNET) < 0) return -1;
  int fd = -1;
  struct stat st;
  // Where setns actually led, whatever descriptor named it.
  if (stat("/proc/thread-self/ns/net", &st) == 0 && st.st_ino != own_netns_ino)
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  else
    errno = EPERM;
  int saved = errno;
  // Without our own namespace back, every later socket would be made in a sandbox's.
  if (setns(own_netns, CLONE_NEWNET) < 0) _exit(1);
  errno = saved;
  return fd;
}

static void open_connection(uint64_t req, const char *id, unsigned port) {
  int slot = -1;
  for (int i = 0; i < MAX_PENDING && slot < 0; i++)
    if (pending[i].fd < 0) slot = i;
  if (slot < 0) return fail_req(req, "busy");
  int ns = netns_of(id);
  if (ns < 0) return fail_req(req, "nonetns");
  int fd = socket_in(ns);
  int err = errno;
  close(ns);
  if (fd < 0) return fail_req(req, err == EINVAL ? "nonetns" : errno_name(err));
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&to, sizeof to) == 0) return hand_over(req, fd);
  if (errno != EINPROGRESS) {
    err = errno;
    close(fd);
    return fail_req(req, errno_name(err));
  }
  struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)slot};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    close(fd);
    return fail_req(req, "error");
  }
  pending[slot] = (struct pending){.fd = fd, .req = req, .deadline_ms = now_ms() + CONNECT_TIMEOUT_MS};
}

static void connected(int slot) {
  struct pending *p = &pending[slot];
  int err = 0;
  socklen_t len = sizeof err;
  epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd, NULL);
  if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err == 0) hand_over(p->req, p->fd);
  else {
    close(p->fd);
    fail_req(p->req, errno_name(err));
  }
  p->fd = -1;
}

static void expire(void) {
  uint64_t now = now_ms();
  for (int i = 0; i < MAX_PENDING; i++) {
    if (pending[i].fd < 0 || now < pending[i].deadline_ms) continue;
    close(pending[i].fd);
    pending[i].fd = -1;
    fail_req(pending[i].req, "ETIMEDOUT");
  }
}

// Node's answer to the oldest socket sent: taken, or not (then its request fails).
static void acknowledged(int taken) {
  if (unacked_count == 0) return;
  uint64_t req = unacked[unacked_head];
  unacked_head = (unacked_head + 1) % MAX_UNACKED;
  unacked_count--;
  if (!taken) fail_req(req, "EMFILE");
}

static void command(char *line) {
  if (strstr(line, "\"NODE_HANDLE_ACK\"")) return acknowledged(1);
  if (strstr(line, "\"NODE_HANDLE_NACK\"")) return acknowledged(0);
  uint64_t req;
  int off = -1;
  if (sscanf(line, "\"open %" SCNu64 " %n", &req, &off) != 1 || off < 0) return;
  const char *rest = line + off;
  size_t len = strcspn(rest, " \"");
  char id[ID_MAX + 1];
  if (len == 0 || len > ID_MAX || rest[len] != ' ') return fail_req(req, "badid");
  memcpy(id, rest, len);
  id[len] = 0;
  if (!valid_id(id)) return fail_req(req, "badid");
  char *end;
  unsigned long port = strtoul(rest + len + 1, &end, 10);
  if (end == rest + len + 1 || strcmp(end, "\"") != 0 || port < 1 || port > 65535) return fail_req(req, "badport");
  open_connection(req, id, (unsigned)port);
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const char *fd_env = getenv("NODE_CHANNEL_FD");
  if (argc != 4 || !fd_env) {
    fprintf(stderr, "usage: paddock-dial <sandboxes-dir> <procs-dir> <cgroup-path> (a child of paddockd, with NODE_CHANNEL_FD)\n");
    return 2;
  }
  sandboxes_dir = argv[1];
  procs_dir = argv[2];
  cgroup_path = argv[3];
  channel = atoi(fd_env);
  // Blocking writes: paddockd always reads its channel, and a message is never left half-sent.
  fcntl(channel, F_SETFL, fcntl(channel, F_GETFL) & ~O_NONBLOCK);
  fcntl(channel, F_SETFD, FD_CLOEXEC);
  // A descriptor per connection still connecting, besides the daemon's own.
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  for (int i = 0; i < MAX_PENDING; i++) pending[i].fd = -1;
  struct stat st;
  own_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (own_netns < 0 || fstat(own_netns, &st) < 0 || epfd < 0) {
    send_line("{\"ready\":false,\"error\":\"setup\"}\n", -1);
    return 1;
  }
  own_netns_ino = st.st_ino;
  // Entering a namespace needs CAP_SYS_ADMIN: asked once, on our own.
  if (setns(own_netns, CLONE_NEWNET) < 0) {
    send_line("{\"ready\":false,\"error\":\"EPERM\"}\n", -1);
    return 1;
  }
  struct epoll_event in = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, channel, &in) < 0) return 1;
  send_line("{\"ready\":true}\n", -1);
  uint64_t last_sweep = now_ms();
  for (;;) {
    struct epoll_event ev[64];
    int n = epoll_wait(epfd, ev, 64, 1000);
    if (n < 0 && errno != EINTR) return 1;
    for (int i = 0; i < n; i++) {
      if (ev[i].data.u64 == UINT64_MAX) read_command_lines(channel, command);
      else if (pending[ev[i].data.u64].fd >= 0) connected((int)ev[i].data.u64);
    }
    if (now_ms() - last_sweep >= 1000) {
      expire();
      last_sweep = now_ms();
    }
  }
}
