/*
 * The chart of hostmem-replay --from: two committed lines over the recorded time (the
 * recording's and the replay's), the two limits as dashed lines, and a tick under the
 * time axis for each call the replay saw fail. Plain SVG, self-contained, portable C.
 */
#include "replay_from.h"

#include <errno.h>
#include <stdio.h>

#define WIDTH  900
#define HEIGHT 420
#define LEFT   80
#define RIGHT  20
#define TOP    40
#define BOTTOM 60

static double x_of(unsigned long long t, unsigned long long t_max)
{
    return LEFT + (double)(WIDTH - LEFT - RIGHT) * (t_max ? (double)t / (double)t_max : 0);
}

static double y_of(unsigned long long bytes, unsigned long long y_max)
{
    return HEIGHT - BOTTOM - (double)(HEIGHT - TOP - BOTTOM) * (double)bytes / (double)y_max;
}

/* A step line (the books hold their value until the next call), at most a few points
   per pixel column: each column draws its lowest and highest value and ends at its
   last, so a trace of a million calls stays a small file and loses no peak. */
static void polyline(FILE *svg, const unsigned long long *time_us, const unsigned long long *bytes, unsigned long n,
                     unsigned long long t_max, unsigned long long y_max, const char *colour)
{
    unsigned long i = 0;
    unsigned long long previous = 0;

    fprintf(svg, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%.1f,%.1f", colour,
            x_of(0, t_max), y_of(0, y_max));
    while (i < n) {
        long column = (long)x_of(time_us[i], t_max);
        unsigned long long low = previous, high = previous, last = previous;
        double x = x_of(time_us[i], t_max);

        for (; i < n && (long)x_of(time_us[i], t_max) == column; i++) {
            low = bytes[i] < low ? bytes[i] : low;
            high = bytes[i] > high ? bytes[i] : high;
            last = bytes[i];
        }
        fprintf(svg, " %.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f", x, y_of(previous, y_max), x, y_of(low, y_max), x,
                y_of(high, y_max), x, y_of(last, y_max));
        previous = last;
    }
    fprintf(svg, "\"/>\n");
}

static void limit_line(FILE *svg, unsigned long long limit, unsigned long long y_max, const char *colour,
                       const char *label)
{
    if (!limit)
        return;
    fprintf(svg, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"6,4\"/>\n", LEFT,
            WIDTH - RIGHT, y_of(limit, y_max), y_of(limit, y_max), colour);
    fprintf(svg, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"%s\" text-anchor=\"end\">%s %.0f MiB</text>\n",
            WIDTH - RIGHT - 4, y_of(limit, y_max) - 4, colour, label, (double)limit / 1048576.0);
}

int replay_from_write_chart(const char *path, const char *title, const unsigned long long *time_us,
                            const unsigned long long *recorded, const unsigned long long *replayed,
                            const unsigned char *failed, unsigned long n, unsigned long long recorded_limit,
                            unsigned long long replay_limit)
{
    unsigned long long t_max = 1, y_max = 1;
    unsigned long i;
    int tick, error = 0;
    FILE *svg = fopen(path, "w");

    if (!svg)
        return errno ? errno : EIO;
    for (i = 0; i < n; i++) {
        if (time_us[i] > t_max)
            t_max = time_us[i];
        if (recorded[i] > y_max)
            y_max = recorded[i];
        if (replayed[i] > y_max)
            y_max = replayed[i];
    }
    if (recorded_limit > y_max)
        y_max = recorded_limit;
    if (replay_limit > y_max)
        y_max = replay_limit;
    y_max += y_max / 10;

    fprintf(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\">\n",
            WIDTH, HEIGHT);
    fprintf(svg, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(svg, "<text x=\"%d\" y=\"22\" font-size=\"15\">", LEFT);
    for (; title && *title; title++) /* the title is a file name: escape what XML needs */
        fprintf(svg, *title == '<' ? "&lt;" : *title == '&' ? "&amp;" : "%c", *title);
    fprintf(svg, "</text>\n");
    fprintf(svg, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", LEFT, HEIGHT - BOTTOM,
            WIDTH - RIGHT, HEIGHT - BOTTOM);
    fprintf(svg, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", LEFT, TOP, LEFT, HEIGHT - BOTTOM);
    for (tick = 0; tick <= 4; tick++) {
        unsigned long long bytes = y_max / 4 * (unsigned long long)tick;
        unsigned long long t = t_max / 4 * (unsigned long long)tick;
        fprintf(svg, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.0f MiB</text>\n", LEFT - 6,
                y_of(bytes, y_max) + 4, (double)bytes / 1048576.0);
        fprintf(svg, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%.2f s</text>\n",
                x_of(t, t_max), HEIGHT - BOTTOM + 16, (double)t / 1e6);
    }
    limit_line(svg, recorded_limit, y_max, "#1f77b4", "recorded limit");
    limit_line(svg, replay_limit, y_max, "#d62728", "replay limit");
    polyline(svg, time_us, recorded, n, t_max, y_max, "#1f77b4");
    polyline(svg, time_us, replayed, n, t_max, y_max, "#ff7f0e");
    for (i = 0, tick = -1; i < n; i++) /* one tick per pixel column that saw a failure */
        if (failed[i] && (int)x_of(time_us[i], t_max) != tick) {
            tick = (int)x_of(time_us[i], t_max);
            fprintf(svg, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#d62728\"/>\n", tick, tick,
                    HEIGHT - BOTTOM + 22, HEIGHT - BOTTOM + 32);
        }
    fprintf(svg, "<text x=\"%d\" y=\"%d\" font-size=\"12\"><tspan fill=\"#1f77b4\">&#9644; recorded committed</tspan>"
                 "  <tspan fill=\"#ff7f0e\">&#9644; replayed committed</tspan>"
                 "  <tspan fill=\"#d62728\">| replayed failure</tspan></text>\n", LEFT, HEIGHT - 10);
    fprintf(svg, "</svg>\n");
    if (ferror(svg))
        error = EIO;
    if (fclose(svg) && !error)
        error = EIO;
    if (error)
        remove(path);
    return error;
}
