// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A zombie leak: a parent that runs a short-lived child every 100 ms (a
 * "health check", a helper) and never reaps them: it never calls wait()
 * and leaves SIGCHLD at its default, so every exited child stays a zombie
 * and still counts as a task.  No exec, no cascade: one parent, ten new
 * zombies a second.  Runs until killed.
 *
 *   build/wl_zombie_leak [INTERVAL_MS]
 *
 * Run it only under build/contain.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 100;
	struct timespec ts;

	if (ms < 1)
		ms = 1;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	for (;;) {
		if (fork() == 0)
			_exit(0);
		nanosleep(&ts, NULL);
	}
}
