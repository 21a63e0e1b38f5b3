/*
 * The portable core: the critical-level policy, the IHostMalloc block table and the
 * virtual-memory ledger. No OS is involved: bookkeeping memory comes from a counting
 * allocator over malloc/free and the ledger books made-up addresses. Free of
 * windows.h, so that this file also builds natively.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "block_table.h"
#include "ledger.h"
#include "policy.h"

/* --- a counting allocator over malloc/free ------------------------------------------ */

typedef struct counting_allocator {
    hm_allocator iface;
    size_t       calls;       /* alloc calls, failed ones included */
    size_t       allocations; /* successful */
    size_t       frees;       /* of non-NULL blocks */
    size_t       live_bytes;
    size_t       fail_call;   /* the alloc call with this number fails (0: none) */
    bool         fail_all;
} counting_allocator;

typedef union header {
    size_t      size;
    max_align_t align;
} header;

static void *counting_alloc(void *context, size_t bytes)
{
    counting_allocator *a = context;
    header *h;

    a->calls++;
    if (a->fail_all || a->calls == a->fail_call)
        return NULL;
    if (!(h = malloc(sizeof(header) + bytes)))
        return NULL;
    h->size = bytes;
    a->allocations++;
    a->live_bytes += bytes;
    /* Uninitialised memory, as the interface allows: make it visible. */
    memset(h + 1, 0xA5, bytes);
    return h + 1;
}

static void counting_free(void *context, void *block)
{
    counting_allocator *a = context;
    header *h;

    if (!block)
        return;
    h = (header *)block - 1;
    assert_true(a->live_bytes >= h->size);
    a->live_bytes -= h->size;
    a->frees++;
    free(h);
}

static void counting_init(counting_allocator *a)
{
    memset(a, 0, sizeof(*a));
    a->iface.alloc = counting_alloc;
    a->iface.free = counting_free;
    a->iface.context = a;
}

/* The next alloc call but `skip` fails once. */
static void fail_after(counting_allocator *a, size_t skip)
{
    a->fail_call = a->calls + skip + 1;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* --- policy ------------------------------------------------------------------------------ */

static void policy_defaults_are_outofmemory_outofmemory_escalate(void **state)
{
    hm_policy policy;
    (void)state;

    memset(&policy, 0xFF, sizeof(policy));
    hm_policy_init(&policy);
    assert_int_equal(hm_policy_failure(&policy, HM_LEVEL_TASK), HM_E_OUTOFMEMORY);
    assert_int_equal(hm_policy_failure(&policy, HM_LEVEL_APPDOMAIN), HM_E_OUTOFMEMORY);
    assert_int_equal(hm_policy_failure(&policy, HM_LEVEL_PROCESS), HM_E_FAIL);
    assert_false(hm_policy_escalates(&policy, HM_LEVEL_TASK));
    assert_false(hm_policy_escalates(&policy, HM_LEVEL_APPDOMAIN));
    assert_true(hm_policy_escalates(&policy, HM_LEVEL_PROCESS));
}

static void policy_hresults_are_the_windows_values(void **state)
{
    (void)state;
    assert_int_equal((uint32_t)HM_E_OUTOFMEMORY, 0x8007000Eu);
    assert_int_equal((uint32_t)HM_E_FAIL, 0x80004005u);
    assert_int_equal((uint32_t)HM_E_INVALIDARG, 0x80070057u);
    assert_int_equal(HM_S_OK, 0);
}

static void policy_set_overrides_one_level(void **state)
{
    hm_policy policy;
    (void)state;

    hm_policy_init(&policy);
    assert_true(hm_policy_set(&policy, HM_LEVEL_TASK, HM_ACTION_ESCALATE));
    assert_int_equal(hm_policy_failure(&policy, HM_LEVEL_TASK), HM_E_FAIL);
    assert_int_equal(hm_policy_failure(&policy, HM_LEVEL_APPDOMAIN), HM_E_OUTOFMEMORY);
    assert_int_equal(hm_policy_failure(&policy, HM_LEVEL_PROCESS), HM_E_FAIL);

    assert_true(hm_policy_set(&policy, HM_LEVEL_PROCESS, HM_ACTION_OUTOFMEMORY));
    assert_int_equal(hm_policy_failure(&policy, HM_LEVEL_PROCESS), HM_E_OUTOFMEMORY);
    assert_false(hm_policy_escalates(&policy, HM_LEVEL_PROCESS));
    assert_true(hm_policy_set(&policy, HM_LEVEL_APPDOMAIN, HM_ACTION_ESCALATE));
    assert_int_equal(hm_policy_failure(&policy, HM_LEVEL_APPDOMAIN), HM_E_FAIL);
    assert_int_equal(hm_policy_failure(&policy, HM_LEVEL_TASK), HM_E_FAIL);
}

static void policy_set_rejects_an_invalid_level_leaving_the_policy_unchanged(void **state)
{
    static const uint32_t levels[] = { HM_LEVEL_COUNT, 4, 0x80000000u, UINT32_MAX };
    hm_policy policy, before;
    unsigned i;
    (void)state;

    hm_policy_init(&policy);
    assert_true(hm_policy_set(&policy, HM_LEVEL_TASK, HM_ACTION_ESCALATE));
    before = policy;
    for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        assert_false(hm_policy_set(&policy, levels[i], HM_ACTION_OUTOFMEMORY));
        assert_false(hm_policy_set(&policy, levels[i], HM_ACTION_ESCALATE));
        assert_memory_equal(&policy, &before, sizeof(policy));
    }
}

static void policy_set_rejects_an_invalid_action_leaving_the_policy_unchanged(void **state)
{
    static const uint32_t actions[] = { 3, 4, 0x100, 0x80000000u, UINT32_MAX };
    hm_policy policy, before;
    uint32_t level;
    unsigned i;
    (void)state;

    hm_policy_init(&policy);
    assert_true(hm_policy_set(&policy, HM_LEVEL_APPDOMAIN, HM_ACTION_ESCALATE));
    before = policy;
    for (level = 0; level < HM_LEVEL_COUNT; level++)
        for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
            assert_false(hm_policy_set(&policy, level, actions[i]));
            assert_memory_equal(&policy, &before, sizeof(policy));
        }
}

static void policy_default_action_restores_the_level_default(void **state)
{
    hm_policy policy;
    uint32_t level;
    (void)state;

    hm_policy_init(&policy);
    assert_true(hm_policy_set(&policy, HM_LEVEL_TASK, HM_ACTION_ESCALATE));
    assert_true(hm_policy_set(&policy, HM_LEVEL_APPDOMAIN, HM_ACTION_ESCALATE));
    assert_true(hm_policy_set(&policy, HM_LEVEL_PROCESS, HM_ACTION_OUTOFMEMORY));
    for (level = 0; level < HM_LEVEL_COUNT; level++)
        assert_true(hm_policy_set(&policy, level, HM_ACTION_DEFAULT));
    assert_int_equal(hm_policy_failure(&policy, HM_LEVEL_TASK), HM_E_OUTOFMEMORY);
    assert_int_equal(hm_policy_failure(&policy, HM_LEVEL_APPDOMAIN), HM_E_OUTOFMEMORY);
    assert_int_equal(hm_policy_failure(&policy, HM_LEVEL_PROCESS), HM_E_FAIL);
    /* DEFAULT on a fresh policy changes nothing either. */
    {
        hm_policy fresh, again;
        hm_policy_init(&fresh);
        again = fresh;
        for (level = 0; level < HM_LEVEL_COUNT; level++)
            assert_true(hm_policy_set(&again, level, HM_ACTION_DEFAULT));
        assert_memory_equal(&fresh, &again, sizeof(fresh));
    }
}

