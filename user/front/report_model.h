/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What `forktrace report` gathers from a replay (user/front/report.c) and
 * writes out (user/front/report_render.c: the plot, the tree pictures,
 * HTML, JSON, folded stacks).  Private to the two.
 */
#ifndef FT_REPORT_MODEL_H
#define FT_REPORT_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "pipeline.h"

#define MAX_SAMPLES   600 /* points of the plot across the recording */
#define MAX_REGULAR   480 /* of which evenly spaced; the rest at alerts and actions */
#define MAX_SERIES    24  /* trees followed; the plot shows the top PLOT_TREES */
#define PLOT_TREES    6
#define MAX_NODES     1500 /* processes drawn per tree picture */
#define MAX_DEPTH     24
#define MAX_ALERTS    32
#define MAX_ACTIONS   64
#define MAX_OOMS      64
#define MAX_LOSSES    64
#define TOP_PER_STEP  16
#define MIN_INTERVAL  10000000ull /* 10 ms between samples at least */

/* One process of a tree picture, in pre-order. */
struct node {
	uint32_t pid;
	char comm[FT_COMM_LEN];
	uint16_t depth;
	bool alive;
	uint32_t members; /* processes in its subtree, itself included */
};

struct picture {
	struct node *nodes;
	uint32_t n, left_out; /* beyond MAX_NODES or MAX_DEPTH */
	uint64_t ts_ns;
};

/* A tree followed across the recording: its live tasks at each sample. */
struct series {
	uint32_t root;
	uint64_t start_ns, cgroup;
	char comm[FT_COMM_LEN];
	char cmd[FT_ARGS_LEN];
	uint32_t live[MAX_SAMPLES];
	uint32_t peak;
	bool flagged;
	enum det_pattern pattern;
	struct picture pic; /* at its peak */
};

struct alert {
	struct det_verdict v; /* the first report; strings copied below */
	char comm[FT_COMM_LEN], exe[FT_FILENAME_LEN], cmdline[FT_ARGS_LEN];
	char launcher_comm[FT_COMM_LEN], launcher_cmdline[FT_ARGS_LEN];
	uint64_t cgroup, end_ns;
	uint32_t peak, updates;
	bool ended;
	bool capture_due; /* the tree grew: picture it after this record */
	struct picture pic;
};

struct action {
	struct policy_outcome r;
	char comm[FT_COMM_LEN], why[160];
};

struct oom {
	uint64_t ts_ns;
	uint32_t pid;
	char comm[FT_COMM_LEN];
	uint64_t rss_kb;
	bool known, flagged, growing;
	uint32_t root, tasks;
	char root_comm[FT_COMM_LEN];
	enum det_pattern pattern;
};

struct loss {
	uint64_t ts_ns, count;
};

/* A set of allow rules the recording holds (ALLOW records). */
#define MAX_ALLOW_SHOWN 64
struct allow_set {
	uint32_t count;	 /* rules in the set */
	uint32_t nshown; /* of them, held here (the rest: count - nshown) */
	uint64_t ts_ns;	 /* when the set was written */
	char rules[MAX_ALLOW_SHOWN][FT_ALLOW_LEN];
};

struct report {
	const char *path;
	struct ft_run_info info;
	struct pipeline *p;
	uint64_t first_ns, last_ns, interval_ns, records;
	uint32_t nsamples, nregular;
	uint32_t total_live[MAX_SAMPLES];
	uint64_t sample_ns[MAX_SAMPLES];
	struct series series[MAX_SERIES];
	uint32_t nseries, series_dropped;
	struct alert alerts[MAX_ALERTS];
	uint32_t nalerts, alerts_dropped;
	uint32_t findings[DET_PATTERN_MAX];
	struct action actions[MAX_ACTIONS];
	uint32_t nactions, actions_dropped;
	uint64_t kernel_signals, kernel_guard;
	struct oom ooms[MAX_OOMS];
	uint32_t nooms, ooms_dropped;
	struct loss losses[MAX_LOSSES];
	uint32_t nlosses;
	uint64_t lost;
	/* the start's set (the kernel's copy too: SIGHUP changes user
	 * space's only) and the last one; sets: how many were recorded */
	struct allow_set allow_start, allow_last;
	uint32_t allow_sets;
	bool sample_due;  /* an alert or action: a point right after it */
	int32_t *scratch; /* pre-order slots, sized to the table */
	uint32_t *members;
	uint16_t *depth; /* per slot, in a capture */
	uint32_t cap;
};

/* The writers (user/front/report_render.c). */
void report_write_plot(FILE *f, const struct report *r, bool standalone);
void report_write_html(FILE *f, struct report *r);
int report_write_json(FILE *f, struct report *r);
void report_write_folded(FILE *f, const struct report *r);

#endif /* FT_REPORT_MODEL_H */
