/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The pipeline every record goes through, whatever its source:
 *   record -> recording (-w) -> process table -> detector -> scope (-p) -> output
 */
#ifndef FT_PIPELINE_H
#define FT_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/container.h"
#include "core/detector.h"
#include "present/metrics.h"
#include "present/output.h"
#include "contain/policy.h"
#include "core/stream.h"

struct pipeline_opts {
	FILE *out; /* the lines (human or JSON); NULL for none */
	enum out_format format;
	bool tree;
	uint32_t root_pid; /* -p: 0 for everything */
	uint32_t table_capacity;
	uint64_t grace_ns;
	const char *write_path; /* -w: NULL for none */
	bool show_threads;	/* -T: print thread records */
	bool alerts_only;	/* --alerts: print only alerts and findings */
	bool agent;		/* --agent: alerts, actions, OOM kills and losses */
	bool verbose;		/* -v: one line per signal in human output */
	bool no_detect;		/* trace only */
	struct det_config detect;
	/* a replay's --config/--set: they win over the recording's settings
	 * records (else a replay takes the settings the run had) */
	bool settings_fixed;
	struct policy_opts policy;
	const struct policy_ops *actuator; /* NULL: never act (replay) */
	bool host_limits;		   /* live: alerts say when the nearest host limit is hit */
	/* live: resolve each new cgroup on this node into a container record,
	 * and read host limits (pids.max, pids.events) in its cgroup mounts;
	 * NULL (replay): attribution comes from the stream's records */
	const struct ct_node *containers;
	uint32_t container_cache; /* cgroups remembered (0: default) */
	const char *proc_root;	  /* live: where /proc is read (NULL: /proc) */
};

struct pipeline;

/* -1 with a one-line reason in err */
int pipeline_new(const struct pipeline_opts *o, const struct ft_run_info *info,
		 struct pipeline **out, char *err, size_t errlen);
void pipeline_start(struct pipeline *p, const char *source, uint32_t self_pid);

/* ft_record_fn: non-zero stops the source (a write error; see pipeline_error) */
int pipeline_feed(void *p, const union ft_record *rec);

/* Live only: turn the kernel's cumulative counters into LOST records.
 * Returns true when new losses were found (the caller then re-syncs). */
bool pipeline_note_kernel_stats(struct pipeline *p, const uint64_t stats[FT_STAT_MAX],
				uint64_t now_ns);
/* Live only: the detector's settings into the stream (and so into the
 * recording) as a SETTINGS record: at the start and after each SIGHUP. */
void pipeline_note_settings(struct pipeline *p, uint64_t now_ns);
/* Live only: emit the kernel's final counters as a COUNTERS record. */
void pipeline_note_counters(struct pipeline *p, const uint64_t stats[FT_STAT_MAX], uint64_t now_ns);
/* Live only: reconcile the table with /proc (SNAPSHOT/GONE/RESYNC records). */
int pipeline_resync(struct pipeline *p, uint64_t now_ns);

/* Live only: sweep trees being acted on; true while any action runs. */
bool pipeline_tick(struct pipeline *p, uint64_t now_ns);

/* SIGHUP: new thresholds and allow rules (mode and patterns stay). */
void pipeline_reconfigure(struct pipeline *p, const struct det_config *detect,
			  const struct policy_opts *policy);

/* Live: the state metrics report (walks the table for the top trees). */
void pipeline_sample(struct pipeline *p, uint64_t now_ns, struct metrics_sample *s);

/* The attribution of a cgroup, if the stream has one (NULL if not). */
const struct ft_container *pipeline_container(struct pipeline *p, uint64_t cgroup_id);

/*
 * Further consumers of what the pipeline sees (the live view, the report):
 * every record after the table and detector took it (oom: the victim's
 * tree, for OOM records), every verdict in scope, every policy outcome
 * (live, or from a recording's policy records).  Any callback may be NULL.
 */
struct pipeline_observer {
	void (*record)(void *ctx, const union ft_record *rec, const struct det_oom_tree *oom);
	void (*verdict)(void *ctx, const struct det_verdict *v, uint64_t root_cgroup);
	void (*policy)(void *ctx, const struct policy_outcome *r);
	void *ctx;
};
void pipeline_observe(struct pipeline *p, const struct pipeline_observer *ob);

/* What the views read: the table, the totals so far, the top trees. */
const struct proctable *pipeline_table(const struct pipeline *p);
const struct ft_totals *pipeline_totals(const struct pipeline *p);
uint32_t pipeline_top_trees(struct pipeline *p, uint64_t now_ns, struct det_tree_info *out,
			    uint32_t max);

/*
 * Live, the operator's action on the tree rooted at (pid, start_ns): stop
 * or kill (flagging it first if no verdict did), or resume a stopped one.
 * Needs an actuator, whatever the mode.  -1 with a one-line reason in err.
 */
enum pipeline_action { PIPELINE_STOP, PIPELINE_KILL, PIPELINE_RESUME };
int pipeline_act(struct pipeline *p, uint32_t pid, uint64_t start_ns, enum pipeline_action act,
		 uint64_t now_ns, char *err, size_t errlen);

/*
 * Live, start recording to path (the processes running now go first, read
 * from /proc) or stop; one recording at a time.  -1 with a reason in err.
 */
int pipeline_record_start(struct pipeline *p, const char *path, uint64_t now_ns, char *err,
			  size_t errlen);
int pipeline_record_stop(struct pipeline *p, char *err, size_t errlen);
bool pipeline_recording(const struct pipeline *p);

/* Did -p name a process the stream has shown? */
bool pipeline_root_known(const struct pipeline *p);
/* The first error that stopped the pipeline, or NULL. */
const char *pipeline_error(const struct pipeline *p);

/* Print the tree (--tree) and summary, close the recording. */
int pipeline_finish(struct pipeline *p, uint64_t now_ns, char *err, size_t errlen);
void pipeline_free(struct pipeline *p);

#endif /* FT_PIPELINE_H */