static void policy_validity_checks_cover_exactly_the_enums(void **state)
{
    (void)state;
    assert_true(hm_level_is_valid(HM_LEVEL_TASK));
    assert_true(hm_level_is_valid(HM_LEVEL_APPDOMAIN));
    assert_true(hm_level_is_valid(HM_LEVEL_PROCESS));
    assert_false(hm_level_is_valid(3));
    assert_false(hm_level_is_valid(UINT32_MAX));
    assert_true(hm_action_is_valid(HM_ACTION_DEFAULT));
    assert_true(hm_action_is_valid(HM_ACTION_OUTOFMEMORY));
    assert_true(hm_action_is_valid(HM_ACTION_ESCALATE));
    assert_false(hm_action_is_valid(3));
    assert_false(hm_action_is_valid(UINT32_MAX));
}

static void policy_escalates_is_false_for_an_invalid_level(void **state)
{
    hm_policy policy;
    uint32_t level;
    (void)state;

    hm_policy_init(&policy);
    for (level = 0; level < HM_LEVEL_COUNT; level++)
        assert_true(hm_policy_set(&policy, level, HM_ACTION_ESCALATE));
    assert_false(hm_policy_escalates(&policy, HM_LEVEL_COUNT));
    assert_false(hm_policy_escalates(&policy, UINT32_MAX));
}

/* --- block table --------------------------------------------------------------------- */

static void *addr(uintptr_t value)
{
    return (void *)value;
}

static void insert_block(hm_block_table *table, void *address, size_t size, const char *file, int line)
{
    hm_block block;

    block.address = address;
    block.size = size;
    block.file = file;
    block.line = line;
    assert_true(hm_blocks_reserve(table));
    hm_blocks_insert(table, &block);
}

static void block_table_starts_empty(void **state)
{
    counting_allocator a;
    hm_block_table table;
    hm_block out;
    (void)state;

    counting_init(&a);
    hm_blocks_init(&table, &a.iface);
    assert_int_equal(table.count, 0);
    assert_int_equal(table.bytes, 0);
    assert_int_equal(hm_blocks_overhead_bytes(&table), 0);
    assert_false(hm_blocks_contains(&table, addr(0x1000)));
    assert_false(hm_blocks_contains(&table, NULL));
    assert_false(hm_blocks_remove(&table, addr(0x1000), &out));
    assert_int_equal(hm_blocks_snapshot(&table, &out), 0);
    assert_int_equal(a.calls, 0); /* nothing allocated before the first reserve */
    hm_blocks_destroy(&table);
    assert_int_equal(a.live_bytes, 0);
}

static void block_table_insert_contains_remove(void **state)
{
    counting_allocator a;
    hm_block_table table;
    hm_block removed;
    (void)state;

    counting_init(&a);
    hm_blocks_init(&table, &a.iface);
    insert_block(&table, addr(0x10000), 100, "a.c", 1);
    insert_block(&table, addr(0x10010), 200, NULL, 0);
    assert_int_equal(table.count, 2);
    assert_int_equal(table.bytes, 300);
    assert_true(hm_blocks_contains(&table, addr(0x10000)));
    assert_true(hm_blocks_contains(&table, addr(0x10010)));
    assert_false(hm_blocks_contains(&table, addr(0x10008)));
    assert_false(hm_blocks_contains(&table, NULL));

    memset(&removed, 0, sizeof(removed));
    assert_true(hm_blocks_remove(&table, addr(0x10000), &removed));
    assert_ptr_equal(removed.address, addr(0x10000));
    assert_int_equal(removed.size, 100);
    assert_string_equal(removed.file, "a.c");
    assert_int_equal(removed.line, 1);
    assert_int_equal(table.count, 1);
    assert_int_equal(table.bytes, 200);
    assert_false(hm_blocks_contains(&table, addr(0x10000)));
    assert_false(hm_blocks_remove(&table, addr(0x10000), &removed));
    assert_true(hm_blocks_remove(&table, addr(0x10010), NULL)); /* removed may be NULL */
    assert_int_equal(table.count, 0);
    assert_int_equal(table.bytes, 0);
    hm_blocks_destroy(&table);
    assert_int_equal(a.live_bytes, 0);
    assert_int_equal(a.allocations, a.frees);
}

static void block_table_snapshot_lists_every_live_block_once(void **state)
{
    counting_allocator a;
    hm_block_table table;
    hm_block out[100];
    bool seen[100];
    size_t n, i;
    (void)state;

    counting_init(&a);
    hm_blocks_init(&table, &a.iface);
    for (i = 0; i < 100; i++)
        insert_block(&table, addr(0x400000 + i * 32), i, "s.c", (int)i);
    for (i = 0; i < 100; i += 3)
        assert_true(hm_blocks_remove(&table, addr(0x400000 + i * 32), NULL));
    n = hm_blocks_snapshot(&table, out);
    assert_int_equal(n, table.count);
    assert_int_equal(n, 66);
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < n; i++) {
        size_t index = ((uintptr_t)out[i].address - 0x400000) / 32;
        assert_true(index < 100);
        assert_true(index % 3 != 0);
        assert_false(seen[index]);
        seen[index] = true;
        assert_int_equal(out[i].size, index);
        assert_int_equal(out[i].line, (int)index);
        assert_string_equal(out[i].file, "s.c");
    }
    hm_blocks_destroy(&table);
}

static void block_table_grows_keeping_every_block(void **state)
{
    counting_allocator a;
    hm_block_table table;
    size_t i, capacity = 0, growths = 0;
    uint64_t bytes = 0;
    (void)state;

    counting_init(&a);
    hm_blocks_init(&table, &a.iface);
    for (i = 0; i < 5000; i++) {
        insert_block(&table, addr(0x100000 + i * 16), i, NULL, 0);
        bytes += i;
        if (table.capacity != capacity) {
            growths++;
            capacity = table.capacity;
        }
        /* A power of two, at most a quarter full. */
        assert_int_equal(table.capacity & (table.capacity - 1), 0);
        assert_true(table.count * 4 <= table.capacity);
        assert_int_equal(hm_blocks_overhead_bytes(&table),
                         table.capacity * sizeof(hm_block_slot) + table.source_capacity * sizeof(hm_block));
        assert_int_equal(a.live_bytes, hm_blocks_overhead_bytes(&table)); /* old arrays freed */
    }
    assert_true(growths >= 7);
    assert_int_equal(table.count, 5000);
    assert_int_equal(table.bytes, bytes);
    for (i = 0; i < 5000; i++)
        assert_true(hm_blocks_contains(&table, addr(0x100000 + i * 16)));
    assert_false(hm_blocks_contains(&table, addr(0x100000 + 5000 * 16)));
    hm_blocks_destroy(&table);
    assert_int_equal(a.live_bytes, 0);
    assert_int_equal(table.capacity, 0);
}

