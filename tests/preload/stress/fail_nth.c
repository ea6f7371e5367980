// Fault injection for the preload library in a real process: preloaded before it, this library
// counts the memory system calls the process makes through libc's wrappers (mmap, madvise,
// mprotect, mlock, prctl, open, and syscall() for mbind, set_mempolicy, mlock, move_pages) and
// fails the XMEM_FAIL_AT-th with ENOMEM. glibc's own allocator calls the kernel directly, so what
// it counts in a program that maps nothing itself is the preload's. munmap passes, as it must not
// fail. At exit it writes "CALLS FAILED" to $XMEM_FAIL_COUNT_FILE. x86-64 Linux: the calls it
// passes on are made with the syscall instruction, so that it needs no symbol lookup (which may
// allocate, and so call the preload, which calls here).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#if !defined(__x86_64__) || !defined(__linux__)
#error "fail_nth.c makes raw x86-64 Linux system calls"
#endif

static long raw(long number, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long result;
  __asm__ volatile("syscall"
                   : "=a"(result)
                   : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return result;
}

static long answer(long result) {
  if (result < 0 && result > -4096) {
    errno = (int)-result;
    return -1;
  }
  return result;
}

static atomic_long calls;
static atomic_long failed;

static int fails(void) {
  static long failAt = -1;  // read on first use: the preload may call before this library's constructor
  if (failAt < 0) {
    const char* text = getenv("XMEM_FAIL_AT");  // reads environ only: no allocation
    failAt = text != NULL ? atol(text) : 0;
  }
  if (atomic_fetch_add(&calls, 1) + 1 != failAt) return 0;
  atomic_fetch_add(&failed, 1);
  errno = ENOMEM;
  return 1;
}

void* mmap(void* address, size_t length, int protection, int flags, int fd, off_t offset) {
  if (fails()) return MAP_FAILED;
  const long result = answer(raw(SYS_mmap, (long)address, (long)length, protection, flags, fd, offset));
  return result == -1 ? MAP_FAILED : (void*)result;
}

int munmap(void* address, size_t length) { return (int)answer(raw(SYS_munmap, (long)address, (long)length, 0, 0, 0, 0)); }

int madvise(void* address, size_t length, int advice) {
  return fails() ? -1 : (int)answer(raw(SYS_madvise, (long)address, (long)length, advice, 0, 0, 0));
}

int mprotect(void* address, size_t length, int protection) {
  return fails() ? -1 : (int)answer(raw(SYS_mprotect, (long)address, (long)length, protection, 0, 0, 0));
}

int mlock(const void* address, size_t length) {
  return fails() ? -1 : (int)answer(raw(SYS_mlock, (long)address, (long)length, 0, 0, 0, 0));
}

// The word arguments of a variadic call, as many as the kernel takes (unused ones are whatever is
// in their registers, which the kernel ignores).
static void takeWords(va_list words, long* argument, int count) {
  for (int i = 0; i < count; ++i) argument[i] = va_arg(words, long);
}

int prctl(int option, ...) {
  va_list words;
  va_start(words, option);
  long argument[4];
  takeWords(words, argument, 4);
  va_end(words);
  return fails() ? -1 : (int)answer(raw(SYS_prctl, option, argument[0], argument[1], argument[2], argument[3], 0));
}

int open(const char* path, int flags, ...) {
  va_list words;
  va_start(words, flags);
  const int mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? va_arg(words, int) : 0;
  va_end(words);
  return fails() ? -1 : (int)answer(raw(SYS_openat, AT_FDCWD, (long)path, flags, mode, 0, 0));
}

long syscall(long number, ...) {
  va_list words;
  va_start(words, number);
  long argument[6];
  takeWords(words, argument, 6);
  va_end(words);
  // Not munlock: like munmap, an undoing call must not fail. Not clone and the like: they would
  // return into this frame on another stack.
  const int memory = number == SYS_mbind || number == SYS_set_mempolicy || number == SYS_mlock || number == SYS_move_pages;
  if (memory && fails()) return -1;
  return answer(raw(number, argument[0], argument[1], argument[2], argument[3], argument[4], argument[5]));
}

__attribute__((destructor)) static void writeCount(void) {
  const char* path = getenv("XMEM_FAIL_COUNT_FILE");
  if (path == NULL) return;
  char text[64];
  const int length = snprintf(text, sizeof text, "%ld %ld\n", atomic_load(&calls), atomic_load(&failed));
  const long fd = raw(SYS_openat, AT_FDCWD, (long)path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644, 0, 0);
  if (fd < 0) return;
  raw(SYS_write, fd, (long)text, length, 0, 0, 0);
  raw(SYS_close, fd, 0, 0, 0, 0, 0);
}
