/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The pipeline every record goes through, whatever its source:
 *   record -> recording (-w) -> process table -> detector -> scope (-p)
 *   -> containment (live) and the observers (the outputs)
 */
#ifndef FT_PIPELINE_H
#define FT_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/container.h"
#include "core/detector.h"
#include "present/metrics.h"
#include "present/observer.h"
#include "present/output.h"
#include "contain/policy.h"
#include "core/stream.h"

struct pipeline_opts {
	uint32_t root_pid; /* -p: 0 for everything */
	uint32_t table_capacity;
	uint64_t grace_ns;
	const char *write_path; /* -w: NULL for none */
	bool no_detect;		/* trace only */
	struct det_config detect;
	/* a replay's --config/--set: they win over the recording's settings
	 * records (else a replay takes the settings the run had) */
	bool settings_fixed;
	struct policy_opts policy;
	const struct policy_ops *actuator; /* NULL: never act (replay) */
	/* live: alerts say when the nearest host limit is hit, read now
	 * and recorded; off (a replay): from the recording's LIMITS records */
	bool host_limits;
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
 * recording) as a SETTINGS record, and a run that can act its allow rules
 * as ALLOW records: at the start and after each SIGHUP. */
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

/*
 * Live processes of this real uid in the table, other than self_pid: how
 * many, and the pid of one of them when there is one.
 */
uint32_t pipeline_count_uid(const struct pipeline *p, uint32_t uid, uint32_t self_pid,
			    uint32_t *one_pid);

/* Live: a SIGHUP's outcome, for metrics. */
void pipeline_count_reload(struct pipeline *p, enum metrics_reload outcome);

/* Live: the state metrics report (walks the table for the top trees). */
void pipeline_sample(struct pipeline *p, uint64_t now_ns, struct metrics_sample *s);

/* The attribution of a cgroup, if the stream has one (NULL if not). */
const struct ft_container *pipeline_container(struct pipeline *p, uint64_t cgroup_id);

/*
 * The outputs (the lines, the live view, the report) are observers
 * (present/observer.h), called in the order they were added: at most four.
 * -1 if there is no room.  Unobserve: every observer with this ctx leaves.
 */
int pipeline_observe(struct pipeline *p, const struct observer *ob);
/* Never from inside an observer's callback (the delivery would skip one). */
void pipeline_unobserve(struct pipeline *p, const void *ctx);
/* The container attributions the stream has given so far (for presenters). */
struct ct_cache *pipeline_containers(struct pipeline *p);
/*
 * The lines (human or JSON) into f, as the next observer, with the stream's
 * container attributions: what a command-line run prints.  NULL if there is
 * no memory or no room; output_free it after pipeline_free.
 */
struct output *pipeline_add_lines(struct pipeline *p, FILE *f, enum out_format fmt,
				  const struct ft_run_info *info, const struct output_shows *shows);

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
