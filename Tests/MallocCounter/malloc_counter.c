// Interposes malloc and friends (the executable's definitions win over libc's) and forwards to glibc's
// internal entry points, counting calls while enabled. Any thread's allocation counts: the session's
// worker threads must not allocate either.
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

#include "malloc_counter.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MALLOC_COUNTER_DISABLED 1
#endif
#endif

#ifdef MALLOC_COUNTER_DISABLED
// Sanitizers own the allocator: no interposition, and the counter reports itself unavailable.
int malloc_counter_available(void) { return 0; }
void malloc_counter_start(void) {}
long malloc_counter_stop(void) { return 0; }
#else
int malloc_counter_available(void) { return 1; }

extern void* __libc_malloc(size_t size);
extern void* __libc_calloc(size_t count, size_t size);
extern void* __libc_realloc(void* pointer, size_t size);
extern void* __libc_memalign(size_t alignment, size_t size);

static atomic_int enabled;
static atomic_long count;

static void note(void) {
  if (atomic_load_explicit(&enabled, memory_order_relaxed)) atomic_fetch_add(&count, 1);
}

void* malloc(size_t size) {
  note();
  return __libc_malloc(size);
}

void* calloc(size_t n, size_t size) {
  note();
  return __libc_calloc(n, size);
}

void* realloc(void* pointer, size_t size) {
  note();
  return __libc_realloc(pointer, size);
}

void* aligned_alloc(size_t alignment, size_t size) {
  note();
  return __libc_memalign(alignment, size);
}

void* memalign(size_t alignment, size_t size) {
  note();
  return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, size_t alignment, size_t size) {
  note();
  void* p = __libc_memalign(alignment, size);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

void malloc_counter_start(void) {
  atomic_store(&count, 0);
  atomic_store(&enabled, 1);
}

long malloc_counter_stop(void) {
  atomic_store(&enabled, 0);
  return atomic_load(&count);
}
#endif
