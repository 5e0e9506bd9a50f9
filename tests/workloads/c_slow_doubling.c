// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A very slow fork bomb: every copy forks once every 2 s, forever (plain
 * fork(), no exec), so the tree doubles every 2 s while the fork rate stays
 * tiny for the first half-minute.  Run it only under build/contain.
 */
#include <unistd.h>

int main(void)
{
	for (;;) {
		sleep(2);
		fork();
	}
}
