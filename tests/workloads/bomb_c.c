// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The classic fork bomb.  Run it only under build/contain. */
#include <unistd.h>

int main(void)
{
	for (;;)
		fork();
}
