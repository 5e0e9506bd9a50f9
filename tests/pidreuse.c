// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pidreuse: the pid-reuse race, made to happen.  Child A runs and exits;
 * ns_last_pid is set so that the next fork gets A's pid; child B starts
 * with it.  Signalling "A" (its pid and start time) must reach nobody, and
 * B must survive; signalling B by its own identity must work.
 * Needs root (ns_last_pid).  Prints "ok" and exits 0 on success.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "contain/policy.h"
#include "live/procfs.h"

static uint64_t start_ticks(pid_t pid)
{
	struct procfs_stat st;

	return procfs_stat((uint32_t)pid, &st) ? 0 : st.start_ticks;
}

static pid_t spawn_sleeper(void)
{
	pid_t p = fork();

	if (p == 0) {
		pause();
		_exit(0);
	}
	return p;
}

int main(void)
{
	pid_t a, b = -1;
	uint64_t a_start, b_start;
	int tries, status, ret;

	a = spawn_sleeper();
	usleep(20000);
	a_start = start_ticks(a);
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	/* make the kernel hand out a's pid again, at a later start time */
	usleep(30000);
	for (tries = 0; tries < 50 && b != a; tries++) {
		FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");

		if (!f) {
			perror("pidreuse: ns_last_pid");
			return 2;
		}
		fprintf(f, "%d", (int)a - 1);
		fclose(f);
		b = spawn_sleeper();
		if (b != a) {
			kill(b, SIGKILL);
			waitpid(b, NULL, 0);
		}
	}
	if (b != a) {
		fprintf(stderr, "pidreuse: could not get pid %d again\n", (int)a);
		return 2;
	}
	usleep(20000);
	b_start = start_ticks(b);
	if (b_start == a_start) {
		fprintf(stderr, "pidreuse: reused within one tick, cannot tell apart\n");
		return 2;
	}
	ret = policy_signal_pidfd((uint32_t)a, a_start, SIGKILL);
	if (ret != -ESRCH || kill(b, 0) != 0) {
		fprintf(stderr,
			"pidreuse: signalling the dead process returned %d, and "
			"the new one with its pid is %s\n",
			ret, kill(b, 0) ? "gone" : "alive");
		return 1;
	}
	usleep(20000);
	if (waitpid(b, &status, WNOHANG) != 0) {
		fprintf(stderr, "pidreuse: the new process died\n");
		return 1;
	}
	ret = policy_signal_pidfd((uint32_t)b, b_start, SIGKILL);
	if (ret != 0 || waitpid(b, &status, 0) != b || !WIFSIGNALED(status)) {
		fprintf(stderr, "pidreuse: could not signal the live process (%d)\n", ret);
		return 1;
	}
	printf("ok: pid %d reused (start %llu then %llu); only the live one signalled\n", (int)a,
	       (unsigned long long)a_start, (unsigned long long)b_start);
	return 0;
}
