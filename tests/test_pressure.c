/*
 * Memory pressure under a commit limit (src/core/pressure.c): where the water marks sit, the
 * hysteresis that keeps a workload hovering at a mark from making a storm of
 * notifications, and the Low that a refused request forces. Free of windows.h: this file
 * runs under Wine with the DLL's objects and natively with sanitizers
 * (tests/native/CMakeLists.txt).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pressure.h"

/* A limit of 1000 bytes at 90% / 60%: high mark 900, low mark 600, band 50 (a
   twentieth of the limit, narrower than half the distance between the marks). */
#define LIMIT 1000
#define HIGH  900
#define LOW   600
#define BAND  50

static void init_default(hm_pressure *p)
{
    hm_pressure_init(p, LIMIT, 90, 60);
    assert_int_equal(p->high_mark, HIGH);
    assert_int_equal(p->low_mark, LOW);
    assert_int_equal(p->band, BAND);
}

/* Walks the pressure to `state` from its start through updates. */
static void reach(hm_pressure *p, int state)
{
    switch (state) {
    case HM_AVAILABLE_HIGH:
        break;
    case HM_AVAILABLE_NEUTRAL:
        assert_int_equal(hm_pressure_update(p, LOW + BAND), HM_AVAILABLE_NEUTRAL);
        break;
    case HM_AVAILABLE_LOW:
        assert_int_equal(hm_pressure_update(p, HIGH), HM_AVAILABLE_LOW);
        break;
    }
    assert_int_equal(hm_pressure_state(p), state);
}

static void pressure_starts_high_without_a_notification(void **state)
{
    hm_pressure p;
    (void)state;

    init_default(&p);
    assert_int_equal(hm_pressure_state(&p), HM_AVAILABLE_HIGH);
    assert_int_equal(hm_pressure_update(&p, 0), HM_AVAILABLE_NONE);
    assert_int_equal(hm_pressure_update(&p, LOW - 1), HM_AVAILABLE_NONE);
    assert_int_equal(hm_pressure_state(&p), HM_AVAILABLE_HIGH);
    hm_pressure_destroy(&p);
}

static void pressure_rises_through_neutral_to_low_with_one_notification_each(void **state)
{
    hm_pressure p;
    uint64_t committed;
    unsigned neutral = 0, low = 0;
    (void)state;

    init_default(&p);
    for (committed = 0; committed <= LIMIT; committed++) {
        int changed = hm_pressure_update(&p, committed);

        if (committed == LOW + BAND) {
            assert_int_equal(changed, HM_AVAILABLE_NEUTRAL);
            neutral++;
        } else if (committed == HIGH) {
            assert_int_equal(changed, HM_AVAILABLE_LOW);
            low++;
        } else {
            assert_int_equal(changed, HM_AVAILABLE_NONE);
        }
        assert_int_equal(hm_pressure_state(&p), committed >= HIGH        ? HM_AVAILABLE_LOW
                                                : committed >= LOW + BAND ? HM_AVAILABLE_NEUTRAL
                                                                          : HM_AVAILABLE_HIGH);
    }
    assert_int_equal(neutral, 1);
    assert_int_equal(low, 1);
    /* Past the limit (headroom) is still Low, without another notification. */
    assert_int_equal(hm_pressure_update(&p, UINT64_MAX), HM_AVAILABLE_NONE);
    hm_pressure_destroy(&p);
}

static void pressure_falls_from_low_to_neutral_only_a_band_below_the_high_mark(void **state)
{
    hm_pressure p;
    uint64_t committed;
    (void)state;

    init_default(&p);
    reach(&p, HM_AVAILABLE_LOW);
    for (committed = HIGH; committed >= HIGH - BAND; committed--)
        assert_int_equal(hm_pressure_update(&p, committed), HM_AVAILABLE_NONE);
    assert_int_equal(hm_pressure_state(&p), HM_AVAILABLE_LOW);
    assert_int_equal(hm_pressure_update(&p, HIGH - BAND - 1), HM_AVAILABLE_NEUTRAL);
    /* Back up to just under the mark: Neutral stays; at the mark: Low again. */
    assert_int_equal(hm_pressure_update(&p, HIGH - 1), HM_AVAILABLE_NONE);
    assert_int_equal(hm_pressure_update(&p, HIGH), HM_AVAILABLE_LOW);
    hm_pressure_destroy(&p);
}

