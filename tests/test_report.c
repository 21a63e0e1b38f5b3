/*
 * hostmem-report's chart (tools/trace/trace_chart.c): a good trace gives an SVG with the
 * series, the marks and one marker per event row; each kind of malformed trace gives
 * HM_CHART_BAD_TRACE, the right line number and no SVG at all. Free of windows.h, so
 * that this file also builds natively.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/trace_format.h"
#include "trace/trace_chart.h"

#define HEADER HM_TRACE_HEADER "\n"

/* tests/data/trace_sample.csv: a run under a 1 MiB limit, written by hand after the
   format in README.md: start-up at eProcessCritical, growth past the high-water mark
   (Low), a refusal at task level, one at domain level (IHostMalloc), one without a
   level (NeedsVirtualAddressSpace), memory given back (Neutral, then High), and an
   escalation (E_FAIL) at process level. 19 calls on 4 threads over 4 ms. */
#ifndef HM_TEST_DATA_DIR
#error "HM_TEST_DATA_DIR: tests/CMakeLists.txt defines it"
#endif
static char *sample_trace;

/* --- running the chart over a trace in memory ---------------------------------------- */

struct run {
    int  rc;
    char error[256];
    char *svg;        /* NUL-terminated; "" when nothing was written */
    size_t svg_size;
};

static unsigned file_number;

/* Files in the working directory (ctest's build directory): tmpfile() under Wine
   wants the drive's root. */
static FILE *scratch_file(char *name, size_t size, const char *what)
{
    FILE *f;

    snprintf(name, size, "test_report_%u_%s.tmp", ++file_number, what);
    f = fopen(name, "w+b");
    assert_non_null(f);
    return f;
}

static char *read_all(FILE *f, size_t *size)
{
    long length;
    char *text;

    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    length = ftell(f);
    assert_true(length >= 0);
    rewind(f);
    text = malloc((size_t)length + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)length, f), (size_t)length);
    text[length] = '\0';
    *size = (size_t)length;
    return text;
}

static int load_sample(void **state)
{
    FILE *f = fopen(HM_TEST_DATA_DIR "/trace_sample.csv", "rb");
    size_t size;
    (void)state;

    if (!f)
        return -1;
    sample_trace = read_all(f, &size);
    fclose(f);
    return 0;
}

static int free_sample(void **state)
{
    (void)state;
    free(sample_trace);
    return 0;
}

static void chart_bytes(const char *trace, size_t trace_size, const char *title, struct run *r)
{
    char in_name[64], out_name[64];
    FILE *in = scratch_file(in_name, sizeof(in_name), "trace");
    FILE *out = scratch_file(out_name, sizeof(out_name), "svg");

    assert_int_equal(fwrite(trace, 1, trace_size, in), trace_size);
    rewind(in);
    memset(r->error, 'x', sizeof(r->error));
    r->rc = hm_write_chart_svg(in, out, title, r->error, sizeof(r->error));
    r->svg = read_all(out, &r->svg_size);
    fclose(in);
    fclose(out);
    remove(in_name);
    remove(out_name);
}

static void chart(const char *trace, struct run *r)
{
    chart_bytes(trace, strlen(trace), "sample", r);
}

static size_t count(const char *haystack, const char *needle)
{
    size_t n = 0, len = strlen(needle);

    for (haystack = strstr(haystack, needle); haystack; haystack = strstr(haystack + len, needle))
        n++;
    return n;
}

/* The y coordinates of a polyline (by class), smallest first, to see what it reaches. */
static double smallest_y(const char *svg, const char *cls)
{
    char key[64];
    const char *p;
    double smallest = 1e9;

    snprintf(key, sizeof(key), "<polyline class=\"%s\"", cls);
    p = strstr(svg, key);
    assert_non_null(p);
    p = strstr(p, "points=\"");
    assert_non_null(p);
    p += 8;
    while (*p && *p != '"') {
        double x, y;
        int used = 0;
        assert_int_equal(sscanf(p, "%lf,%lf%n", &x, &y, &used), 2);
        if (y < smallest)
            smallest = y;
        p += used;
        while (*p == ' ')
            p++;
    }
    return smallest;
}

/* A malformed trace: rc, the exact message, and no SVG at all. */
static void expect_bad(const char *trace, const char *message)
{
    struct run r;

    chart(trace, &r);
    assert_int_equal(r.rc, HM_CHART_BAD_TRACE);
    assert_string_equal(r.error, message);
    assert_int_equal(r.svg_size, 0);
    free(r.svg);
}

/* --- a good trace --------------------------------------------------------------------- */

