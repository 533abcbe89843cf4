/*
 * loadgen: a small, cheap load generator for the memcached text protocol.
 *
 * One thread, non-blocking sockets, level-triggered epoll. Every connection keeps `depth`
 * requests in flight (closed loop); refills are written in one write() per connection and
 * event. Replies are framed (VALUE ... END, STORED, errors) without copying values. Latency is
 * taken per request, from the write of its batch to the read that completes it, into a
 * log-linear histogram (64 sub-buckets per power of two, under 1.6% error).
 *
 * Built by bench/run.ts with `cc -O2`. Modes:
 *   load (default): random keys from the key set, for -t seconds, after a priming get per
 *                   connection; prints one JSON line of results.
 *   --preload:      sets every key of the key set once, pipelined, and prints one JSON line.
 *
 * Keys are "<prefix>:<index, 8 digits>" for index in [0, -n). With several -s servers (memcached
 * direct), connection i talks to server i % nservers and uses only the keys whose index is
 * congruent to that server modulo nservers: the client does the placement, as a client library
 * would, and every get of a preloaded key hits.
 *
 * With --handshake, it prints "ready" once all connections are up and primed, then waits for a
 * line on stdin before it starts the clock; after the run it prints the JSON line and waits for
 * stdin to close before it closes its connections. The caller samples the proxy's CPU time at
 * those two points, so that connecting and closing are not counted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVERS 8
#define MAX_DEPTH 256
#define IN_CAP (64 * 1024)
#define SUB_BITS 6
#define SUB (1 << SUB_BITS)
#define HIST_SIZE ((64 - SUB_BITS) * SUB + 2 * SUB)

enum { REQ_GET = 0, REQ_SET = 1 };
enum { ST_LINE = 0, ST_SKIP = 1 };
enum { PH_PRIME = 0, PH_LOAD = 1, PH_PRELOAD = 2 };

struct pending {
  uint64_t t;
  uint8_t type;
  uint16_t nkeys;
};

struct conn {
  int fd;
  int srv;
  int dead;
  int want_out;
  char *in;
  size_t in_len, in_pos;
  int state;
  size_t skip;
  char *out;
  size_t out_len, out_off, out_cap;
  struct pending ring[MAX_DEPTH];
  int rhead, rcount;
  uint32_t cur_hits;
  long quota;        /* requests still to issue in this phase; -1 = unlimited */
  uint64_t cursor;   /* preload: next key index (in this connection's slice) */
  uint64_t stride;   /* preload: step between this connection's key indices */
};

static struct {
  char *hosts[MAX_SERVERS];
  int ports[MAX_SERVERS];
  int nserv;
  int conns;
  int depth;
  double seconds;
  double get_ratio;
  int keys_per_get;
  int value_size;
  uint64_t nkeys;
  const char *prefix;
  int preload;
  int handshake;
} opt = {.nserv = 0,
         .conns = 32,
         .depth = 1,
         .seconds = 5,
         .get_ratio = 0.9,
         .keys_per_get = 1,
         .value_size = 100,
         .nkeys = 100000,
         .prefix = "mrbench",
         .preload = 0,
         .handshake = 0};

