/* The auditor's report: one self-contained HTML page about an audit log (format in
 * audit_format.h), made by `mp-signer audit report`. The page opens with the verdict of
 * audit_verify_file() on the same file, then aggregates the log's sign events: per day (an
 * inline SVG chart), per client_id, scope, consumer_org and caller, and every refusal.
 *
 * The log is evidence but is read as hostile input: every string from it is HTML-escaped, the
 * page carries a Content-Security-Policy that forbids scripts and every external resource,
 * and memory is bounded whatever the log's size (the segments are read one at a time, mmap'd
 * or inflated, line by line into fixed-capacity tables; refusals are spooled to an unlinked
 * temporary file). */
#ifndef MP_AUDIT_REPORT_H
#define MP_AUDIT_REPORT_H

#include <openssl/evp.h>

#include "common/err.h"
#include "signer/audit/audit_verify.h"

struct audit_segments;

/* Verifies the log's segments exactly as `audit verify` does (checkpoint signatures too when
 * t->pub is not NULL, and t's anchors and notes), then writes the report to html_path through
 * a temporary file renamed into place; log_name (the directory or file given) heads the page.
 * The verifier and the aggregation read the same files (audit_segments_read refuses one
 * replaced meanwhile), and a log that verified is reported up to the last line the verifier
 * checked (lines appended meanwhile are left out).
 * rep receives the verifier's result.
 * MP_OK: the log verified and the page is written.
 * MP_ERR_CRYPTO: the log did not verify (rep->bad_line, rep->reason); the page is still
 *   written, says so at its top, and marks what comes at or after the first bad line.
 * Others (MP_ERR_IO, MP_ERR_NOMEM, …): no page was written; e says why. */
enum mp_err audit_report_html(struct audit_segments *s, const char *log_name,
    const struct audit_trust *t, const char *html_path, struct audit_report *rep,
    struct mp_errmsg *e);

#endif
