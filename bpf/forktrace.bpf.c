// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * forktrace kernel side: turn process lifecycle tracepoints into records in
 * one BPF ring buffer.
 *
 * Each hook has two entry points sharing one body: tp_btf (typed, cheapest,
 * 5.5+) and a fallback the loader picks when tp_btf is unavailable
 * (raw_tp for the sched hooks, the classic tracepoint for mark_victim,
 * whose record is readable with CO-RE).  The loader disables the losers
 * with bpf_program__set_autoload() before load.
 *
 * This object is observation only: records into the ring, and nothing a
 * fork pays for beyond them.  Containment (flagged trees' members, the
 * safety rules, the signal at fork) is a second object, contain.bpf.c,
 * which the loader loads and attaches only when something may have to be
 * stopped (--kill, --stop, --guard, the live view's first k or s).  What
 * both write records with is record.bpf.h; the benchmarks' --noop floors
 * are bench.bpf.h, compiled in the benchmark build only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "forktrace.h"
#include "compat.h"
#include "record.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Settings, written by the loader between skeleton open and load.  Being
 * rodata, the verifier sees them as constants and drops the code paths
 * they switch off (compat.h's exit_has_group_dead guards a read of an
 * argument older kernels do not have).
 */
const volatile bool emit_threads = false;
const volatile __u32 page_kb = 4;
/* CLOCK_TAI minus CLOCK_REALTIME (the kernel's leap-second offset), so
 * the one wall clock BPF can read compares with inode times: not rodata,
 * user space re-reads it as it polls (a time daemon may set it later) */
volatile __s64 tai_minus_real_ns = 0;

/*
 * Fork failures per process since its last record (ft_fork_fail): a bomb
 * at its cap fails forks as fast as it can retry, and one record per
 * failure would flood the ring the detector needs for the rest of the
 * host.  LRU: a process that stopped failing is forgotten first.
 */
struct fail_rate {
	__u64 last_ns; /* of its last record, 0 for none yet */
	__u32 pending; /* failures since, not yet in a record */
	__s32 err;     /* the last of them */
	__u32 call;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tgid */
	__type(value, struct fail_rate);
} fail_rates SEC(".maps");

/*
 * And at most FT_FAIL_BUDGET records per CPU per FT_FAIL_PERIOD_NS, however
 * many processes fail: more processes than fail_rates holds (a host at
 * pid_max) would otherwise each write one per failure.  Over budget, the
 * failure waits in its process's count for that process's next record.
 */
#define FT_FAIL_BUDGET 32
struct fail_budget {
	__u64 period_start;
	__u32 used;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fail_budget);
} fail_budgets SEC(".maps");

/*
 * The file t runs, as the kernel sees it (what /proc/PID/exe names): the
 * identity exe: rules are matched on, here and in user space.  A kernel
 * thread has no mm: ino stays 0 (unknown).
 */
static __always_inline void exe_of_file(struct ft_exe_key *k, struct file *f, const bool typed)
{
	struct inode *ino = RD(typed, f->f_inode, f, f_inode);

	if (!ino)
		return;
	k->ino = RD(typed, ino->i_ino, ino, i_ino);
	k->dev = RD(typed, ino->i_sb->s_dev, ino, i_sb, s_dev);
}

#include "bench.bpf.h"

/*
 * Time t's CPU cgroups spent throttled by their limits (CFS bandwidth:
 * cpu.max, cfs_quota_us), its own group and up to three above it, where a
 * pod's limit sits over its containers'.  A throttled thread stays
 * runnable and its wait counts in sched_info.run_delay: without this, a
 * watchdog that works under a tight limit between its forks would look
 * like one forking back to back on a busy host.  Summed over the groups'
 * CPUs, so it can exceed one thread's wait: user space caps it there.
 * Kernels without CONFIG_CGROUP_SCHED or CFS bandwidth say 0.
 */