static void pressure_falls_from_low_straight_to_high_below_the_low_mark(void **state)
{
    hm_pressure p;
    (void)state;

    init_default(&p);
    reach(&p, HM_AVAILABLE_LOW);
    assert_int_equal(hm_pressure_update(&p, LOW - 1), HM_AVAILABLE_HIGH);
    assert_int_equal(hm_pressure_state(&p), HM_AVAILABLE_HIGH);
    hm_pressure_destroy(&p);
}

static void pressure_leaves_high_only_a_band_above_the_low_mark(void **state)
{
    hm_pressure p;
    uint64_t committed;
    (void)state;

    init_default(&p);
    reach(&p, HM_AVAILABLE_NEUTRAL);
    /* Neutral holds down to the low mark itself. */
    for (committed = LOW + BAND; committed >= LOW; committed--)
        assert_int_equal(hm_pressure_update(&p, committed), HM_AVAILABLE_NONE);
    assert_int_equal(hm_pressure_update(&p, LOW - 1), HM_AVAILABLE_HIGH);
    /* And High holds up to a band above it. */
    for (committed = LOW - 1; committed < LOW + BAND; committed++)
        assert_int_equal(hm_pressure_update(&p, committed), HM_AVAILABLE_NONE);
    assert_int_equal(hm_pressure_update(&p, LOW + BAND), HM_AVAILABLE_NEUTRAL);
    hm_pressure_destroy(&p);
}

static void pressure_hovering_at_a_mark_notifies_once(void **state)
{
    hm_pressure p;
    unsigned i, changes = 0;
    (void)state;

    init_default(&p);
    /* At the high mark, one byte either side, a thousand times. */
    for (i = 0; i < 1000; i++)
        changes += hm_pressure_update(&p, (i & 1) ? HIGH - 1 : HIGH) != HM_AVAILABLE_NONE;
    assert_int_equal(changes, 1);
    assert_int_equal(hm_pressure_state(&p), HM_AVAILABLE_LOW);

    /* At the low mark. */
    assert_int_equal(hm_pressure_update(&p, LOW - 1), HM_AVAILABLE_HIGH);
    changes = 0;
    for (i = 0; i < 1000; i++)
        changes += hm_pressure_update(&p, (i & 1) ? LOW - 1 : LOW) != HM_AVAILABLE_NONE;
    assert_int_equal(changes, 0);
    assert_int_equal(hm_pressure_state(&p), HM_AVAILABLE_HIGH);
    hm_pressure_destroy(&p);
}

static void pressure_band_is_at_most_half_the_distance_between_the_marks(void **state)
{
    hm_pressure p;
    (void)state;

    /* 1000 at 62/60: marks 620 and 600, a twentieth (50) would cross them: band 10. */
    hm_pressure_init(&p, LIMIT, 62, 60);
    assert_int_equal(p.high_mark, 620);
    assert_int_equal(p.low_mark, 600);
    assert_int_equal(p.band, 10);
    assert_int_equal(hm_pressure_update(&p, 609), HM_AVAILABLE_NONE);
    assert_int_equal(hm_pressure_update(&p, 610), HM_AVAILABLE_NEUTRAL);
    assert_int_equal(hm_pressure_update(&p, 620), HM_AVAILABLE_LOW);
    assert_int_equal(hm_pressure_update(&p, 610), HM_AVAILABLE_NONE);
    assert_int_equal(hm_pressure_update(&p, 609), HM_AVAILABLE_NEUTRAL);
    hm_pressure_destroy(&p);
}