static void sample_trace_gives_a_complete_svg(void **state)
{
    static const char start[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"";
    struct run r;
    (void)state;

    chart(sample_trace, &r);
    assert_int_equal(r.rc, HM_CHART_OK);
    assert_string_equal(r.error, "");
    assert_true(!strncmp(r.svg, start, strlen(start)));
    assert_int_equal(count(r.svg, "<svg "), 1);
    assert_int_equal(count(r.svg, "</svg>\n"), 1);
    assert_true(!strcmp(r.svg + r.svg_size - 7, "</svg>\n"));
    free(r.svg);
}

static void sample_trace_draws_committed_and_malloc_lines(void **state)
{
    struct run r;
    (void)state;

    chart(sample_trace, &r);
    assert_int_equal(count(r.svg, "<polyline class=\"committed\""), 1);
    assert_int_equal(count(r.svg, "<polygon class=\"committed-area\""), 1);
    assert_int_equal(count(r.svg, "<polyline class=\"malloc\""), 1);
    /* committed peaks higher on the chart (smaller y) than IHostMalloc's 4 KiB */
    assert_true(smallest_y(r.svg, "committed") < smallest_y(r.svg, "malloc"));
    free(r.svg);
}

static void sample_trace_draws_the_limit_and_both_water_marks(void **state)
{
    struct run r;
    (void)state;

    chart(sample_trace, &r);
    assert_int_equal(count(r.svg, "<line class=\"limit\""), 1);
    assert_int_equal(count(r.svg, "<line class=\"high-water\""), 1);
    assert_int_equal(count(r.svg, "<line class=\"low-water\""), 1);
    assert_non_null(strstr(r.svg, ">limit 1 MiB</text>"));
    assert_non_null(strstr(r.svg, ">high water 90%</text>"));
    assert_non_null(strstr(r.svg, ">low water 60%</text>"));
    free(r.svg);
}

static void sample_trace_has_one_marker_per_event_row(void **state)
{
    struct run r;
    (void)state;

    chart(sample_trace, &r);
    assert_int_equal(count(r.svg, "class=\"marker notification low\""), 1);
    assert_int_equal(count(r.svg, "class=\"marker notification neutral\""), 1);
    assert_int_equal(count(r.svg, "class=\"marker notification high\""), 1);
    assert_int_equal(count(r.svg, "class=\"marker refusal task\""), 1);
    assert_int_equal(count(r.svg, "class=\"marker refusal domain\""), 1);
    assert_int_equal(count(r.svg, "class=\"marker refusal process\""), 0);
    assert_int_equal(count(r.svg, "class=\"marker refusal no-level\""), 1);
    assert_int_equal(count(r.svg, "class=\"marker escalation\""), 1);
    assert_int_equal(count(r.svg, "class=\"marker "), 7);
    /* and a dotted line through the plot where the CLR would have been lost */
    assert_int_equal(count(r.svg, "<g class=\"escalation-lines\""), 1);
    free(r.svg);
}

static void sample_trace_summary_gives_the_figures(void **state)
{
    struct run r;
    (void)state;

    chart(sample_trace, &r);
    assert_non_null(strstr(r.svg, ">limit 1 MiB (high water 90%, low water 60%)  |  peak committed 960 KiB (94% of the "
                                  "limit)  |  IHostMalloc peak 4 KiB</text>"));
    assert_non_null(strstr(r.svg, ">19 calls on 4 threads in 4.000 ms  |  notifications: 1 Low, 1 Neutral, 1 High"
                                  "  |  3 refusals  |  1 escalation</text>"));
    free(r.svg);
}

static void sample_trace_labels_both_axes_with_units(void **state)
{
    struct run r;
    (void)state;

    chart(sample_trace, &r);
    /* 960 KiB under a 1 MiB limit: the bytes axis is in MiB; 4 ms of trace: ms */
    assert_non_null(strstr(r.svg, ">memory (MiB)</text>"));
    assert_non_null(strstr(r.svg, ">time since hostmem started (ms)</text>"));
    free(r.svg);
}

static void title_is_escaped_for_xml(void **state)
{
    struct run r;
    (void)state;

    chart_bytes(sample_trace, strlen(sample_trace), "a <b> & \"c\"", &r);
    assert_int_equal(r.rc, HM_CHART_OK);
    assert_non_null(strstr(r.svg, "<title>a &lt;b&gt; &amp; &quot;c&quot;</title>"));
    assert_null(strstr(r.svg, "<b>"));
    free(r.svg);
}

static void trace_without_limit_has_no_marks(void **state)
{
    struct run r;
    (void)state;

    chart(HEADER
          "0,7,Start,,,0,90,60,,,0,0\n"
          "50,7,VirtualAlloc,0,0x0,65536,0x3000,0x4,0x00000000,0x10000,65536,0\n", &r);
    assert_int_equal(r.rc, HM_CHART_OK);
    assert_int_equal(count(r.svg, "class=\"limit\""), 0);
    assert_int_equal(count(r.svg, "class=\"high-water\""), 0);
    assert_int_equal(count(r.svg, "class=\"low-water\""), 0);
    assert_non_null(strstr(r.svg, ">no commit limit</text>"));
    assert_int_equal(count(r.svg, "class=\"marker "), 0);
    free(r.svg);
}

static void windows_line_ends_and_a_byte_order_mark_are_accepted(void **state)
{
    static const char trace[] =
        "\xEF\xBB\xBF" HM_TRACE_HEADER "\r\n"
        "0,7,Start,,,1048576,90,60,,,0,0\r\n"
        "50,7,VirtualAlloc,0,0x0,65536,0x3000,0x4,0x8007000E,,0,0\r\n";
    struct run r;
    (void)state;

    chart(trace, &r);
    assert_int_equal(r.rc, HM_CHART_OK);
    assert_int_equal(count(r.svg, "class=\"marker refusal task\""), 1);
    free(r.svg);
}

static void trace_of_start_row_only_still_draws(void **state)
{
    struct run r;
    (void)state;

    chart(HEADER "0,7,Start,,,536870912,90,60,,,0,0\n", &r);
    assert_int_equal(r.rc, HM_CHART_OK);
    assert_int_equal(count(r.svg, "<polyline class=\"committed\""), 1);
    assert_non_null(strstr(r.svg, ">limit 512 MiB</text>"));
    free(r.svg);
}

/* --- a long trace ----------------------------------------------------------------------- */

/* 100,000 rows over 10 s at 100 KiB, with one row at 900 KiB in the middle and a
   refusal every second: the chart stays small, the one-row spike stays on it, and
   events a second apart keep a marker each. */
static char *long_trace(bool spike, size_t *size)
{
    const size_t rows = 100000, capacity = rows * 96 + 256;
    char *text = malloc(capacity);
    size_t n, i;

    assert_non_null(text);
    n = (size_t)snprintf(text, capacity, HEADER "0,7,Start,,,1048576,90,60,,,0,0\n");
    for (i = 1; i <= rows; i++) {
        uint64_t t = (uint64_t)i * 100;  /* 100 µs apart: 10 s */
        unsigned long committed = spike && i == rows / 2 ? 921600ul : 102400ul;
        bool refused = i % 10000 == 0;
        n += (size_t)snprintf(text + n, capacity - n, "%llu,%u,VirtualAlloc,0,0x0,4096,0x1000,0x4,%s,,%lu,0\n",
                              (unsigned long long)t, 7u + (unsigned)(i % 3), refused ? "0x8007000E" : "0x00000000",
                              committed);
    }
    *size = n;
    return text;
}

static void long_trace_gives_a_bounded_svg_that_keeps_a_one_row_spike(void **state)
{
    struct run flat, spiky;
    size_t size;
    char *text;
    (void)state;

    text = long_trace(false, &size);
    chart_bytes(text, size, "flat", &flat);
    free(text);
    text = long_trace(true, &size);
    chart_bytes(text, size, "spike", &spiky);
    free(text);

    assert_int_equal(flat.rc, HM_CHART_OK);
    assert_int_equal(spiky.rc, HM_CHART_OK);
    assert_true(spiky.svg_size < 200 * 1024);
    assert_true(smallest_y(spiky.svg, "committed") < smallest_y(flat.svg, "committed") - 100.0);
    assert_int_equal(count(spiky.svg, "class=\"marker refusal task\""), 10);
    assert_non_null(strstr(spiky.svg, "peak committed 900 KiB"));
    assert_non_null(strstr(spiky.svg, ">100,000 calls on 3 threads in 10.000 s"));
    free(flat.svg);
    free(spiky.svg);
}

static void events_closer_than_a_pixel_share_one_marker_with_their_count(void **state)
{
    struct run r;
    (void)state;

    chart(HEADER
          "0,7,Start,,,1048576,90,60,,,0,0\n"
          "5000000,7,VirtualAlloc,0,0x0,65536,0x3000,0x4,0x8007000E,,0,0\n"
          "5000001,8,VirtualAlloc,0,0x0,65536,0x3000,0x4,0x8007000E,,0,0\n"
          "10000000,7,VirtualFree,,0x10000,0,0x8000,,0x00000000,,0,0\n", &r);
    assert_int_equal(r.rc, HM_CHART_OK);
    assert_int_equal(count(r.svg, "class=\"marker refusal task\""), 1);
    assert_non_null(strstr(r.svg, "<title>2 refusals at eTaskCritical at 5.000 s</title>"));
    free(r.svg);
}

/* --- malformed traces: the line and what is wrong ---------------------------------------- */

static void empty_file_is_reported_at_line_1(void **state)
{
    (void)state;
    expect_bad("", "1: the trace is empty: expected the header " HM_TRACE_HEADER);
}

static void missing_header_is_reported_at_line_1(void **state)
{
    (void)state;
    expect_bad("0,7,Start,,,1048576,90,60,,,0,0\n", "1: expected the header " HM_TRACE_HEADER);
}

static void header_without_start_row_is_reported_at_line_2(void **state)
{
    (void)state;
    expect_bad(HEADER, "2: the Start row is missing: the trace ends after its header");
}

static void first_row_other_than_start_is_reported_at_line_2(void **state)
{
    (void)state;
    expect_bad(HEADER "10,7,VirtualAlloc,0,0x0,65536,0x3000,0x4,0x00000000,0x10000,65536,0\n",
               "2: expected the Start row first, found method \"VirtualAlloc\"");
}

static void wrong_field_count_is_reported_with_its_line(void **state)
{
    (void)state;
    expect_bad(HEADER
               "0,7,Start,,,1048576,90,60,,,0,0\n"
               "10,7,VirtualAlloc,0,0x0,65536,0x3000,0x4,0x00000000,0x10000,65536,0\n"
               "20,7,VirtualAlloc,0,0x0,65536,0x3000,0x4,0x00000000\n",
               "4: expected 12 fields, found 9");
}

static void too_many_fields_are_reported_with_their_line(void **state)
{
    (void)state;
    expect_bad(HEADER
               "0,7,Start,,,1048576,90,60,,,0,0\n"
               "10,7,VirtualAlloc,0,0x0,65536,0x3000,0x4,0x00000000,0x10000,65536,0,extra\n",
               "3: expected 12 fields, found 13");
}

static void blank_line_is_reported_as_a_short_row(void **state)
{
    (void)state;
    expect_bad(HEADER "0,7,Start,,,1048576,90,60,,,0,0\n\n", "3: expected 12 fields, found 1");
}

static void non_numeric_time_is_reported_with_its_line(void **state)
{
    (void)state;
    expect_bad(HEADER
               "0,7,Start,,,1048576,90,60,,,0,0\n"
               "10,7,VirtualAlloc,0,0x0,65536,0x3000,0x4,0x00000000,0x10000,65536,0\n"
               "1.5,7,VirtualFree,,0x10000,0,0x8000,,0x00000000,,0,0\n",
               "4: time_us: \"1.5\" is not an unsigned decimal number");
}

static void negative_time_is_not_a_number(void **state)
{
    (void)state;
    expect_bad(HEADER "0,7,Start,,,1048576,90,60,,,0,0\n-5,7,Free,,0x10,,,,0x00000000,,0,0\n",
               "3: time_us: \"-5\" is not an unsigned decimal number");
}

static void time_going_backwards_is_reported_with_both_lines(void **state)
{
    (void)state;
    expect_bad(HEADER
               "0,7,Start,,,1048576,90,60,,,0,0\n"
               "100,7,VirtualAlloc,0,0x0,65536,0x3000,0x4,0x00000000,0x10000,65536,0\n"
               "200,8,VirtualQuery,,0x10000,48,,,0x00000000,,65536,0\n"
               "200,7,VirtualQuery,,0x10000,48,,,0x00000000,,65536,0\n"
               "150,8,VirtualFree,,0x10000,0,0x8000,,0x00000000,,0,0\n",
               "6: time_us 150 goes back in time (line 5 has 200)");
}

static void unknown_method_is_an_error(void **state)
{
    (void)state;
    expect_bad(HEADER
               "0,7,Start,,,1048576,90,60,,,0,0\n"
               "10,7,VirtualAllocEx,0,0x0,65536,0x3000,0x4,0x00000000,0x10000,65536,0\n",
               "3: method: unknown method \"VirtualAllocEx\"");
}

static void second_start_row_is_an_error(void **state)
{
    (void)state;
    expect_bad(HEADER
               "0,7,Start,,,1048576,90,60,,,0,0\n"
               "10,7,Free,,0x10,,,,0x00000000,,0,0\n"
               "0,9,Start,,,1048576,90,60,,,0,0\n",
               "4: a second Start row: one trace per file");
}

static void second_header_is_an_error(void **state)
{
    (void)state;
    expect_bad(HEADER "0,7,Start,,,1048576,90,60,,,0,0\n" HEADER "0,9,Start,,,1048576,90,60,,,0,0\n",
               "3: a second header: one trace per file");
}

static void level_outside_0_to_2_is_an_error(void **state)
{
    (void)state;
    expect_bad(HEADER
               "0,7,Start,,,1048576,90,60,,,0,0\n"
               "10,7,VirtualAlloc,3,0x0,65536,0x3000,0x4,0x00000000,0x10000,65536,0\n",
               "3: level: \"3\" is not 0, 1, 2 or empty");
}

static void decimal_in_a_hex_column_is_an_error(void **state)
{
    (void)state;
    expect_bad(HEADER
               "0,7,Start,,,1048576,90,60,,,0,0\n"
               "10,7,VirtualFree,,65536,0,0x8000,,0x00000000,,0,0\n",
               "3: address: \"65536\" is neither empty nor hex (0x...)");
}

static void non_numeric_committed_is_an_error(void **state)
{
    (void)state;
    expect_bad(HEADER
               "0,7,Start,,,1048576,90,60,,,0,0\n"
               "10,7,VirtualAlloc,0,0x0,65536,0x3000,0x4,0x00000000,0x10000,,0\n",
               "3: committed: \"\" is not an unsigned decimal number");
}

static void notification_needs_low_neutral_or_high(void **state)
{
    (void)state;
    expect_bad(HEADER
               "0,7,Start,,,1048576,90,60,,,0,0\n"
               "10,9,OnMemoryNotification,,,,0x4,,,,0,0\n",
               "3: flags: OnMemoryNotification needs 0x1, 0x2 or 0x3 (Low, Neutral, High), found \"0x4\"");
}

static void start_row_with_hex_percent_is_an_error(void **state)
{
    (void)state;
    expect_bad(HEADER "0,7,Start,,,1048576,0x5A,60,,,0,0\n",
               "2: flags: the Start row's high-water percent \"0x5A\" is not a decimal percentage (0 to 100)");
}

static void start_row_without_limit_is_an_error(void **state)
{
    (void)state;
    expect_bad(HEADER "0,7,Start,,,,90,60,,,0,0\n",
               "2: size: the Start row's commit limit \"\" is not a decimal number of bytes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_trace_gives_a_complete_svg),
        cmocka_unit_test(sample_trace_draws_committed_and_malloc_lines),
        cmocka_unit_test(sample_trace_draws_the_limit_and_both_water_marks),
        cmocka_unit_test(sample_trace_has_one_marker_per_event_row),
        cmocka_unit_test(sample_trace_summary_gives_the_figures),
        cmocka_unit_test(sample_trace_labels_both_axes_with_units),
        cmocka_unit_test(title_is_escaped_for_xml),
        cmocka_unit_test(trace_without_limit_has_no_marks),
        cmocka_unit_test(windows_line_ends_and_a_byte_order_mark_are_accepted),
        cmocka_unit_test(trace_of_start_row_only_still_draws),
        cmocka_unit_test(long_trace_gives_a_bounded_svg_that_keeps_a_one_row_spike),
        cmocka_unit_test(events_closer_than_a_pixel_share_one_marker_with_their_count),
        cmocka_unit_test(empty_file_is_reported_at_line_1),
        cmocka_unit_test(missing_header_is_reported_at_line_1),
        cmocka_unit_test(header_without_start_row_is_reported_at_line_2),
        cmocka_unit_test(first_row_other_than_start_is_reported_at_line_2),
        cmocka_unit_test(wrong_field_count_is_reported_with_its_line),
        cmocka_unit_test(too_many_fields_are_reported_with_their_line),
        cmocka_unit_test(blank_line_is_reported_as_a_short_row),
        cmocka_unit_test(non_numeric_time_is_reported_with_its_line),
        cmocka_unit_test(negative_time_is_not_a_number),
        cmocka_unit_test(time_going_backwards_is_reported_with_both_lines),
        cmocka_unit_test(unknown_method_is_an_error),
        cmocka_unit_test(second_start_row_is_an_error),
        cmocka_unit_test(second_header_is_an_error),
        cmocka_unit_test(level_outside_0_to_2_is_an_error),
        cmocka_unit_test(decimal_in_a_hex_column_is_an_error),
        cmocka_unit_test(non_numeric_committed_is_an_error),
        cmocka_unit_test(notification_needs_low_neutral_or_high),
        cmocka_unit_test(start_row_with_hex_percent_is_an_error),
        cmocka_unit_test(start_row_without_limit_is_an_error),
    };
    return cmocka_run_group_tests(tests, load_sample, free_sample);
}