static __always_inline __u64 cpu_limit_throttled_ns(struct task_struct *t)
{
	struct task_group *tg = NULL; /* typed for the field check only */
	__u64 sum = 0;

	if (!bpf_core_field_exists(t->sched_task_group) ||
	    !bpf_core_field_exists(tg->cfs_bandwidth.throttled_time))
		return 0;
	tg = BPF_CORE_READ(t, sched_task_group);
	for (int i = 0; i < 4 && tg; i++) {
		sum += BPF_CORE_READ(tg, cfs_bandwidth.throttled_time);
		tg = BPF_CORE_READ(tg, parent);
	}
	return sum;
}

static __always_inline int on_fork(struct task_struct *parent, struct task_struct *child,
				   const bool typed)
{
	bool thread = RD(typed, child->pid, child, pid) != RD(typed, child->tgid, child, tgid);
	bool milestone = false;
	struct ft_fork rec, *e = &rec;

	BENCH_FLOOR();
	/*
	 * Threads are always counted, emitted only with --threads, except
	 * when the process's thread count reaches a power of two from 16 on:
	 * those milestones let user space time a thread explosion's doublings
	 * for the price of a handful of records per process.  Threads created
	 * at once on several CPUs may all read the count after the others'
	 * increments, so "reaches" is "within 8 above" a power of two.
	 */
	if (thread) {
		stat_inc(FT_STAT_THREADS_STARTED);
		if (!emit_threads) {
			__u32 n = RD(typed, parent->signal->nr_threads, parent, signal, nr_threads);
			/* a power of two lies in (n - 8, n] iff n's top bit is not
			 * set in n - 8, i.e. n ^ (n - 8) exceeds n - 8 */
			if (n < 16 || (n ^ (n - 8)) <= n - 8)
				return 0;
			milestone = true;
		}
	}
	if (!in_filter_cgroup(child))
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	fill_header(&e->h, FT_EV_FORK, sizeof(*e), child, typed);
	if (thread)
		e->h.flags |= FT_F_THREAD | (milestone ? FT_F_MILESTONE : 0);
	/*
	 * A process that shares its parent's memory (vfork, posix_spawn's
	 * CLONE_VM|CLONE_VFORK) is a spawn in flight: its parent waits until
	 * it execs or exits.  CLONE_VFORK itself is not on the task yet
	 * (kernel_clone sets vfork_done after this tracepoint), the shared mm
	 * is.  User space must not take it for a copy that forks on its own.
	 * Kernel threads have no mm at all.
	 */
	else {
		struct mm_struct *cmm = RD(typed, child->mm, child, mm);

		if (cmm && cmm == RD(typed, parent->mm, parent, mm))
			e->h.flags |= FT_F_SHARED_VM;
	}
	/*
	 * Lineage is the forking process, not child->real_parent: with
	 * CLONE_PARENT (and for threads) those differ, and "who forked whom"
	 * is what tree detection needs.
	 */
	e->real_ppid = e->h.ppid;
	e->h.ppid = RD(typed, parent->tgid, parent, tgid);
	e->h.pstart_ns =
	    RD(typed, parent->group_leader->start_boottime, parent, group_leader, start_boottime);
	e->parent_tid = RD(typed, parent->pid, parent, pid);
	/* >1 at a plain fork means the child copied a multithreaded address space */
	e->parent_threads = RD(typed, parent->signal->nr_threads, parent, signal, nr_threads);
	/* running, and runnable but waiting (sched_info needs CONFIG_SCHED_INFO):
	 * a host's contention does not make a busy parent look idle */
	e->parent_run_ns = BPF_CORE_READ(parent, se.sum_exec_runtime);
	if (bpf_core_field_exists(parent->sched_info))
		e->parent_wait_ns = BPF_CORE_READ(parent, sched_info.run_delay);
	e->parent_throttled_ns = cpu_limit_throttled_ns(parent);
	/* the image the child runs until it execs, for exe: rules: user space
	 * then never stats /proc/PID/exe of a bomb's members (a FUSE mount
	 * may refuse it or never answer) */
	if (!thread) {
		struct mm_struct *mm = RD(typed, child->mm, child, mm);

		if (mm)
			exe_of_file(&e->exe, RD(typed, mm->exe_file, mm, exe_file), typed);
		e->exe.userns = BPF_CORE_READ(child, cred, user_ns, level);
	}
	emit(e, sizeof(*e), FT_EV_FORK, submit_flags(sizeof(*e)));
	return 0;
}