static struct conn *conns;
static int epfd;
static int phase;
static char *value_buf;
static uint64_t hist[HIST_SIZE];
static uint64_t max_lat;
static uint64_t st_requests, st_gets, st_sets, st_keys, st_hits, st_errors, st_closed;
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static int live_conns;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(void) {
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

static void die(const char *msg) {
  fprintf(stderr, "loadgen: %s\n", msg);
  exit(2);
}

static int hist_index(uint64_t v) {
  if (v < 2 * SUB) return (int)v;
  int e = 63 - __builtin_clzll(v); /* e >= SUB_BITS + 1 */
  int sub = (int)((v >> (e - SUB_BITS)) & (SUB - 1));
  return 2 * SUB + (e - SUB_BITS - 1) * SUB + sub;
}

static double hist_value(int idx) {
  if (idx < 2 * SUB) return idx;
  int e = (idx - 2 * SUB) / SUB + SUB_BITS + 1;
  int sub = (idx - 2 * SUB) % SUB;
  double lo = (double)(1ull << e) + (double)sub * (double)(1ull << (e - SUB_BITS));
  return lo + (double)(1ull << (e - SUB_BITS)) / 2.0;
}

static double percentile_us(double q) {
  uint64_t total = 0;
  for (int i = 0; i < HIST_SIZE; i++) total += hist[i];
  if (total == 0) return 0;
  uint64_t want = (uint64_t)(q * (double)total);
  if (want < 1) want = 1;
  uint64_t seen = 0;
  for (int i = 0; i < HIST_SIZE; i++) {
    seen += hist[i];
    if (seen >= want) return hist_value(i) / 1000.0;
  }
  return max_lat / 1000.0;
}

static uint64_t keys_of_server(int s) {
  if ((uint64_t)s >= opt.nkeys) return 0;
  return (opt.nkeys - (uint64_t)s + (uint64_t)opt.nserv - 1) / (uint64_t)opt.nserv;
}

static uint64_t random_key(int s) {
  uint64_t n = keys_of_server(s);
  return (rnd() % n) * (uint64_t)opt.nserv + (uint64_t)s;
}

static size_t put_key(char *p, uint64_t idx) {
  return (size_t)sprintf(p, "%s:%08llu", opt.prefix, (unsigned long long)idx);
}

static void set_events(struct conn *c, int out) {
  if (c->want_out == out) return;
  struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
  c->want_out = out;
}

static void kill_conn(struct conn *c) {
  if (c->dead) return;
  c->dead = 1;
  live_conns--;
  st_closed++;
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
}

static void flush_out(struct conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n > 0) {
      c->out_off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      set_events(c, 1);
      return;
    }
    kill_conn(c);
    return;
  }
  c->out_off = c->out_len = 0;
  set_events(c, 0);
}

/* Appends one request to the output buffer and the in-flight ring. */
static void add_request(struct conn *c, uint64_t t) {
  if (c->out_off > 0) {
    memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
    c->out_len -= c->out_off;
    c->out_off = 0;
  }
  char *p = c->out + c->out_len;
  struct pending *pd = &c->ring[(c->rhead + c->rcount) % MAX_DEPTH];
  pd->t = t;
  if (phase == PH_PRELOAD) {
    uint64_t idx = c->cursor;
    c->cursor += c->stride;
    p += sprintf(p, "set ");
    p += put_key(p, idx);
    p += sprintf(p, " 0 0 %d\r\n", opt.value_size);
    memcpy(p, value_buf, (size_t)opt.value_size);
    p += opt.value_size;
    *p++ = '\r';
    *p++ = '\n';
    pd->type = REQ_SET;
    pd->nkeys = 1;
  } else if (phase == PH_PRIME || (double)(rnd() >> 11) * (1.0 / 9007199254740992.0) < opt.get_ratio) {
    int k = phase == PH_PRIME ? 1 : opt.keys_per_get;
    memcpy(p, "get", 3);
    p += 3;
    for (int i = 0; i < k; i++) {
      *p++ = ' ';
      p += put_key(p, random_key(c->srv));
    }
    *p++ = '\r';
    *p++ = '\n';
    pd->type = REQ_GET;
    pd->nkeys = (uint16_t)k;
  } else {
    p += sprintf(p, "set ");
    p += put_key(p, random_key(c->srv));
    p += sprintf(p, " 0 0 %d\r\n", opt.value_size);
    memcpy(p, value_buf, (size_t)opt.value_size);
    p += opt.value_size;
    *p++ = '\r';
    *p++ = '\n';
    pd->type = REQ_SET;
    pd->nkeys = 1;
  }
  c->out_len = (size_t)(p - c->out);
  if (c->out_len > c->out_cap) die("output buffer overflow");
  c->rcount++;
  if (c->quota > 0) c->quota--;
}

static int may_issue(struct conn *c) {
  if (c->dead || c->rcount >= opt.depth) return 0;
  if (phase == PH_PRELOAD) return c->cursor < opt.nkeys;
  return c->quota != 0;
}

