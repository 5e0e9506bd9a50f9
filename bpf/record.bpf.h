/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What both BPF objects write records with: the ring buffer and the loss
 * counters, the --cgroup filter, the record header.  forktrace.bpf.c (the
 * observation programs, always loaded) and contain.bpf.c (containment,
 * loaded only when something is to be stopped) each include it; the loader
 * gives the second object the first one's `events` and `stats` maps
 * (bpf_map__reuse_fd), so both write into one ring and one set of counters,
 * and sets both objects' copies of the settings below alike.
 */
#ifndef FT_RECORD_BPF_H
#define FT_RECORD_BPF_H

#define PF_KTHREAD 0x00200000

/* Settings (rodata: the verifier drops what they switch off), set by the
 * loader between skeleton open and load, the same in both objects. */
const volatile __u64 filter_cgroup_id = 0;	/* 0: trace every cgroup */
const volatile __s32 filter_cgroup_subsys = -1; /* -1: cgroup2; else v1 subsys id */
/* wake the reader only when this much is queued; it polls for the rest */
const volatile __u64 wakeup_bytes = 0;

/*
 * The loader always sizes it before load (--ring-mb, --ring-kb; 8 MiB by
 * default): enough to ride out a bomb at the fork ceiling while the reader
 * is descheduled (docs/performance.md has what a size holds).
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

/*
 * Per-CPU counters (enum ft_stat): failed reserves per event type, threads
 * counted but not emitted.  Per-CPU so the hot path never contends; user
 * space sums the CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FT_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");


static __always_inline void stat_inc(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &slot);

	if (v)
		*v += 1;
}

static __always_inline __u64 submit_flags(__u32 size)
{
	__u64 queued;

	if (!wakeup_bytes)
		return 0; /* libbpf default: wake a caught-up reader */
	/*
	 * Waking the reader for every record costs more than the record at
	 * fork-bomb rates; batch wakeups and let the reader's poll timeout
	 * collect a trickle.  Wake only on the record that crosses the
	 * threshold: until the woken reader has drained the ring, every later
	 * record would queue another wakeup (an irq_work, a self-IPI), and
	 * the exit hook's time is on the critical path of a vfork parent.
	 * A crossing missed because the reader consumed concurrently is
	 * caught by the next crossing or by the reader's poll timeout.
	 */
	queued = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (queued < wakeup_bytes && queued + size + BPF_RINGBUF_HDR_SZ >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/*
 * Records are built on the stack and copied in with bpf_ringbuf_output,
 * not written in place between reserve and submit.  A reserved record
 * blocks the reader until it is submitted, and BPF programs run with
 * preemption enabled on preemptible kernels: a forking task preempted
 * between the two, one of thousands of runnable bomb processes, could hold
 * every later record back for as long as it waits for a CPU.  The copy
 * (under 350 bytes) shrinks that window to the helper's own memcpy.  A
 * failed write counts as a loss of its type.
 */
static __always_inline void emit(void *rec, __u32 size, __u16 type, __u64 flags)
{
	if (bpf_ringbuf_output(&events, rec, size, flags))
		stat_inc(FT_STAT_LOST_BASE + type);
}

/*
 * Is the task inside the --cgroup filter (that cgroup or below)?  Walk css
 * parents: css.parent has kept its name and meaning across every kernel
 * with BPF ring buffers, and a bounded walk of 32 levels covers any real
 * hierarchy.  On hybrid hosts the filter may name a v1 hierarchy, whose
 * css we reach through cgroups->subsys[id].
 */
static __always_inline bool filter_cgroup_match(struct task_struct *t)
{
	struct cgroup_subsys_state *css;
	struct css_set *cset;

	if (!filter_cgroup_id)
		return true;
	cset = BPF_CORE_READ(t, cgroups);
	if (filter_cgroup_subsys >= 0) {
		if (bpf_core_read(&css, sizeof(css), &cset->subsys[filter_cgroup_subsys & 63]))
			return false;
	} else {
		struct cgroup *dfl = BPF_CORE_READ(cset, dfl_cgrp);

		css = &dfl->self;
	}
	for (int i = 0; i < 32 && css; i++) {
		if (BPF_CORE_READ(css, cgroup, kn, id) == filter_cgroup_id)
			return true;
		css = BPF_CORE_READ(css, parent);
	}
	return false;
}

/* The observation programs' check: what they leave out is counted once,
 * by them (the containment programs test the same filter, uncounted). */
static __always_inline bool in_filter_cgroup(struct task_struct *t)
{
	if (filter_cgroup_match(t))
		return true;
	stat_inc(FT_STAT_FILTERED);
	return false;
}

/*
 * Reading task fields.  tp_btf hands the program typed pointers that the
 * verifier lets it dereference directly (a plain load, faults caught);
 * raw_tp hands it untyped numbers that must go through
 * bpf_probe_read_kernel, one helper call (~30 ns) per field.  Each handler
 * body is inlined into both entry points with `typed` a compile-time
 * constant, so each keeps only its own kind of read: on the fork+exit path
 * this is the difference between ~1.7 us and a few hundred ns per process.
 */
#define RD(typed, direct, ...) ((typed) ? (direct) : BPF_CORE_READ(__VA_ARGS__))

/*
 * Common record header for subject task t.  Identity is the group leader's
 * start time: every thread of a process shares it, and with the tgid it
 * survives pid reuse (a reused pid starts later).
 */
static __always_inline void fill_header(struct ft_header *h, __u16 type, __u16 size,
					struct task_struct *t, const bool typed)
{
	struct task_struct *parent = RD(typed, t->real_parent, t, real_parent);

	h->type = type;
	h->flags = 0;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
	/* boot time clock: same clock as start_boottime, survives suspend */
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->tgid = RD(typed, t->tgid, t, tgid);
	h->tid = RD(typed, t->pid, t, pid);
	h->start_ns = RD(typed, t->group_leader->start_boottime, t, group_leader, start_boottime);
	h->ppid = RD(typed, parent->tgid, parent, tgid);
	h->pstart_ns =
	    RD(typed, parent->group_leader->start_boottime, parent, group_leader, start_boottime);
	h->uid = RD(typed, t->cred->uid.val, t, cred, uid.val);
	h->cgroup_id = RD(typed, t->cgroups->dfl_cgrp->kn->id, t, cgroups, dfl_cgrp, kn, id);
	if (typed)
		__builtin_memcpy(h->comm, t->comm, sizeof(h->comm));
	else
		BPF_CORE_READ_STR_INTO(&h->comm, t, comm);
	if (RD(typed, t->flags, t, flags) & PF_KTHREAD)
		h->flags |= FT_F_KTHREAD;
}

#endif /* FT_RECORD_BPF_H */
