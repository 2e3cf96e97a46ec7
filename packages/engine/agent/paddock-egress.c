// paddock-egress: the in-sandbox end of the egress path.
//
// Why it exists: a sandbox has no route to the outside. What it sends out is
// caught on its own loopback (explicit proxy clients through HTTP_PROXY, TCP
// 80/443 through nftables `redirect`, DNS on 127.0.0.1:53) and carried over a
// unix socket that paddockd bind-mounts in, where policy decides. This program
// only moves bytes; it holds no policy, so a compromised sandbox gains nothing
// by talking to the daemon's socket directly.
//
// Wire format, per connection: one line `PADDOCK/1 <kind> <dst>\n`, then raw
// bytes both ways. <dst> is the pre-redirect destination `a.b.c.d:port`, or
// `-` when unknown. UDP DNS queries travel as kind `dns` with DNS-over-TCP
// framing (2-byte big-endian length) in both directions.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "egress-listeners.h"
#include "fd-io.h"
#include "fd-relay.h"

// From <linux/netfilter_ipv4.h>, which clashes with <netinet/in.h> on some
// kernel header versions.
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif

#define THREAD_STACK 65536
#define DNS_MAX 4096
#define DNS_TIMEOUT_SEC 5


static struct sockaddr_un daemon_addr;
static int udp_fd = -1;

// ---------------------------------------------------------------- plumbing

static void sleep_briefly(void) {
  struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
  nanosleep(&ts, NULL);
}

// Detached: nobody joins, so a finished connection leaves nothing behind.
static int spawn(void *(*fn)(void *), void *arg) {
  pthread_attr_t attr;
  pthread_t thread;
  if (pthread_attr_init(&attr) != 0) return -1;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  // Buffers live on the heap, so a small stack keeps idle connections cheap.
  // Where the platform minimum is larger this fails and the default stays.
  pthread_attr_setstacksize(&attr, THREAD_STACK);
  int err = pthread_create(&thread, &attr, fn, arg);
  pthread_attr_destroy(&attr);
  return err;
}

static int connect_daemon(const char *header) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&daemon_addr, sizeof daemon_addr) < 0 ||
      write_all(fd, header, strlen(header)) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// With conntrack loaded, a connection that was never redirected still reports
// an "original" destination: our own listener. Passing that on would make the
// daemon dial back into the sandbox, so it counts as unknown.
static void original_dst(int fd, char *out, size_t size) {
  struct sockaddr_in orig, local;
  socklen_t olen = sizeof orig, llen = sizeof local;
  char ip[INET_ADDRSTRLEN];
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &orig, &olen) < 0 || orig.sin_family != AF_INET) return;
  if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0 && local.sin_port == orig.sin_port &&
      local.sin_addr.s_addr == orig.sin_addr.s_addr)
    return;
  if (inet_ntop(AF_INET, &orig.sin_addr, ip, sizeof ip))
    snprintf(out, size, "%s:%u", ip, (unsigned)ntohs(orig.sin_port));
}

// ---------------------------------------------------------------- relay

struct conn {
  int fd;
  enum egress_kind kind;
};

static void *tcp_thread(void *arg) {
  struct conn c = *(struct conn *)arg;
  free(arg);
  char dst[32] = "-";
  if (c.kind == K_HTTP || c.kind == K_TLS) original_dst(c.fd, dst, sizeof dst);
  char header[80];
  snprintf(header, sizeof header, "PADDOCK/1 %s %s\n", egress_tcp[c.kind].name, dst);
  int up = connect_daemon(header);
  if (up >= 0) {
    // The header went out blocking, so whole; now both sides are non-blocking.
    int flags = fcntl(up, F_GETFL);
    if (flags >= 0 && fcntl(up, F_SETFL, flags | O_NONBLOCK) == 0) relay_fds(c.fd, up, 0);
    close(up);
  }
  close(c.fd);
  return NULL;
}

// ---------------------------------------------------------------- DNS over UDP

// The query is kept with its length prefix in front, ready to write in one go.
struct dns_query {
  struct sockaddr_storage peer;
  socklen_t peer_len;
  size_t len;
  unsigned char data[2 + DNS_MAX];
};

