// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A tree's profile: its copies (processes running the program of their
 * nearest ancestor that does, user/core/progid.h), their generations, who
 * forks and who only runs other programs, and the pace of the births;
 * then the rules on it: is the tree a runaway, and which pattern is it
 * (docs/detection.md).  user/core/detector.c decides when to look.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/det_int.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Does c run a's program?  Unknown programs: only a fork without exec.
 * By kin (user/core/progid.h), a copied binary, a moved script or new -c text
 * is the same program still; unknown kin falls back to the program.
 */
bool det_same_program(const struct pt_entry *c, const struct pt_entry *a, bool kin)
{
	if (kin && c->prog.kin && a->prog.kin) {
		/*
		 * One file under two names is no copy: a multi-call binary
		 * (busybox), or an interpreter binfmt_misc runs for every
		 * foreign binary (qemu-user in an emulated build), whose exec
		 * the kernel reports as that one interpreter's.  A copied
		 * binary is a new file of the same size.
		 */
		if (c->prog.kind == PROG_EXE && a->prog.kind == PROG_EXE && c->exe.ino &&
		    c->exe.ino == a->exe.ino && c->exe.dev == a->exe.dev &&
		    strcmp(prog_base_name(c->filename), prog_base_name(a->filename)))
			return false;
		return c->prog.kin == a->prog.kin;
	}
	if (!c->prog.hash || !a->prog.hash)
		return !c->exec_seen && !c->prog.hash && !a->prog.hash;
	return c->prog.hash == a->prog.hash;
}

/*
 * c's nearest ancestor running c's program, through at most DET_COPY_HOPS
 * processes of other programs (sh -c, env, timeout, make's recipe shell),
 * not above `top` (PT_NONE: no bound).  PT_NONE if there is none.
 *
 * By kin, only an ancestor born at most DET_KIN_GAP windows before c: kin
 * are loose (every sh -c is kin of every other), and a bomb's copies start
 * their kin as soon as they run, while an entrypoint's or a CI runner's
 * shell started long before the job shells below it.  Without the bound
 * a -c bomb in one job would make the container's entrypoint its root.
 */
/* When a process began: its fork, or its start for one seen only in a snapshot. */
uint64_t det_born_of(const struct pt_entry *e)
{
	return e->born_ns ? e->born_ns : e->start_ns;
}

int32_t det_copy_ancestor(const struct proctable *t, int32_t c, int32_t top, bool kin,
			     uint64_t window)
{
	const struct pt_entry *ce = pt_get(t, c);
	uint64_t c_born = det_born_of(ce);
	int32_t a = ce->parent;

	for (int hop = 0; a != PT_NONE && hop <= DET_COPY_HOPS; hop++) {
		const struct pt_entry *ae = pt_get(t, a);

		if (ae->key.tgid == 1 || ae->kthread)
			return PT_NONE;
		if (det_same_program(ce, ae, kin)) {
			uint64_t a_born = det_born_of(ae);

			if (kin && a_born + DET_KIN_GAP * window < c_born)
				return PT_NONE;
			return a;
		}
		if (a == top)
			return PT_NONE;
		a = ae->parent;
	}
	return PT_NONE;
}

/*
 * Is copy c established?  A fresh fork of a program that starts other
 * programs (make, a shell running commands) is about to exec one: it is not
 * a copy until it shows it is (it exec'd the same program, forked, or
 * stayed without exec past exec_grace).  A fork of a program that never
 * starts other programs (a C bomb) is a copy at once.  A child sharing its
 * parent's memory (vfork, posix_spawn) is about to exec, whatever its
 * parent is: make spawns sub-makes, so make is never a spawner by the rule
 * above, and a -j build's sub-makes in flight would count as forks.
 */
static bool established(struct detector *d, const struct proctable *t, int32_t c, int32_t anc,
			uint64_t now)
{
	const struct pt_entry *e = pt_get(t, c);
	const struct det_proc *ap = det_proc_state(d, t, anc);
	uint64_t born = det_born_of(e);

	if (e->exec_seen || e->first_child != PT_NONE)
		return true;
	/* a vfork or posix_spawn child cannot branch: its parent waits for
	 * its exec, however long a loaded host makes that (a clone(CLONE_VM)
	 * bomb's newest copies count once they fork: a generation later) */
	if (e->shared_vm)
		return false;
	if (!ap->spawner)
		return true;
	return e->state == PT_ALIVE && born + d->c.exec_grace_ns <= now;
}