static void pressure_marks_of_the_largest_limit_do_not_overflow(void **state)
{
    hm_pressure p;
    const uint64_t high = 16602069666338596453ULL; /* floor(UINT64_MAX * 0.90) */
    const uint64_t low = 11068046444225730969ULL;  /* floor(UINT64_MAX * 0.60) */
    (void)state;

    hm_pressure_init(&p, UINT64_MAX, 90, 60);
    assert_true(p.high_mark == high);
    assert_true(p.low_mark == low);
    assert_true(p.band == UINT64_MAX / 20);
    assert_int_equal(hm_pressure_update(&p, high - 1), HM_AVAILABLE_NEUTRAL);
    assert_int_equal(hm_pressure_update(&p, high), HM_AVAILABLE_LOW);
    assert_int_equal(hm_pressure_update(&p, UINT64_MAX), HM_AVAILABLE_NONE);
    hm_pressure_destroy(&p);

    /* 100%: Low only at the limit itself. */
    hm_pressure_init(&p, UINT64_MAX, 100, 99);
    assert_true(p.high_mark == UINT64_MAX);
    assert_int_equal(hm_pressure_update(&p, UINT64_MAX - 1), HM_AVAILABLE_NEUTRAL);
    assert_int_equal(hm_pressure_update(&p, UINT64_MAX), HM_AVAILABLE_LOW);
    hm_pressure_destroy(&p);
}

static void pressure_forced_low_ends_by_the_water_marks_like_any_low(void **state)
{
    hm_pressure p;
    (void)state;

    /* From Neutral at 700 (under the low exit, 850): the next look at the books finds
       no reason for Low and goes back to Neutral; a forced Low is no stickier than a
       Low the marks made. */
    init_default(&p);
    reach(&p, HM_AVAILABLE_NEUTRAL);
    assert_int_equal(hm_pressure_force_low(&p, 700), HM_AVAILABLE_LOW);
    assert_int_equal(hm_pressure_state(&p), HM_AVAILABLE_LOW);
    assert_int_equal(hm_pressure_update(&p, 700), HM_AVAILABLE_NEUTRAL);
    hm_pressure_destroy(&p);

    /* Forced at 27% of the limit: below the low mark the next update is High. */
    init_default(&p);
    assert_int_equal(hm_pressure_force_low(&p, 270), HM_AVAILABLE_LOW);
    assert_int_equal(hm_pressure_update(&p, 270), HM_AVAILABLE_HIGH);
    hm_pressure_destroy(&p);

    /* Forced at the low exit or above: Low holds exactly as far as a Low the marks made. */
    init_default(&p);
    assert_int_equal(hm_pressure_force_low(&p, HIGH - BAND), HM_AVAILABLE_LOW);
    assert_int_equal(hm_pressure_update(&p, HIGH - BAND), HM_AVAILABLE_NONE);
    assert_int_equal(hm_pressure_update(&p, HIGH - 1), HM_AVAILABLE_NONE);
    assert_int_equal(hm_pressure_update(&p, HIGH - BAND - 1), HM_AVAILABLE_NEUTRAL);
    hm_pressure_destroy(&p);
}

static void pressure_force_low_above_the_high_mark_exits_where_an_update_would(void **state)
{
    hm_pressure p;
    (void)state;

    init_default(&p);
    assert_int_equal(hm_pressure_force_low(&p, LIMIT + 500), HM_AVAILABLE_LOW);
    assert_int_equal(hm_pressure_update(&p, HIGH - BAND), HM_AVAILABLE_NONE);
    assert_int_equal(hm_pressure_update(&p, HIGH - BAND - 1), HM_AVAILABLE_NEUTRAL);
    hm_pressure_destroy(&p);
}

static void pressure_force_low_when_already_low_changes_nothing(void **state)
{
    hm_pressure p;
    uint64_t decision;
    (void)state;

    init_default(&p);
    reach(&p, HM_AVAILABLE_LOW);
    decision = hm_pressure_decision(&p);
    /* Already Low (exit below 850): no notification, no new decision. */
    assert_int_equal(hm_pressure_force_low(&p, 700), HM_AVAILABLE_NONE);
    assert_int_equal(hm_pressure_force_low(&p, 700), HM_AVAILABLE_NONE);
    assert_true(hm_pressure_decision(&p) == decision);
    assert_int_equal(hm_pressure_update(&p, HIGH - BAND - 1), HM_AVAILABLE_NEUTRAL);
    hm_pressure_destroy(&p);
}

