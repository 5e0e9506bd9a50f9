/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The record stream between the event sources (live ring buffer, /proc
 * scans, a recording) and the pipeline.  One record is one of the structs
 * in bpf/forktrace.h; its header says which.
 */
#ifndef FT_STREAM_H
#define FT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "forktrace.h"

union ft_record {
	struct ft_header h;
	struct ft_fork fork;
	struct ft_exec exec;
	struct ft_exit exit;
	struct ft_oom oom;
	struct ft_snapshot snapshot;
	struct ft_resync resync;
	struct ft_lost lost;
	struct ft_counters counters;
	struct ft_action action;
	struct ft_container container;
	struct ft_policy policy;
	struct ft_reap reap;
	struct ft_fork_fail fork_fail;
	struct ft_settings settings;
	struct ft_allow_rule allow;
	struct ft_limits limits;
};

/* What a run was: written first in a recording, printed in "start". */
struct ft_run_info {
	char kernel[65];	  /* uname -r of the traced host */
	char attach[4][16];	  /* attach mode per hook: fork, exec, exit, oom */
	__u64 realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME at start */
	__u64 start_ns;		  /* CLOCK_BOOTTIME when tracing started */
	__u32 ring_bytes;
	__u32 page_kb;
	char host[65]; /* uname -n; recordings before version 5 have none */
};

enum ft_hook { FT_HOOK_FORK, FT_HOOK_EXEC, FT_HOOK_EXIT, FT_HOOK_OOM, FT_HOOK_MAX };

/* Size a record of this type must have, or 0 for an unknown type. */
size_t ft_record_size(uint32_t type);

/* Short lower-case name of a record type ("fork", "exec", ...). */
const char *ft_type_name(uint32_t type);
/* "pids.max", "pid_max", "threads-max", "RLIMIT_NPROC"; "?" for another */
const char *ft_limit_name(uint32_t kind);

/*
 * A record whose size matched its type, from any source (ring buffer,
 * recording): terminates its strings and bounds its lengths in place;
 * false if its fields make no sense (a policy record of no known kind).
 */
bool ft_record_sane(union ft_record *rec);

/*
 * A record from the ring buffer, size bytes at data: copied into out (the
 * ring's pages are read-only and the kernel's to reuse) and made sane.
 * 1: a record; 0: a --noop=record probe, to drop; -1: not a record of
 * this build (a loader/BPF mismatch).
 */
int ft_record_decode(const void *data, size_t size, union ft_record *out);

/* Consumer of records; returns 0 to go on, non-zero to stop the source. */
typedef int (*ft_record_fn)(void *ctx, const union ft_record *rec);

#endif /* FT_STREAM_H */
