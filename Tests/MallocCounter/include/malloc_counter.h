// Counts heap allocations made while counting is on, by interposing the allocator in the test executable.
// Used to show that Session.run(_:into:) allocates nothing.
#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H

/// 0 under AddressSanitizer/ThreadSanitizer, which replace the allocator themselves.
int malloc_counter_available(void);
void malloc_counter_start(void);
/// Stops counting and returns the number of allocations since `malloc_counter_start`.
long malloc_counter_stop(void);

#endif
