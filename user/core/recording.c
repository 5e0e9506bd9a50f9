// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "core/recording.h"
#include "core/container.h"

#define FT_BYTE_ORDER_MARK 0x01020304u

/* make fuzz: checksums pass, so that mutations reach what they protect */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define FUZZING 1
#else
#define FUZZING 0
#endif
#define FT_MAX_RECORD 4096u /* far above any record size: a sanity bound */

struct file_header {
	char magic[8];
	__u16 version;
	__u16 header_size;
	__u32 byte_order;
	struct ft_run_info info;
	__u32 header_crc; /* crc32 of everything before this field */
	__u32 pad;
};

/* versions 2..4: the run info ended before host */
#define INFO_V4_SIZE   offsetof(struct ft_run_info, host)
#define HEADER_V4_SIZE (offsetof(struct file_header, info) + ((INFO_V4_SIZE + 7) & ~(size_t)7) + 8)

struct record_frame {
	__u32 len; /* payload bytes */
	__u32 crc; /* crc32 of the payload */
};

struct ft_writer {
	FILE *f;
	const char *path;
};

struct ft_reader {
	FILE *f;
	const char *path;
	long offset;
	__u16 version;
};

static __u32 crc_of(const void *p, size_t n)
{
	return (__u32)crc32(0L, (const Bytef *)p, (uInt)n);
}

int ft_writer_open(const char *path, const struct ft_run_info *info, bool replace,
		   struct ft_writer **out, char *err, size_t errlen)
{
	struct file_header hdr;
	struct ft_writer *w;
	int fd;

	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	w->path = path;
	/* owner-only: a recording holds every process's command line on the
	 * host, and a tenant's arguments may hold secrets */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST && replace) /* overwrite like tcpdump -w */
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	w->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!w->f && fd >= 0) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	if (!w->f) {
		snprintf(err, errlen, "cannot create recording %s: %s", path, strerror(errno));
		free(w);
		return -1;
	}
	memset(&hdr, 0, sizeof(hdr));
	memcpy(hdr.magic, FT_REC_MAGIC, sizeof(hdr.magic));
	hdr.version = FT_REC_VERSION;
	hdr.header_size = sizeof(hdr);
	hdr.byte_order = FT_BYTE_ORDER_MARK;
	hdr.info = *info;
	hdr.header_crc = crc_of(&hdr, offsetof(struct file_header, header_crc));
	if (fwrite(&hdr, sizeof(hdr), 1, w->f) != 1) {
		snprintf(err, errlen, "cannot write recording %s: %s", path, strerror(errno));
		fclose(w->f);
		free(w);
		return -1;
	}
	*out = w;
	return 0;
}

int ft_writer_put(struct ft_writer *w, const union ft_record *rec, char *err, size_t errlen)
{
	struct record_frame fr = { .len = rec->h.size, .crc = crc_of(rec, rec->h.size) };

	if (fwrite(&fr, sizeof(fr), 1, w->f) != 1 || fwrite(rec, fr.len, 1, w->f) != 1) {
		snprintf(err, errlen, "cannot write recording %s: %s", w->path, strerror(errno));
		return -1;
	}
	return 0;
}

int ft_writer_close(struct ft_writer *w, char *err, size_t errlen)
{
	int ret = 0;

	if (!w)
		return 0;
	if (fflush(w->f) != 0 || ferror(w->f)) {
		snprintf(err, errlen, "cannot write recording %s: %s", w->path, strerror(errno));
		ret = -1;
	}
	if (fclose(w->f) != 0 && !ret) {
		snprintf(err, errlen, "cannot close recording %s: %s", w->path, strerror(errno));
		ret = -1;
	}
	free(w);
	return ret;
}

int ft_reader_open(const char *path, struct ft_run_info *info, struct ft_reader **out, char *err,
		   size_t errlen)
{
	struct file_header hdr = { 0 };
	struct ft_reader *r;
	size_t got, hsize;
	__u32 crc;

	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	r->path = path;
	r->f = fopen(path, "rb");
	if (!r->f) {
		snprintf(err, errlen, "cannot open recording %s: %s", path, strerror(errno));
		goto fail;
	}
	/* versions 2..4 end here; read no further yet: a pipe cannot seek back */
	got = fread(&hdr, 1, HEADER_V4_SIZE, r->f);
	if (got < sizeof(hdr.magic) || memcmp(hdr.magic, FT_REC_MAGIC, sizeof(hdr.magic))) {
		snprintf(err, errlen, "%s: not a forktrace recording (bad magic at offset 0)",
			 path);
		goto fail;
	}
	if (got < offsetof(struct file_header, info)) {
		snprintf(err, errlen, "%s: truncated header at offset %zu", path, got);
		goto fail;
	}
	if (hdr.byte_order != FT_BYTE_ORDER_MARK) {
		snprintf(err, errlen, "%s: recorded on a host of the other byte order (offset 12)",
			 path);
		goto fail;
	}
	/* before version 5 the header was shorter: the run info had no host */
	hsize = hdr.version < 5 ? HEADER_V4_SIZE : sizeof(hdr);
	if (hdr.version < FT_REC_VERSION_V2 || hdr.version > FT_REC_VERSION ||
	    hdr.header_size != hsize) {
		snprintf(err, errlen,
			 "%s: unsupported recording version %u (offset 8), this build reads %u",
			 path, hdr.version, (unsigned)FT_REC_VERSION);
		goto fail;
	}
	if (got == HEADER_V4_SIZE && hsize > got)
		got += fread((char *)&hdr + got, 1, hsize - got, r->f);
	if (got < hsize) {
		snprintf(err, errlen, "%s: truncated header at offset %zu", path, got);
		goto fail;
	}
	memcpy(&crc, (char *)&hdr + hsize - 8, sizeof(crc));
	if (crc != crc_of(&hdr, hsize - 8) && !FUZZING) {
		snprintf(err, errlen, "%s: corrupt header (checksum mismatch at offset %zu)", path,
			 hsize - 8);
		goto fail;
	}
	if (hdr.version < 5)
		memset(hdr.info.host, 0, sizeof(hdr.info.host));
	hdr.info.kernel[sizeof(hdr.info.kernel) - 1] = '\0';
	hdr.info.host[sizeof(hdr.info.host) - 1] = '\0';
	for (int i = 0; i < FT_HOOK_MAX; i++)
		hdr.info.attach[i][sizeof(hdr.info.attach[i]) - 1] = '\0';
	*info = hdr.info;
	r->version = hdr.version;
	r->offset = (long)hsize;
	*out = r;
	return 0;
fail:
	if (r->f)
		fclose(r->f);
	free(r);
	return -1;
}