static void block_table_reserve_failure_leaves_the_table_unchanged(void **state)
{
    counting_allocator a;
    hm_block_table table;
    size_t i, capacity;
    hm_block block;
    (void)state;

    counting_init(&a);
    hm_blocks_init(&table, &a.iface);
    /* The very first reserve. */
    a.fail_all = true;
    assert_false(hm_blocks_reserve(&table));
    assert_int_equal(table.capacity, 0);
    assert_null(table.slots);
    a.fail_all = false;

    /* Fill up to the load limit, then a growth that fails. */
    for (i = 0; ; i++) {
        insert_block(&table, addr(0x200000 + i * 64), 1, NULL, 0);
        if ((table.count + 1) * 4 > table.capacity)
            break;
    }
    capacity = table.capacity;
    a.fail_all = true;
    assert_false(hm_blocks_reserve(&table));
    assert_false(hm_blocks_reserve(&table));
    a.fail_all = false;
    assert_int_equal(table.capacity, capacity);
    assert_int_equal(table.count, i + 1);
    for (; ; i--) {
        assert_true(hm_blocks_contains(&table, addr(0x200000 + i * 64)));
        if (!i)
            break;
    }
    /* A removal makes room again without growing. */
    assert_true(hm_blocks_remove(&table, addr(0x200000), NULL));
    a.fail_all = true;
    assert_true(hm_blocks_reserve(&table));
    a.fail_all = false;
    block.address = addr(0x200000);
    block.size = 1;
    block.file = NULL;
    block.line = 0;
    hm_blocks_insert(&table, &block);
    assert_true(hm_blocks_contains(&table, addr(0x200000)));
    /* And once memory is back the table grows. */
    assert_true(hm_blocks_reserve(&table));
    assert_int_equal(table.capacity, capacity * 2);
    hm_blocks_destroy(&table);
    assert_int_equal(a.live_bytes, 0);
}

static void block_table_reserve_makes_room_for_a_block_with_a_source(void **state)
{
    static const char *files[3] = { "a.c", "b.c", NULL };
    counting_allocator a;
    hm_block_table table;
    hm_block block, removed;
    size_t i;
    (void)state;

    counting_init(&a);
    hm_blocks_init(&table, &a.iface);
    /* Blocks with and without a file and line, each inserted while memory is refused:
       the reserve before it must have made room for its source too. */
    for (i = 0; i < 1000; i++) {
        assert_true(hm_blocks_reserve(&table));
        a.fail_all = true;
        block.address = addr(0x900000 + i * 16);
        block.size = i;
        block.file = files[i % 3];
        block.line = i % 3 == 2 ? 0 : (int)i;
        hm_blocks_insert(&table, &block);
        a.fail_all = false;
    }
    for (i = 0; i < 1000; i++) {
        assert_true(hm_blocks_remove(&table, addr(0x900000 + i * 16), &removed));
        assert_int_equal(removed.size, i);
        assert_ptr_equal(removed.file, files[i % 3]);
        assert_int_equal(removed.line, i % 3 == 2 ? 0 : (int)i);
    }
    assert_int_equal(table.count, 0);
    assert_int_equal(table.source_count, 0);
    hm_blocks_destroy(&table);
    assert_int_equal(a.live_bytes, 0);
}

/* Where an address lands when alone in a fresh table (64 slots after one reserve). */
static size_t home_slot(void *address)
{
    counting_allocator a;
    hm_block_table table;
    size_t i, home = SIZE_MAX;

    counting_init(&a);
    hm_blocks_init(&table, &a.iface);
    insert_block(&table, address, 0, NULL, 0);
    assert_int_equal(table.capacity, 64);
    for (i = 0; i < table.capacity; i++)
        if (table.slots[i].address == address)
            home = i;
    hm_blocks_destroy(&table);
    return home;
}

static void block_table_deletion_in_a_wrapping_cluster_keeps_every_member_reachable(void **state)
{
    counting_allocator a;
    hm_block_table table;
    void *at62 = NULL, *at63[3] = { NULL }, *at0[2] = { NULL };
    void *order[6];
    unsigned n63 = 0, n0 = 0, step;
    uintptr_t candidate;
    size_t i;
    (void)state;

    counting_init(&a);
    /* Addresses whose home slots, in a 64-slot table, are 62, 63 and 0. */
    for (candidate = 0x10000; !(at62 && n63 == 3 && n0 == 2); candidate += 16) {
        size_t home = home_slot(addr(candidate));
        if (home == 62 && !at62)
            at62 = addr(candidate);
        else if (home == 63 && n63 < 3)
            at63[n63++] = addr(candidate);
        else if (home == 0 && n0 < 2)
            at0[n0++] = addr(candidate);
        assert_true(candidate < 0x10000 + 16 * 1000000);
    }
    /* One cluster from slot 62 across the end: 62:at62 63:at63[0] 0:at63[1] 1:at0[0]
       2:at63[2] 3:at0[1]. */
    order[0] = at62;
    order[1] = at63[0];
    order[2] = at63[1];
    order[3] = at0[0];
    order[4] = at63[2];
    order[5] = at0[1];
    hm_blocks_init(&table, &a.iface);
    for (i = 0; i < 6; i++)
        insert_block(&table, order[i], i, NULL, 0);
    assert_int_equal(table.capacity, 64);
    assert_ptr_equal(table.slots[62].address, at62);
    assert_ptr_equal(table.slots[63].address, at63[0]);
    assert_ptr_equal(table.slots[0].address, at63[1]);
    assert_ptr_equal(table.slots[3].address, at0[1]);

    /* Remove from the head of the cluster, then the middle, checking all the rest. */
    {
        static const unsigned removal[6] = { 1, 0, 3, 5, 2, 4 };
        bool gone[6] = { false };

        for (step = 0; step < 6; step++) {
            hm_block removed;
            unsigned k = removal[step];

            assert_true(hm_blocks_remove(&table, order[k], &removed));
            assert_int_equal(removed.size, k);
            gone[k] = true;
            for (i = 0; i < 6; i++)
                assert_int_equal(hm_blocks_contains(&table, order[i]), !gone[i]);
            assert_int_equal(table.count, 5 - step);
        }
    }
    for (i = 0; i < table.capacity; i++)
        assert_null(table.slots[i].address);
    hm_blocks_destroy(&table);
}

static void block_table_random_inserts_and_removes_match_a_reference(void **state)
{
    enum { POOL = 3000, OPS = 60000 };
    static bool present[POOL];
    static hm_block out[POOL];
    counting_allocator a;
    hm_block_table table;
    size_t count = 0, i, op;
    uint64_t bytes = 0;
    (void)state;

    counting_init(&a);
    hm_blocks_init(&table, &a.iface);
    memset(present, 0, sizeof(present));
    rng_state = 0x243F6A8885A308D3ULL;
    for (op = 0; op < OPS; op++) {
        uint64_t r = next_random();
        size_t k = (size_t)(r % POOL);
        /* Close addresses, as a heap hands out: many share their low bits. */
        void *address = addr(0x7F0000 + k * 48);
        hm_block removed;

        if (present[k]) {
            assert_true(hm_blocks_remove(&table, address, &removed));
            assert_ptr_equal(removed.address, address);
            assert_int_equal(removed.size, k);
            present[k] = false;
            count--;
            bytes -= k;
        } else {
            assert_false(hm_blocks_remove(&table, address, &removed));
            insert_block(&table, address, k, NULL, (int)k);
            present[k] = true;
            count++;
            bytes += k;
        }
        assert_int_equal(hm_blocks_contains(&table, address), present[k]);
        assert_int_equal(table.count, count);
        if (op % 997 == 0 || op == OPS - 1) {
            bool listed[POOL];
            size_t n;

            assert_int_equal(table.bytes, bytes);
            for (i = 0; i < POOL; i++)
                assert_int_equal(hm_blocks_contains(&table, addr(0x7F0000 + i * 48)), present[i]);
            n = hm_blocks_snapshot(&table, out);
            assert_int_equal(n, count);
            memset(listed, 0, sizeof(listed));
            for (i = 0; i < n; i++) {
                size_t index = ((uintptr_t)out[i].address - 0x7F0000) / 48;
                assert_true(present[index]);
                assert_false(listed[index]);
                listed[index] = true;
                assert_int_equal(out[i].line, (int)index);
            }
        }
    }
    /* Empty it completely: every slot clear again. */
    for (i = 0; i < POOL; i++)
        if (present[i])
            assert_true(hm_blocks_remove(&table, addr(0x7F0000 + i * 48), NULL));
    assert_int_equal(table.count, 0);
    assert_int_equal(table.bytes, 0);
    for (i = 0; i < table.capacity; i++)
        assert_null(table.slots[i].address);
    hm_blocks_destroy(&table);
    assert_int_equal(a.live_bytes, 0);
}

