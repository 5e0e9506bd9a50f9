// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A fork bomb whose processes each take 4 MiB more memory at every step:
 * in a memory-limited cgroup the OOM killer fires while the tree grows.
 * Run it only under build/contain --mem.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	for (;;) {
		char *p = malloc(4 << 20);

		if (p)
			memset(p, 1, 4 << 20);
		usleep(2000);
		fork();
	}
}