// Any failure drops the query: the resolver in the sandbox retries or times
// out, which is what it would do with a lost datagram anyway.
static void *dns_thread(void *arg) {
  struct dns_query *q = arg;
  int up = connect_daemon("PADDOCK/1 dns -\n");
  if (up >= 0) {
    struct timeval tv = {.tv_sec = DNS_TIMEOUT_SEC, .tv_usec = 0};
    unsigned char head[2];
    setsockopt(up, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (write_all(up, q->data, 2 + q->len) == 0 && shutdown(up, SHUT_WR) == 0 && read_all(up, head, 2) == 0) {
      size_t n = ((size_t)head[0] << 8) | head[1];
      unsigned char *answer = n ? malloc(n) : NULL;
      if (answer && read_all(up, answer, n) == 0)
        sendto(udp_fd, answer, n, 0, (struct sockaddr *)&q->peer, q->peer_len);
      free(answer);
    }
    close(up);
  }
  free(q);
  return NULL;
}

static void receive_dns(void) {
  struct dns_query *q = malloc(sizeof *q);
  if (!q) {
    // The datagram stays queued; pausing keeps poll from spinning on it.
    sleep_briefly();
    return;
  }
  q->peer_len = sizeof q->peer;
  ssize_t n = recvfrom(udp_fd, q->data + 2, DNS_MAX, 0, (struct sockaddr *)&q->peer, &q->peer_len);
  if (n <= 0) {
    free(q);
    return;
  }
  q->len = (size_t)n;
  q->data[0] = (unsigned char)(n >> 8);
  q->data[1] = (unsigned char)n;
  if (spawn(dns_thread, q) != 0) free(q);
}

// ---------------------------------------------------------------- accept loop

static void accept_tcp(int lfd, enum egress_kind kind) {
  int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) {
    // Out of descriptors or memory: the connection waits in the backlog;
    // pausing keeps poll from spinning on it until something is freed.
    if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) sleep_briefly();
    return;
  }
  // The relay forwards whatever each read returned, already coalesced;
  // Nagle would only add latency to request/response exchanges.
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct conn *c = malloc(sizeof *c);
  if (c) {
    c->fd = fd;
    c->kind = kind;
    if (spawn(tcp_thread, c) == 0) return;
    free(c);
  }
  close(fd);
}

// Usage: paddock-egress <unix-socket-path> [--inherited] [--splice-unix]
// With --inherited the listeners are already open at fds 3.. (the agent
// opened them; see egress-listeners.h); otherwise the relay opens them.
// --splice-unix: this is Linux itself, not gVisor (see fd-relay.h).
int main(int argc, char **argv) {
  int inherited = 0;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--inherited") == 0) inherited = 1;
    else if (strcmp(argv[i], "--splice-unix") == 0) relay_splice_unix = 1;
    else argc = 0;
  }
  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: paddock-egress <unix-socket-path> [--inherited] [--splice-unix]\n");
    return 2;
  }
  size_t plen = strlen(argv[1]);
  if (plen == 0 || plen >= sizeof daemon_addr.sun_path) {
    fprintf(stderr, "paddock-egress: bad unix socket path\n");
    return 2;
  }
  daemon_addr.sun_family = AF_UNIX;
  memcpy(daemon_addr.sun_path, argv[1], plen + 1);
  // A peer that goes away mid-write must cost one connection, not the process.
  signal(SIGPIPE, SIG_IGN);

  int fds[EGRESS_LISTENERS];
  if (inherited) {
    for (int k = 0; k < EGRESS_LISTENERS; k++) {
      fds[k] = EGRESS_FIRST_FD + k;
      if (fcntl(fds[k], F_SETFL, O_NONBLOCK) < 0 || fcntl(fds[k], F_SETFD, FD_CLOEXEC) < 0) {
        perror("paddock-egress: inherited listener");
        return 1;
      }
    }
  } else if (egress_listen_all(fds) < 0) {
    return 1;
  }
  struct pollfd p[EGRESS_LISTENERS];
  for (int k = 0; k < EGRESS_LISTENERS; k++) p[k] = (struct pollfd){.fd = fds[k], .events = POLLIN};
  udp_fd = fds[N_TCP];

  for (;;) {
    if (poll(p, EGRESS_LISTENERS, -1) < 0) {
      if (errno != EINTR) sleep_briefly();
      continue;
    }
    for (int k = 0; k < N_TCP; k++)
      if (p[k].revents) accept_tcp(p[k].fd, (enum egress_kind)k);
    if (p[N_TCP].revents) receive_dns();
  }
}