/* --- ledger -------------------------------------------------------------------------- */

#define PAGE  ((size_t)4096)
#define GRAN  ((uintptr_t)0x10000)
#define MiB   ((size_t)1 << 20)

typedef struct ledger_fixture {
    counting_allocator a;
    hm_ledger         *ledger;
} ledger_fixture;

static int ledger_setup(void **state)
{
    ledger_fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    counting_init(&f->a);
    f->ledger = hm_ledger_create(&f->a.iface, PAGE);
    if (!f->ledger)
        return -1;
    *state = f;
    return 0;
}

static void ledger_teardown_checks(ledger_fixture *f)
{
    hm_ledger_destroy(f->ledger, NULL, NULL);
    /* Everything the ledger took went back. */
    assert_int_equal(f->a.live_bytes, 0);
    assert_int_equal(f->a.allocations, f->a.frees);
}

static int ledger_teardown(void **state)
{
    ledger_fixture *f = *state;

    ledger_teardown_checks(f);
    free(f);
    return 0;
}

/* The overhead the ledger reports is exactly what it holds from its allocator. */
static void assert_overhead_exact(const ledger_fixture *f)
{
    assert_int_equal(hm_ledger_overhead_bytes(f->ledger), f->a.live_bytes);
}

static hm_region *publish(ledger_fixture *f, uintptr_t base, size_t bytes, bool committed)
{
    hm_region *region = hm_ledger_prepare_region(f->ledger, bytes);

    assert_non_null(region);
    if (committed)
        assert_true(hm_ledger_charge(f->ledger, (bytes + PAGE - 1) / PAGE * PAGE, UINT64_MAX));
    assert_true(hm_ledger_publish_region(f->ledger, region, base, committed));
    return region;
}

/* The region at address, locked, which must exist. */
static hm_region *locked(ledger_fixture *f, uintptr_t address)
{
    hm_region *region = hm_ledger_lock_region(f->ledger, address);

    assert_non_null(region);
    return region;
}

static void assert_no_region_at(ledger_fixture *f, uintptr_t address)
{
    hm_region *region = hm_ledger_lock_region(f->ledger, address);

    if (region) {
        hm_ledger_unlock_region(region);
        fail_msg("a region was found at %#llx", (unsigned long long)address);
    }
}

static void retire_at(ledger_fixture *f, uintptr_t base)
{
    hm_ledger_retire_region(f->ledger, locked(f, base));
}

/* How many pages the ledger counts in a fully committed region of `bytes`: the page
   size it was created with, seen through what it books. */
static size_t committed_pages_in_region(hm_ledger *ledger, size_t bytes)
{
    const uintptr_t base = 0x40000000u;
    hm_region *region = hm_ledger_prepare_region(ledger, bytes);
    size_t pages;

    assert_non_null(region);
    assert_true(hm_ledger_charge(ledger, bytes, UINT64_MAX));
    assert_true(hm_ledger_publish_region(ledger, region, base, true));
    assert_non_null(region = hm_ledger_lock_region(ledger, base));
    pages = hm_region_committed_pages(region);
    assert_int_equal(hm_ledger_retire_region(ledger, region), bytes);
    return pages;
}

static void ledger_create_rejects_bad_page_sizes(void **state)
{
    static const size_t sizes[] = { 0, 1, 2048, 4095, 4097, 3 * 4096, 0x20000, 0x100000 };
    counting_allocator a;
    unsigned i;
    (void)state;

    counting_init(&a);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        assert_null(hm_ledger_create(&a.iface, sizes[i]));
    assert_null(hm_ledger_create(NULL, 4096));
    assert_int_equal(a.live_bytes, 0);
    /* The limits themselves are fine. */
    {
        hm_ledger *small = hm_ledger_create(&a.iface, 4096), *large = hm_ledger_create(&a.iface, 0x10000);
        assert_non_null(small);
        assert_non_null(large);
        assert_int_equal(committed_pages_in_region(small, 0x20000), 0x20000 / 4096);
        assert_int_equal(committed_pages_in_region(large, 0x20000), 0x20000 / 0x10000);
        hm_ledger_destroy(small, NULL, NULL);
        hm_ledger_destroy(large, NULL, NULL);
    }
    assert_int_equal(a.live_bytes, 0);
}

static void ledger_create_fails_when_the_allocator_fails(void **state)
{
    counting_allocator a;
    (void)state;

    counting_init(&a);
    a.fail_all = true;
    assert_null(hm_ledger_create(&a.iface, PAGE));
    assert_int_equal(a.live_bytes, 0);
}

static void ledger_starts_empty(void **state)
{
    ledger_fixture *f = *state;

    assert_int_equal(hm_ledger_committed_bytes(f->ledger), 0);
    assert_int_equal(hm_ledger_peak_committed_bytes(f->ledger), 0);
    assert_int_equal(hm_ledger_reserved_bytes(f->ledger), 0);
    assert_int_equal(hm_ledger_region_count(f->ledger), 0);
    assert_true(hm_ledger_overhead_bytes(f->ledger) > 0);
    assert_overhead_exact(f);
    assert_no_region_at(f, 0);
    assert_no_region_at(f, 0x10000000);
}

static void ledger_prepare_with_zero_bytes_returns_null(void **state)
{
    ledger_fixture *f = *state;
    size_t calls = f->a.calls;

    assert_null(hm_ledger_prepare_region(f->ledger, 0));
    assert_int_equal(f->a.calls, calls);
    assert_null(hm_ledger_prepare_region(f->ledger, SIZE_MAX)); /* cannot be rounded to pages */
    assert_int_equal(hm_ledger_region_count(f->ledger), 0);
    assert_overhead_exact(f);
}

static void ledger_prepare_allocator_failure_returns_null(void **state)
{
    ledger_fixture *f = *state;
    size_t live = f->a.live_bytes;
    hm_region *region;

    /* A small region needs a record only. */
    fail_after(&f->a, 0);
    assert_null(hm_ledger_prepare_region(f->ledger, PAGE));
    assert_int_equal(f->a.live_bytes, live);
    /* A large one needs a bitmap first, then a record: fail either. */
    fail_after(&f->a, 0);
    assert_null(hm_ledger_prepare_region(f->ledger, 64 * MiB));
    assert_int_equal(f->a.live_bytes, live);
    fail_after(&f->a, 1);
    assert_null(hm_ledger_prepare_region(f->ledger, 64 * MiB));
    assert_int_equal(f->a.live_bytes, live); /* the bitmap went back */
    assert_overhead_exact(f);
    assert_int_equal(hm_ledger_region_count(f->ledger), 0);
    assert_int_equal(hm_ledger_reserved_bytes(f->ledger), 0);

    /* With memory back, it works. */
    region = hm_ledger_prepare_region(f->ledger, 64 * MiB);
    assert_non_null(region);
    hm_ledger_discard_region(f->ledger, region);
    assert_overhead_exact(f);
}

