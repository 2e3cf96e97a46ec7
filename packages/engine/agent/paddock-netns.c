// paddock-netns: makes a sandbox's network namespace in one process, instead
// of unshare(1), sh, ip(8), nft(8) and mount(8) one after the other (each a
// process start on the create path).
//
//   paddock-netns <netns-file> <ruleset> <sysfs-dir>
//
// Makes a new network namespace and binds it to <netns-file> (an existing
// empty file) so it outlives this process; inside it: loopback up, a veth
// pair pd0/pd1 with pd0 up at 100.127.255.1/31 and pd1 left down, a default
// route by pd0 (so connect() reaches the nat hook while no packet can leave:
// see netns-network.ts), the nftables ruleset read from <ruleset-file>,
// ip_unprivileged_port_start 0 (the egress relay binds port 53), and a
// read-only sysfs of the namespace mounted at <sysfs-dir> (sysfs belongs to a
// network namespace, and a sandbox's user namespace cannot mount one for a
// namespace it does not own: it gets this one bind-mounted). The caller picks
// the ruleset and the addresses' meaning; this program only applies them.
// On failure it unmounts what it mounted and prints one line.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static int fail(const char *what) {
  fprintf(stderr, "paddock-netns: %s: %s\n", what, strerror(errno));
  return -1;
}

// Sends one request and waits for its acknowledgement (the kernel's error, if any, in errno).
static int talk(struct mnl_socket *nl, struct nlmsghdr *msg, const char *what) {
  static unsigned seq;
  char answer[MNL_SOCKET_BUFFER_SIZE];
  msg->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  msg->nlmsg_seq = ++seq;
  if (mnl_socket_sendto(nl, msg, msg->nlmsg_len) < 0) return fail(what);
  ssize_t n = mnl_socket_recvfrom(nl, answer, sizeof answer);
  if (n < 0) return fail(what);
  if (mnl_cb_run(answer, n, msg->nlmsg_seq, mnl_socket_get_portid(nl), NULL, NULL) < 0) return fail(what);
  return 0;
}

// A request of <type> in buf, its family header (of <size> bytes, zeroed) following.
static struct nlmsghdr *request(char *buf, uint16_t type, uint16_t flags, size_t size) {
  struct nlmsghdr *msg = mnl_nlmsg_put_header(buf);
  msg->nlmsg_type = type;
  msg->nlmsg_flags = flags;
  mnl_nlmsg_put_extra_header(msg, size);
  return msg;
}

// The address in network order (the callers' literals are valid).
static uint32_t ipv4(const char *text) {
  struct in_addr in;
  inet_pton(AF_INET, text, &in);
  return in.s_addr;
}

static struct nlmsghdr *link_request(char *buf, uint16_t type, uint16_t flags, int index) {
  struct nlmsghdr *msg = request(buf, type, flags, sizeof(struct ifinfomsg));
  struct ifinfomsg *info = mnl_nlmsg_get_payload(msg);
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = index;
  return msg;
}

static int set_up(struct mnl_socket *nl, const char *name) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *msg = link_request(buf, RTM_NEWLINK, 0, 0);
  struct ifinfomsg *info = mnl_nlmsg_get_payload(msg);
  info->ifi_flags = IFF_UP;
  info->ifi_change = IFF_UP;
  mnl_attr_put_strz(msg, IFLA_IFNAME, name);
  return talk(nl, msg, name);
}

static int add_veth(struct mnl_socket *nl, const char *name, const char *peer) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *msg = link_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  mnl_attr_put_strz(msg, IFLA_IFNAME, name);
  struct nlattr *linkinfo = mnl_attr_nest_start(msg, IFLA_LINKINFO);
  mnl_attr_put_strz(msg, IFLA_INFO_KIND, "veth");
  struct nlattr *data = mnl_attr_nest_start(msg, IFLA_INFO_DATA);
  struct nlattr *peer_info = mnl_attr_nest_start(msg, VETH_INFO_PEER);
  struct ifinfomsg *peer_header = mnl_nlmsg_put_extra_header(msg, sizeof(struct ifinfomsg));
  peer_header->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(msg, IFLA_IFNAME, peer);
  mnl_attr_nest_end(msg, peer_info);
  mnl_attr_nest_end(msg, data);
  mnl_attr_nest_end(msg, linkinfo);
  return talk(nl, msg, "veth");
}

static int add_address(struct mnl_socket *nl, int index, const char *address, unsigned char prefix) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *msg = request(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));
  struct ifaddrmsg *addr = mnl_nlmsg_get_payload(msg);
  addr->ifa_family = AF_INET;
  addr->ifa_prefixlen = prefix;
  addr->ifa_index = index;
  mnl_attr_put_u32(msg, IFA_LOCAL, ipv4(address));
  mnl_attr_put_u32(msg, IFA_ADDRESS, ipv4(address));
  return talk(nl, msg, "address");
}

// default via <gateway> dev <index> onlink
static int add_default_route(struct mnl_socket *nl, int index, const char *gateway) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *msg = request(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct rtmsg));
  struct rtmsg *route = mnl_nlmsg_get_payload(msg);
  route->rtm_family = AF_INET;
  route->rtm_table = RT_TABLE_MAIN;
  route->rtm_protocol = RTPROT_BOOT;
  route->rtm_scope = RT_SCOPE_UNIVERSE;
  route->rtm_type = RTN_UNICAST;
  route->rtm_flags = RTNH_F_ONLINK;
  mnl_attr_put_u32(msg, RTA_GATEWAY, ipv4(gateway));
  mnl_attr_put_u32(msg, RTA_OIF, index);
  return talk(nl, msg, "route");
}

static int configure_links(void) {
  struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
  if (!nl) return fail("netlink");
  int result = -1;
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    fail("netlink");
  } else if (set_up(nl, "lo") == 0 && add_veth(nl, "pd0", "pd1") == 0) {
    int index = (int)if_nametoindex("pd0");
    if (!index) fail("pd0");
    else if (add_address(nl, index, "100.127.255.1", 31) == 0 && set_up(nl, "pd0") == 0)
      result = add_default_route(nl, index, "100.127.255.0");
  }
  mnl_socket_close(nl);
  return result;
}

static int apply_ruleset(const char *ruleset) {
  struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!nft) return fail("nftables");
  // libnftables prints its own message (to stderr) on a bad ruleset.
  int result = nft_run_cmd_from_buffer(nft, ruleset);
  nft_ctx_free(nft);
  if (result != 0) {
    errno = EINVAL;
    return fail("nftables ruleset");
  }
  return 0;
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail(path);
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  if (n != (ssize_t)strlen(text)) return fail(path);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fputs("usage: paddock-netns <netns-file> <ruleset> <sysfs-dir>\n", stderr);
    return 2;
  }
  const char *netns = argv[1], *ruleset = argv[2], *sysfs = argv[3];
  if (unshare(CLONE_NEWNET) != 0) return fail("unshare"), 1;
  if (mount("/proc/self/ns/net", netns, NULL, MS_BIND, NULL) != 0) return fail(netns), 1;
  if (configure_links() == 0 && apply_ruleset(ruleset) == 0 &&
      write_file("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0") == 0) {
    if (mount("sysfs", sysfs, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) return 0;
    fail(sysfs);
  }
  umount2(netns, MNT_DETACH);
  return 1;
}
