// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detector's settings and names: the patterns' names and severities,
 * which of them containment may act on, the default thresholds, and the
 * settings as text (--set, --config's lines, the recording's SETTINGS
 * records), each parsed and printed by one table of knobs.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/detector.h"

static const char *const pattern_names[DET_PATTERN_MAX] = {
	[DET_FORK_BOMB] = "fork_bomb",
	[DET_RECURSIVE_SPAWN] = "recursive_spawn",
	[DET_NESTED_POOL] = "nested_pool",
	[DET_RESTART_LOOP] = "restart_loop",
	[DET_THREAD_EXPLOSION] = "thread_explosion",
	[DET_FORK_WHILE_THREADED] = "fork_while_threaded",
	[DET_ZOMBIE_LEAK] = "zombie_leak",
	[DET_PROCESS_LEAK] = "process_leak",
	[DET_FORKS_REFUSED] = "forks_refused",
	[DET_SPAWN_STORM] = "spawn_storm",
};

const char *det_pattern_name(enum det_pattern p)
{
	return p < DET_PATTERN_MAX ? pattern_names[p] : "unknown";
}

const char *det_severity(enum det_pattern p)
{
	switch (p) {
	case DET_RESTART_LOOP:
	case DET_ZOMBIE_LEAK:
	case DET_PROCESS_LEAK:
	case DET_FORKS_REFUSED:
		return "warning";
	case DET_FORK_WHILE_THREADED:
		return "info";
	default:
		return "critical";
	}
}

/* static: its padding is zero, so configs compare whole (memcmp) */
static const struct det_config det_defaults = {
	.window_ns = 2000000000ull,
	.min_tasks = 16,
	.min_generations = 3,
	.min_generations_exec = 6,
	.min_generations_clone = 4,
	.max_doubling_ns = 60000000000ull,
	.analysis_interval_ns = 20000000ull,
	.restart_min = 8,
	.restart_window_ns = 10000000000ull,
	.restart_max_life_ns = 1000000000ull,
	.thread_min = 128,
	.thread_doubling_ns = 1000000000ull,
	.exec_grace_ns = 100000000ull,
	.max_other_pct = 200,
	.zombie_min = 32,
	.zombie_min_age_ns = 2000000000ull,
	.leak_min = 32,
	.leak_min_span_ns = 2000000000ull,
	.storm_min = 128,
	.storm_doubling_ns = 10000000000ull,
	.fanout_min_tasks = 0, /* opt-in: docs/detection.md, the fan-out */
};

void det_config_defaults(struct det_config *c)
{
	memcpy(c, &det_defaults, sizeof(*c));
}

bool det_pattern_actionable(enum det_pattern p)
{
	switch (p) {
	case DET_FORK_BOMB:
	case DET_RECURSIVE_SPAWN:
	case DET_NESTED_POOL:
	case DET_RESTART_LOOP:
	case DET_THREAD_EXPLOSION:
	case DET_SPAWN_STORM: /* the jobs are the tree: their parent is spared */
		return true;
	default:
		/* findings, and warnings about a parent's children or refused
		 * forks: no tree of their own to stop */
		return false;
	}
}

struct knob {
	const char *name;
	size_t off;
	char kind; /* 'm': ms stored as ns, 'u': uint32, 'f': double */
	double min, max;
};

#define KNOB(n, field, kind, lo, hi)                                                               \
	{                                                                                          \
		n, offsetof(struct det_config, field), kind, lo, hi                                \
	}
