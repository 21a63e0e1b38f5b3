/*
 * The heap's size classes: 16-byte steps up to 128 bytes, then four classes to each
 * doubling up to HM_HEAP_SMALL_MAX (so rounding wastes at most 25% of a block, 12.5%
 * on average for sizes spread evenly). Every class is a multiple of 16, which with
 * 64 KiB-aligned slabs gives every block the 16-byte alignment the CLR needs (it
 * allocates CONTEXT records with new).
 *
 * The class of a size is computed (hm_heap_class_of, inline in heap.h).
 */
#include "heap.h"

static const uint16_t class_sizes[HM_HEAP_CLASSES] = {
    16,   32,   48,   64,   80,   96,   112,  128,
    160,  192,  224,  256,  320,  384,  448,  512,
    640,  768,  896,  1024, 1280, 1536, 1792, 2048,
    2560, 3072, 3584, 4096,
};

size_t hm_heap_class_size(unsigned cls)
{
    return class_sizes[cls];
}
