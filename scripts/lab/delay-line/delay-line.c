/*
 * delay-line: a userspace stand-in for netem (absent from some kernels).
 *
 * Creates a TUN device, reads every IPv4 packet the kernel routes into it,
 * and writes it back after a delay chosen by the first rule whose source and
 * destination prefixes match (the lab routes a namespace's own outgoing
 * packets into the device with `ip rule add iif lo lookup <table>`; packets
 * written back re-enter the stack on the TUN device and leave by the main
 * table). Per rule: a delay, a uniform jitter and a random loss rate.
 * Packets of one rule leave in the order they came (jitter never reorders
 * them: TCP over a reordering link measures the reordering, not the delay).
 * The queue is bounded: a packet that finds it full is dropped, as a router
 * with a full buffer does.
 *
 *   delay-line --dev NAME [--queue PACKETS] [--seed N] [--stats FILE]
 *              [--rule src=CIDR,dst=CIDR,delay=MS,jitter=MS,loss=PCT]...
 *
 * Every key of a rule is optional (src/dst default 0.0.0.0/0, the rest 0);
 * MS and PCT may have decimals. A packet no rule matches passes at once.
 * Prints {"event":"ready","dev":NAME,"pid":PID} on stdout once the device
 * exists, and a stats line {"event":"stats",...} when it ends (SIGTERM/SIGINT:
 * exit 0). With --stats, SIGUSR1 writes the same line (with a "dump" count
 * that goes up by one per signal) to FILE: to FILE.tmp, then renamed, so a
 * reader never sees half a line. Counters: packets read, written back, lost
 * (the random loss), dropped on a full queue, unmatched; per rule the same
 * for its packets.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Largest IPv4 packet; the device's MTU (1500 in the lab) keeps real ones far below. */
#define MAX_PACKET_BYTES 65535
/* Rules per device: the lab uses one per peer address class (a handful). */
#define MAX_RULES 32
/* Default queue: 80 ms one way at ~30 MB/s is ~1,600 full-size packets; 10,000 leaves room. */
#define DEFAULT_QUEUE_PACKETS 10000
#define MAX_QUEUE_PACKETS 1000000

struct rule {
  uint32_t src, src_mask, dst, dst_mask;
  int64_t delay_us, jitter_us;
  double loss; /* 0..1 */
  int64_t last_release_us; /* no reordering within a rule */
  uint64_t matched, written, lost, queue_full;
  char dst_text[INET_ADDRSTRLEN + 3]; /* the rule's dst as a.b.c.d/nn, for the stats */
};

struct packet {
  int64_t release_us;
  uint64_t seq; /* ties leave in arrival order */
  size_t len;
  int rule; /* index into rules */
  unsigned char *data;
};

static struct rule rules[MAX_RULES];
static int rule_count;
static struct packet *heap;
static size_t heap_len, heap_cap;
static uint64_t seq_next;
static uint64_t rng_state = 88172645463325252ULL;
static volatile sig_atomic_t stopping, dump_requested;
static const char *stats_file;
static uint64_t n_dumps;
static uint64_t n_read, n_written, n_lost, n_queue_full, n_unmatched;

