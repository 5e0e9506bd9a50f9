/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The live event source: loads and attaches the BPF programs, drains the
 * ring buffer into a record callback and reads the kernel's loss counters.
 */
#ifndef FT_SOURCE_LIVE_H
#define FT_SOURCE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "live/cgroup.h"
#include "core/stream.h"

enum live_attach { LIVE_ATTACH_AUTO, LIVE_ATTACH_TP_BTF, LIVE_ATTACH_RAW_TP };

/* What the kernel must never signal (bpf/forktrace.h), loaded before attach;
 * contain/allow.c fills it from the allow rules. */
struct live_safety_rules {
	struct ft_member_key protect[128]; /* forktrace and its ancestors */
	uint32_t nprotect;
	struct ft_exe_key exes[FT_GUARD_MAX_RULES];
	uint32_t nexes;
	uint32_t uids[FT_GUARD_MAX_RULES];
	uint32_t nuids;
	struct ft_cgroup_key cgroups[FT_GUARD_MAX_RULES];
	uint32_t ncgroups;
	struct ft_unit_key units[FT_GUARD_MAX_RULES];
	uint32_t nunits;
	int32_t v1_subsys[FT_GUARD_MAX_V1]; /* -1: unused */
};

struct live_opts {
	bool threads;
	enum live_attach attach;
	const char *btf_path;		/* NULL: the running kernel's BTF */
	struct ft_cgroup_filter cgroup; /* id 0: no filter */
	uint32_t ring_bytes;
	uint32_t members_max; /* the kernel's members map (flagged trees' processes) */
	uint64_t wakeup_bytes;
	/* load the containment path (bpf/contain.bpf.c) at open: --kill,
	 * --stop, --guard; otherwise it is loaded at the first live_add_member
	 * or live_set_tree_signal (the live view's k and s), or never */
	bool load_containment;
	uint32_t guard_forks; /* in-kernel fork budget, 0: off */
	uint64_t guard_window_ns;
	uint32_t guard_sig;
	/* the rules containment loads with, copied at open; NULL: identity
	 * checks only */
	const struct live_safety_rules *safety;
	uint32_t noop;				/* benchmarks, enum ft_noop */
};

struct live_source;

/* Load and attach; fills info.  -1 with a one-line reason in err. */
int live_open(const struct live_opts *o, struct live_source **out, struct ft_run_info *info,
	      char *err, size_t errlen);
/*
 * Records one live_poll delivers at most.  However fast a neighbour makes
 * records, the caller's loop gets back between two budgets: its sweeps,
 * heartbeat and metrics are never starved by the reading (libbpf's consume
 * otherwise reads on for as long as records keep coming).
 */
#define LIVE_POLL_RECORDS 16384
/*
 * Deliver queued records to fn, waiting up to timeout_ms for the first;
 * returns records delivered (LIVE_POLL_RECORDS when the budget ran out:
 * more may wait) or -errno.
 */
int live_poll(struct live_source *s, int timeout_ms, ft_record_fn fn, void *ctx);
/* Cumulative kernel counters (enum ft_stat slots), summed over CPUs. */
int live_read_stats(struct live_source *s, uint64_t stats[FT_STAT_MAX]);
/*
 * Trace refused forks (the syscall exit tracepoints this kernel has) or
 * stop: returns how many are attached, -1 if one failed to attach.
 */
int live_trace_refusals(struct live_source *s, bool on);
/* One map lookup: 0, or -errno (what privs_drop measures CAP_BPF with). */
int live_probe_maps(void *s);
/*
 * Containment: put a process in flagged tree `tree`, and set the tree's
 * signal.  Either loads and attaches the containment object first if it
 * is not yet (once: a failed load fails every later call, -errno).
 */
int live_add_member(struct live_source *s, uint32_t tgid, uint64_t start_ticks, uint32_t tree);
int live_set_tree_signal(struct live_source *s, uint32_t tree, uint32_t sig);
/* Load and attach containment now, if not yet: 0, or -1 with the reason */
int live_arm_containment(struct live_source *s, char *err, size_t errlen);
/*
 * New allow rules (SIGHUP): the kernel's safety check follows them from
 * now on, loaded or when loaded on demand (forktrace and its ancestors
 * stay those of the start), sparing what either set spares meanwhile.
 * 0, or -1 with the reason: the kernel may then hold part of either set
 * until a re-read succeeds.
 */
int live_set_safety(struct live_source *s, const struct live_safety_rules *r, char *err,
		    size_t errlen);
/* Does the kernel hold allow rules to follow (containment, loaded or to be)? */
bool live_follows_rules(const struct live_source *s);
/* Why containment could not be loaded; NULL if it is, or was never tried */
const char *live_containment_error(const struct live_source *s);
/* How long its load on demand took (ns); -1 if it was loaded at open, or not at all */
int64_t live_containment_load_ns(const struct live_source *s);
void live_close(struct live_source *s);

#endif /* FT_SOURCE_LIVE_H */