/*
 * Does this directory's link count tell whether it has subdirectories (2 +
 * one per subdirectory)?  On ext2/3/4, xfs and tmpfs it does; btrfs and
 * overlayfs always say 1, SMB without Unix extensions always 2, and a FUSE
 * daemon says what it likes: unknown there.
 */
static __always_inline bool counted_subdirs(struct inode *dir)
{
	unsigned long magic = BPF_CORE_READ(dir, i_sb, s_magic);

	return magic == 0xEF53 /* EXT4_SUPER_MAGIC */ || magic == 0x58465342 /* XFS */ ||
	       magic == 0x01021994 /* TMPFS_MAGIC */;
}

static __always_inline int on_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm,
				   const bool typed)
{
	struct ft_exec *e;

	BENCH_FLOOR();
	if (!in_filter_cgroup(p))
		return 0;
	/*
	 * Too big for the BPF stack: written in place.  Execs are rare next
	 * to forks, and a bomb that execs (recursive_spawn) is slowed by the
	 * exec itself far more than by the reserve-to-submit window.
	 */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(FT_STAT_LOST_BASE + FT_EV_EXEC);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	fill_header(&e->h, FT_EV_EXEC, sizeof(*e), p, typed);
	e->old_tid = old_pid;
	/*
	 * argv as the new program sees it, read here so alerts can show a
	 * command line without reading /proc/<pid>/cmdline later: that takes
	 * the process's mmap lock, which a forking bomb holds most of the time.
	 */
	{
		struct mm_struct *mm = RD(typed, p->mm, p, mm);
		unsigned long start = BPF_CORE_READ(mm, arg_start);
		unsigned long len = BPF_CORE_READ(mm, arg_end) - start;

		if (len > FT_ARGS_LEN)
			len = FT_ARGS_LEN;
		if (len && !bpf_probe_read_user(e->args, len, (void *)start))
			e->args_len = len;
	}
	/* a relative path (./bomb, python3 x.py) means something only with the
	 * directory it was run in; its inode is enough to compare two execs */
	struct dentry *cwd_dentry = BPF_CORE_READ(p, fs, pwd.dentry);
	struct inode *cwd = BPF_CORE_READ(cwd_dentry, d_inode);

	e->cwd_ino = BPF_CORE_READ(cwd, i_ino);
	/*
	 * How fresh that directory is: inode times are wall-clock, and BPF
	 * reads a wall clock only as TAI (bpf_ktime_get_tai_ns, 6.1); older
	 * kernels leave the age unknown, and so does a change time in the
	 * future (a clock stepped back, a file server's skew): such a
	 * directory is no evidence of anything new.  Its link count and
	 * parent only qualify a fresh directory, so they are read here too.
	 */
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_ktime_get_tai_ns)) {
		__u64 changed = inode_ctime_ns(cwd);
		__s64 age = (__s64)(bpf_ktime_get_tai_ns() - tai_minus_real_ns - changed);

		if (changed && age >= 0)
			e->cwd_age_ns = (__u64)age + 1;
		e->cwd_nlink = counted_subdirs(cwd) ? BPF_CORE_READ(cwd, i_nlink) : 0;
		e->cwd_parent_ino = BPF_CORE_READ(cwd_dentry, d_parent, d_inode, i_ino);
	}
	exe_of_file(&e->exe, RD(typed, bprm->file, bprm, file), typed);
	e->exe_size = BPF_CORE_READ(bprm, file, f_inode, i_size);
	e->exe.userns = BPF_CORE_READ(p, cred, user_ns, level);
	/* the path as passed to execve (may be relative), like execsnoop */
	if (bpf_probe_read_kernel_str(e->filename, sizeof(e->filename),
				      BPF_CORE_READ(bprm, filename)) < 0)
		e->filename[0] = '\0';
	bpf_ringbuf_submit(e, submit_flags(sizeof(*e)));
	return 0;
}

