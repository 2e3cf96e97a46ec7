// paddock-mount: prepares a sandbox's root filesystem on the host in one
// process, instead of two runs of mount(8) (each a few ms on the create path).
//
//   paddock-mount <scratch> <rootfs> <size-MiB> <upper-owner-uid> <lowerdir>[:<lowerdir>…] <flags>
//
// <flags> are the rootfs mount flags (comma-separated: nosuid, nodev,
// noexec), chosen in packages/engine/src/bundle/isolation-settings.ts.
//
// Mounts a size-limited tmpfs at <scratch> (the writable layer's limit),
// makes <scratch>/upper and <scratch>/run (owned by the sandbox's root) and <scratch>/work, and
// mounts the overlay of the read-only template layers and that upper dir at
// <rootfs>. On failure it undoes what it did and prints one line.
//
// The overlay's options show in the sandbox's /proc/self/mountinfo as they
// were given: they name the layers by symlinks <scratch>/l0, l1 … and are
// given relative to <scratch>, so no host path appears there.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

// Unmounts the scratch tmpfs again (from outside it: a cwd inside keeps it busy), keeping errno.
static void undo(const char *scratch) {
  int e = errno;
  if (chdir("/") == 0) umount(scratch);
  errno = e;
}

static int fail(const char *what, const char *path) {
  fprintf(stderr, "paddock-mount: %s %s: %s\n", what, path, strerror(errno));
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: paddock-mount <scratch> <rootfs> <size-MiB> <upper-owner-uid> <lowerdirs> <flags>\n");
    return 2;
  }
  unsigned long rootfs_flags = 0;
  char flags[256];
  snprintf(flags, sizeof flags, "%s", argv[6]);
  for (char *save = NULL, *word = strtok_r(flags, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
    if (strcmp(word, "nosuid") == 0) rootfs_flags |= MS_NOSUID;
    else if (strcmp(word, "nodev") == 0) rootfs_flags |= MS_NODEV;
    else if (strcmp(word, "noexec") == 0) rootfs_flags |= MS_NOEXEC;
    else {
      fprintf(stderr, "paddock-mount: unknown flag %s\n", word);
      return 2;
    }
  }
  const char *scratch = argv[1], *rootfs = argv[2], *lower = argv[5];
  long size = strtol(argv[3], NULL, 10);
  long owner = strtol(argv[4], NULL, 10);
  char opts[64], upper[4096], work[4096], run[4096];
  snprintf(opts, sizeof opts, "size=%ldm,mode=0755", size);
  if (snprintf(upper, sizeof upper, "%s/upper", scratch) >= (int)sizeof upper) return fail("path too long", scratch);
  snprintf(work, sizeof work, "%s/work", scratch);
  snprintf(run, sizeof run, "%s/run", scratch);

  if (mount("paddock-scratch", scratch, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) return fail("mount tmpfs on", scratch);
  // run/ holds the agent socket; on the tmpfs, whatever the sandbox writes there counts against its disk limit.
  if (mkdir(upper, 0755) < 0 || mkdir(work, 0755) < 0 || mkdir(run, 0700) < 0 || chown(upper, (uid_t)owner, (gid_t)owner) < 0 ||
      chown(run, (uid_t)owner, (gid_t)owner) < 0) {
    undo(scratch);
    return fail("prepare", upper);
  }
  if (chdir(scratch) < 0) {
    undo(scratch);
    return fail("chdir", scratch);
  }
  // At most one layer per character of <lowerdirs>, each named in under 8.
  size_t len = 8 * (strlen(lower) + 1) + 64;
  char *overlay = malloc(len), *layers = strdup(lower);
  if (!overlay || !layers) return fail("malloc", "");
  size_t used = (size_t)snprintf(overlay, len, "lowerdir=");
  int n = 0;
  for (char *save = NULL, *layer = strtok_r(layers, ":", &save); layer; layer = strtok_r(NULL, ":", &save), n++) {
    char link[32];
    snprintf(link, sizeof link, "l%d", n);
    if (symlink(layer, link) < 0) {
      undo(scratch);
      return fail("symlink to", layer);
    }
    used += (size_t)snprintf(overlay + used, len - used, "%s%s", n ? ":" : "", link);
  }
  snprintf(overlay + used, len - used, ",upperdir=upper,workdir=work");
  if (mount("paddock-rootfs", rootfs, "overlay", rootfs_flags, overlay) < 0) {
    undo(scratch);
    return fail("mount overlay on", rootfs);
  }
  return 0;
}