/*
 * Did a copy at a shallower generation of this profile run e's very
 * command (argv and directory)?  Remembers e's at generation gen.  A
 * runner's jobs differ in their arguments, a build's steps in their
 * directories; a script that starts `self --shard 0` and `self --shard 1`,
 * each of which starts both again, repeats its parent's command or its
 * parent's sibling's, generation after generation.
 */
static bool command_repeats(struct detector *d, const struct pt_entry *e, uint8_t gen)
{
	uint64_t stamp = d->profiles + 1;
	uint32_t h = (uint32_t)(e->command ^ (e->command >> 32));

	/* an argv cut short is compared with its parent's only, as before:
	 * commands alike in the bytes the record carries may differ after
	 * them (a JVM's classpath) */
	if (!e->command || !e->cwd_ino || strnlen(e->cmdline, FT_ARGS_LEN) >= FT_ARGS_LEN - 1)
		return false;
	for (uint32_t probe = 0; probe < 8; probe++) {
		struct seen_command *sc = &d->seen_commands[(h + probe) & (SEEN_COMMANDS - 1)];

		if (sc->stamp != stamp) {
			*sc = (struct seen_command){ e->command, stamp, gen };
			return false;
		}
		if (sc->command == e->command) {
			if (gen < sc->gen)
				sc->gen = gen;
			return sc->gen < gen;
		}
	}
	return false;
}

static bool exec_replication(const struct profile *pr)
{
	return pr->exec_edges > pr->fork_edges;
}

/*
 * A copy that tried to fork a copy of its own and was refused by a full
 * pids.max its tree fills: a bomb that filled its cgroup before it was
 * looked at (a C bomb under a low cap can do so in two generations) keeps
 * trying, and each refused fork is the next generation it was denied.
 * Only what cannot be another tree's doing, or a refused job:
 *  - a pids.max (pid_max, threads-max, RLIMIT_NPROC are 0 here: a
 *    neighbour that used the host's room up must not add a generation);
 *  - held three quarters by this tree's live members in the refused
 *    copies' cgroup (not by others sharing the limit; a harness's small
 *    per-test cgroup is not filled by the harness around it);
 *  - a binary's copies that fork without exec (a shell's subshell or an
 *    interpreter's pool worker at its cap was starting a command; exec'd
 *    copies and kin are builds' shapes), refused at fork, clone or clone3
 *    (a vfork is an exec to be), that never started another program;
 *  - copies refused under two parents at least, in one generation.
 * Counts them into pr->refused_per_gen; called once the edges are known.
 */
static void count_denied(struct detector *d, const struct proctable *t, uint32_t n,
			 struct profile *pr, uint64_t now)
{
	uint64_t cgroup = 0;
	uint32_t limit = 0, held = 0;
	int32_t first_parent[DET_MAX_GEN];
	bool two_parents[DET_MAX_GEN] = { false };

	if (exec_replication(pr) || pr->by_kin ||
	    pt_get(t, d->order[0])->prog.kind != PROG_EXE)
		return;
	for (uint32_t g = 0; g < DET_MAX_GEN; g++)
		first_parent[g] = PT_NONE;
	/* the cgroup and limit of the first refused copy, and its members */
	for (uint32_t k = 1; k < n && !limit; k++)
		if (d->is_copy[d->order[k]] && det_proc_state(d, t, d->order[k])->own_refused_limit) {
			limit = det_proc_state(d, t, d->order[k])->own_refused_limit;
			cgroup = pt_get(t, d->order[k])->cgroup_id;
		}
	if (!limit)
		return;
	for (uint32_t k = 0; k < n; k++)
		held += pt_get(t, d->order[k])->state == PT_ALIVE &&
			pt_get(t, d->order[k])->cgroup_id == cgroup;
	if ((uint64_t)held * 4 < (uint64_t)limit * 3)
		return;
	for (uint32_t k = 1; k < n; k++) {
		int32_t i = d->order[k];
		const struct pt_entry *e = pt_get(t, i);
		const struct det_proc *p = det_proc_state(d, t, i);
		uint8_t g = d->gen[i];

		if (!d->is_copy[i] || d->forker[i] || e->state != PT_ALIVE ||
		    e->cgroup_id != cgroup || p->own_refused_limit != limit ||
		    p->own_refused_ns + d->c.window_ns < now || p->spawner)
			continue;
		pr->refused_per_gen[g]++;
		if (first_parent[g] == PT_NONE)
			first_parent[g] = e->parent;
		two_parents[g] |= first_parent[g] != e->parent;
	}
	for (uint32_t g = 0; g < DET_MAX_GEN; g++) {
		if (!two_parents[g])
			pr->refused_per_gen[g] = 0;
		pr->refused_copies += pr->refused_per_gen[g];
	}
}

