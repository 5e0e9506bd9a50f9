// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "present/health.h"
#include "live/privs.h"

#define HEALTH_TEXT_LEN 21 /* 20 digits (any uint64) and a newline */

int health_open(const char *path, struct health *h, char *err, size_t errlen)
{
	h->written_ns = 0;
	/* no O_TRUNC: the first beat writes the whole, fixed-width text */
	h->fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (h->fd < 0) {
		snprintf(err, errlen, "--heartbeat %s: %s", path, strerror(errno));
		return -1;
	}
	/* what was there (an old run's time) must not read as healthy */
	if (ftruncate(h->fd, 0)) {
		snprintf(err, errlen, "--heartbeat %s: %s", path, strerror(errno));
		close(h->fd);
		h->fd = -1;
		return -1;
	}
	return 0;
}

void health_beat(struct health *h, uint64_t now_ns)
{
	char text[HEALTH_TEXT_LEN + 1];

	if (h->fd < 0 || (h->written_ns && now_ns - h->written_ns < HEALTH_WRITE_NS))
		return;
	/* fixed width, one write at offset 0: the file is never shorter than
	 * a whole time, and a reader sees old digits or new ones */
	snprintf(text, sizeof(text), "%020llu\n", (unsigned long long)now_ns);
	if (pwrite(h->fd, text, HEALTH_TEXT_LEN, 0) == HEALTH_TEXT_LEN)
		h->written_ns = now_ns;
	/* a failed write is retried on the next beat; the probe sees it age */
}

void health_close(struct health *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

int health_parse(const char *buf, size_t len, uint64_t *ns)
{
	uint64_t v = 0;
	size_t i;

	if (len < 2 || len > HEALTH_TEXT_LEN || buf[len - 1] != '\n')
		return -1;
	for (i = 0; i < len - 1; i++) {
		unsigned d = (unsigned)(buf[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*ns = v;
	return 0;
}

int health_check(const char *path, uint64_t now_ns, uint64_t max_age_ns, FILE *msg)
{
	char buf[HEALTH_TEXT_LEN + 8], err[256];
	struct stat st;
	uint64_t ns;
	ssize_t n;
	int fd;

	/* the probe runs with the container's capabilities and needs none */
	if (privs_drop_thread(false, err, sizeof(err))) {
		fprintf(msg, "forktrace: health check: %s\n", err);
		return 1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(msg, "forktrace: unhealthy: %s: %s (not started?)\n", path,
			strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		fprintf(msg, "forktrace: unhealthy: %s is not a heartbeat file\n", path);
		close(fd);
		return 1;
	}
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n == 0) {
		fprintf(msg, "forktrace: unhealthy: no heartbeat yet in %s (attaching?)\n", path);
		return 1;
	}
	if (n < 0 || health_parse(buf, (size_t)n, &ns)) {
		fprintf(msg, "forktrace: unhealthy: %s holds no heartbeat\n", path);
		return 1;
	}
	if (ns > now_ns + HEALTH_WRITE_NS) {
		fprintf(msg, "forktrace: unhealthy: %s is from another boot\n", path);
		return 1;
	}
	if (ns < now_ns && now_ns - ns > max_age_ns) {
		fprintf(msg, "forktrace: unhealthy: the ring buffer was last read %.1f s ago\n",
			(double)(now_ns - ns) / 1e9);
		return 1;
	}
	return 0;
}