static void ledger_prepared_region_is_invisible_until_published(void **state)
{
    ledger_fixture *f = *state;
    hm_region *region = hm_ledger_prepare_region(f->ledger, MiB);

    assert_non_null(region);
    assert_no_region_at(f, 0x10000000);
    assert_int_equal(hm_ledger_region_count(f->ledger), 0);
    assert_int_equal(hm_ledger_reserved_bytes(f->ledger), 0);
    assert_true(hm_ledger_publish_region(f->ledger, region, 0x10000000, false));
    assert_int_equal(hm_ledger_region_count(f->ledger), 1);
    assert_int_equal(hm_ledger_reserved_bytes(f->ledger), MiB);
    region = locked(f, 0x10000000);
    assert_int_equal(hm_region_base(region), 0x10000000);
    assert_int_equal(hm_region_end(region), 0x10000000 + MiB);
    assert_int_equal(hm_region_committed_pages(region), 0);
    hm_ledger_unlock_region(region);
    assert_int_equal(hm_ledger_committed_bytes(f->ledger), 0); /* publishing charges nothing */
    assert_overhead_exact(f);
}

static void ledger_discarded_region_is_never_visible(void **state)
{
    ledger_fixture *f = *state;
    size_t live = f->a.live_bytes;
    hm_region *region = hm_ledger_prepare_region(f->ledger, 256 * MiB);

    assert_non_null(region);
    assert_true(f->a.live_bytes - live >= 256 * MiB / PAGE / 8); /* its bitmap */
    hm_ledger_discard_region(f->ledger, region);
    hm_ledger_discard_region(f->ledger, NULL);
    assert_no_region_at(f, 0x10000000);
    assert_int_equal(hm_ledger_region_count(f->ledger), 0);
    assert_int_equal(hm_ledger_reserved_bytes(f->ledger), 0);
    /* Only the (recycled) record remains; the bitmap is gone. */
    assert_true(f->a.live_bytes - live < 256 * MiB / PAGE / 8);
    assert_overhead_exact(f);
}

static void ledger_size_is_rounded_up_to_pages(void **state)
{
    ledger_fixture *f = *state;
    hm_region *region;

    publish(f, 0x10000000, 1, false);
    publish(f, 0x20000000, PAGE + 1, false);
    assert_int_equal(hm_ledger_reserved_bytes(f->ledger), 3 * PAGE);
    region = locked(f, 0x20000000);
    assert_int_equal(hm_region_end(region), 0x20000000 + 2 * PAGE);
    assert_int_equal(hm_region_count_uncommitted(region, 0x20000000, UINTPTR_MAX), 2);
    hm_ledger_unlock_region(region);
}

static void ledger_publish_committed_marks_every_page(void **state)
{
    ledger_fixture *f = *state;
    hm_region *region;

    publish(f, 0x10000000, 64 * PAGE, true);   /* inline bitmap */
    publish(f, 0x20000000, 1000 * PAGE, true); /* allocated bitmap */
    assert_int_equal(hm_ledger_committed_bytes(f->ledger), 1064 * PAGE);
    region = locked(f, 0x10000000);
    assert_int_equal(hm_region_committed_pages(region), 64);
    assert_int_equal(hm_region_count_uncommitted(region, 0x10000000, 0x10000000 + 64 * PAGE), 0);
    hm_ledger_unlock_region(region);
    region = locked(f, 0x20000000 + 999 * PAGE);
    assert_int_equal(hm_region_committed_pages(region), 1000);
    assert_int_equal(hm_region_count_uncommitted(region, 0x20000000, 0x20000000 + 1000 * PAGE), 0);
    hm_ledger_unlock_region(region);
}

static void ledger_lookups_find_every_interior_address_of_a_256_mib_region(void **state)
{
    ledger_fixture *f = *state;
    const uintptr_t base = 0x10000000;
    const size_t size = 256 * MiB;
    hm_region *published = publish(f, base, size, false);
    uintptr_t a;
    unsigned i;

    assert_int_equal(hm_ledger_reserved_bytes(f->ledger), size);
    /* Every granule, at its start, its middle and its last byte. */
    for (a = base; a < base + size; a += GRAN) {
        uintptr_t probes[3];
        probes[0] = a;
        probes[1] = a + GRAN / 2 + 123;
        probes[2] = a + GRAN - 1;
        for (i = 0; i < 3; i++) {
            hm_region *region = hm_ledger_lock_region(f->ledger, probes[i]);
            if (region != published)
                fail_msg("lookup of %#llx missed the region", (unsigned long long)probes[i]);
            assert_int_equal(hm_region_base(region), base);
            assert_int_equal(hm_region_end(region), base + size);
            hm_ledger_unlock_region(region);
        }
    }
    /* Random interior addresses. */
    rng_state = 12345;
    for (i = 0; i < 10000; i++) {
        hm_region *region = locked(f, base + (uintptr_t)(next_random() % size));
        assert_ptr_equal(region, published);
        hm_ledger_unlock_region(region);
    }
    assert_no_region_at(f, base - 1);
    assert_no_region_at(f, base + size);
    assert_overhead_exact(f);
}

static void ledger_addresses_outside_any_region_return_null(void **state)
{
    ledger_fixture *f = *state;

    publish(f, 0x10000000, PAGE, false);          /* a small region: one page of a granule */
    publish(f, 0x10010000, GRAN, false);          /* its neighbour, the next granule */
    publish(f, 0x50000000, 3 * GRAN + PAGE, false);

    assert_no_region_at(f, 0);
    assert_no_region_at(f, 1);
    assert_no_region_at(f, 0x0FFFFFFF);
    assert_no_region_at(f, 0x10000000 + PAGE);       /* same granule, past the end */
    assert_no_region_at(f, 0x10000000 + GRAN - 1);
    assert_no_region_at(f, 0x10020000);
    assert_no_region_at(f, 0x50000000 + 3 * GRAN + PAGE);
    assert_no_region_at(f, 0x50000000 - GRAN);
    assert_no_region_at(f, 0x30000000);
    {
        hm_region *first = locked(f, 0x10000000 + PAGE - 1), *second;
        assert_int_equal(hm_region_base(first), 0x10000000);
        hm_ledger_unlock_region(first);
        second = locked(f, 0x10010000);
        assert_int_equal(hm_region_base(second), 0x10010000);
        assert_ptr_not_equal(first, second);
        hm_ledger_unlock_region(second);
        second = locked(f, 0x1001FFFF);
        assert_int_equal(hm_region_base(second), 0x10010000);
        hm_ledger_unlock_region(second);
    }
    assert_int_equal(hm_ledger_region_count(f->ledger), 3);
}

/* The highest granule a 32-bit process's region can have (under WoW64, large-address-
   aware, user space ends 64 KiB short of 4 GiB): found from its last byte, with nothing
   above it, and no wrap of its end to 0 on 32-bit. On x64 an ordinary address. */
static void ledger_indexes_the_last_granule_below_4_gib(void **state)
{
    ledger_fixture *f = *state;
    const uintptr_t last = (uintptr_t)0xFFFE0000u;
    hm_region *region;

    publish(f, last, GRAN, false);
    region = locked(f, last + GRAN - 1);
    assert_int_equal(hm_region_base(region), last);
    assert_true(hm_region_end(region) == last + GRAN);
    hm_ledger_unlock_region(region);
    assert_no_region_at(f, last - 1);
    assert_no_region_at(f, last + GRAN);
    assert_no_region_at(f, UINTPTR_MAX);
    retire_at(f, last);
    assert_no_region_at(f, last);
    assert_int_equal(hm_ledger_region_count(f->ledger), 0);
}

