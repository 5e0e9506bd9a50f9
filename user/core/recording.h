/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Recordings (-w/-r): a versioned file of stream records, format in
 * docs/recording.md.  The reader never trusts the file: every length, type
 * and checksum is checked, and a bad one is reported with its offset.
 */
#ifndef FT_RECORDING_H
#define FT_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include "core/stream.h"

#define FT_REC_MAGIC "FORKTRC\n"
/* 2: exec records carry argv; 3: counters carry containment failures, exec
 * records 256 bytes of argv and the working directory, snapshots argv and
 * directory */
/* 4: container records; 5: policy records, the host's name in the header.
 * 3 and 4 are read as they are; 6: fork and exec records carry the
 * executable's identity (older ones read with it unknown); 7: exec records
 * carry the executable's size (older ones read with it unknown); 8: reap
 * and fork_fail records; 9: settings records; 10: exec records carry the
 * working directory's age and links, fork records the parent's busy time
 * (older ones read with them unknown); 11: fork records carry the time
 * its CPU cgroups were throttled (older ones read with none); 12: allow
 * records; 13: limits records */
#define FT_REC_VERSION	  13
#define FT_REC_VERSION_V2 2   /* still read: its counters, exec and snapshot records are shorter */
#define FT_ARGS_LEN_V2	  128 /* argv bytes in a version 2 exec record */

struct ft_writer;
struct ft_reader;

/* All return 0 on success, or -1 with a one-line reason in err.
 * replace: an existing file is overwritten (-w), else refused (O_EXCL:
 * neither a file nor a symlink planted there is followed).  A new file is
 * owner-only: it holds every command line on the host. */
int ft_writer_open(const char *path, const struct ft_run_info *info, bool replace,
		   struct ft_writer **out, char *err, size_t errlen);
int ft_writer_put(struct ft_writer *w, const union ft_record *rec, char *err, size_t errlen);
int ft_writer_close(struct ft_writer *w, char *err, size_t errlen);

int ft_reader_open(const char *path, struct ft_run_info *info, struct ft_reader **out, char *err,
		   size_t errlen);
/* 1: a record; 0: clean end of file; -1: bad data (err names the offset) */
int ft_reader_next(struct ft_reader *r, union ft_record *rec, char *err, size_t errlen);
void ft_reader_close(struct ft_reader *r);

#endif /* FT_RECORDING_H */
