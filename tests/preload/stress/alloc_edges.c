// The allocation calls a malloc replacement gets wrong: realloc from below the preload's threshold
// to above it and back, memory glibc handed out that the preload never saw, every aligned
// allocator with odd alignments, and sizes that overflow. It prints what each call did in words
// that do not depend on addresses, so a run under the preload must print the same as one without.
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void* __libc_malloc(size_t size);

#define MiB ((size_t)1 << 20)

static void fill(unsigned char* block, size_t from, size_t to, unsigned seed) {
  for (size_t at = from; at < to; at += 1024) block[at] = (unsigned char)(seed + at / 1024);
  if (to > from) block[to - 1] = (unsigned char)seed;
}

static int intact(const unsigned char* block, size_t length, unsigned seed) {
  for (size_t at = 0; at + 1 < length; at += 1024)
    if (block[at] != (unsigned char)(seed + at / 1024)) return 0;
  return 1;
}

static const char* aligned(const void* pointer, size_t alignment) {
  if (pointer == NULL) return "null";
  return alignment == 0 || ((uintptr_t)pointer & (alignment - 1)) == 0 ? "aligned" : "MISALIGNED";
}

static void reallocAcrossTheThreshold(void) {
  // From 16 bytes up past 2 MiB and 64 MiB, down to 100 bytes, up again: the contents follow.
  static const size_t sizes[] = {1 * MiB, 3 * MiB, 64 * MiB, 5 * MiB, 1024, 130 * MiB, 2 * MiB, 100, 9 * MiB, 0};
  unsigned char* block = malloc(16);
  size_t have = 16;
  fill(block, 0, have, 1);
  for (size_t i = 0; sizes[i] != 0; ++i) {
    unsigned char* moved = realloc(block, sizes[i]);
    if (moved == NULL) {
      printf("realloc to %zu: NULL (errno %d)\n", sizes[i], errno);
      free(block);
      return;
    }
    const size_t kept = have < sizes[i] ? have : sizes[i];
    const size_t checked = kept & ~(size_t)1023;  // fill() wrote the last byte of the old size too
    printf("realloc %zu -> %zu: %s, usable %s\n", have, sizes[i], intact(moved, checked, 1) ? "contents kept" : "CONTENTS LOST",
           malloc_usable_size(moved) >= sizes[i] ? "enough" : "TOO SMALL");
    fill(moved, 0, sizes[i], 1);
    block = moved;
    have = sizes[i];
  }
  free(block);
}

static void freeWhatGlibcHandedOut(void) {
  // Straight from glibc: the preload never saw these, and must hand them back to glibc.
  unsigned char* big = __libc_malloc(8 * MiB);
  fill(big, 0, 8 * MiB, 2);
  free(big);
  unsigned char* grown = __libc_malloc(4 * MiB);
  fill(grown, 0, 4 * MiB, 3);
  grown = realloc(grown, 64 * MiB);
  printf("glibc block realloc'd to 64 MiB: %s\n", grown != NULL && intact(grown, 4 * MiB - 1024, 3) ? "contents kept" : "LOST");
  free(grown);
  // Inside glibc: getline's buffer and strdup's copy, freed by the program.
  char text[] = "a line\n";
  FILE* stream = fmemopen(text, sizeof text - 1, "r");
  char* line = NULL;
  size_t capacity = 0;
  const ssize_t length = getline(&line, &capacity, stream);
  fclose(stream);
  printf("getline: %zd bytes\n", length);
  free(line);
  char* copy = strdup("copied");
  printf("strdup: %s\n", copy);
  free(copy);
}