static void ledger_addresses_beyond_2_47_return_null(void **state)
{
    ledger_fixture *f = *state;

#if UINTPTR_MAX > 0xFFFFFFFFu
    const uintptr_t top = (uintptr_t)1 << 47;
    hm_region *region;

    /* The last granule below 2^47 is indexable. */
    publish(f, top - GRAN, GRAN, false);
    publish(f, 0x10000000, GRAN, false);
    region = locked(f, top - 1);
    assert_int_equal(hm_region_base(region), top - GRAN);
    hm_ledger_unlock_region(region);

    assert_no_region_at(f, top);
    assert_no_region_at(f, top + 0x10000000);      /* no aliasing of the low bits */
    assert_no_region_at(f, (top << 1) + 0x10000000);
    assert_no_region_at(f, ((uintptr_t)1 << 63) + 0x10000000);
    assert_no_region_at(f, UINTPTR_MAX);
    assert_no_region_at(f, UINTPTR_MAX - GRAN + 1);

    /* A region up there cannot be published either. */
    region = hm_ledger_prepare_region(f->ledger, GRAN);
    assert_non_null(region);
    assert_false(hm_ledger_publish_region(f->ledger, region, top, false));
    region = hm_ledger_prepare_region(f->ledger, GRAN);
    assert_non_null(region);
    assert_false(hm_ledger_publish_region(f->ledger, region, UINTPTR_MAX - GRAN + 1, false));
    assert_int_equal(hm_ledger_region_count(f->ledger), 2);
    assert_int_equal(hm_ledger_reserved_bytes(f->ledger), 2 * GRAN);
#else
    (void)f;
    skip();
#endif
}

static void ledger_commit_counts_are_exact_to_the_page(void **state)
{
    ledger_fixture *f = *state;
    const uintptr_t base = 0x10000000;
    hm_region *region;

    publish(f, base, 256 * PAGE, false);
    region = locked(f, base + 5000);
    assert_int_equal(hm_region_count_uncommitted(region, base, base + 256 * PAGE), 256);
    /* [base + 1 page + 1 byte, base + 3 pages - 1 byte): pages 1 and 2. */
    assert_int_equal(hm_region_count_uncommitted(region, base + PAGE + 1, base + 3 * PAGE - 1), 2);
    assert_int_equal(hm_region_mark_committed(region, base + PAGE + 1, base + 3 * PAGE - 1), 2);
    assert_int_equal(hm_region_committed_pages(region), 2);
    /* One byte commits its page. */
    assert_int_equal(hm_region_mark_committed(region, base + 10 * PAGE + 7, base + 10 * PAGE + 8), 1);
    /* Exactly aligned: [100, 164) pages, crossing bitmap words. */
    assert_int_equal(hm_region_mark_committed(region, base + 100 * PAGE, base + 164 * PAGE), 64);
    assert_int_equal(hm_region_committed_pages(region), 67);
    assert_int_equal(hm_region_count_uncommitted(region, base, base + 256 * PAGE), 256 - 67);
    /* Empty range. */
    assert_int_equal(hm_region_mark_committed(region, base + 50 * PAGE, base + 50 * PAGE), 0);
    /* Decommit page-exact too. */
    assert_int_equal(hm_region_mark_decommitted(region, base + 2 * PAGE, base + 2 * PAGE + 1), 1);
    assert_int_equal(hm_region_mark_decommitted(region, base + 99 * PAGE, base + 165 * PAGE), 64);
    assert_int_equal(hm_region_committed_pages(region), 2);
    assert_int_equal(hm_region_count_uncommitted(region, base + PAGE, base + 11 * PAGE), 8);
    hm_ledger_unlock_region(region);
}

static void ledger_overlapping_commits_count_once(void **state)
{
    ledger_fixture *f = *state;
    const uintptr_t base = 0x10000000;
    hm_region *region;

    publish(f, base, 1000 * PAGE, false);
    region = locked(f, base);
    assert_int_equal(hm_region_mark_committed(region, base, base + 4 * PAGE), 4);
    assert_int_equal(hm_region_mark_committed(region, base + 2 * PAGE, base + 6 * PAGE), 2);
    assert_int_equal(hm_region_mark_committed(region, base, base + 6 * PAGE), 0);
    assert_int_equal(hm_region_mark_committed(region, base + PAGE, base + 3 * PAGE), 0);
    assert_int_equal(hm_region_committed_pages(region), 6);
    assert_int_equal(hm_region_count_uncommitted(region, base, base + 8 * PAGE), 2);
    /* Overlaps across bitmap words. */
    assert_int_equal(hm_region_mark_committed(region, base + 60 * PAGE, base + 200 * PAGE), 140);
    assert_int_equal(hm_region_mark_committed(region, base + 5 * PAGE, base + 300 * PAGE), 295 - 1 - 140);
    assert_int_equal(hm_region_committed_pages(region), 300);
    hm_ledger_unlock_region(region);
}

static void ledger_decommit_of_uncommitted_pages_counts_zero(void **state)
{
    ledger_fixture *f = *state;
    const uintptr_t base = 0x10000000;
    hm_region *region;

    publish(f, base, 300 * PAGE, false);
    region = locked(f, base);
    assert_int_equal(hm_region_mark_decommitted(region, base, base + 300 * PAGE), 0);
    assert_int_equal(hm_region_mark_committed(region, base + 10 * PAGE, base + 20 * PAGE), 10);
    assert_int_equal(hm_region_mark_decommitted(region, base + 30 * PAGE, base + 200 * PAGE), 0);
    assert_int_equal(hm_region_mark_decommitted(region, base + 15 * PAGE, base + 40 * PAGE), 5);
    assert_int_equal(hm_region_mark_decommitted(region, base + 15 * PAGE, base + 40 * PAGE), 0);
    assert_int_equal(hm_region_committed_pages(region), 5);
    hm_ledger_unlock_region(region);
}

static void ledger_ranges_are_clamped_to_the_region(void **state)
{
    ledger_fixture *f = *state;
    const uintptr_t base = 0x10000000;
    hm_region *region;

    publish(f, base, 70 * PAGE, false);
    region = locked(f, base);
    assert_int_equal(hm_region_count_uncommitted(region, 0, UINTPTR_MAX), 70);
    assert_int_equal(hm_region_mark_committed(region, base - 100 * PAGE, base + 1000 * PAGE), 70);
    assert_int_equal(hm_region_mark_committed(region, base + 70 * PAGE, base + 80 * PAGE), 0); /* past the end */
    assert_int_equal(hm_region_mark_decommitted(region, base + 69 * PAGE, UINTPTR_MAX), 1);
    assert_int_equal(hm_region_mark_decommitted(region, base + 60 * PAGE, UINTPTR_MAX), 9);
    assert_int_equal(hm_region_committed_pages(region), 60);
    hm_ledger_unlock_region(region);
}

static void ledger_retire_returns_the_committed_bytes(void **state)
{
    ledger_fixture *f = *state;
    const uintptr_t base = 0x10000000;
    hm_region *region;

    publish(f, base, 100 * PAGE, true);              /* 100 pages charged and committed */
    publish(f, 0x20000000, 10 * PAGE, false);
    region = locked(f, base);
    assert_int_equal(hm_region_mark_decommitted(region, base, base + 30 * PAGE), 30);
    hm_ledger_unlock_region(region);
    hm_ledger_uncharge(f->ledger, 30 * PAGE);
    assert_int_equal(hm_ledger_committed_bytes(f->ledger), 70 * PAGE);

    region = locked(f, 0x20000000);
    assert_true(hm_ledger_charge(f->ledger, 3 * PAGE, UINT64_MAX));
    assert_int_equal(hm_region_mark_committed(region, 0x20000000, 0x20000000 + 3 * PAGE), 3);
    hm_ledger_unlock_region(region);

    region = locked(f, base + 50 * PAGE);
    assert_int_equal(hm_ledger_retire_region(f->ledger, region), 70 * PAGE); /* unlocks */
    assert_int_equal(hm_ledger_committed_bytes(f->ledger), 3 * PAGE);
    assert_int_equal(hm_ledger_reserved_bytes(f->ledger), 10 * PAGE);
    assert_int_equal(hm_ledger_region_count(f->ledger), 1);
    assert_no_region_at(f, base);
    assert_no_region_at(f, base + 99 * PAGE);

    assert_int_equal(hm_ledger_retire_region(f->ledger, locked(f, 0x20000000)), 3 * PAGE);
    assert_int_equal(hm_ledger_committed_bytes(f->ledger), 0);
    assert_int_equal(hm_ledger_reserved_bytes(f->ledger), 0);
    assert_int_equal(hm_ledger_region_count(f->ledger), 0);
    assert_int_equal(hm_ledger_peak_committed_bytes(f->ledger), 100 * PAGE);
    assert_overhead_exact(f);

    /* The address range can be booked again. */
    publish(f, base, PAGE, false);
    assert_int_equal(hm_region_base(region = locked(f, base)), base);
    hm_ledger_unlock_region(region);
}

