/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel-difference shims for both BPF objects (forktrace.bpf.c and
 * contain.bpf.c), all in one place.
 *
 * vmlinux.h comes from one recent kernel; the struct flavours below
 * (name___suffix, which libbpf matches against the running kernel with the
 * suffix stripped) describe older layouts.  Each one names the kernel change
 * it covers.  Nothing here compares kernel versions: every choice is a CO-RE
 * existence check resolved at load time, or a rodata flag that the loader
 * set from a BTF lookup (user/live/source_live.c).
 */
#ifndef FORKTRACE_COMPAT_H
#define FORKTRACE_COMPAT_H

/*
 * mm rss counters.  Linux 6.2 (f1a7941243c1, "mm: convert mm's rss stats
 * into percpu_counter") replaced struct mm_rss_stat { atomic_long_t
 * count[NR_MM_COUNTERS]; } with an array of percpu_counter.  The
 * percpu_counter's central count is what get_mm_counter() reports too
 * (it never sums the per-CPU deltas), so both paths give the kernel's view.
 */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

/* enum mm_counter_type order has been stable since 4.x */
#define FT_MM_FILEPAGES	 0
#define FT_MM_ANONPAGES	 1
#define FT_MM_SHMEMPAGES 3

static __always_inline long mm_counter_pages(struct mm_struct *mm, int member)
{
	if (bpf_core_type_exists(struct mm_rss_stat___pre62)) {
		struct mm_struct___pre62 *old = (void *)mm;

		return BPF_CORE_READ(old, rss_stat.count[member].counter);
	}
	return BPF_CORE_READ(mm, rss_stat[member].count);
}

/*
 * oom/mark_victim's classic-tracepoint record (the fallback when tp_btf is
 * missing).  Before 72ba14deb40a (6.9, backported to the 5.4, 5.15, 6.1 and
 * 6.6 stable trees) the record held only the pid; rss, uid and
 * oom_score_adj exist only after it, so each is read only if the running
 * kernel's record has it.  pid is the first field in both layouts.
 */
static __always_inline void oom_fill_from_record(struct trace_event_raw_mark_victim *rec,
						 struct ft_oom *e, __u32 page_kb)
{
	if (bpf_core_field_exists(rec->anon_rss)) {
		/* the record already holds kB: the kernel scaled it */
		e->total_vm_kb = BPF_CORE_READ(rec, total_vm);
		e->anon_rss_kb = BPF_CORE_READ(rec, anon_rss);
		e->file_rss_kb = BPF_CORE_READ(rec, file_rss);
		e->shmem_rss_kb = BPF_CORE_READ(rec, shmem_rss);
		e->h.flags |= FT_F_OOM_RSS;
	}
	if (bpf_core_field_exists(rec->oom_score_adj)) {
		e->oom_score_adj = BPF_CORE_READ(rec, oom_score_adj);
		e->h.flags |= FT_F_OOM_SCORE;
	}
	if (bpf_core_field_exists(rec->uid))
		e->h.uid = BPF_CORE_READ(rec, uid);
}

/*
 * sched_process_exit gained its bool group_dead argument in 6.16
 * (3e816361e94a) and moved before exit_mm().  Without it, the thread that
 * finds signal->live at zero is the last one out: do_exit() decrements live
 * before the tracepoint on every kernel that lacks the argument.  Two
 * threads exiting at once can both see zero, so user space treats a second
 * group-dead exit of the same identity as a duplicate.  The loader tells
 * the program which form the kernel has via rodata (exit_has_group_dead),
 * counted from the btf_trace_sched_process_exit typedef.
 */
const volatile bool exit_has_group_dead = false;

/* ctx[1] (group_dead) is read only when the loader found the two-argument
 * prototype; the constant-false branch is never verified, so the same
 * object loads on kernels with the one-argument form. */
static __always_inline bool exit_group_dead(struct task_struct *p, unsigned long long *ctx)
{
	if (exit_has_group_dead)
		return ctx[1] & 1;
	return BPF_CORE_READ(p, signal, live.counter) == 0;
}

/*
 * kernfs_node.parent became __parent in 6.15; forktrace
 * walks cgroup ancestry through css.parent instead, which never moved, so no
 * shim is needed there.  task_struct.start_boottime was real_start_time
 * before 5.5, but the BPF ring buffer needs 5.8, so every kernel forktrace
 * can run on has the new name.
 */

/*
 * An inode's ctime (last change), in ns of CLOCK_REALTIME.  Linux 6.6
 * (13bc24457850, "fs: rename i_ctime field to __i_ctime") renamed the
 * timespec64; 6.11 (3aa63a569c64, "fs: switch timespec64 fields in inode
 * to discrete integers") split it into i_ctime_sec and i_ctime_nsec, whose
 * top bit multigrain timestamps (6.13) use as a flag: masked off.
 */
struct inode___pre66 {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

struct inode___pre611 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

static __always_inline __u64 inode_ctime_ns(struct inode *inode)
{
	__s64 sec;
	__u64 nsec;

	if (bpf_core_field_exists(inode->i_ctime_sec)) {
		sec = BPF_CORE_READ(inode, i_ctime_sec);
		nsec = BPF_CORE_READ(inode, i_ctime_nsec) & 0x3fffffff;
	} else if (bpf_core_field_exists(((struct inode___pre611 *)inode)->__i_ctime)) {
		struct inode___pre611 *old = (void *)inode;

		sec = BPF_CORE_READ(old, __i_ctime.tv_sec);
		nsec = BPF_CORE_READ(old, __i_ctime.tv_nsec);
	} else {
		struct inode___pre66 *old = (void *)inode;

		sec = BPF_CORE_READ(old, i_ctime.tv_sec);
		nsec = BPF_CORE_READ(old, i_ctime.tv_nsec);
	}
	return sec > 0 ? (__u64)sec * 1000000000ull + nsec : 0;
}

/*
 * signal_struct.flags bit that copy_process() sets on a pid namespace's
 * init (include/linux/sched/signal.h): a macro, so not in vmlinux.h.
 */
#define FT_SIGNAL_UNKILLABLE 0x00000040

#endif /* FORKTRACE_COMPAT_H */
