// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A thread explosion: every thread starts two more, then sleeps.  The
 * process's thread count doubles every few milliseconds until the pids
 * cgroup (threads count as tasks) stops it.  Run it only under
 * build/contain.
 */
#include <pthread.h>
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
	spread(NULL);
	return 0;
}
