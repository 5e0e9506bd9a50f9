// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A slow-burning fork bomb: every process forks once every 100-200 ms,
 * forever, so the host-wide fork rate stays far below the "500 new pids a
 * second" that naive killers watch for while the tree still doubles every
 * ~150 ms.  Run it only under build/contain.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	srand((unsigned)getpid());
	for (;;) {
		struct timespec ts = { 0, (100 + rand() % 100) * 1000000L };

		nanosleep(&ts, NULL);
		if (fork() == 0)
			srand((unsigned)getpid());
	}
}