int ft_reader_next(struct ft_reader *r, union ft_record *rec, char *err, size_t errlen)
{
	struct record_frame fr;
	size_t got, want;

	got = fread(&fr, 1, sizeof(fr), r->f);
	if (got == 0 && feof(r->f))
		return 0;
	if (got < sizeof(fr)) {
		snprintf(err, errlen, "%s: truncated record at offset %ld", r->path, r->offset);
		return -1;
	}
	if (fr.len < sizeof(rec->h) || fr.len > sizeof(*rec) || fr.len > FT_MAX_RECORD) {
		snprintf(err, errlen, "%s: bad record length %u at offset %ld", r->path, fr.len,
			 r->offset);
		return -1;
	}
	got = fread(rec, 1, fr.len, r->f);
	if (got < fr.len) {
		snprintf(err, errlen, "%s: truncated record at offset %ld (%zu of %u bytes)",
			 r->path, r->offset, got, fr.len);
		return -1;
	}
	if (crc_of(rec, fr.len) != fr.crc && !FUZZING) {
		snprintf(err, errlen, "%s: corrupt record at offset %ld (checksum mismatch)",
			 r->path, r->offset);
		return -1;
	}
	want = ft_record_size(rec->h.type);
	/* version 2 records of these types end before the fields 3 added */
	if (r->version == FT_REC_VERSION_V2 && rec->h.type == FT_EV_COUNTERS)
		want = offsetof(struct ft_counters, signal_failed);
	if (r->version == FT_REC_VERSION_V2 && rec->h.type == FT_EV_EXEC)
		want = offsetof(struct ft_exec, args) + FT_ARGS_LEN_V2;
	if (r->version == FT_REC_VERSION_V2 && rec->h.type == FT_EV_SNAPSHOT)
		want = offsetof(struct ft_snapshot, cwd_ino);
	/* before version 6 fork and exec records end before the executable */
	if (r->version < 6 && rec->h.type == FT_EV_FORK)
		want = offsetof(struct ft_fork, exe);
	if (r->version >= 6 && r->version < 10 && rec->h.type == FT_EV_FORK)
		want = offsetof(struct ft_fork, parent_run_ns);
	if (r->version == 10 && rec->h.type == FT_EV_FORK)
		want = offsetof(struct ft_fork, parent_throttled_ns);
	if (r->version > FT_REC_VERSION_V2 && r->version < 6 && rec->h.type == FT_EV_EXEC)
		want = offsetof(struct ft_exec, exe);
	if (r->version == 6 && rec->h.type == FT_EV_EXEC)
		want = offsetof(struct ft_exec, exe_size);
	if (r->version > 6 && r->version < 10 && rec->h.type == FT_EV_EXEC)
		want = offsetof(struct ft_exec, cwd_age_ns);
	/* reap and fork_fail records exist from version 8 on */
	if (r->version < 8 && (rec->h.type == FT_EV_REAP || rec->h.type == FT_EV_FORK_FAIL))
		want = 0;
	/* settings records from version 9 on */
	if (r->version < 9 && rec->h.type == FT_EV_SETTINGS)
		want = 0;
	/* allow records from version 12 on, limits records from 13 */
	if (r->version < 12 && rec->h.type == FT_EV_ALLOW)
		want = 0;
	if (r->version < 13 && rec->h.type == FT_EV_LIMITS)
		want = 0;
	if (!want || want != fr.len || rec->h.size != fr.len) {
		snprintf(err, errlen, "%s: unknown record type %u of %u bytes at offset %ld",
			 r->path, rec->h.type, fr.len, r->offset);
		return -1;
	}
	if (fr.len < ft_record_size(rec->h.type)) { /* a shorter record of an older version */
		memset((char *)rec + fr.len, 0, ft_record_size(rec->h.type) - fr.len);
		rec->h.size = (__u16)ft_record_size(rec->h.type);
	}
	if (!ft_record_sane(rec)) {
		snprintf(err, errlen, "%s: bad %s record at offset %ld", r->path,
			 ft_type_name(rec->h.type), r->offset);
		return -1;
	}
	r->offset += sizeof(fr) + fr.len;
	return 1;
}

void ft_reader_close(struct ft_reader *r)
{
	if (!r)
		return;
	fclose(r->f);
	free(r);
}