static void die(const char *what) {
  fprintf(stderr, "delay-line: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void usage(const char *why) {
  fprintf(stderr, "delay-line: %s\nusage: delay-line --dev NAME [--queue PACKETS] [--seed N] [--stats FILE] [--rule src=CIDR,dst=CIDR,delay=MS,jitter=MS,loss=PCT]...\n", why);
  exit(2);
}

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Spreads a small seed over 64 bits (xorshift's first outputs from a seed like 1 are tiny). */
static uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x ? x : 1;
}

/* xorshift64*: uniform in [0, 1). */
static double rnd(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void parse_cidr(const char *text, uint32_t *addr, uint32_t *mask) {
  char buf[64];
  if (strlen(text) >= sizeof buf) usage("prefix too long");
  strcpy(buf, text);
  int bits = 32;
  char *slash = strchr(buf, '/');
  if (slash) {
    *slash = '\0';
    char *end;
    long b = strtol(slash + 1, &end, 10);
    if (*end != '\0' || b < 0 || b > 32) usage("bad prefix length");
    bits = (int)b;
  }
  struct in_addr in;
  if (inet_pton(AF_INET, buf, &in) != 1) usage("bad IPv4 address in a rule");
  *mask = bits == 0 ? 0 : htonl(0xffffffffu << (32 - bits));
  *addr = in.s_addr & *mask;
}

static double parse_number(const char *text, double max, const char *what) {
  char *end;
  double v = strtod(text, &end);
  if (*end != '\0' || !(v >= 0 && v <= max)) usage(what);
  return v;
}

static void parse_rule(const char *spec) {
  if (rule_count == MAX_RULES) usage("too many rules");
  struct rule *r = &rules[rule_count++];
  memset(r, 0, sizeof *r);
  char *copy = strdup(spec), *save = NULL;
  for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    if (!eq) usage("a rule is key=value pairs");
    *eq = '\0';
    const char *v = eq + 1;
    /* One hour bounds a typo; loss is a percentage. */
    if (strcmp(kv, "src") == 0) parse_cidr(v, &r->src, &r->src_mask);
    else if (strcmp(kv, "dst") == 0) parse_cidr(v, &r->dst, &r->dst_mask);
    else if (strcmp(kv, "delay") == 0) r->delay_us = (int64_t)(parse_number(v, 3600e3, "bad delay") * 1000);
    else if (strcmp(kv, "jitter") == 0) r->jitter_us = (int64_t)(parse_number(v, 3600e3, "bad jitter") * 1000);
    else if (strcmp(kv, "loss") == 0) r->loss = parse_number(v, 100, "bad loss") / 100;
    else usage("unknown rule key");
  }
  free(copy);
  char addr[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &r->dst, addr, sizeof addr);
  snprintf(r->dst_text, sizeof r->dst_text, "%s/%d", addr, __builtin_popcount(ntohl(r->dst_mask)));
}

static struct rule *match(const unsigned char *p, size_t len) {
  if (len < 20 || (p[0] >> 4) != 4) return NULL;
  uint32_t src, dst;
  memcpy(&src, p + 12, 4);
  memcpy(&dst, p + 16, 4);
  for (int i = 0; i < rule_count; i++) {
    struct rule *r = &rules[i];
    if ((src & r->src_mask) == r->src && (dst & r->dst_mask) == r->dst) return r;
  }
  return NULL;
}

static int before(const struct packet *a, const struct packet *b) {
  return a->release_us < b->release_us || (a->release_us == b->release_us && a->seq < b->seq);
}

static void heap_push(struct packet pk) {
  size_t i = heap_len++;
  heap[i] = pk;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!before(&heap[i], &heap[parent])) break;
    struct packet t = heap[i];
    heap[i] = heap[parent];
    heap[parent] = t;
    i = parent;
  }
}

static struct packet heap_pop(void) {
  struct packet top = heap[0];
  heap[0] = heap[--heap_len];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < heap_len && before(&heap[l], &heap[m])) m = l;
    if (r < heap_len && before(&heap[r], &heap[m])) m = r;
    if (m == i) break;
    struct packet t = heap[i];
    heap[i] = heap[m];
    heap[m] = t;
    i = m;
  }
  return top;
}

static void on_signal(int sig) {
  if (sig == SIGUSR1) dump_requested = 1;
  else stopping = 1;
}

/* One JSON line of every counter (bounded: at most MAX_RULES rules of fixed-size fields). */
static void write_stats(FILE *f, uint64_t dump) {
  fprintf(f, "{\"event\":\"stats\",\"dump\":%llu,\"read\":%llu,\"written\":%llu,\"lost\":%llu,\"queueFull\":%llu,\"unmatched\":%llu,\"queued\":%zu,\"rules\":[",
          (unsigned long long)dump, (unsigned long long)n_read, (unsigned long long)n_written, (unsigned long long)n_lost, (unsigned long long)n_queue_full,
          (unsigned long long)n_unmatched, heap_len);
  for (int i = 0; i < rule_count; i++) {
    const struct rule *r = &rules[i];
    fprintf(f, "%s{\"dst\":\"%s\",\"matched\":%llu,\"written\":%llu,\"lost\":%llu,\"queueFull\":%llu}", i ? "," : "", r->dst_text,
            (unsigned long long)r->matched, (unsigned long long)r->written, (unsigned long long)r->lost, (unsigned long long)r->queue_full);
  }
  fprintf(f, "]}\n");
}

/* SIGUSR1: the counters to the stats file, replaced whole (write a temporary file, then rename). */
static void dump_stats(void) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", stats_file) >= (int)sizeof tmp) return;
  FILE *f = fopen(tmp, "w");
  if (!f) {
    fprintf(stderr, "delay-line: cannot write %s: %s\n", tmp, strerror(errno));
    return;
  }
  write_stats(f, ++n_dumps);
  if (fclose(f) != 0 || rename(tmp, stats_file) != 0) fprintf(stderr, "delay-line: cannot replace %s: %s\n", stats_file, strerror(errno));
}