static void pressure_forced_low_with_nothing_committed_can_still_be_left(void **state)
{
    hm_pressure p;
    (void)state;

    /* Refused with nothing committed at all (the OS said no): left as soon as the
       books are looked at again. */
    init_default(&p);
    assert_int_equal(hm_pressure_force_low(&p, 0), HM_AVAILABLE_LOW);
    assert_int_equal(hm_pressure_update(&p, 0), HM_AVAILABLE_HIGH);
    hm_pressure_destroy(&p);
}

static void pressure_every_change_takes_the_next_sequence_number(void **state)
{
    hm_pressure p;
    uint64_t before;
    (void)state;

    init_default(&p);
    assert_true(hm_pressure_decision(&p) == HM_DECISION(0, HM_AVAILABLE_HIGH));
    assert_int_equal(hm_pressure_update(&p, 500), HM_AVAILABLE_NONE);
    assert_true(hm_pressure_decision(&p) == HM_DECISION(0, HM_AVAILABLE_HIGH));
    assert_int_equal(hm_pressure_update(&p, 700), HM_AVAILABLE_NEUTRAL);
    assert_true(hm_pressure_decision(&p) == HM_DECISION(1, HM_AVAILABLE_NEUTRAL));
    assert_int_equal(hm_pressure_force_low(&p, 700), HM_AVAILABLE_LOW);
    assert_true(hm_pressure_decision(&p) == HM_DECISION(2, HM_AVAILABLE_LOW));
    before = hm_pressure_decision(&p);
    assert_int_equal(hm_pressure_update(&p, 100), HM_AVAILABLE_HIGH);
    assert_true(HM_DECISION_SEQUENCE(hm_pressure_decision(&p)) == HM_DECISION_SEQUENCE(before) + 1);
    hm_pressure_destroy(&p);
}

static void pressure_update_into_low_after_a_forced_low(void **state)
{
    hm_pressure p;
    (void)state;

    init_default(&p);
    assert_int_equal(hm_pressure_force_low(&p, 300), HM_AVAILABLE_LOW);
    assert_int_equal(hm_pressure_update(&p, 100), HM_AVAILABLE_HIGH);
    /* Low through the high mark: the exit is a band below it. */
    assert_int_equal(hm_pressure_update(&p, HIGH), HM_AVAILABLE_LOW);
    assert_int_equal(hm_pressure_update(&p, HIGH - BAND - 1), HM_AVAILABLE_NEUTRAL);
    hm_pressure_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pressure_starts_high_without_a_notification),
        cmocka_unit_test(pressure_rises_through_neutral_to_low_with_one_notification_each),
        cmocka_unit_test(pressure_falls_from_low_to_neutral_only_a_band_below_the_high_mark),
        cmocka_unit_test(pressure_falls_from_low_straight_to_high_below_the_low_mark),
        cmocka_unit_test(pressure_leaves_high_only_a_band_above_the_low_mark),
        cmocka_unit_test(pressure_hovering_at_a_mark_notifies_once),
        cmocka_unit_test(pressure_band_is_at_most_half_the_distance_between_the_marks),
        cmocka_unit_test(pressure_marks_of_the_largest_limit_do_not_overflow),
        cmocka_unit_test(pressure_forced_low_ends_by_the_water_marks_like_any_low),
        cmocka_unit_test(pressure_force_low_above_the_high_mark_exits_where_an_update_would),
        cmocka_unit_test(pressure_force_low_when_already_low_changes_nothing),
        cmocka_unit_test(pressure_forced_low_with_nothing_committed_can_still_be_left),
        cmocka_unit_test(pressure_every_change_takes_the_next_sequence_number),
        cmocka_unit_test(pressure_update_into_low_after_a_forced_low),
    };

    return cmocka_run_group_tests_name("pressure", tests, NULL, NULL);
}