static const struct knob knobs[] = {
	KNOB("window_ms", window_ns, 'm', 10, 600000),
	KNOB("min_tasks", min_tasks, 'u', 2, 1000000),
	KNOB("min_generations", min_generations, 'u', 2, DET_MAX_GEN - 1),
	KNOB("min_generations_exec", min_generations_exec, 'u', 2, DET_MAX_GEN - 1),
	KNOB("min_generations_clone", min_generations_clone, 'u', 2, DET_MAX_GEN - 1),
	KNOB("max_doubling_ms", max_doubling_ns, 'm', 1, 3600000),
	KNOB("analysis_interval_ms", analysis_interval_ns, 'm', 0, 10000),
	KNOB("restart_min", restart_min, 'u', 2, 1000000),
	KNOB("restart_window_ms", restart_window_ns, 'm', 100, 3600000),
	KNOB("restart_max_life_ms", restart_max_life_ns, 'm', 1, 3600000),
	KNOB("thread_min", thread_min, 'u', 32, 1 << 22),
	KNOB("thread_doubling_ms", thread_doubling_ns, 'm', 1, 3600000),
	KNOB("exec_grace_ms", exec_grace_ns, 'm', 1, 60000),
	KNOB("max_other_pct", max_other_pct, 'u', 0, 100000),
	KNOB("zombie_min", zombie_min, 'u', 2, 1 << 22),
	KNOB("zombie_min_age_ms", zombie_min_age_ns, 'm', 0, 3600000),
	KNOB("leak_min", leak_min, 'u', 4, 1 << 22),
	KNOB("leak_min_span_ms", leak_min_span_ns, 'm', 0, 3600000),
	KNOB("storm_min", storm_min, 'u', 8, 1 << 22),
	KNOB("storm_doubling_ms", storm_doubling_ns, 'm', 1, 600000),
	KNOB("fanout_min_tasks", fanout_min_tasks, 'u', 0, 1000000),
};

int det_config_set(struct det_config *c, const char *assignment, char *err, size_t errlen)
{
	char name[64];
	const char *eq = strchr(assignment, '=');
	size_t n;

	if (!eq || (n = (size_t)(eq - assignment)) == 0 || n >= sizeof(name)) {
		snprintf(err, errlen, "'%s': want key=value", assignment);
		return -1;
	}
	memcpy(name, assignment, n);
	name[n] = '\0';
	while (n && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		name[--n] = '\0';
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		const struct knob *k = &knobs[i];
		char *end;
		double v;

		if (strcmp(name, k->name))
			continue;
		errno = 0;
		v = strtod(eq + 1, &end);
		while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
			end++;
		if (errno || end == eq + 1 || *end || v < k->min || v > k->max) {
			snprintf(err, errlen, "%s: '%s' is not a number in %g..%g", k->name, eq + 1,
				 k->min, k->max);
			return -1;
		}
		if (k->kind == 'm') /* rounded: what det_config_format wrote reads back */
			*(uint64_t *)((char *)c + k->off) = (uint64_t)llround(v * 1e6);
		else if (k->kind == 'u')
			*(uint32_t *)((char *)c + k->off) = (uint32_t)v;
		else /* the field at off is a double: the table says so */
			memcpy((char *)c + k->off, &v, sizeof(v));
		return 0;
	}
	snprintf(err, errlen, "unknown setting '%s'", name);
	return -1;
}

size_t det_config_format(const struct det_config *c, char *buf, size_t len)
{
	size_t off = 0;

	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		const struct knob *k = &knobs[i];
		const char *field = (const char *)c + k->off;
		uint64_t ns;
		uint32_t u;
		double f;
		int n;

		if (k->kind == 'm') {
			memcpy(&ns, field, sizeof(ns));
			n = snprintf(buf + (off < len ? off : len), off < len ? len - off : 0,
				     "%s=%.17g\n", k->name, (double)ns / 1e6);
		} else if (k->kind == 'u') {
			memcpy(&u, field, sizeof(u));
			n = snprintf(buf + (off < len ? off : len), off < len ? len - off : 0,
				     "%s=%u\n", k->name, u);
		} else {
			memcpy(&f, field, sizeof(f));
			n = snprintf(buf + (off < len ? off : len), off < len ? len - off : 0,
				     "%s=%.17g\n", k->name, f);
		}
		off += n > 0 ? (size_t)n : 0;
	}
	return off;
}
