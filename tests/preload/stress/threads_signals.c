// Threads allocating, filling, checking and freeing blocks on both sides of the preload's threshold
// while signals arrive: the program's own (SIGUSR1, from a thread of its own) and, under the
// preload, the report signal from outside. Every block must keep its contents, and the program
// ends with the same words with and without the preload.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MiB ((size_t)1 << 20)
enum { kThreads = 4, kRounds = 400 };

static volatile sig_atomic_t signals;
static volatile sig_atomic_t done;
static void onSignal(int number) {
  (void)number;
  ++signals;
}

static void* work(void* argument) {
  unsigned seed = (unsigned)(uintptr_t)argument;
  static const size_t sizes[] = {512, 64 * 1024, 2 * MiB, 3 * MiB, 5 * MiB, 9 * MiB, 33 * MiB};
  size_t bad = 0;
  unsigned char* kept[4] = {0};
  size_t keptSize[4] = {0};
  for (int round = 0; round < kRounds; ++round) {
    const size_t size = sizes[rand_r(&seed) % (sizeof sizes / sizeof *sizes)];
    const int slot = rand_r(&seed) % 4;
    if (kept[slot] != NULL) {
      for (size_t at = 0; at < keptSize[slot]; at += 4096) bad += kept[slot][at] != (unsigned char)(slot + at / 4096);
      free(kept[slot]);
    }
    unsigned char* block = (rand_r(&seed) % 3 == 0) ? calloc(1, size) : malloc(size);
    if (block == NULL) {
      ++bad;
      kept[slot] = NULL;
      continue;
    }
    for (size_t at = 0; at < size; at += 4096) block[at] = (unsigned char)(slot + at / 4096);
    if (rand_r(&seed) % 5 == 0) {  // grow or shrink it across the threshold
      const size_t other = sizes[rand_r(&seed) % (sizeof sizes / sizeof *sizes)];
      unsigned char* moved = realloc(block, other);
      if (moved == NULL) {
        ++bad;
      } else {
        const size_t common = size < other ? size : other;
        for (size_t at = 0; at < common; at += 4096) bad += moved[at] != (unsigned char)(slot + at / 4096);
        for (size_t at = 0; at < other; at += 4096) moved[at] = (unsigned char)(slot + at / 4096);
        block = moved;
        keptSize[slot] = other;
        kept[slot] = block;
        continue;
      }
    }
    kept[slot] = block;
    keptSize[slot] = size;
  }
  for (int slot = 0; slot < 4; ++slot) free(kept[slot]);
  return (void*)(uintptr_t)bad;
}

static void* signaller(void* argument) {
  (void)argument;
  const struct timespec pause = {0, 200 * 1000};
  while (!done) {
    kill(getpid(), SIGUSR1);
    nanosleep(&pause, NULL);
  }
  return NULL;
}

int main(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = onSignal;
  sigaction(SIGUSR1, &action, NULL);  // no SA_RESTART: interrupted calls must cope
  pthread_t threads[kThreads], sender;
  pthread_create(&sender, NULL, signaller, NULL);
  for (int i = 0; i < kThreads; ++i) pthread_create(&threads[i], NULL, work, (void*)(uintptr_t)(i + 1));
  size_t bad = 0;
  for (int i = 0; i < kThreads; ++i) {
    void* result = NULL;
    pthread_join(threads[i], &result);
    bad += (size_t)(uintptr_t)result;
  }
  done = 1;
  pthread_join(sender, NULL);
  printf("%d threads x %d rounds: %zu blocks damaged or refused; signals %s\n", kThreads, kRounds, bad,
         signals > 0 ? "arrived" : "NONE");
  return bad == 0 ? 0 : 1;
}