/*
 * Failures a process had counted but not yet said (fail_rates) are said as
 * it exits, else they would be lost with it: the last period's retries of
 * any process, and the only refusal of one that gave up at once (dash
 * exits on a failed fork) and came over budget.  Not budgeted (the point
 * is to lose no count): at most one record per exit, which writes one
 * anyway.  Its header is the exiting thread's, and its time the exit's.
 */
static __always_inline void flush_fork_fails(struct task_struct *p, const bool typed)
{
	__u32 tgid = RD(typed, p->tgid, p, tgid);
	struct ft_fork_fail rec;
	struct fail_rate *r;

	r = bpf_map_lookup_elem(&fail_rates, &tgid);
	if (!r)
		return;
	if (r->pending) {
		__builtin_memset(&rec, 0, sizeof(rec));
		fill_header(&rec.h, FT_EV_FORK_FAIL, sizeof(rec), p, typed);
		rec.err = r->err;
		rec.syscall = r->call;
		rec.count = r->pending;
		emit(&rec, sizeof(rec), FT_EV_FORK_FAIL, submit_flags(sizeof(rec)));
	}
	bpf_map_delete_elem(&fail_rates, &tgid);
}

static __always_inline int on_exit(struct task_struct *p, bool group_dead, const bool typed)
{
	struct ft_exit rec, *e = &rec;

	BENCH_FLOOR();
	/*
	 * A thread leaving a live process is a thread exit; the process
	 * exit is the last thread out, whichever thread that is.
	 */
	if (!group_dead) {
		stat_inc(FT_STAT_THREADS_EXITED);
		if (!emit_threads)
			return 0;
	}
	if (!in_filter_cgroup(p))
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	fill_header(&e->h, FT_EV_EXIT, sizeof(*e), p, typed);
	if (group_dead)
		e->h.flags |= FT_F_GROUP_DEAD;

	else
		e->h.flags |= FT_F_THREAD;
	/* do_exit() stores the wait status before the tracepoint fires */
	e->exit_code = RD(typed, p->exit_code, p, exit_code);
	e->nr_threads = RD(typed, p->signal->nr_threads, p, signal, nr_threads);
	emit(e, sizeof(*e), FT_EV_EXIT, submit_flags(sizeof(*e)));
	/* after the exit: on a ring with room for one, the exit is the one
	 * to keep (a lost exit makes the detector forget every zombie) */
	if (group_dead)
		flush_fork_fails(p, typed);
	return 0;
}

