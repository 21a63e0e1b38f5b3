/*
 * hostmem-replay --from TRACE: a recorded hostmem trace replayed against a fresh
 * hostmem under another configuration, to ask what a workload would have done
 * under another limit. replay.c hands the command line over when it sees --from.
 */
#ifndef HOSTMEM_REPLAY_FROM_H
#define HOSTMEM_REPLAY_FROM_H

/* The whole of hostmem-replay --from: returns the exit status (0 replayed, 2 usage,
   3 the trace is malformed or of another format, 1 anything else went wrong). */
int replay_from_main(int argc, char **argv);

/* The chart of a replay: recorded and replayed committed bytes against the recorded
   time, with both limits and the replayed failures. n points; times in microseconds.
   0 on success; otherwise errno's value and nothing left at path. */
int replay_from_write_chart(const char *path, const char *title, const unsigned long long *time_us,
                            const unsigned long long *recorded, const unsigned long long *replayed,
                            const unsigned char *failed, unsigned long n, unsigned long long recorded_limit,
                            unsigned long long replay_limit);

#endif /* HOSTMEM_REPLAY_FROM_H */
