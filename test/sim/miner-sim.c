/*
 * A stand-in for a hidden Monero miner, for end-to-end tests of `deminer scan`.
 * It does what the real ones do, minus the mining: logs in to a stratum pool
 * with XMRig's JSON-RPC `login`, keeps the connection, burns CPU (fully or at
 * a throttled duty cycle), renames itself, and can delete its own binary.
 *
 * Settings come from the environment so that the command line can stay as
 * innocent as a real masqueraded miner's (or carry XMRig flags, for tests of
 * command-line detection):
 *   SIM_POOL=host:port   stratum pool to log in to (IPv4)
 *   SIM_WALLET=addr      login (wallet address)
 *   SIM_DUTY=0.25        fraction of each 100 ms period spent busy (1 = full burn)
 *   SIM_NAME=kswapd0     process name (comm) to take
 *   SIM_DELETE=1         delete the executable after start
 *   SIM_SECONDS=60       exit after this long (safety net for tests)
 *   SIM_BURST=N          open N extra connections to the pool, spread over SIM_BURST_SECONDS (default 5),
 *                        each held for about a second (as a scanner or spreader's probes are)
 * Prints "READY <pid>" on stdout once the pool answered the login.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_pool(const char *hostport) {
  char host[256];
  const char *colon = strrchr(hostport, ':');
  if (!colon || (size_t)(colon - hostport) >= sizeof host) return -1;
  memcpy(host, hostport, colon - hostport);
  host[colon - hostport] = 0;
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)atoi(colon + 1));
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int main(int argc, char **argv) {
  (void)argc;
  const char *pool = getenv("SIM_POOL");
  const char *wallet = getenv("SIM_WALLET");
  const char *duty_s = getenv("SIM_DUTY");
  const char *name = getenv("SIM_NAME");
  const char *del = getenv("SIM_DELETE");
  const char *secs_s = getenv("SIM_SECONDS");
  const char *burst_s = getenv("SIM_BURST");
  const char *burst_secs_s = getenv("SIM_BURST_SECONDS");
  double duty = duty_s ? atof(duty_s) : 1.0;
  double secs = secs_s ? atof(secs_s) : 60;
  int burst = burst_s ? atoi(burst_s) : 0;
  double burst_secs = burst_secs_s ? atof(burst_secs_s) : 5;
  if (!wallet)
    wallet = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";

  signal(SIGPIPE, SIG_IGN);
  if (name) prctl(PR_SET_NAME, name, 0, 0, 0);
  if (del && del[0] == '1') {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
      self[n] = 0;
      unlink(self);
    }
  }

  int fd = -1;
  if (pool) {
    fd = connect_pool(pool);
    if (fd < 0) {
      fprintf(stderr, "miner-sim: cannot connect to %s\n", pool);
      return 3;
    }
    char login[1024];
    int len = snprintf(login, sizeof login,
                       "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"%s\",\"pass\":\"x\","
                       "\"agent\":\"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0\",\"algo\":[\"rx/0\",\"cn/r\"]}}\n",
                       wallet);
    if (write(fd, login, len) != len) return 4;
    char reply[4096];
    ssize_t n = read(fd, reply, sizeof reply - 1);
    if (n <= 0) return 5;
  }
  printf("READY %d\n", (int)getpid());
  fflush(stdout);

  double start = now();
  double next_burst = start;
  int opened = 0;
  int held[64];
  double held_since[64];
  int nheld = 0;
  volatile unsigned long sink = 0;
  while (now() - start < secs) {
    double period_start = now();
    /* The duty cycle is counted in CPU time, as a thread-capped miner's is, so
       that a busy machine does not change the shape of the load. */
    double cpu_until = cpu_now() + 0.1 * duty;
    while (cpu_now() < cpu_until && now() < period_start + 0.1) {
      for (int i = 0; i < 10000; i++) sink += (unsigned long)i * 2654435761u;
    }
    while (pool && opened < burst && now() >= next_burst) {
      int c = connect_pool(pool);
      if (c >= 0 && nheld < 64) {
        held[nheld] = c;
        held_since[nheld++] = now();
      } else if (c >= 0) {
        close(c);
      }
      opened++;
      next_burst = start + burst_secs * opened / burst;
    }
    for (int i = 0; i < nheld;) {
      if (now() - held_since[i] >= 1.0) {
        close(held[i]);
        held[i] = held[--nheld];
        held_since[i] = held_since[nheld];
      } else {
        i++;
      }
    }
    double rest = period_start + 0.1 - now();
    if (rest > 0) usleep((useconds_t)(rest * 1e6));
  }
  if (fd >= 0) close(fd);
  return 0;
}
