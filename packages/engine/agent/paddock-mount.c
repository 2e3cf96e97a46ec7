// paddock-mount: prepares a sandbox's root filesystem on the host in one
// process, instead of two runs of mount(8) (each a few ms on the create path).
//
//   paddock-mount <scratch> <rootfs> <size-MiB> <upper-owner-uid> <lowerdir>[:<lowerdir>…] <flags> [<blank> <image>]
//
// <flags> are the rootfs mount flags (comma-separated: nosuid, nodev,
// noexec), chosen in packages/engine/src/bundle/isolation-settings.ts.
//
// Mounts a size-limited tmpfs at <scratch> (the writable layer's limit) or,
// given <blank> (an empty ext4 file system of <size-MiB>, made by the caller)
// and <image> (a path that does not exist yet), copies the blank's written
// parts to <image>, reserves the rest on the host's disk, and mounts it at
// <scratch> through a loop device that goes away with its last user (see
// attach_loop). It then makes <scratch>/upper and <scratch>/run (owned by the sandbox's root) and <scratch>/work, and
// mounts the overlay of the read-only template layers and that upper dir at
// <rootfs>. On failure it undoes what it did and prints one line.
//
//   paddock-mount --unmount <path>…
//
// Unmounts each path in order, detaching it lazily if it is busy (a process
// that escaped death holds it); a path that is not mounted, or gone, is
// skipped. umount(8) parses the whole mount table first, and with thousands
// of sandboxes that parse is most of a teardown's cost.
//
// The overlay's options show in the sandbox's /proc/self/mountinfo as they
// were given: they name the layers by symlinks <scratch>/l0, l1 … and are
// given relative to <scratch>, so no host path appears there.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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

// Configures a free loop device on the open image and returns its open descriptor
// (its path in dev). Autoclear: the device is freed at its last close, so once
// mounted it goes with the unmount, and if this process dies first (even
// killed) it goes with the process. Direct I/O where the host's file system
// offers it: through the host's page cache once rather than twice.
static int attach_loop(int image, char *dev, size_t len) {
  int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) return -1;
  int fd = -1;
  // Another process may take the free device between asking and configuring: ask again.
  for (int attempt = 0; attempt < 32 && fd < 0; attempt++) {
    int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0) break;
    snprintf(dev, len, "/dev/loop%d", n);
    fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) break;
    struct loop_config config = {.fd = (unsigned)image, .info = {.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO}};
    if (ioctl(fd, LOOP_CONFIGURE, &config) == 0) break;
    if (errno == EINVAL) {
      config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
      if (ioctl(fd, LOOP_CONFIGURE, &config) == 0) break;
    }
    int e = errno;
    close(fd);
    fd = -1;
    errno = e;
    if (e != EBUSY) break;
  }
  int e = errno;
  close(ctl);
  errno = e;
  return fd;
}

// Copies the parts of the blank that hold data (its metadata: a few MiB at
// most) to the new image; the rest stays a hole. A copy instead of mkfs: one
// process less on the create path.
static int copy_blank(int blank, int image) {
  static char buf[1 << 20];
  off_t end = lseek(blank, 0, SEEK_END);
  for (off_t data = lseek(blank, 0, SEEK_DATA); data >= 0 && data < end;) {
    off_t hole = lseek(blank, data, SEEK_HOLE);
    if (hole < 0) return -1;
    while (data < hole) {
      size_t want = (size_t)(hole - data) < sizeof buf ? (size_t)(hole - data) : sizeof buf;
      ssize_t got = pread(blank, buf, want, data);
      if (got <= 0 || pwrite(image, buf, (size_t)got, data) != got) return -1;
      data += got;
    }
    data = lseek(blank, hole, SEEK_DATA);
  }
  // SEEK_DATA past the last data gives ENXIO: the copy is done.
  return errno == ENXIO || errno == 0 ? 0 : -1;
}

// Makes the image from the blank and mounts it at scratch, nosuid and nodev as
// the tmpfs is. Its inode tables were never written: they read as zeros, which
// is what zeroing them would give (noinit_itable spares the image that write).
static int mount_image(const char *blank_path, const char *image, long size_mib, const char *scratch) {
  int blank = open(blank_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (blank < 0) return fail("open", blank_path);
  int img = open(image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (img < 0) {
    close(blank);
    return fail("create", image);
  }
  errno = 0;
  int copied = copy_blank(blank, img);
  close(blank);
  if (copied < 0) {
    close(img);
    return fail("copy the blank layer to", image);
  }
  // Allocated, not written: the layer can never find the host's disk full, nor fill it.
  if (fallocate(img, 0, 0, (off_t)size_mib * 1024 * 1024) < 0) {
    close(img);
    return fail("reserve", image);
  }
  char dev[32];
  int loop = attach_loop(img, dev, sizeof dev);
  close(img);
  if (loop < 0) return fail("attach a loop device to", image);
  int mounted = mount(dev, scratch, "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, "noinit_itable");
  int e = errno;
  close(loop);
  errno = e;
  if (mounted < 0) return fail("mount ext4 on", scratch);
  return 0;
}

static int unmount_all(int count, char **paths) {
  int status = 0;
  for (int i = 0; i < count; i++) {
    if (umount2(paths[i], UMOUNT_NOFOLLOW) == 0 || errno == EINVAL || errno == ENOENT) continue;
    if (errno == EBUSY && umount2(paths[i], UMOUNT_NOFOLLOW | MNT_DETACH) == 0) continue;
    status = fail("unmount", paths[i]);
  }
  return status;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--unmount") == 0) return unmount_all(argc - 2, argv + 2);
  if (argc != 7 && argc != 9) {
    fprintf(stderr, "usage: paddock-mount <scratch> <rootfs> <size-MiB> <upper-owner-uid> <lowerdirs> <flags> [<blank> <image>] | --unmount <path>...\n");
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

  if (argc == 9) {
    if (mount_image(argv[7], argv[8], size, scratch) != 0) return 1;
  } else if (mount("paddock-scratch", scratch, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) {
    return fail("mount tmpfs on", scratch);
  }
  // run/ holds the agent socket; on the scratch file system, whatever the sandbox writes there counts against its disk limit.
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
