// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detector's decision rules that stand on their own: pure functions of
 * their arguments, each with its own unit tests (tests/unit/test_units.c),
 * used by the detector (user/core/detector.c) and the pipeline's live half
 * (user/pipeline_live.c, the host limits).
 */
#include <math.h>
#include <stdint.h>
#include "core/detector.h"

#define POOL_BURST_NS   10000000ull  /* the least quiet that makes forks a burst */
#define POOL_SPREAD_NS  50000000ull  /* a burst on a host with CPU to spare */
#define POOL_STRETCH_NS 250000000ull /* the longest burst: a loaded host's pool start */

bool det_forked_back_to_back(const struct det_busy *from, const struct det_busy *to)
{
	uint64_t wall, run, wait, throttled;

	if (!from->run_ns || !to->run_ns || to->at_ns <= from->at_ns ||
	    to->run_ns < from->run_ns || to->wait_ns < from->wait_ns ||
	    to->throttled_ns < from->throttled_ns || to->forks <= from->forks)
		return false;
	wall = to->at_ns - from->at_ns;
	run = to->run_ns - from->run_ns;
	wait = to->wait_ns - from->wait_ns;
	throttled = to->throttled_ns - from->throttled_ns;
	/* the groups' throttled time is summed over their CPUs and members:
	 * at most all of this thread's wait */
	wait -= throttled < wait ? throttled : wait;
	if (run / (to->forks - from->forks) > DET_FORK_CPU_NS)
		return false;
	/*
	 * What is neither is asleep: a leaking watchdog sleeps its period
	 * between forks however loaded the host is.  Three quarters rounded
	 * up; no sum that a crafted recording could wrap.
	 */
	return run >= wall - wall / 4 || wait >= wall - wall / 4 - run;
}

enum det_rhythm det_fork_rhythm(uint32_t nforks, uint64_t first_ns, uint64_t last_ns, uint64_t now)
{
	uint64_t spread = last_ns - first_ns, quiet = now - last_ns;

	if (!nforks || last_ns < first_ns || now < last_ns)
		return DET_RHYTHM_UNDECIDED;
	if (nforks >= 2 && spread <= POOL_STRETCH_NS) {
		/*
		 * A burst is one once the quiet after it is twice as long.  A
		 * loaded host stretches a pool's start (a worker forked, the
		 * forker off the CPU for a time slice or three, the next one):
		 * a longer burst needs a quiet four times as long, which a
		 * forker at a steady pace (the slow bomb, every 100-200 ms)
		 * never keeps.
		 */
		uint64_t need = spread <= POOL_SPREAD_NS ? 2 * spread : 4 * spread;

		if (quiet >= POOL_BURST_NS && quiet >= need)
			return DET_RHYTHM_BURST;
		return DET_RHYTHM_UNDECIDED;
	}
	/* forks too far apart for a burst, or one fork older than a burst
	 * on a host with CPU to spare (a loaded one puts a time slice or
	 * more between a pool's first two workers) */
	return now - first_ns > POOL_SPREAD_NS ? DET_RHYTHM_STEADY : DET_RHYTHM_UNDECIDED;
}

uint32_t det_choose_root(const struct det_root_candidate *chain, uint32_t n)
{
	uint32_t i = 0;

	if (!n)
		return 0; /* no candidate: none chosen (n) */
	while (i + 1 < n &&
	       (chain[i].interactive ||
		(chain[i].alive && !chain[i].forking && chain[i].live_branches <= 1) ||
		/* a pre-fork master: idle workers beside the branch that runs
		 * away, however recently it forked (a tenant can make it
		 * respawn a worker by crashing one) */
		(chain[i].alive && chain[i].idle_branches &&
		 chain[i].idle_branches >= chain[i].growing_branches)))
		i++;
	/* an interactive shell is a launcher, never a root */
	return chain[i].interactive ? n : i;
}

bool det_privilege_boundary(uint32_t anc_uid, uint64_t anc_cgroup, uint32_t copy_uid,
			    uint64_t copy_cgroup)
{
	/* a cgroup2 id of 0 or 1 (the root) says nothing: pure cgroup v1,
	 * or a hybrid host whose unified hierarchy is unused */
	return anc_uid == 0 && copy_uid != 0 && (anc_cgroup != copy_cgroup || copy_cgroup <= 1);
}

double det_seconds_to_limit_linear(double per_minute, uint64_t limit, uint64_t used)
{
	if (!(per_minute > 0))
		return -1;
	if (used >= limit)
		return 0;
	return (double)(limit - used) * 60.0 / per_minute;
}

double det_seconds_to_limit(uint32_t tasks, double doubling_ms, uint64_t limit, uint64_t used)
{
	if (doubling_ms <= 0 || !tasks)
		return -1;
	if (used >= limit)
		return 0;
	return doubling_ms / 1e3 * log2(1.0 + (double)(limit - used) / (double)tasks);
}

void det_apply_limits(struct det_verdict *v, const struct ft_limits *l)
{
	if (l->flags & FT_LIM_PIDS_EVENTS) {
		v->pids_events_read = true;
		v->pids_events_max = l->pids_events_max;
	}
	if (v->doubling_ms <= 0 && !(v->per_minute > 0))
		return;
	for (uint32_t i = 0; i < l->n && i < FT_LIMITS_MAX; i++) {
		uint64_t limit = l->lim[i].limit, used = l->lim[i].used;
		double s = v->per_minute > 0
			       ? det_seconds_to_limit_linear(v->per_minute, limit, used)
			       : det_seconds_to_limit(v->tasks, v->doubling_ms, limit, used);

		if (s >= 0 && (!v->limit_name || s < v->limit_seconds)) {
			v->limit_name = ft_limit_name(l->lim[i].kind);
			v->limit_value = limit;
			v->limit_used = used;
			v->limit_seconds = s;
		}
	}
}

bool det_spawn_storm(const struct det_config *c, uint32_t jobs, uint64_t doubling_ns,
		     uint32_t held)
{
	return jobs >= c->storm_min && doubling_ns <= c->storm_doubling_ns &&
	       (uint64_t)jobs >= 2ull * held;
}
