/* The auditor's report, inside: the layout shared by audit_report.c (reading and aggregation),
 * audit_report_html.c (the page) and audit_report_svg.c (the chart). Everything here has a
 * fixed capacity chosen at creation, so a 700 MB log costs what a 7 kB one does. */
#ifndef MP_AUDIT_REPORT_INT_H
#define MP_AUDIT_REPORT_INT_H

#include <stdio.h>

#include <jansson.h>

#include "signer/audit/audit_verify.h"

#define AR_MAX_KEYS 1000 /* distinct keys per table; requests past it go to one "more" row */
#define AR_HASH_SLOTS 2048 /* power of two, over twice AR_MAX_KEYS */
#define AR_KEY_MAX 200 /* bytes of a key kept; a longer key is cut and marked */
#define AR_MAX_DAYS 4000 /* distinct days kept for the chart: eleven years */
#define AR_CHART_BARS 500 /* above this many days the chart groups days into wider bars */
#define AR_SHOW_MAX 512 /* bytes of one log string shown in a refusal row */

enum ar_outcome { AR_GRANTED = 0, AR_REFUSED = 1, AR_ERROR = 2, AR_NOUTCOMES = 3 };

struct ar_count {
    unsigned long long n[AR_NOUTCOMES];
};

struct ar_key {
    char s[AR_KEY_MAX + 1];
    int cut; /* s holds the first bytes of a longer key */
    struct ar_count c;
};

/* Requests per distinct value of one field. */
struct ar_table {
    const char *id, *title, *column;
    struct ar_key *keys; /* AR_MAX_KEYS entries, nkeys in use */
    unsigned short *slot; /* AR_HASH_SLOTS: index into keys + 1, 0 when free */
    size_t nkeys;
    struct ar_count none; /* requests without this field */
    struct ar_count more; /* requests whose value did not fit in the table */
};

enum ar_table_id { AR_T_CLIENT, AR_T_SCOPE, AR_T_ORG, AR_T_CALLER, AR_NTABLES };

struct ar_day {
    long day; /* days since 1970-01-01 (UTC) */
    struct ar_count c;
};

enum ar_event {
    AR_EV_HEADER,
    AR_EV_START,
    AR_EV_STOP,
    AR_EV_RELOAD,
    AR_EV_RECOVERY,
    AR_EV_CHECKPOINT,
    AR_EV_SIGN,
    AR_EV_OTHER,
    AR_NEVENTS,
};

struct ar_stats {
    const struct audit_report *rep; /* the verifier's result */
    int verified; /* rep describes a log that verified */
    /* When it did not: the first line not to trust (the verifier's rep->suspect_from). */
    unsigned long long suspect_from;
    int key_checked; /* checkpoint signatures were checked with an audit key */
    size_t anchors_given; /* --anchor values the verifier checked */
    char key_sha256[65]; /* that key's SubjectPublicKeyInfo fingerprint */
    const char *log_name;
    unsigned long long lines, bytes, unreadable;
    unsigned long long events[AR_NEVENTS];
    char first_ts[40], last_ts[40];
    char sha256[65]; /* of the bytes reported on */
    struct ar_count total;
    struct ar_day *days; /* AR_MAX_DAYS, sorted by day, ndays in use */
    size_t ndays;
    struct ar_count undated; /* sign events whose ts is not a date */
    struct ar_count days_more; /* sign events on days past AR_MAX_DAYS */
    struct ar_table t[AR_NTABLES];
    FILE *spool; /* refusal rows, HTML, written while reading */
    unsigned long long spooled;
};

/* audit_report_html.c */

/* Writes len bytes of a log string HTML-escaped: & < > " ' as entities, control characters as
 * their visible Unicode pictures, bidirectional overrides as [U+XXXX]; past AR_SHOW_MAX bytes
 * the rest is left out and its length said. */
void ar_esc(FILE *fp, const char *s, size_t len);
/* A JSON string member escaped; dflt (trusted text) when absent or not a string. */
void ar_esc_member(FILE *fp, json_t *obj, const char *name, const char *dflt);
/* One table row for a refused or failed sign event at the given 1-based line. */
void ar_refusal_row(FILE *fp, json_t *j, enum ar_outcome o, unsigned long long line, int suspect);
/* The whole page; the spool is copied in. MP_ERR_IO if the spool could not be read. */
enum mp_err ar_write_page(FILE *fp, struct ar_stats *st);

/* audit_report_svg.c */

/* The stacked bar chart of sign events per day (or per group of days), inline SVG. */
void ar_write_chart(FILE *fp, const struct ar_stats *st);
/* Days since 1970-01-01 to "YYYY-MM-DD" (out holds 11 bytes at least). */
void ar_day_str(long day, char *out, size_t size);

#endif
