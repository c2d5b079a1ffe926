// What each system call routebind adds to a TCP connect costs on its own, measured without
// strace's overhead (strace -T inflates every call by its own ptrace stops). See bench/SYSCALLS.md.
//   cc -O2 -o /tmp/syscall-cost bench/syscall-cost.c && /tmp/syscall-cost [iterations]
// Each call is timed on its own and the median over `iterations` calls is printed (ns); calls
// that only count on a socket's first use (pin, NO_PORT, bind) get a fresh socket each time.
// Prints one line per case: the call, its median cost in ns.
// Loopback only; nothing is sent.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static long iterations = 100000;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int fresh(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) { perror("socket"); exit(1); }
  return fd;
}

static void loopback(struct sockaddr_in* sin) {
  memset(sin, 0, sizeof *sin);
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

// Each call is timed on its own (clock_gettime is a vDSO call, ~20 ns, itself measured and
// subtracted) and the median is reported: on a shared machine the mean mostly measures the
// neighbours.
static double* samples;
static double clock_cost;

static double median_of(long n) {
  qsort(samples, n, sizeof *samples, by_value);
  return samples[n / 2] - clock_cost;
}

static int step_on(int fd, int step) {
  struct sockaddr_in sin;
  loopback(&sin);
  int one = 1, lo = 1;
  struct stat st;
  struct sockaddr_storage ss;
  socklen_t len;
  int type;
  char buf[64];
  switch (step) {
    case 0: return 0;
    case 1: return setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &lo, sizeof lo);
    case 2: return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3);
    case 3: return setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    case 4: return bind(fd, (struct sockaddr*)&sin, sizeof sin);
    case 5: isatty(fd); return 0;  // ioctl(TCGETS) → ENOTTY
    case 6: return fstat(fd, &st);
    case 7: len = sizeof ss; return getsockname(fd, (struct sockaddr*)&ss, &len);
    case 8: len = sizeof type; return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
    case 9: return ioctl(fd, FIONBIO, &one);
    case 10: recv(fd, buf, sizeof buf, MSG_DONTWAIT); return 0;  // empty netlink feed → EAGAIN
  }
  return -1;
}

// Times `step` on a fresh socket per call (options that only count on a socket's first use),
// after the steps in `before` have been done untimed.
static double fresh_case(const int* before, int nbefore, int step) {
  for (long i = 0; i < iterations; i++) {
    int fd = fresh();
    for (int b = 0; b < nbefore; b++) if (step_on(fd, before[b]) != 0) { perror("setup"); exit(1); }
    double t0 = now_ns();
    int r = step_on(fd, step);
    samples[i] = now_ns() - t0;
    if (r != 0) { perror("step"); exit(1); }
    close(fd);
  }
  return median_of(iterations);
}

static double socket_case(void) {
  for (long i = 0; i < iterations; i++) {
    double t0 = now_ns();
    int fd = fresh();
    samples[i] = now_ns() - t0;
    close(fd);
  }
  return median_of(iterations);
}

static double same_case(int fd, int step) {
  for (long i = 0; i < iterations; i++) {
    double t0 = now_ns();
    step_on(fd, step);
    samples[i] = now_ns() - t0;
  }
  return median_of(iterations);
}

int main(int argc, char** argv) {
  if (argc > 1) iterations = atol(argv[1]);
  samples = calloc(iterations, sizeof *samples);
  for (long i = 0; i < iterations; i++) { double t0 = now_ns(); samples[i] = now_ns() - t0; }
  clock_cost = 0;
  clock_cost = median_of(iterations);
  printf("clock_gettime (subtracted) %.0f\n", clock_cost);
  printf("socket() %.0f\n", socket_case());
  const int none[] = {0}, no_port[] = {3};
  printf("setsockopt(SO_BINDTOIFINDEX) %.0f\n", fresh_case(none, 0, 1));
  printf("setsockopt(SO_BINDTODEVICE) %.0f\n", fresh_case(none, 0, 2));
  printf("setsockopt(IP_BIND_ADDRESS_NO_PORT) %.0f\n", fresh_case(none, 0, 3));
  printf("bind() after NO_PORT (port at connect) %.0f\n", fresh_case(no_port, 1, 4));
  printf("bind() without NO_PORT (port now) %.0f\n", fresh_case(none, 0, 4));

  int fd = fresh();
  struct sockaddr_in sin;
  loopback(&sin);
  bind(fd, (struct sockaddr*)&sin, sizeof sin);
  const char* adopt[] = {"ioctl(TCGETS) (isatty)", "fstat()", "getsockname()", "getsockopt(SO_TYPE)", "ioctl(FIONBIO)"};
  for (int i = 0; i < 5; i++) printf("%s %.0f\n", adopt[i], same_case(fd, 5 + i));
  close(fd);

  // The coherence check: a non-blocking recv on a netlink socket subscribed to route, address and
  // link groups, with nothing queued (the steady state).
  int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  struct sockaddr_nl snl = {.nl_family = AF_NETLINK,
                            .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
                                         RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE};
  if (nl < 0 || bind(nl, (struct sockaddr*)&snl, sizeof snl) != 0) { perror("netlink"); return 1; }
  printf("recv(MSG_DONTWAIT) on the netlink feed, empty %.0f\n", same_case(nl, 10));
  close(nl);
  return 0;
}
