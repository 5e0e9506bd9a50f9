// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A containerd-like daemon: it starts five shims, each running one
 * container process, then its own thread count explodes (a runtime that
 * spawns a worker per core, and more, on a big host).  The shims and
 * containers sleep.  Run it only under build/contain: threads count as
 * tasks in the pids cgroup that stops it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static void *spread(void *arg)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	usleep(2000);
	pthread_create(&t, &attr, spread, NULL);
	pthread_create(&t, &attr, spread, NULL);
	for (;;)
		pause();
	return arg;
}

int main(void)
{
	for (int i = 0; i < 5; i++) {
		pid_t shim = fork();

		if (shim < 0)
			return 1;
		if (shim == 0) {
			if (fork() == 0) /* the container */
				for (;;)
					pause();
			for (;;)
				pause();
		}
	}
	usleep(300000); /* the shims and containers settle */
	spread(NULL);
	return 0;
}