static int open_tun(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) die("open /dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (strlen(name) >= IFNAMSIZ) usage("device name too long");
  strcpy(ifr.ifr_name, name);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
  if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) die("O_NONBLOCK");
  return fd;
}

static void release_due(int fd) {
  int64_t now = now_us();
  while (heap_len > 0 && heap[0].release_us <= now) {
    struct packet pk = heap_pop();
    /* A TUN write injects the packet into the stack; it fails only for a malformed packet. */
    if (write(fd, pk.data, pk.len) == (ssize_t)pk.len) {
      n_written++;
      rules[pk.rule].written++;
    }
    free(pk.data);
  }
}

int main(int argc, char **argv) {
  const char *dev = NULL;
  size_t queue = DEFAULT_QUEUE_PACKETS;
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage("missing value");
    if (strcmp(argv[i], "--dev") == 0) dev = argv[++i];
    else if (strcmp(argv[i], "--queue") == 0) queue = (size_t)parse_number(argv[++i], MAX_QUEUE_PACKETS, "bad queue");
    else if (strcmp(argv[i], "--seed") == 0) rng_state = splitmix64(strtoull(argv[++i], NULL, 10));
    else if (strcmp(argv[i], "--stats") == 0) stats_file = argv[++i];
    else if (strcmp(argv[i], "--rule") == 0) parse_rule(argv[++i]);
    else usage("unknown option");
  }
  if (!dev) usage("--dev is required");
  if (queue < 1) usage("--queue must be at least 1");
  heap_cap = queue;
  heap = calloc(heap_cap, sizeof *heap);
  if (!heap) die("calloc");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  /* The signals are taken only inside ppoll (its mask lets them in): none is lost between a check and the wait. */
  sigset_t blocked, during_poll;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGUSR1);
  if (sigprocmask(SIG_BLOCK, &blocked, &during_poll) < 0) die("sigprocmask");
  sigdelset(&during_poll, SIGTERM);
  sigdelset(&during_poll, SIGINT);
  sigdelset(&during_poll, SIGUSR1);

  int fd = open_tun(dev);
  printf("{\"event\":\"ready\",\"dev\":\"%s\",\"pid\":%d}\n", dev, (int)getpid());
  fflush(stdout);

  static unsigned char buf[MAX_PACKET_BYTES];
  while (!stopping) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    struct timespec timeout, *tp = NULL;
    if (heap_len > 0) {
      int64_t wait = heap[0].release_us - now_us();
      if (wait < 0) wait = 0;
      timeout.tv_sec = wait / 1000000;
      timeout.tv_nsec = (wait % 1000000) * 1000;
      tp = &timeout;
    }
    int ready = ppoll(&pfd, 1, tp, &during_poll);
    if (dump_requested) {
      dump_requested = 0;
      if (stats_file) dump_stats();
    }
    if (ready < 0 && errno != EINTR) die("ppoll");
    if (ready > 0 && (pfd.revents & POLLIN)) {
      /* Drain what is there now; due packets go out in between so a burst adds no delay. */
      for (int burst = 0; burst < 256; burst++) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
          if (errno == EAGAIN || errno == EINTR) break;
          die("read");
        }
        n_read++;
        struct rule *r = match(buf, (size_t)n);
        int64_t now = now_us();
        if (!r) {
          n_unmatched++;
          if (write(fd, buf, (size_t)n) == n) n_written++;
          continue;
        }
        r->matched++;
        if (r->loss > 0 && rnd() < r->loss) {
          n_lost++;
          r->lost++;
          continue;
        }
        if (heap_len == heap_cap) {
          n_queue_full++;
          r->queue_full++;
          continue;
        }
        int64_t release = now + r->delay_us + (r->jitter_us > 0 ? (int64_t)(rnd() * (double)r->jitter_us) : 0);
        if (release < r->last_release_us) release = r->last_release_us;
        r->last_release_us = release;
        unsigned char *data = malloc((size_t)n);
        if (!data) die("malloc");
        memcpy(data, buf, (size_t)n);
        heap_push((struct packet){.release_us = release, .seq = seq_next++, .len = (size_t)n, .rule = (int)(r - rules), .data = data});
      }
    }
    release_due(fd);
  }
  write_stats(stdout, n_dumps);
  fflush(stdout);
  return 0;
}
