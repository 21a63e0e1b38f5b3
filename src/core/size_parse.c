/*
 * Parsing sizes; see size_parse.h. All or nothing: a malformed value is never
 * half-parsed into a smaller limit.
 */
#include "size_parse.h"

#include <stddef.h>

bool hm_parse_size(const char *text, uint64_t *bytes)
{
    uint64_t value = 0;
    unsigned shift = 0;
    size_t digits = 0;

    if (!text)
        return false;
    for (; *text >= '0' && *text <= '9'; text++, digits++) {
        unsigned d = (unsigned)(*text - '0');
        if (value > (UINT64_MAX - d) / 10)
            return false;
        value = value * 10 + d;
    }
    if (!digits)
        return false;
    switch (*text) {
    case '\0':           break;
    case 'k': case 'K':  shift = 10; text++; break;
    case 'm': case 'M':  shift = 20; text++; break;
    case 'g': case 'G':  shift = 30; text++; break;
    case 't': case 'T':  shift = 40; text++; break;
    default:             return false;
    }
    if (*text != '\0')
        return false;
    if (shift && value > (UINT64_MAX >> shift))
        return false;
    *bytes = value << shift;
    return true;
}