/*
 * Did copy c exec in a place made for it after copy a began its program?  A
 * directory inside a's, changed since (made, or given an entry), with no
 * subdirectory, its script in it: a script that makes a directory, copies
 * itself in and runs the copy there.  A build's recursing build.sh
 * runs among the subdirectories it recurses into, there before the build
 * began, whatever was written into them since (a log, a configure step's
 * output); an out-of-tree build makes a bare directory for each step but
 * runs the source tree's script there; packages that build their siblings
 * first (cd ../dep) step sideways; a script that works in its own
 * directory stays where it is.  Only filesystems whose links count
 * subdirectories show a bare one (counted_subdirs in the BPF program).
 */
static bool made_for_it(const struct pt_entry *c, const struct pt_entry *a)
{
	uint64_t began = a->exec_ns ? a->exec_ns : det_born_of(a);

	return c->prog.in_cwd && c->cwd_changed_ns && c->cwd_nlink == 2 && c->cwd_ino &&
	       c->cwd_ino != a->cwd_ino && c->cwd_parent_ino == a->cwd_ino &&
	       c->cwd_changed_ns > began;
}

/*
 * One pass over the subtree of x: copies of x's program and their copy
 * generations, the processes of other programs, live population, births,
 * forkers, and the median age of live copies (a population growing
 * exponentially doubles about once per median age).
 */
void det_profile(struct detector *d, const struct proctable *t, int32_t x, uint64_t now,
		    struct profile *pr)
{
	uint32_t n, nages = 0;
	uint64_t first_recent_birth = now;
	bool flagged_root = det_alert_of(d, det_proc_state(d, t, x)) != NULL;

