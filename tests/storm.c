// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * storm: perform N forks (or vforks) of children that exit at once, as fast
 * as the machine allows, and print how many succeeded.  The count is the
 * ground truth for "every fork seen or accounted as lost".
 *
 *   storm [-v] [-p PARALLEL] [-c CPU] N
 *
 * -v uses vfork (about 20x faster here); -p runs PARALLEL forking loops
 * (processes) that split N between them; -c pins the loops and every child
 * to one CPU (the benchmarks use it to keep the loop's own cross-CPU
 * wakeups out of a tracer's measured cost).  Prints "performed=N failed=M
 * seconds=S" (S: wall time of the forking itself).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

/* One child, reaped; 1 if it ran.  The vfork child only calls _exit. */
static int spawn_one(int use_vfork)
{
	pid_t p = use_vfork ? vfork() : fork();

	if (p == 0)
		_exit(0);
	return p > 0 && waitpid(p, NULL, 0) == p;
}

static long run_loop(long n, int use_vfork, long *failed)
{
	long ok = 0;

	for (long i = 0; i < n; i++) {
		if (spawn_one(use_vfork))
			ok++;
		else
			(*failed)++;
	}
	return ok;
}

int main(int argc, char **argv)
{
	int opt, use_vfork = 0, parallel = 1, cpu = -1;
	long n, performed = 0, failed = 0;
	long *shared;
	struct timespec t0, t1;

	while ((opt = getopt(argc, argv, "vp:c:")) != -1) {
		if (opt == 'v')
			use_vfork = 1;
		else if (opt == 'p')
			parallel = atoi(optarg);
		else if (opt == 'c')
			cpu = atoi(optarg);
		else
			return 2;
	}
	if (optind >= argc || (n = atol(argv[optind])) <= 0 || parallel < 1 || parallel > 64) {
		fprintf(stderr, "usage: storm [-v] [-p PARALLEL(1..64)] [-c CPU] N\n");
		return 2;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (cpu >= CPU_SETSIZE || sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "storm: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
			return 2;
		}
	}
	shared = mmap(NULL, 2 * 64 * sizeof(long), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int w = 0; w < parallel; w++) {
		long share = n / parallel + (w < n % parallel);
		pid_t p = parallel == 1 ? 0 : fork();

		if (p < 0) {
			perror("storm: fork");
			return 1;
		}
		if (p == 0) {
			long f = 0;

			shared[w] = run_loop(share, use_vfork, &f);
			shared[64 + w] = f;
			if (parallel > 1)
				_exit(0);
		}
	}
	while (parallel > 1 && wait(NULL) > 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int w = 0; w < parallel; w++) {
		performed += shared[w];
		failed += shared[64 + w];
	}
	/* the parallel loops were forks too: count them */
	if (parallel > 1)
		performed += parallel;
	printf("performed=%ld failed=%ld seconds=%.6f\n", performed, failed,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