static void ledger_charge_against_a_ceiling_refuses_and_leaves_totals_unchanged(void **state)
{
    ledger_fixture *f = *state;

    assert_true(hm_ledger_charge(f->ledger, 100, 1000));
    assert_false(hm_ledger_charge(f->ledger, 901, 1000));
    assert_int_equal(hm_ledger_committed_bytes(f->ledger), 100);
    assert_int_equal(hm_ledger_peak_committed_bytes(f->ledger), 100);
    assert_true(hm_ledger_charge(f->ledger, 900, 1000)); /* exactly to the ceiling */
    assert_int_equal(hm_ledger_committed_bytes(f->ledger), 1000);
    assert_false(hm_ledger_charge(f->ledger, 1, 1000));
    assert_false(hm_ledger_charge(f->ledger, UINT64_MAX, UINT64_MAX)); /* would overflow */
    assert_false(hm_ledger_charge(f->ledger, 2000, 1500));          /* bytes > ceiling */
    assert_int_equal(hm_ledger_committed_bytes(f->ledger), 1000);
    assert_int_equal(hm_ledger_peak_committed_bytes(f->ledger), 1000);
    assert_true(hm_ledger_charge(f->ledger, 0, 1000));
    /* A lower ceiling than the current total refuses everything but nothing. */
    assert_false(hm_ledger_charge(f->ledger, 1, 500));
    assert_int_equal(hm_ledger_committed_bytes(f->ledger), 1000);
    hm_ledger_uncharge(f->ledger, 1000);
    assert_int_equal(hm_ledger_committed_bytes(f->ledger), 0);
    assert_int_equal(hm_ledger_reserved_bytes(f->ledger), 0);
}

static void ledger_peak_tracks_the_highest_total(void **state)
{
    ledger_fixture *f = *state;

    /* Byte-exact, not page-rounded. */
    assert_true(hm_ledger_charge(f->ledger, 1, UINT64_MAX));
    assert_int_equal(hm_ledger_peak_committed_bytes(f->ledger), 1);
    hm_ledger_uncharge(f->ledger, 1);
    assert_int_equal(hm_ledger_peak_committed_bytes(f->ledger), 1);
    assert_true(hm_ledger_charge(f->ledger, 5 * PAGE, UINT64_MAX));
    assert_true(hm_ledger_charge(f->ledger, 3 * PAGE, UINT64_MAX));
    assert_int_equal(hm_ledger_peak_committed_bytes(f->ledger), 8 * PAGE);
    hm_ledger_uncharge(f->ledger, 6 * PAGE);
    assert_int_equal(hm_ledger_committed_bytes(f->ledger), 2 * PAGE);
    assert_int_equal(hm_ledger_peak_committed_bytes(f->ledger), 8 * PAGE);
    assert_true(hm_ledger_charge(f->ledger, 4 * PAGE, UINT64_MAX));
    assert_int_equal(hm_ledger_peak_committed_bytes(f->ledger), 8 * PAGE);
    assert_true(hm_ledger_charge(f->ledger, 3 * PAGE, UINT64_MAX));
    assert_int_equal(hm_ledger_peak_committed_bytes(f->ledger), 9 * PAGE);
    /* A refused charge does not move the peak. */
    assert_false(hm_ledger_charge(f->ledger, 100 * PAGE, 10 * PAGE));
    assert_int_equal(hm_ledger_peak_committed_bytes(f->ledger), 9 * PAGE);
    hm_ledger_uncharge(f->ledger, 9 * PAGE);
}

static void ledger_publish_fails_when_a_radix_node_cannot_be_allocated(void **state)
{
    /* 128 MiB from 256 MiB: two radix leaves (64 MiB each) under one middle node. */
    const uintptr_t base = 0x10000000;
    const size_t size = 128 * MiB;
    unsigned node;
    (void)state;

    /* Fail the middle node, the first leaf, the second leaf (after the first 64 MiB
       were linked), in a fresh ledger each time. */
    for (node = 0; node < 3; node++) {
        ledger_fixture fixture, *f = &fixture;
        hm_region *region;

        counting_init(&f->a);
        f->ledger = hm_ledger_create(&f->a.iface, PAGE);
        assert_non_null(f->ledger);
        region = hm_ledger_prepare_region(f->ledger, size);
        assert_non_null(region);
        fail_after(&f->a, node);
        assert_false(hm_ledger_publish_region(f->ledger, region, base, false));
        assert_int_equal(hm_ledger_region_count(f->ledger), 0);
        assert_int_equal(hm_ledger_reserved_bytes(f->ledger), 0);
        /* Nothing of the region is visible, not even granules already linked. */
        assert_no_region_at(f, base);
        assert_no_region_at(f, base + 64 * MiB - 1);
        assert_no_region_at(f, base + 64 * MiB);
        assert_no_region_at(f, base + size - 1);
        assert_overhead_exact(f);

        /* With memory back the same reservation is booked. */
        region = hm_ledger_prepare_region(f->ledger, size);
        assert_non_null(region);
        assert_true(hm_ledger_publish_region(f->ledger, region, base, false));
        assert_ptr_equal(hm_ledger_lock_region(f->ledger, base), region);
        hm_ledger_unlock_region(region);
        assert_ptr_equal(hm_ledger_lock_region(f->ledger, base + size - 1), region);
        hm_ledger_unlock_region(region);
        assert_int_equal(hm_ledger_region_count(f->ledger), 1);
        assert_int_equal(hm_ledger_reserved_bytes(f->ledger), size);
        assert_overhead_exact(f);
        ledger_teardown_checks(f);
    }
    /* Three nodes were needed: a fourth skipped allocation is never reached. */
    {
        ledger_fixture fixture, *f = &fixture;
        hm_region *region;

        counting_init(&f->a);
        f->ledger = hm_ledger_create(&f->a.iface, PAGE);
        region = hm_ledger_prepare_region(f->ledger, size);
        fail_after(&f->a, 3);
        assert_true(hm_ledger_publish_region(f->ledger, region, base, false));
        ledger_teardown_checks(f);
    }
}