/* fork: current is the parent, and the child already exists */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork_btf, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(parent, child, true);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(fork_raw, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(parent, child, false);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, old_pid, bprm, true);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(exec_raw, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, old_pid, bprm, false);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_btf, struct task_struct *p)
{
	return on_exit(p, exit_group_dead(p, ctx), true);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(exit_raw, struct task_struct *p)
{
	return on_exit(p, exit_group_dead(p, ctx), false);
}

/*
 * sched_process_free: the task is freed once its parent reaped it (or at
 * exit, when nobody has to wait for it), an RCU grace period later.  Only
 * the group leader's: a process is a zombie until its leader is released.
 */
static __always_inline int on_free(struct task_struct *p, const bool typed)
{
	struct ft_reap rec;

	if (bench_noop() || RD(typed, p->pid, p, pid) != RD(typed, p->tgid, p, tgid))
		return 0;
	/* the task keeps its css_set until it is freed: --cgroup holds */
	if (!in_filter_cgroup(p))
		return 0;
	__builtin_memset(&rec, 0, sizeof(rec));
	fill_header(&rec.h, FT_EV_REAP, sizeof(rec), p, typed);
	emit(&rec, sizeof(rec), FT_EV_REAP, submit_flags(sizeof(rec)));
	return 0;
}

SEC("tp_btf/sched_process_free")
int BPF_PROG(free_btf, struct task_struct *p)
{
	return on_free(p, true);
}

SEC("raw_tp/sched_process_free")
int BPF_PROG(free_raw, struct task_struct *p)
{
	return on_free(p, false);
}

/*
 * The context of a syscalls:sys_exit_NAME tracepoint, as its format file
 * gives it (stable since syscall tracepoints exist): the common header,
 * the syscall number, the return value.  vmlinux.h has no type of its own
 * for it (trace_event_raw_sys_exit is raw_syscalls', with a long id).
 */
struct ft_sys_exit_ctx {
	__u64 common;
	int nr;
	long ret;
};

/* pids cgroup levels looked at above the caller's own (a pod's is a few
 * levels below the root: kubepods/burstable/pod.../container) */
#define FT_PIDS_LEVELS 8

/*
 * The limit of the caller's pids cgroup, or an ancestor's, that is full:
 * pids_can_fork() refused the fork at the first level whose counter would
 * pass its limit, and gave the charge back, so that level still holds its
 * limit's worth (unless a task left since: then 0, and the refusal counts
 * for less).  0 also on a kernel without the pids controller.
 */
static __always_inline __u32 full_pids_limit(struct task_struct *cur)
{
	struct cgroup_subsys_state *css;
	struct css_set *cgroups;
	int id;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, pids_cgrp_id))
		return 0;
	id = bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
	if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return 0;
	cgroups = BPF_CORE_READ(cur, cgroups);
	if (!cgroups || bpf_core_read(&css, sizeof(css), &cgroups->subsys[id]))
		return 0;
	for (int i = 0; i < FT_PIDS_LEVELS && css; i++) {
		struct pids_cgroup *pids = (void *)css; /* css is its first member */
		__s64 counter = 0, limit = 0;

		/* both atomic64_t: read as the 8 bytes they hold */
		if (bpf_core_read(&counter, sizeof(counter), &pids->counter) ||
		    bpf_core_read(&limit, sizeof(limit), &pids->limit))
			return 0;
		if (limit > 0 && limit <= 0x7fffffff && counter >= limit)
			return (__u32)limit;
		css = BPF_CORE_READ(css, parent);
	}
	return 0;
}

/*
 * A fork the kernel refused for want of room (syscalls:sys_exit_* with
 * -EAGAIN: pids.max, RLIMIT_NPROC, pid_max, threads-max; -ENOMEM).  Other
 * errors are no refusal: ENOSYS from a seccomp filter that hides clone3
 * (glibc falls back to clone), EINVAL or EPERM from a flag probe, the
 * ERESTART* codes of a fork a signal interrupted.  Rate-limited per
 * process (fail_rates) and per CPU (fail_budgets).
 */
