// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * oomhog: print our pid, then touch memory 1 MiB at a time until the OOM
 * killer ends us.  Only ever run under `contain --mem`, whose memory
 * cgroup makes the kill quick and local.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long limit_mb = argc > 1 ? atol(argv[1]) : 4096;

	printf("%d\n", (int)getpid());
	fflush(stdout);
	for (long mb = 0; mb < limit_mb; mb++) {
		char *p = malloc(1 << 20);

		if (!p)
			return 2;
		memset(p, 0x5a, 1 << 20);
	}
	return 3; /* the limit was never hit: the test setup is wrong */
}
