/*
 * The lab's `--udp-rcvbuf <bytes>` (udp-rcvbuf.mjs): loaded with LD_PRELOAD
 * into every process of a lab run, it raises each SO_RCVBUF request on a
 * datagram socket below WMLAB_UDP_RCVBUF_BYTES to that value (the kernel
 * doubles it, capped by net.core.rmem_max). What a WebRTC stack could ask for
 * its UDP socket where @roamhq/wrtc's libwebrtc asks 256 KiB and JavaScript
 * cannot change it: an experiment on the lab's own processes, never part of
 * Wingman. Other options and stream sockets pass through untouched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>

typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);

int setsockopt(int fd, int level, int name, const void *value, socklen_t length) {
  static setsockopt_fn real;
  if (!real) real = (setsockopt_fn)dlsym(RTLD_NEXT, "setsockopt");
  if (level == SOL_SOCKET && name == SO_RCVBUF && length == sizeof(int)) {
    const char *text = getenv("WMLAB_UDP_RCVBUF_BYTES");
    int want = text ? atoi(text) : 0;
    int type = 0;
    socklen_t type_length = sizeof type;
    if (want > *(const int *)value && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) == 0 && type == SOCK_DGRAM)
      return real(fd, level, name, &want, length);
  }
  return real(fd, level, name, value, length);
}
