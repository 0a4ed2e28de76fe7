/* The segments of one audit log (audit_format.h, "Segments") for the offline tools: found in a
 * directory or given as files, put in seq order, and read one at a time (mmap'd, or inflated
 * into memory from .gz). */
#ifndef MP_AUDIT_SEGMENTS_H
#define MP_AUDIT_SEGMENTS_H

#include <stddef.h>

#include "common/err.h"

#define AUDIT_SEGMENTS_MAX 1000000 /* segments of one log: a rotation a minute for two years */
#define AUDIT_SEGMENT_GZ_MAX (4ULL << 30) /* bytes a .gz segment may inflate to */

struct audit_segments;

/* One log's segments in seq order, from one directory or a list of files (FILE may be a
 * rotated segment, the live one, or .gz).
 * A directory (npaths 1): the files named BASE.<20 digits> and BASE.<20 digits>.gz, and the
 * live BASE; BASE.torn, BASE.next and other files are ignored. With no rotated segment, the
 * live BASE is the one file that starts like an audit record ({"seq":). Two BASEs there, or
 * none, is an error.
 * Files: ordered by the seq in their names, the live one (no seq in its name) last; all must
 * share one BASE, and no seq may come twice (a segment given plain and as .gz).
 * MP_ERR_IO, MP_ERR_INVALID (e names the files), MP_ERR_TOOBIG, MP_ERR_NOMEM. */
enum mp_err audit_segments_open(const char *const *paths, size_t npaths,
    struct audit_segments **out, struct mp_errmsg *e);
size_t audit_segments_count(const struct audit_segments *s);
/* The path segment i is read from (as given, or DIR/NAME). */
const char *audit_segments_path(const struct audit_segments *s, size_t i);
/* The bytes of segment i (mmap'd, or inflated for .gz into memory), valid until
 * audit_segments_release(s, i). A segment read again must be the same file (device and
 * inode) as the first time: MP_ERR_IO if it was replaced meanwhile. MP_ERR_PARSE: a .gz that
 * does not inflate (corrupt, truncated, trailing bytes); MP_ERR_TOOBIG: it inflates to more
 * than AUDIT_SEGMENT_GZ_MAX; MP_ERR_IO, MP_ERR_NOMEM. e names the file. */
enum mp_err audit_segments_read(struct audit_segments *s, size_t i, const char **buf, size_t *len,
    struct mp_errmsg *e);
void audit_segments_release(struct audit_segments *s, size_t i);
void audit_segments_free(struct audit_segments *s); /* NULL is a no-op */

/* For the verifier. */
/* Segment i's file name without its directory (with .gz when compressed). */
const char *audit_segments_name(const struct audit_segments *s, size_t i);
/* Its name as rotated: no directory, no .gz (what the next segment line's previous.file
 * says). */
const char *audit_segments_stem(const struct audit_segments *s, size_t i);
/* 1 and *seq the first seq its name gives (BASE.<20 digits>); 0 for the live segment. */
int audit_segments_name_seq(const struct audit_segments *s, size_t i, unsigned long long *seq);
/* 1 when the segments came from a directory: there the first must start at seq 0 and the
 * live BASE must be present. */
int audit_segments_from_dir(const struct audit_segments *s);
/* The live segment's file name; 1 if it was given or found, 0 if (in a directory) only
 * rotated segments are there. */
int audit_segments_live(const struct audit_segments *s, const char **base);

#endif
