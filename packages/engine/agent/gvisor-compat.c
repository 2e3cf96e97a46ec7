// Loaded into every dynamically linked program of a gVisor-tier sandbox
// through /etc/ld.so.preload. The runsc build Debian 12 ships refuses statx()
// with AT_NO_AUTOMOUNT (EINVAL), which coreutils passes on every call: `ls -l`
// and `stat` would fail. Nothing automounts inside a sandbox, so dropping the
// flag changes no result.
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf) {
  return (int)syscall(SYS_statx, dirfd, path, flags & ~AT_NO_AUTOMOUNT, mask, buf);
}