static void refill(struct conn *c, uint64_t t) {
  int added = 0;
  while (may_issue(c)) {
    add_request(c, t);
    added = 1;
  }
  if (added && !c->want_out) flush_out(c);
}

static void complete(struct conn *c, uint64_t t, int error) {
  if (c->rcount == 0) {
    st_errors++;
    kill_conn(c);
    return;
  }
  struct pending *pd = &c->ring[c->rhead];
  c->rhead = (c->rhead + 1) % MAX_DEPTH;
  c->rcount--;
  if (phase == PH_PRIME) {
    c->cur_hits = 0;
    return;
  }
  uint64_t lat = t > pd->t ? t - pd->t : 0;
  hist[hist_index(lat)]++;
  if (lat > max_lat) max_lat = lat;
  st_requests++;
  if (error) st_errors++;
  if (pd->type == REQ_GET) {
    st_gets++;
    st_keys += pd->nkeys;
    st_hits += c->cur_hits;
  } else {
    st_sets++;
    st_keys++;
  }
  c->cur_hits = 0;
}

static int starts(const char *line, size_t len, const char *word) {
  size_t n = strlen(word);
  return len >= n && memcmp(line, word, n) == 0;
}

/* Handles one reply line (without "\r\n"); returns -1 on a protocol error. */
static int handle_line(struct conn *c, const char *line, size_t len, uint64_t t) {
  if (starts(line, len, "VALUE ")) {
    /* VALUE <key> <flags> <bytes> [<cas>] */
    size_t i = 6;
    while (i < len && line[i] != ' ') i++; /* key */
    i++;
    while (i < len && line[i] != ' ') i++; /* flags */
    i++;
    if (i >= len) return -1;
    size_t bytes = 0;
    while (i < len && line[i] >= '0' && line[i] <= '9') bytes = bytes * 10 + (size_t)(line[i++] - '0');
    c->cur_hits++;
    c->skip = bytes + 2;
    c->state = ST_SKIP;
    return 0;
  }
  if (starts(line, len, "END") || starts(line, len, "STORED") || starts(line, len, "NOT_STORED") ||
      starts(line, len, "EXISTS") || starts(line, len, "NOT_FOUND")) {
    complete(c, t, 0);
    return 0;
  }
  if (starts(line, len, "SERVER_ERROR") || starts(line, len, "CLIENT_ERROR") ||
      starts(line, len, "ERROR")) {
    if (st_errors < 3) fprintf(stderr, "loadgen: reply: %.*s\n", (int)len, line);
    complete(c, t, 1);
    return 0;
  }
  if (st_errors < 3) fprintf(stderr, "loadgen: unexpected reply: %.*s\n", (int)(len > 80 ? 80 : len), line);
  return -1;
}

static void on_readable(struct conn *c, uint64_t t) {
  if (c->in_pos > 0) {
    memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
    c->in_len -= c->in_pos;
    c->in_pos = 0;
  }
  if (c->in_len == IN_CAP) {
    fprintf(stderr, "loadgen: reply line too long\n");
    st_errors++;
    kill_conn(c);
    return;
  }
  ssize_t n = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (phase != PH_PRELOAD && st_closed < 3) fprintf(stderr, "loadgen: connection closed by peer\n");
    kill_conn(c);
    return;
  }
  t = now_ns();
  c->in_len += (size_t)n;
  while (c->in_pos < c->in_len) {
    if (c->state == ST_SKIP) {
      size_t avail = c->in_len - c->in_pos;
      size_t take = avail < c->skip ? avail : c->skip;
      c->in_pos += take;
      c->skip -= take;
      if (c->skip == 0) c->state = ST_LINE;
      continue;
    }
    char *start = c->in + c->in_pos;
    char *nl = memchr(start, '\n', c->in_len - c->in_pos);
    if (nl == NULL) break;
    size_t len = (size_t)(nl - start);
    if (len > 0 && start[len - 1] == '\r') len--;
    c->in_pos = (size_t)(nl - c->in) + 1;
    if (handle_line(c, start, len, t) < 0) {
      st_errors++;
      kill_conn(c);
      return;
    }
  }
  if (c->in_pos == c->in_len) c->in_pos = c->in_len = 0;
  refill(c, t);
}