static void oddAlignments(void) {
  static const size_t alignments[] = {0, 1, 3, 8, 16, 24, 4096, 65536, 2 * MiB, 4 * MiB, 1024 * MiB, (size_t)1 << 40, SIZE_MAX};
  static const size_t sizes[] = {1, 4 * MiB};
  for (size_t a = 0; a < sizeof alignments / sizeof *alignments; ++a) {
    for (size_t s = 0; s < 2; ++s) {
      const size_t alignment = alignments[a], size = sizes[s];
      void* block = NULL;
      const int result = posix_memalign(&block, alignment, size);
      printf("posix_memalign(%zu, %zu): %d %s\n", alignment, size, result, result == 0 ? aligned(block, alignment) : "");
      if (result == 0) memset(block, 5, size);
      free(block);
      errno = 0;
      block = aligned_alloc(alignment, size);
      printf("aligned_alloc(%zu, %zu): %s errno %d\n", alignment, size, aligned(block, alignment), block ? 0 : errno);
      if (block != NULL) memset(block, 6, size);
      free(block);
      errno = 0;
      block = memalign(alignment, size);
      // memalign takes any alignment and rounds it up to a power of two.
      size_t power = 1;
      while (power < alignment && power != 0) power <<= 1;
      printf("memalign(%zu, %zu): %s errno %d\n", alignment, size, aligned(block, power), block ? 0 : errno);
      if (block != NULL) memset(block, 7, size);
      free(block);
    }
  }
  const long page = sysconf(_SC_PAGESIZE);
  void* block = valloc(4 * MiB);
  printf("valloc(4 MiB): %s\n", aligned(block, (size_t)page));
  free(block);
  block = pvalloc(3 * MiB + 1);
  printf("pvalloc(3 MiB + 1): %s, usable %s\n", aligned(block, (size_t)page),
         block != NULL && malloc_usable_size(block) >= 3 * MiB + (size_t)page ? "rounded up to a page" : "TOO SMALL");
  free(block);
}

static void overflows(void) {
  errno = 0;
  void* block = calloc(SIZE_MAX / 2, 4);
  printf("calloc(SIZE_MAX / 2, 4): %s errno %s\n", block ? "NOT NULL" : "null", errno == ENOMEM ? "ENOMEM" : "OTHER");
  free(block);
  errno = 0;
  block = malloc(SIZE_MAX);
  printf("malloc(SIZE_MAX): %s errno %s\n", block ? "NOT NULL" : "null", errno == ENOMEM ? "ENOMEM" : "OTHER");
  free(block);
  errno = 0;
  block = realloc(NULL, SIZE_MAX - 4096);
  printf("realloc(NULL, SIZE_MAX - 4096): %s errno %s\n", block ? "NOT NULL" : "null", errno == ENOMEM ? "ENOMEM" : "OTHER");
  free(block);
  errno = 0;
  block = reallocarray(NULL, SIZE_MAX / 2, 4);
  printf("reallocarray(NULL, SIZE_MAX / 2, 4): %s errno %s\n", block ? "NOT NULL" : "null", errno == ENOMEM ? "ENOMEM" : "OTHER");
  free(block);
  unsigned char* zeroed = calloc(1, 64 * MiB);
  size_t nonzero = 0;
  for (size_t at = 0; zeroed != NULL && at < 64 * MiB; at += 512) nonzero += zeroed[at] != 0;
  printf("calloc(1, 64 MiB): %s\n", zeroed == NULL ? "null" : nonzero == 0 ? "zeroed" : "NOT ZEROED");
  free(zeroed);
  // A block given back and taken again (the preload reuses its pool chunks): calloc still zeroes.
  unsigned char* dirty = malloc(4 * MiB);
  memset(dirty, 0xff, 4 * MiB);
  free(dirty);
  zeroed = calloc(4, MiB);
  nonzero = 0;
  for (size_t at = 0; zeroed != NULL && at < 4 * MiB; at += 512) nonzero += zeroed[at] != 0;
  printf("calloc(4, 1 MiB) after a dirty free: %s\n", zeroed == NULL ? "null" : nonzero == 0 ? "zeroed" : "NOT ZEROED");
  free(zeroed);
  free(NULL);
  printf("realloc(p, 0) then free: %s\n", (free(realloc(malloc(8 * MiB), 0)), "done"));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  reallocAcrossTheThreshold();
  freeWhatGlibcHandedOut();
  oddAlignments();
  overflows();
  return 0;
}