	memset(pr, 0, sizeof(*pr));
	pr->doubling_ms = -1;
	pr->by_kin = d->by_kin;
	pr->script = pt_get(t, x)->prog.kind == PROG_SCRIPT;
	pr->exe_root = pt_get(t, x)->prog.kind == PROG_EXE;
	{
		const struct pt_entry *xe = pt_get(t, x);
		pr->root_age_ns = now > det_born_of(xe) ? now - det_born_of(xe) : 0;
	}
	/* a flagged tree below is accounted for by its own alert: it must not
	 * make its launcher look like a runaway */
	n = det_walk_subtree(d, t, x, !flagged_root);
	for (uint32_t k = 0; k < n; k++) {
		int32_t i = d->order[k], a;

		d->forker[i] = 0;
		d->branches[i] = 0;
		d->growing[i] = 0;
		d->idle[i] = 0;
		d->growth_start[i] = 0;
		d->leads[i] = 0;
		d->sub_live[i] = 0;
		if (!k) {
			d->is_copy[i] = 1;
			d->gen[i] = 0;
			d->copy_of[i] = PT_NONE;
			continue;
		}
		a = det_copy_ancestor(t, i, x, d->by_kin, d->c.window_ns);
		d->copy_of[i] = a;
		d->is_copy[i] = a != PT_NONE && d->is_copy[a];
		d->gen[i] = d->is_copy[i] ? (uint8_t)(d->gen[a] + 1 < DET_MAX_GEN ? d->gen[a] + 1
										  : DET_MAX_GEN - 1)
					  : 0;
	}
	/* children after parents: sum live copies upwards, mark what leads to a copy */
	for (uint32_t k = n; k-- > 0;) {
		int32_t i = d->order[k], parent = pt_get(t, i)->parent;

		if (d->is_copy[i]) {
			d->sub_live[i] += pt_get(t, i)->state == PT_ALIVE;
			d->leads[i] = 1;
		}
		if (k) {
			d->sub_live[parent] += d->sub_live[i];
			d->leads[parent] |= d->leads[i];
		}
	}
	for (uint32_t k = 0; k < n; k++) {
		int32_t i = d->order[k], a = d->copy_of[i];
		const struct pt_entry *e = pt_get(t, i);
		uint64_t born = det_born_of(e);
		bool alive = e->state == PT_ALIVE, repeats;

		pr->members++;
		pr->live += alive;
		if (e->born_ns && e->born_ns + d->c.window_ns >= now)
			pr->births_window++;
		if (e->born_ns && e->born_ns + 1000000000ull >= now) {
			pr->births_1s++;
			if (e->born_ns < first_recent_birth)
				first_recent_birth = e->born_ns;
		}
		if (!d->is_copy[i]) {
			/* other programs: the work a build or a test runner does */
			pr->other += !d->leads[i];
			continue;
		}
		pr->copies++;
		if (alive) {
			pr->live_copies++;
			pr->live_per_gen[d->gen[i]]++;
			if (d->gen[i] + 1u > pr->ngen)
				pr->ngen = d->gen[i] + 1u;
			d->ages[nages++] = now > born ? now - born : 0;
		}
		repeats = e->exec_seen && !pr->by_kin && command_repeats(d, e, d->gen[i]);
		if (!k || !established(d, t, i, a, now))
			continue;
		pr->direct_edges += e->parent == a;
		if (e->exec_seen) {
			const struct pt_entry *ae = pt_get(t, a);

			pr->exec_edges++;
			/* the copy above's command, or one run higher up */
			pr->clone_edges += !pr->by_kin && e->cwd_ino &&
					   ((e->command && e->command == ae->command) || repeats);
		} else {
			pr->fork_edges++;
		}
		if (d->sub_live[i]) {
			d->forker[a] = 1;
			/* a branch of the runaway has live copies below the copy,
			 * or is a copy just made: a pre-fork master's long-idle
			 * workers are not branches, a C bomb's newest children are */
			d->branches[a] += d->sub_live[i] > (uint32_t)alive ||
					  (alive && born + d->c.window_ns >= now);
			if (d->sub_live[i] > (uint32_t)alive) {
				const struct det_proc *ip = det_proc_state(d, t, i);

				d->growing[a]++;
				/* when the runaway below a began: its first fork */
				if (ip->first_fork_ns && (!d->growth_start[a] ||
							  ip->first_fork_ns < d->growth_start[a]))
					d->growth_start[a] = ip->first_fork_ns;
			}
		}
	}
	/* the forking copies' places (the leaves' say nothing: a build's
	 * last level is as bare as a bomb's newest) */
	for (uint32_t k = 1; k < n; k++) {
		int32_t i = d->order[k];
		const struct pt_entry *e = pt_get(t, i);

		if (!d->is_copy[i] || !d->forker[i] || !e->exec_seen)
			continue;
		pr->forker_execs++;
		pr->fresh_forkers += made_for_it(e, pt_get(t, d->copy_of[i]));
	}
	count_denied(d, t, n, pr, now);
	pr->root_branches = d->branches[x];
	for (uint32_t k = 0; k < n; k++) {
		int32_t i = d->order[k];
		const struct det_proc *p;
		enum det_rhythm rhythm;

		if (!d->forker[i])
			continue;
		p = det_proc_state(d, t, i);
		pr->forkers_per_gen[d->gen[i]]++;
		pr->wide_gen1 += d->gen[i] == 1 && d->branches[i] >= FANOUT_BRANCHES;
		pr->forkers++;
		pr->live_forkers += pt_get(t, i)->state == PT_ALIVE;
		pr->mt_forkers += p->mt_fork;
		/* judged once its rhythm shows: a burst then quiet, or not */
		rhythm = det_fork_rhythm(p->nforks, p->first_fork_ns, p->last_fork_ns, now);
		pr->settled += rhythm != DET_RHYTHM_UNDECIDED;
		pr->bursts += rhythm == DET_RHYTHM_BURST;
		pr->forks_by_forkers += p->nforks;
		pr->most_forks = p->nforks > pr->most_forks ? p->nforks : pr->most_forks;
	}
	d->profiles++;
	d->profiled_nodes += n;
	if (nages) {
		qsort(d->ages, nages, sizeof(*d->ages), cmp_u64);
		pr->doubling_ms = (double)d->ages[nages / 2] / 1e6;
	}
	/*
	 * Idle copies: workers waiting for work since well before the runaway
	 * beside them began (a pre-fork master's pool: alive, not forking,
	 * nothing below, born at least four doublings of the runaway, and
	 * the window, before its first fork).  A bomb's own stuck copies (the
	 * seed's deadlocked children) are born as it grows, within a doubling
	 * or two of it: no pool.
	 */
	{
		uint64_t margin = d->c.window_ns, began = 0;
		double runaway_ms = pr->doubling_ms;
		uint32_t young = 0;

		/*
		 * The runaway's own pace: the median age of the live copies
		 * born since its first fork.  The whole tree's median counts
		 * the very workers in question: a young master's 8 workers,
		 * 4 s old, beside a bomb first looked at with 8 copies, made
		 * the median 4 s, the margin 16 s, and the master the root.
		 */
		for (uint32_t k = 0; k < n; k++) {
			uint64_t gs = d->growth_start[d->order[k]];

			if (gs && (!began || gs < began))
				began = gs;
		}
		for (uint32_t k = 0; began && k < n; k++) {
			int32_t i = d->order[k];
			const struct pt_entry *e = pt_get(t, i);
			uint64_t born = det_born_of(e);

			if (d->is_copy[i] && e->state == PT_ALIVE && born >= began)
				d->ages[young++] = now > born ? now - born : 0;
		}
		if (young) {
			qsort(d->ages, young, sizeof(*d->ages), cmp_u64);
			runaway_ms = (double)d->ages[young / 2] / 1e6;
		}
		if (det_doublings_ns(runaway_ms, 4) > margin)
			margin = det_doublings_ns(runaway_ms, 4);
		for (uint32_t k = 1; k < n; k++) {
			int32_t i = d->order[k], a = d->copy_of[i];
			const struct pt_entry *e = pt_get(t, i);
			uint64_t born = det_born_of(e);

			if (!d->is_copy[i] || a == PT_NONE || !d->growth_start[a] ||
			    e->state != PT_ALIVE || d->sub_live[i] != 1)
				continue;
			d->idle[a] += d->growth_start[a] > margin &&
				      born < d->growth_start[a] - margin &&
				      !det_forked_recently(d, t, i, now);
		}
	}
	/* a rate over the last second, or over the tree's life if younger */
	pr->births_per_s =
	    pr->births_1s * 1e9 /
	    (double)(now - first_recent_birth > 1000000 ? now - first_recent_birth : 1000000);
	while (pr->generations < DET_MAX_GEN && (pr->forkers_per_gen[pr->generations] ||
						 pr->refused_per_gen[pr->generations]))
		pr->generations++;
}