static void ledger_overhead_returns_to_its_value_after_retire(void **state)
{
    ledger_fixture *f = *state;
    const uintptr_t base = 0x10000000;
    size_t before, after_first, during;
    int round;

    before = hm_ledger_overhead_bytes(f->ledger);
    assert_overhead_exact(f);
    for (round = 0; round < 3; round++) {
        hm_region *region = publish(f, base, 32 * MiB, true);

        during = hm_ledger_overhead_bytes(f->ledger);
        assert_true(during >= before + 32 * MiB / PAGE / 8); /* the bitmap at least */
        assert_overhead_exact(f);
        assert_int_equal(hm_ledger_retire_region(f->ledger, locked(f, base)), 32 * MiB);
        (void)region;
        assert_overhead_exact(f);
        if (round == 0) {
            /* The record and radix nodes are kept for reuse; the bitmap is not. */
            after_first = hm_ledger_overhead_bytes(f->ledger);
            assert_true(after_first < during);
        } else {
            assert_int_equal(hm_ledger_overhead_bytes(f->ledger), after_first);
        }
    }
    assert_int_equal(hm_ledger_committed_bytes(f->ledger), 0);
    assert_int_equal(hm_ledger_reserved_bytes(f->ledger), 0);
}

static uintptr_t released[16];
static unsigned released_count;

static void record_release(void *context, uintptr_t base)
{
    assert_ptr_equal(context, released);
    assert_true(released_count < 16);
    released[released_count++] = base;
}

static void ledger_destroy_releases_each_live_region_only(void **state)
{
    counting_allocator a;
    hm_ledger *ledger;
    hm_region *region;
    bool seen_a = false, seen_b = false;
    unsigned i;
    (void)state;

    counting_init(&a);
    ledger = hm_ledger_create(&a.iface, PAGE);
    assert_non_null(ledger);

    /* Live: 0x10000000 and 0x30000000. */
    assert_true(hm_ledger_publish_region(ledger, hm_ledger_prepare_region(ledger, MiB), 0x10000000, false));
    assert_true(hm_ledger_publish_region(ledger, hm_ledger_prepare_region(ledger, PAGE), 0x20000000, false));
    assert_true(hm_ledger_publish_region(ledger, hm_ledger_prepare_region(ledger, 8 * MiB), 0x30000000, false));
    /* Retired. */
    region = hm_ledger_lock_region(ledger, 0x20000000);
    assert_non_null(region);
    hm_ledger_retire_region(ledger, region);
    /* Discarded, prepared but never published, and failed to publish. */
    hm_ledger_discard_region(ledger, hm_ledger_prepare_region(ledger, 4 * MiB));
    assert_non_null(hm_ledger_prepare_region(ledger, 2 * MiB));
    region = hm_ledger_prepare_region(ledger, MiB);
    assert_non_null(region);
    a.fail_all = true;
    assert_false(hm_ledger_publish_region(ledger, region, 0x40000000, false));
    a.fail_all = false;

    released_count = 0;
    hm_ledger_destroy(ledger, record_release, released);
    assert_int_equal(released_count, 2);
    for (i = 0; i < released_count; i++) {
        if (released[i] == 0x10000000) {
            assert_false(seen_a);
            seen_a = true;
        } else if (released[i] == 0x30000000) {
            assert_false(seen_b);
            seen_b = true;
        } else {
            fail_msg("released %#llx, which is not live", (unsigned long long)released[i]);
        }
    }
    assert_true(seen_a && seen_b);
    assert_int_equal(a.live_bytes, 0);
    assert_int_equal(a.allocations, a.frees);
    hm_ledger_destroy(NULL, record_release, released); /* harmless */
    assert_int_equal(released_count, 2);
}

static void ledger_many_regions_are_booked_independently(void **state)
{
    ledger_fixture *f = *state;
    enum { N = 200 };
    static bool live[N];
    unsigned i, round, count = 0;
    uint64_t reserved = 0;

    memset(live, 0, sizeof(live));
    rng_state = 777;
    for (round = 0; round < 3000; round++) {
        unsigned k = (unsigned)(next_random() % N);
        uintptr_t base = (uintptr_t)0x10000000 + (uintptr_t)k * GRAN;
        size_t size = (size_t)(k % 7 + 1) * PAGE;

        if (live[k]) {
            retire_at(f, base + size - 1);
            live[k] = false;
            count--;
            reserved -= size;
        } else {
            publish(f, base, size, false);
            live[k] = true;
            count++;
            reserved += size;
        }
        assert_int_equal(hm_ledger_region_count(f->ledger), count);
        assert_int_equal(hm_ledger_reserved_bytes(f->ledger), reserved);
    }
    for (i = 0; i < N; i++) {
        uintptr_t base = (uintptr_t)0x10000000 + (uintptr_t)i * GRAN;
        size_t size = (size_t)(i % 7 + 1) * PAGE;
        hm_region *region = hm_ledger_lock_region(f->ledger, base + size - 1);

        assert_int_equal(region != NULL, live[i]);
        if (region) {
            assert_int_equal(hm_region_base(region), base);
            assert_int_equal(hm_region_end(region), base + size);
            hm_ledger_unlock_region(region);
        }
        assert_no_region_at(f, base + size);
    }
    assert_overhead_exact(f);
}

#define L(name) cmocka_unit_test_setup_teardown(name, ledger_setup, ledger_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(policy_defaults_are_outofmemory_outofmemory_escalate),
        cmocka_unit_test(policy_hresults_are_the_windows_values),
        cmocka_unit_test(policy_set_overrides_one_level),
        cmocka_unit_test(policy_set_rejects_an_invalid_level_leaving_the_policy_unchanged),
        cmocka_unit_test(policy_set_rejects_an_invalid_action_leaving_the_policy_unchanged),
        cmocka_unit_test(policy_default_action_restores_the_level_default),
        cmocka_unit_test(policy_validity_checks_cover_exactly_the_enums),
        cmocka_unit_test(policy_escalates_is_false_for_an_invalid_level),

        cmocka_unit_test(block_table_starts_empty),
        cmocka_unit_test(block_table_insert_contains_remove),
        cmocka_unit_test(block_table_snapshot_lists_every_live_block_once),
        cmocka_unit_test(block_table_grows_keeping_every_block),
        cmocka_unit_test(block_table_reserve_failure_leaves_the_table_unchanged),
        cmocka_unit_test(block_table_reserve_makes_room_for_a_block_with_a_source),
        cmocka_unit_test(block_table_deletion_in_a_wrapping_cluster_keeps_every_member_reachable),
        cmocka_unit_test(block_table_random_inserts_and_removes_match_a_reference),

        cmocka_unit_test(ledger_create_rejects_bad_page_sizes),
        cmocka_unit_test(ledger_create_fails_when_the_allocator_fails),
        L(ledger_starts_empty),
        L(ledger_prepare_with_zero_bytes_returns_null),
        L(ledger_prepare_allocator_failure_returns_null),
        L(ledger_prepared_region_is_invisible_until_published),
        L(ledger_discarded_region_is_never_visible),
        L(ledger_size_is_rounded_up_to_pages),
        L(ledger_publish_committed_marks_every_page),
        L(ledger_lookups_find_every_interior_address_of_a_256_mib_region),
        L(ledger_addresses_outside_any_region_return_null),
        L(ledger_indexes_the_last_granule_below_4_gib),
        L(ledger_addresses_beyond_2_47_return_null),
        L(ledger_commit_counts_are_exact_to_the_page),
        L(ledger_overlapping_commits_count_once),
        L(ledger_decommit_of_uncommitted_pages_counts_zero),
        L(ledger_ranges_are_clamped_to_the_region),
        L(ledger_retire_returns_the_committed_bytes),
        L(ledger_charge_against_a_ceiling_refuses_and_leaves_totals_unchanged),
        L(ledger_peak_tracks_the_highest_total),
        cmocka_unit_test(ledger_publish_fails_when_a_radix_node_cannot_be_allocated),
        L(ledger_overhead_returns_to_its_value_after_retire),
        cmocka_unit_test(ledger_destroy_releases_each_live_region_only),
        L(ledger_many_regions_are_booked_independently),
    };

    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