static int all_idle(void) {
  for (int i = 0; i < opt.conns; i++) {
    struct conn *c = &conns[i];
    if (c->dead) continue;
    if (c->rcount > 0 || may_issue(c)) return 0;
  }
  return 1;
}

/* Runs the event loop until `deadline` (0 = until every connection is idle). */
static void run_loop(uint64_t deadline) {
  struct epoll_event events[512];
  uint64_t t = now_ns();
  for (int i = 0; i < opt.conns; i++) refill(&conns[i], t);
  for (;;) {
    t = now_ns();
    if (deadline && t >= deadline) return;
    if (!deadline && all_idle()) return;
    if (live_conns == 0) return;
    int timeout_ms = 50;
    if (deadline) {
      uint64_t left = (deadline - t) / 1000000ull;
      if (left < (uint64_t)timeout_ms) timeout_ms = (int)left + 1;
    }
    int n = epoll_wait(epfd, events, 512, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    t = now_ns();
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (c->dead) continue;
      if (events[i].events & EPOLLOUT) flush_out(c);
      if (!c->dead && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) on_readable(c, t);
    }
  }
}

static void connect_all(void) {
  size_t line_max = 64 + strlen(opt.prefix) + 12;
  size_t get_size = 8 + (size_t)opt.keys_per_get * (strlen(opt.prefix) + 12);
  size_t set_size = line_max + (size_t)opt.value_size + 2;
  size_t req_max = get_size > set_size ? get_size : set_size;
  epfd = epoll_create1(0);
  if (epfd < 0) die("epoll_create1");
  conns = calloc((size_t)opt.conns, sizeof *conns);
  if (!conns) die("out of memory");
  for (int i = 0; i < opt.conns; i++) {
    struct conn *c = &conns[i];
    c->srv = i % opt.nserv;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0) die("socket");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.ports[c->srv])};
    if (inet_pton(AF_INET, opt.hosts[c->srv], &sa.sin_addr) != 1) die("bad host (IPv4 only)");
    int attempts = 0;
    while (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
      if (errno == EINTR) continue;
      if (++attempts > 50) {
        fprintf(stderr, "loadgen: connect %s:%d: %s\n", opt.hosts[c->srv], opt.ports[c->srv], strerror(errno));
        exit(3);
      }
      close(c->fd);
      usleep(20000);
      c->fd = socket(AF_INET, SOCK_STREAM, 0);
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    c->in = malloc(IN_CAP);
    c->out_cap = req_max * (size_t)opt.depth + 64;
    c->out = malloc(c->out_cap);
    if (!c->in || !c->out) die("out of memory");
    c->quota = -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl add");
  }
  live_conns = opt.conns;
}

