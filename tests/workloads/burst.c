// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Benign: 64 processes started at once, each sleeping half a second. */
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 64;

	for (int i = 0; i < n; i++)
		if (fork() == 0) {
			usleep(500000);
			_exit(0);
		}
	while (wait(NULL) > 0)
		;
	return 0;
}
