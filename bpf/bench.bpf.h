/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The benchmarks' floors (--noop), in the benchmark build only
 * (build/forktrace-bench, compiled with FT_BENCH): the production object
 * carries none of it.  Each hook starts with BENCH_FLOOR(), which in the
 * benchmark build returns at once when --noop asks it to.
 */
#ifndef FT_BENCH_BPF_H
#define FT_BENCH_BPF_H

#ifdef FT_BENCH
/* --noop (benchmarks, enum ft_noop): the floors of the cost */
const volatile __u32 noop = FT_NOOP_OFF;

/*
 * --noop: the benchmarks' floors.  IDLE measures what attaching costs;
 * RECORD adds the ring buffer write every tracer of these hooks needs (a
 * timestamp and the same submit policy), reading nothing from the tasks,
 * so the benchmark can tell the ring buffer's share of the cost from the
 * share of forktrace's record building.
 */
static __always_inline int noop_probe(void)
{
	struct ft_header h;

	if (noop != FT_NOOP_RECORD)
		return 0;
	__builtin_memset(&h, 0, sizeof(h));
	h.type = FT_EV_PROBE;
	h.size = sizeof(h);
	h.ts_ns = bpf_ktime_get_boot_ns();
	emit(&h, sizeof(h), FT_EV_PROBE, submit_flags(sizeof(h)));
	return 0;
}

#define BENCH_FLOOR()                  \
	do {                           \
		if (noop)              \
			return noop_probe(); \
	} while (0)
#define bench_noop() (noop != FT_NOOP_OFF)
#else
#define BENCH_FLOOR() \
	do {          \
	} while (0)
#define bench_noop() false
#endif

#endif /* FT_BENCH_BPF_H */