static void wait_stdin(void) {
  char buf[64];
  ssize_t n;
  do {
    n = read(0, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
}

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen -s HOST:PORT [-s ...] [-c conns] [-d depth] [-t seconds] [-g get_ratio]\n"
          "               [-k keys_per_get] [-v value_bytes] [-n keys] [-p key_prefix]\n"
          "               [--preload] [--handshake]\n");
  exit(2);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--preload") == 0) {
      opt.preload = 1;
      continue;
    }
    if (strcmp(a, "--handshake") == 0) {
      opt.handshake = 1;
      continue;
    }
    if (!v) usage();
    i++;
    if (strcmp(a, "-s") == 0) {
      if (opt.nserv == MAX_SERVERS) die("too many servers");
      char *copy = strdup(v);
      char *colon = strrchr(copy, ':');
      if (!colon) usage();
      *colon = 0;
      opt.hosts[opt.nserv] = copy;
      opt.ports[opt.nserv] = atoi(colon + 1);
      opt.nserv++;
    } else if (strcmp(a, "-c") == 0) {
      opt.conns = atoi(v);
    } else if (strcmp(a, "-d") == 0) {
      opt.depth = atoi(v);
    } else if (strcmp(a, "-t") == 0) {
      opt.seconds = atof(v);
    } else if (strcmp(a, "-g") == 0) {
      opt.get_ratio = atof(v);
    } else if (strcmp(a, "-k") == 0) {
      opt.keys_per_get = atoi(v);
    } else if (strcmp(a, "-v") == 0) {
      opt.value_size = atoi(v);
    } else if (strcmp(a, "-n") == 0) {
      opt.nkeys = strtoull(v, NULL, 10);
    } else if (strcmp(a, "-p") == 0) {
      opt.prefix = v;
    } else {
      usage();
    }
  }
  if (opt.nserv == 0 || opt.conns < 1 || opt.depth < 1 || opt.depth > MAX_DEPTH ||
      opt.keys_per_get < 1 || opt.keys_per_get > 1000 || opt.value_size < 0 ||
      opt.nkeys < (uint64_t)opt.nserv || opt.conns < opt.nserv)
    usage();
  signal(SIGPIPE, SIG_IGN);
  /* Never outlive the caller for long, whatever happens to it. */
  alarm((unsigned)(opt.seconds + 120));
  rng_state ^= (uint64_t)getpid() * 0x100000001B3ull ^ now_ns();
  value_buf = malloc((size_t)opt.value_size + 1);
  for (int i = 0; i < opt.value_size; i++) value_buf[i] = (char)('a' + i % 26);

  connect_all();

  if (opt.preload) {
    /* Connection i of server s sets the keys s + nserv*(j*cps + i/nserv), j = 0, 1, ... */
    int cps = opt.conns / opt.nserv;
    for (int i = 0; i < opt.conns; i++) {
      struct conn *c = &conns[i];
      int slot = i / opt.nserv;
      if (slot >= cps) {
        c->cursor = opt.nkeys;
        continue;
      }
      c->cursor = (uint64_t)c->srv + (uint64_t)opt.nserv * (uint64_t)slot;
      c->stride = (uint64_t)opt.nserv * (uint64_t)cps;
    }
    phase = PH_PRELOAD;
    uint64_t t0 = now_ns();
    run_loop(0);
    double el = (double)(now_ns() - t0) / 1e9;
    printf("{\"preloaded\":%llu,\"errors\":%llu,\"closed\":%llu,\"elapsed\":%.3f}\n",
           (unsigned long long)st_requests, (unsigned long long)st_errors,
           (unsigned long long)st_closed, el);
    return st_errors || st_closed ? 1 : 0;
  }

  /* Prime: one get per connection, so that every connection is accepted and served once. */
  phase = PH_PRIME;
  for (int i = 0; i < opt.conns; i++) conns[i].quota = 1;
  run_loop(0);
  if (live_conns < opt.conns) {
    fprintf(stderr, "loadgen: %d of %d connections failed while priming\n", opt.conns - live_conns,
            opt.conns);
    return 3;
  }
  if (opt.handshake) {
    printf("ready\n");
    fflush(stdout);
    wait_stdin();
  }
  for (int i = 0; i < opt.conns; i++) conns[i].quota = -1;
  phase = PH_LOAD;
  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  uint64_t t0 = now_ns();
  run_loop(t0 + (uint64_t)(opt.seconds * 1e9));
  uint64_t t1 = now_ns();
  getrusage(RUSAGE_SELF, &ru1);
  double el = (double)(t1 - t0) / 1e9;
  double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
               (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
               (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
               (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
  printf("{\"requests\":%llu,\"gets\":%llu,\"sets\":%llu,\"keys\":%llu,\"hits\":%llu,"
         "\"errors\":%llu,\"closed\":%llu,\"elapsed\":%.4f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
         "\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,\"gen_cpu_s\":%.4f}\n",
         (unsigned long long)st_requests, (unsigned long long)st_gets, (unsigned long long)st_sets,
         (unsigned long long)st_keys, (unsigned long long)st_hits, (unsigned long long)st_errors,
         (unsigned long long)st_closed, el, percentile_us(0.50), percentile_us(0.90),
         percentile_us(0.99), percentile_us(0.999), (double)max_lat / 1000.0, cpu);
  fflush(stdout);
  if (opt.handshake) wait_stdin();
  return 0;
}
