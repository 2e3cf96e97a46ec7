// Commands from paddockd, one a line, on a non-blocking descriptor: shared by
// the host-side helpers that take them (paddock-splice, paddock-dial). End of
// file (paddockd gone) ends the program; a line longer than any command is
// dropped whole.
#ifndef PADDOCK_COMMAND_LINES_H
#define PADDOCK_COMMAND_LINES_H

#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define COMMAND_LINE_MAX 256

// Reads what is there and hands each whole line, its newline replaced by NUL, to `command`.
static void read_command_lines(int fd, void (*command)(char *line)) {
  static char buf[64 * COMMAND_LINE_MAX];
  static size_t have;
  ssize_t n = read(fd, buf + have, sizeof buf - have);
  if (n == 0) _exit(0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    _exit(1);
  }
  have += (size_t)n;
  size_t start = 0;
  for (size_t i = 0; i < have; i++) {
    if (buf[i] != '\n') continue;
    buf[i] = 0;
    if (i - start < COMMAND_LINE_MAX) command(buf + start);
    start = i + 1;
  }
  memmove(buf, buf + start, have - start);
  have -= start;
  if (have == sizeof buf) have = 0;
}

#endif
