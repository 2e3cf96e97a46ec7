// The egress relay's listeners on the sandbox's loopback, shared by the agent
// (which opens them before the sandbox counts as ready, so no connection is
// refused while the relay is still being exec'd) and the relay (which serves
// them). Ports must match egressPorts in netns-network.ts.
#ifndef PADDOCK_EGRESS_LISTENERS_H
#define PADDOCK_EGRESS_LISTENERS_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum egress_kind { K_PROXY, K_HTTP, K_TLS, K_DNS_TCP, N_TCP };

// TCP listeners first (in egress_kind order), then the UDP DNS socket.
#define EGRESS_LISTENERS (N_TCP + 1)
// Where the agent hands them to the relay.
#define EGRESS_FIRST_FD 3

static const struct {
  const char *name;
  int port;
} egress_tcp[N_TCP] = {
    [K_PROXY] = {"proxy", 3128},
    [K_HTTP] = {"http", 15001},
    [K_TLS] = {"tls", 15002},
    [K_DNS_TCP] = {"dns-tcp", 53},
};
#define EGRESS_DNS_PORT 53

// Non-blocking, so that a connection aborted between poll and accept cannot
// stall the loop that serves every other one.
static inline int egress_listen_on(int type, int port) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || (type == SOCK_STREAM && listen(fd, SOMAXCONN) < 0)) {
    fprintf(stderr, "paddock-egress: cannot listen on %s 127.0.0.1:%d: %s\n", type == SOCK_STREAM ? "tcp" : "udp", port,
            strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

// Opens every listener into fds[EGRESS_LISTENERS]; -1 (nothing left open) if one fails.
static inline int egress_listen_all(int fds[EGRESS_LISTENERS]) {
  for (int k = 0; k < EGRESS_LISTENERS; k++) {
    fds[k] = k < N_TCP ? egress_listen_on(SOCK_STREAM, egress_tcp[k].port) : egress_listen_on(SOCK_DGRAM, EGRESS_DNS_PORT);
    if (fds[k] < 0) {
      while (k-- > 0) close(fds[k]);
      return -1;
    }
  }
  return 0;
}

#endif
