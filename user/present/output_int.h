/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Inside the lines' output: what user/present/output.c (verdicts, policy
 * outcomes, trees, the summary) and user/present/record_view.c (one line
 * per record, both formats from one table) share.  Nothing outside
 * user/present/ includes it.
 */
#ifndef FT_OUTPUT_INT_H
#define FT_OUTPUT_INT_H

#include "present/json.h"
#include "present/output.h"

struct output {
	FILE *f;
	enum out_format fmt;
	struct ft_run_info info;
	bool verbose;
	bool signal_lines_off;	     /* JSON too: one action line per tree, unless verbose */
	struct ct_cache *containers; /* attribution by cgroup id; may be NULL */
	/* per flagged tree: children the kernel signalled at their fork,
	 * summed into the tree's ACTION line */
	uint32_t kernel_signalled[FT_MAX_TREES];
	struct output_shows shows; /* as an observer */
};

/* user/present/output.c */
const char *out_hhmmss(const struct output *o, uint64_t boot_ns, char *buf, size_t len);
const char *out_signal_name(int sig);
/* "EAGAIN" for -EAGAIN; "?" for what glibc does not name */
const char *out_errno_name(int32_t err);
/* a printable copy of an untrusted string for human output */
const char *out_printable(const char *s, size_t n, char *buf, size_t len);
/* JSON: where the cgroup is and, in a container, which (docs/json.md) */
void out_json_attribution(struct output *o, struct json_line *j, uint64_t cgroup_id);
/* human: " [namespace/pod/container]", or " [container 0123456789ab]" */
const char *out_human_attribution(struct output *o, uint64_t cgroup_id, char *buf, size_t len);
void out_json_header(struct output *o, struct json_line *j, const char *event, uint64_t ts,
		     uint32_t pid, const char *comm);

/* user/present/record_view.c: a record's line, if its type has one */
void out_record_line(struct output *o, const union ft_record *rec, const struct pt_entry *e,
		     const struct det_oom_tree *oom);

#endif /* FT_OUTPUT_INT_H */
