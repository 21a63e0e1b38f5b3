/*
 * The trace's CSV format, in one place: the columns, the header line, one row as a
 * struct, the writer's formatting and the readers' strict parser. hostmem's writer
 * (src/trace.c), hostmem-report's chart and hostmem-replay's check all go through
 * this file, so the format cannot be spelled two ways. README.md ("The trace")
 * describes every column for people.
 *
 * The file: CSV, UTF-8, '\n' line ends (a '\r' before it is tolerated, and so is a
 * UTF-8 byte order mark before the header). Line 1 is HM_TRACE_HEADER, line 2 the
 * Start row (size = commit limit in bytes, 0 = none; flags = high-water percent;
 * protect = low-water percent; all decimal), then one row per call, in time order.
 * There is no version number in the file: the header line is what a reader checks,
 * and a change of columns changes it.
 *
 * The parser is strict, so that a trace and the code that wrote it cannot drift
 * apart unnoticed: every row has HM_TRACE_COLUMNS fields, a method from the list
 * below (an unknown one is an error), numbers where numbers belong (decimal, or hex
 * with 0x where the format says hex), a level of 0, 1, 2 or empty, an
 * OnMemoryNotification's flags 0x1, 0x2 or 0x3, and a time_us never smaller than the
 * row before. One trace per file: a second header or Start row is an error. Errors
 * read "LINE: what is wrong", e.g. "17: expected 12 fields, found 9".
 *
 * Methods: Start, CreateMalloc, VirtualAlloc, VirtualFree, VirtualQuery,
 * VirtualProtect, GetMemoryLoad, RegisterMemoryNotificationCallback,
 * NeedsVirtualAddressSpace, AcquiredVirtualAddressSpace, ReleasedVirtualAddressSpace,
 * Alloc, DebugAlloc, Free, OnMemoryNotification, Release.
 *
 * Portable C11 (no windows.h): it is compiled into the DLL and into the tools, which
 * also build natively.
 */
#ifndef HOSTMEM_TRACE_FORMAT_H
#define HOSTMEM_TRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The one spelling of the columns; the parser's messages name columns from it. */
#define HM_TRACE_HEADER "time_us,thread,method,level,address,size,flags,protect,hresult,result,committed,malloc"

enum hm_trace_column {
    HM_TRACE_COL_TIME,      /* decimal microseconds since the manager was created */
    HM_TRACE_COL_THREAD,    /* decimal thread id */
    HM_TRACE_COL_METHOD,
    HM_TRACE_COL_LEVEL,     /* 0, 1, 2 or empty */
    HM_TRACE_COL_ADDRESS,   /* hex or empty */
    HM_TRACE_COL_SIZE,      /* decimal or empty */
    HM_TRACE_COL_FLAGS,     /* hex or empty; decimal percent in the Start row */
    HM_TRACE_COL_PROTECT,   /* hex or empty; decimal percent in the Start row */
    HM_TRACE_COL_HRESULT,   /* 0x%08X or empty */
    HM_TRACE_COL_RESULT,    /* hex or empty */
    HM_TRACE_COL_COMMITTED, /* decimal: bytes committed after the call */
    HM_TRACE_COL_MALLOC,    /* decimal: live IHostMalloc bytes after the call */
    HM_TRACE_COLUMNS
};

/* Which of a row's optional columns hold a value; the others are empty. */
enum {
    HM_TRACE_LEVEL   = 0x01,
    HM_TRACE_ADDRESS = 0x02,
    HM_TRACE_SIZE    = 0x04,
    HM_TRACE_FLAGS   = 0x08, /* hex */
    HM_TRACE_PROTECT = 0x10, /* hex */
    HM_TRACE_HRESULT = 0x20,
    HM_TRACE_RESULT  = 0x40,
    HM_TRACE_DECIMAL = 0x80  /* flags and protect in decimal, always written (the Start row) */
};

/* One row. The parser sets method to its own copy of the name (static storage). */
typedef struct hm_trace_record {
    uint64_t    time_us;
    uint64_t    thread;
    const char *method;
    unsigned    present;      /* HM_TRACE_* above */
    uint32_t    level;
    uint64_t    address;
    uint64_t    size;
    uint64_t    flags;
    uint64_t    protect;
    uint32_t    hresult;
    uint64_t    result;
    uint64_t    committed;
    uint64_t    malloc_bytes;
} hm_trace_record;

/* --- writing ------------------------------------------------------------------------ */

/* Each returns the length written (without the NUL), or 0 when it does not fit in
   size bytes. A row is its time followed by its fields: the writer stamps the time
   under its lock, in front of fields formatted before taking it. */
size_t hm_trace_format_time(uint64_t time_us, char *buf, size_t size);
size_t hm_trace_format_fields(const hm_trace_record *row, char *buf, size_t size); /* ",thread,...,malloc\n" */
size_t hm_trace_format_row(const hm_trace_record *row, char *buf, size_t size);    /* "time_us,...,malloc\n" */

/* --- reading ------------------------------------------------------------------------ */

/* Longest line the reader takes, its '\n' included, is HM_TRACE_LINE_MAX - 2. */
#define HM_TRACE_LINE_MAX 4096

enum hm_trace_status {
    HM_TRACE_END        = 0,   /* the trace is complete and ends here */
    HM_TRACE_GOT_ROW    = 1,   /* *record holds the row */
    HM_TRACE_GOT_HEADER = 2,   /* the header line: no row */
    HM_TRACE_MALFORMED  = -1,  /* error: "LINE: what is wrong" */
    HM_TRACE_READ_FAILED = -2  /* error: "reading the trace failed" */
};

/* The state of reading one file, line after line; nothing in it needs freeing. */
typedef struct hm_trace_parser {
    unsigned long line;        /* 1-based number of the last line parsed */
    int           expect;      /* the header, the Start row or calls */
    uint64_t      last_time;   /* of the last row, for the time order */
    unsigned long last_line;
    char          error[256];  /* the message when a call returned < 0 */
    char          buffer[HM_TRACE_LINE_MAX];  /* hm_trace_read_row's line */
} hm_trace_parser;

void hm_trace_parser_init(hm_trace_parser *parser);

/* The next line of the file, without its '\n'; split in place at its commas. Returns
   HM_TRACE_GOT_HEADER, HM_TRACE_GOT_ROW or HM_TRACE_MALFORMED. */
int hm_trace_parse_line(hm_trace_parser *parser, char *line, hm_trace_record *record);

/* After the last line: HM_TRACE_END, or HM_TRACE_MALFORMED when the file stops
   before its header or its Start row. */
int hm_trace_parse_end(hm_trace_parser *parser);

/* Reads lines from in until a row (HM_TRACE_GOT_ROW), the end (HM_TRACE_END, after
   hm_trace_parse_end) or an error (HM_TRACE_MALFORMED, HM_TRACE_READ_FAILED). The
   header is checked and skipped. A last line without '\n' is a line. */
int hm_trace_read_row(hm_trace_parser *parser, FILE *in, hm_trace_record *record);

#ifdef __cplusplus
}
#endif

#endif /* HOSTMEM_TRACE_FORMAT_H */
