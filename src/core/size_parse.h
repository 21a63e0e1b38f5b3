/*
 * Sizes as people write them in environment variables: "536870912", "512M", "2G".
 * Free of windows.h.
 */
#ifndef HOSTMEM_SIZE_PARSE_H
#define HOSTMEM_SIZE_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Digits, then at most one suffix K, M, G or T (either case; binary: K = 1024), and
   nothing else: no sign, no spaces, no fraction. False (and *bytes untouched) for
   anything else, for an empty string and for a value that overflows 64 bits. */
bool hm_parse_size(const char *text, uint64_t *bytes);

#endif /* HOSTMEM_SIZE_PARSE_H */
