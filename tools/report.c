/*
 * hostmem-report: a hostmem trace (HOSTMEM_TRACE) as a self-contained SVG chart.
 *
 *   hostmem-report TRACE.csv OUT.svg [--title TEXT]
 *
 * Exit status: 0 written; 1 a file could not be read or written; 2 the trace is
 * malformed ("hostmem-report: FILE:LINE: what is wrong", nothing written);
 * 64 bad arguments. Portable C: builds natively as well as for Windows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace_chart.h"

#define EXIT_WRITTEN   0
#define EXIT_FILE      1
#define EXIT_MALFORMED 2
#define EXIT_USAGE     64

static const char usage_line[] = "usage: hostmem-report TRACE.csv OUT.svg [--title TEXT]\n";

static void print_help(void)
{
    fputs(usage_line, stdout);
    fputs("\n"
          "Draws a hostmem trace (written by hostmem.dll when HOSTMEM_TRACE=FILE is set) as an\n"
          "SVG: committed and IHostMalloc bytes over time against the commit limit and the\n"
          "high and low water marks, with lanes of markers for notifications (Low, Neutral,\n"
          "High), refusals (E_OUTOFMEMORY) per critical level and escalations (E_FAIL).\n"
          "TRACE.csv may be - for standard input, OUT.svg - for standard output.\n"
          "\n"
          "  --title TEXT   the chart's title (default: hostmem: TRACE.csv)\n"
          "\n"
          "Exit status:\n"
          "  0   the chart was written\n"
          "  1   a file could not be opened, read or written\n"
          "  2   the trace is malformed (FILE:LINE: what is wrong; nothing is written)\n"
          "  64  bad arguments\n",
          stdout);
}

static int usage_error(const char *message)
{
    fprintf(stderr, "hostmem-report: %s\n", message);
    fputs(usage_line, stderr);
    return EXIT_USAGE;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/'), *backslash = strrchr(path, '\\');

    if (backslash > slash)
        slash = backslash;
    return slash ? slash + 1 : path;
}

int main(int argc, char **argv)
{
    const char *paths[2] = { NULL, NULL }, *title = NULL;
    char default_title[300], error[512];
    FILE *trace, *svg;
    int i, n = 0, rc;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            print_help();
            return EXIT_WRITTEN;
        }
        if (!strcmp(argv[i], "--title")) {
            if (++i >= argc)
                return usage_error("--title needs a value");
            title = argv[i];
        } else if (!strncmp(argv[i], "--title=", 8)) {
            title = argv[i] + 8;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            char message[160];
            snprintf(message, sizeof(message), "unknown option \"%.100s\"", argv[i]);
            return usage_error(message);
        } else if (n < 2) {
            paths[n++] = argv[i];
        } else {
            return usage_error("too many arguments");
        }
    }
    if (n < 2)
        return usage_error("TRACE.csv and OUT.svg are required");
    if (!title) {
        snprintf(default_title, sizeof(default_title), "hostmem: %.280s",
                 strcmp(paths[0], "-") ? base_name(paths[0]) : "trace");
        title = default_title;
    }

    /* Binary: the trace's line ends are '\n' and the SVG keeps them. */
    trace = strcmp(paths[0], "-") ? fopen(paths[0], "rb") : stdin;
    if (!trace) {
        fprintf(stderr, "hostmem-report: cannot open %s: %s\n", paths[0], strerror(errno));
        return EXIT_FILE;
    }
    if (!strcmp(paths[1], "-")) {
        rc = hm_write_chart_svg(trace, stdout, title, error, sizeof(error));
    } else {
        /* Through OUT.svg.tmp, so that a failure never leaves half a chart nor
           destroys the chart already there. */
        size_t len = strlen(paths[1]);
        char *temp = malloc(len + 5);
        if (!temp) {
            fprintf(stderr, "hostmem-report: out of memory\n");
            return EXIT_FILE;
        }
        memcpy(temp, paths[1], len);
        memcpy(temp + len, ".tmp", 5);
        svg = fopen(temp, "wb");
        if (!svg) {
            fprintf(stderr, "hostmem-report: cannot create %s: %s\n", temp, strerror(errno));
            free(temp);
            return EXIT_FILE;
        }
        rc = hm_write_chart_svg(trace, svg, title, error, sizeof(error));
        if (fclose(svg) && !rc) {
            snprintf(error, sizeof(error), "writing %s failed", temp);
            rc = HM_CHART_IO_ERROR;
        }
        if (!rc) {
            remove(paths[1]);   /* rename does not replace a file on Windows */
            if (rename(temp, paths[1])) {
                snprintf(error, sizeof(error), "cannot rename %s to %s: %s", temp, paths[1], strerror(errno));
                rc = HM_CHART_IO_ERROR;
            }
        }
        if (rc)
            remove(temp);
        free(temp);
    }
    if (trace != stdin)
        fclose(trace);
    if (rc == HM_CHART_BAD_TRACE) {
        fprintf(stderr, "hostmem-report: %s:%s\n", paths[0], error);
        return EXIT_MALFORMED;
    }
    if (rc) {
        fprintf(stderr, "hostmem-report: %s\n", error);
        return EXIT_FILE;
    }
    return EXIT_WRITTEN;
}