/*
 * A binary's fork-only copies fanning out two generations at once: a root
 * born within the window started many copies, and two of them or more each
 * started several copies of their own, their children many; nothing else
 * ran in the tree, and it all happened within a fraction of the window.
 * A C bomb's third generation can come late: its root and first copies
 * fork twenty times each before the scheduler runs a grandchild, so three
 * generations of forkers took up to 80 tasks where the fan-out shows at
 * ~24.  Pools fork one level (a master's workers), or are interpreters; a
 * worker that starts one helper is no fan-out; exec'd or kin copies are
 * other shapes, with their own bars.  A long-lived master (an application
 * server embedding an interpreter, whose workers open pools of their own;
 * a container's PID 1 seen only by a snapshot) is no young root: its
 * workers' pools wait for the third generation, as before.  One generation
 * below min_generations; fanout_min_tasks 0 turns it off.
 */
bool det_fans_out(const struct detector *d, const struct profile *pr)
{
	return d->c.fanout_min_tasks && pr->exe_root && !pr->by_kin && !pr->exec_edges &&
	       !pr->other && !pr->bursts &&
	       pr->generations + 1 >= d->c.min_generations && pr->root_age_ns <= d->c.window_ns &&
	       pr->root_branches >= 2 * FANOUT_BRANCHES &&
	       pr->wide_gen1 >= 2 && pr->live_per_gen[2] >= FANOUT_GEN2 &&
	       pr->live_copies >= d->c.fanout_min_tasks && pr->live_copies >= d->c.min_tasks &&
	       pr->doubling_ms >= 0 && pr->doubling_ms * 1e6 * 8 <= (double)d->c.window_ns;
}

/*
 * A runaway: copies forking copies for enough consecutive generations (more
 * when each copy is a new exec, as recursive builds are), enough live
 * copies, still doubling (the median copy is young), and the copies doing
 * little but copy themselves: a build's or a test suite's processes mostly
 * run other programs (compilers, tests), a bomb's run nothing else.
 */