static __always_inline int on_fork_fail(long ret, __u32 call)
{
	struct task_struct *cur;
	struct ft_fork_fail rec;
	struct fail_rate *r, fresh = {};
	struct fail_budget *b;
	__u32 tgid, zero = 0;
	__u64 now;

	if (bench_noop() || (ret != -11 && ret != -12)) /* -EAGAIN, -ENOMEM */
		return 0;
	cur = (struct task_struct *)bpf_get_current_task();
	if (!in_filter_cgroup(cur))
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	now = bpf_ktime_get_boot_ns();
	r = bpf_map_lookup_elem(&fail_rates, &tgid);
	/* last_ns may be ahead of now: another thread's, on another CPU */
	if (r && (now <= r->last_ns || now - r->last_ns < FT_FAIL_PERIOD_NS)) {
		__sync_fetch_and_add(&r->pending, 1);
		r->err = (__s32)ret;
		r->call = call;
		return 0;
	}
	b = bpf_map_lookup_elem(&fail_budgets, &zero);
	if (!b)
		return 0;
	/* a program preempted on this CPU may have stored a later start */
	if (now > b->period_start && now - b->period_start >= FT_FAIL_PERIOD_NS) {
		b->period_start = now;
		b->used = 0;
	}
	if (b->used >= FT_FAIL_BUDGET) {
		/* counted, to be said by this process's next record */
		if (r) {
			__sync_fetch_and_add(&r->pending, 1);
			r->err = (__s32)ret;
			r->call = call;
		} else {
			fresh.pending = 1;
			fresh.err = (__s32)ret;
			fresh.call = call;
			bpf_map_update_elem(&fail_rates, &tgid, &fresh, BPF_NOEXIST);
		}
		return 0;
	}
	b->used++;
	__builtin_memset(&rec, 0, sizeof(rec));
	fill_header(&rec.h, FT_EV_FORK_FAIL, sizeof(rec), cur, false);
	rec.err = (__s32)ret;
	rec.syscall = call;
	rec.count = 1 + (r ? r->pending : 0);
	rec.pids_limit = full_pids_limit(cur);
	fresh.last_ns = now;
	bpf_map_update_elem(&fail_rates, &tgid, &fresh, BPF_ANY);
	emit(&rec, sizeof(rec), FT_EV_FORK_FAIL, submit_flags(sizeof(rec)));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_clone")
int fail_clone(struct ft_sys_exit_ctx *ctx)
{
	return on_fork_fail(ctx->ret, FT_CALL_CLONE);
}

SEC("tracepoint/syscalls/sys_exit_clone3")
int fail_clone3(struct ft_sys_exit_ctx *ctx)
{
	return on_fork_fail(ctx->ret, FT_CALL_CLONE3);
}

SEC("tracepoint/syscalls/sys_exit_fork")
int fail_fork(struct ft_sys_exit_ctx *ctx)
{
	return on_fork_fail(ctx->ret, FT_CALL_FORK);
}

SEC("tracepoint/syscalls/sys_exit_vfork")
int fail_vfork(struct ft_sys_exit_ctx *ctx)
{
	return on_fork_fail(ctx->ret, FT_CALL_VFORK);
}

/*
 * mark_victim runs in the OOM killer's context (often another process, or
 * a kworker for memcg OOMs), so the victim comes from the arguments, never
 * from current.  Three forms; the loader keeps the one this kernel has.
 */
SEC("tp_btf/mark_victim")
int BPF_PROG(oom_task_btf, struct task_struct *victim, uid_t uid)
{
	struct ft_oom rec, *e = &rec;
	struct mm_struct *mm;

	__builtin_memset(e, 0, sizeof(*e));
	fill_header(&e->h, FT_EV_OOM, sizeof(*e), victim, true);
	e->h.uid = uid;
	e->h.flags |= FT_F_OOM_TASK | FT_F_OOM_SCORE;
	e->oom_score_adj = BPF_CORE_READ(victim, signal, oom_score_adj);
	mm = BPF_CORE_READ(victim, mm);
	if (mm) {
		e->total_vm_kb = BPF_CORE_READ(mm, total_vm) * page_kb;
		e->anon_rss_kb = mm_counter_pages(mm, FT_MM_ANONPAGES) * page_kb;
		e->file_rss_kb = mm_counter_pages(mm, FT_MM_FILEPAGES) * page_kb;
		e->shmem_rss_kb = mm_counter_pages(mm, FT_MM_SHMEMPAGES) * page_kb;
		e->h.flags |= FT_F_OOM_RSS;
	}
	emit(e, sizeof(*e), FT_EV_OOM, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* A victim known only by pid: user space finds the rest in its table. */
static __always_inline void oom_pid_only(struct ft_oom *e, int pid)
{
	__builtin_memset(e, 0, sizeof(*e));
	e->h.type = FT_EV_OOM;
	e->h.size = sizeof(*e);
	e->h.cpu = bpf_get_smp_processor_id();
	e->h.ts_ns = bpf_ktime_get_boot_ns();
	e->h.tgid = e->h.tid = pid;
}

/* pre-72ba14deb40a prototype: only the pid; user space fills the rest */
SEC("tp_btf/mark_victim")
int BPF_PROG(oom_pid_btf, int pid)
{
	struct ft_oom o;

	oom_pid_only(&o, pid);
	emit(&o, sizeof(o), FT_EV_OOM, BPF_RB_FORCE_WAKEUP);
	return 0;
}

SEC("tracepoint/oom/mark_victim")
int oom_classic(struct trace_event_raw_mark_victim *rec)
{
	struct ft_oom o;

	oom_pid_only(&o, BPF_CORE_READ(rec, pid));
	oom_fill_from_record(rec, &o, page_kb);
	emit(&o, sizeof(o), FT_EV_OOM, BPF_RB_FORCE_WAKEUP);
	return 0;
}
