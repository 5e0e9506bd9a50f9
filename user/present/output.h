/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Outputs: aligned human lines or JSON Lines (schema: docs/json.md), the
 * end-of-run fork tree and the summary.
 */
#ifndef FT_OUTPUT_H
#define FT_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/container.h"
#include "core/detector.h"
#include "contain/policy.h"
#include "core/proctable.h"
#include "core/stream.h"
#include "present/observer.h"

enum out_format { OUT_HUMAN, OUT_JSON };


struct output;

struct output *output_new(FILE *f, enum out_format fmt, const struct ft_run_info *info);
void output_free(struct output *o);
/* Human output: one line per signal (else one ACTION line per tree). */
void output_set_verbose(struct output *o, bool verbose);
/* JSON: a line per signal (default), or only the tree's action line
 * (the agent's logs), which verbose overrides. */
void output_set_signal_lines(struct output *o, bool on);
/* Where processes run (pod, container), looked up by cgroup id. */
void output_set_containers(struct output *o, struct ct_cache *containers);

/* Which lines the run prints (the command line's choice). */
struct output_shows {
	bool alerts_only; /* --alerts: alerts, findings and actions only */
	bool agent;	  /* --agent: those, and OOM kills and losses */
	bool threads;	  /* -T: thread records too */
	bool tree;	  /* --tree: the fork tree at the end */
};

/*
 * The lines as an observer of the pipeline (present/observer.h): o prints
 * what shows asks for, from the start line to the tree and the summary.
 */
void output_observer(struct output *o, const struct output_shows *shows, struct observer *ob);

void output_start(struct output *o, const char *source, uint32_t self_pid);
/* One stream record; slot is its subject in t (PT_NONE if unknown);
 * oom: the victim's tree, for OOM records (else NULL). */
void output_record(struct output *o, const union ft_record *rec, const struct proctable *t,
		   int32_t slot, const struct det_oom_tree *oom);
/* root_cgroup: the root's cgroup id, for its attribution (0: unknown) */
void output_verdict(struct output *o, const struct det_verdict *v, uint64_t root_cgroup);
void output_policy(struct output *o, const struct policy_outcome *r);
void output_tree(struct output *o, const struct proctable *t, int32_t root, uint64_t ts_ns);
void output_summary(struct output *o, const struct ft_totals *tot, const struct proctable *t,
		    uint64_t ts_ns);
/* A warning line ("lost", "resync") that is not a stream record. */
void output_flush(struct output *o);

#endif /* FT_OUTPUT_H */