bool det_is_runaway(const struct detector *d, const struct profile *pr)
{
	uint32_t need = exec_replication(pr) ? d->c.min_generations_exec : d->c.min_generations;
	uint32_t tasks = d->c.min_tasks;
	bool busy = (uint64_t)pr->other * 100 > (uint64_t)pr->copies * d->c.max_other_pct;

	if (det_fans_out(d, pr))
		return true;
	/*
	 * Kin are looser than copies (any -c text of one interpreter, any
	 * binary of one size): they must replicate as deep as exec'd copies
	 * do and branch as they go (as many forkers as a binary tree that
	 * deep has above its last level: a build's nested steps, run one
	 * directory at a time, are a chain).  Work by other programs raises
	 * the bar below, as for copies: a veto would let a bomb that runs a
	 * few commands per copy grow unflagged.
	 */
	if (pr->by_kin) {
		need = d->c.min_generations_exec;
		/*
		 * Kin that only start their kin, themselves (3 edges in 4 with
		 * no program of another kind between them), and branch (twice
		 * as many forkers as generations, however lopsided): a binary
		 * that runs two of its own copies, -c text that runs two new
		 * texts.  They need only the clones' depth.  A build's `sh -c`
		 * steps are kin through make or a driver between them, or do
		 * work (compilers, tests); a chain of steps, each leaving a
		 * helper beside the next, is one forker a generation: they keep
		 * the exec bar.  So do scripts of one name: a build whose
		 * build.sh starts each subdirectory's build.sh in the background
		 * starts its kin itself, branching, before any work.  Unless
		 * the places are the tree's own: at least half the forking
		 * copies exec'd in a place made for them (made_for_it).
		 */
		bool fresh_places = pr->fresh_forkers * 2 >= pr->forker_execs && pr->forker_execs;

		if (!busy && (!pr->script || fresh_places) && d->c.min_generations_clone < need &&
		    pr->direct_edges * 4 >= (pr->exec_edges + pr->fork_edges) * 3 &&
		    pr->forkers >= 2 * pr->generations)
			need = d->c.min_generations_clone;
		if (pr->forkers < (need < 32 ? 1u << (need - 1) : UINT32_MAX))
			return false;
	}
	/*
	 * Clones: copies that exec'd the very command line of the copy above
	 * them, in the same directory.  A build recurses into other
	 * directories (make -C sub, cd sub && make) and a test runner gives
	 * each child other arguments; a command that runs itself again,
	 * unchanged, where it is, ends only at the host's limits.  Most exec
	 * edges clones, and branching (a binary tree's forkers that deep):
	 * min_generations_clone is enough.
	 */
	else if (exec_replication(pr) && pr->clone_edges * 4 >= pr->exec_edges * 3 &&
		 d->c.min_generations_clone < need &&
		 pr->forkers >= 1u << (d->c.min_generations_clone - 1))
		need = d->c.min_generations_clone;
	/* work by other programs raises the bar (two more generations, four
	 * times the copies), it never vetoes: a bomb that runs a few commands
	 * per copy is still a bomb */
	if (busy) {
		need += 2;
		tasks *= 4;
	}
	return pr->generations >= need && pr->live_copies >= tasks && pr->doubling_ms >= 0 &&
	       pr->doubling_ms * 1e6 <= (double)d->c.max_doubling_ns;
}

enum det_pattern det_name_runaway(const struct profile *pr)
{
	/* each generation exec'd the program again: a script re-invoking itself */
	if (exec_replication(pr))
		return DET_RECURSIVE_SPAWN;
	/*
	 * Pools: forkers that started their workers in one burst and then
	 * stopped, staying alive to wait on them, from multithreaded parents
	 * (a pool's manager threads) or not.  A bomb's forkers keep forking
	 * (the C and the slow bomb) or die after forking (the shell bomb).
	 * And every pool forker starts as many workers as the next, while a
	 * bomb's oldest forker has forked the most: on a CPU-starved host a C
	 * bomb's forkers fork in bursts too (one per time slice), but the
	 * root's count runs ahead of the mean: past half as much again (twice
	 * let a starved bomb of multithreaded forkers be named a pool:
	 * test_detect_starved_c_bomb_is_no_pool).
	 */
	bool even = 2 * (uint64_t)pr->most_forks * pr->forkers <= 3 * pr->forks_by_forkers;

	if (even && pr->settled >= 2 && pr->bursts * 4 >= pr->settled * 3 &&
	    pr->live_forkers * 4 >= pr->forkers * 3)
		return DET_NESTED_POOL;
	if (even && pr->settled && pr->mt_forkers * 2 >= pr->forkers &&
	    pr->bursts * 2 >= pr->settled)
		return DET_NESTED_POOL;
	return DET_FORK_BOMB;
}
