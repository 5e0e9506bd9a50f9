// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A fork bomb that calls itself sshd, to test that a name buys no
 * exemption.  Run it only under build/contain.
 */
#include <sys/prctl.h>
#include <unistd.h>

int main(void)
{
	prctl(PR_SET_NAME, "sshd", 0, 0, 0);
	for (;;)
		fork();
}
