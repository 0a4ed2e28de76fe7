/* mp-signer audit: offline checks of the signing log for auditors. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/pid.h"
#include "common/secret.h"
#include "signer/audit/audit_format.h"
#include "signer/audit/audit_note.h"
#include "signer/audit/audit_person.h"
#include "signer/audit/audit_report.h"
#include "signer/audit/audit_segments.h"
#include "signer/audit/audit_verify.h"
#include "signer/cli/cli.h"
#include "signer/cli/cmds.h"
#include "signer/daemon/policy.h"

static const char audit_usage[] =
    "usage: mp-signer audit verify LOG [--cert PEM] [--anchor SEQ:SHA256]... [--checkpoint "
    "NOTE]...\n"
    "       mp-signer audit show LOG [--since T] [--until T] [--client ID] [--scope S]\n"
    "                              [--outcome granted|refused|error] [--json]\n"
    "       mp-signer audit report LOG --html OUT.html [--pubkey PEM] [--anchor SEQ:SHA256]...\n"
    "                              [--checkpoint NOTE]...\n"
    "       mp-signer audit prove (--seq N | --jti UUID) [--checkpoint NOTE] LOG\n"
    "       mp-signer audit prove --from NOTE_A [--to NOTE_B] LOG\n"
    "       mp-signer audit check-proof PROOF.json --pubkey PEM [--seq N | --jti UUID]\n"
    "       mp-signer audit person-mark --key-file FILE < numbers\n"
    "prove prints an RFC 9162 inclusion proof of one line, or a consistency proof between two\n"
    "checkpoints; check-proof verifies one offline with the audit key alone.\n"
    "LOG is the directory holding the log (its rotated segments PATH.<seq>[.gz] and the live\n"
    "PATH), or one or more segment files, read in seq order whatever the order given. From a\n"
    "directory the log must start at seq 0; files may start later (earlier segments are not\n"
    "checked, and the verdict says so).\n"
    "T is YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC). --cert and --pubkey are one option: the audit\n"
    "key's certificate or PEM public key (scripts/softhsm-init.sh writes audit-pub.pem); without\n"
    "it the hash chain and tree heads are checked but checkpoint signatures are not.\n"
    "--anchor (up to 16): a line the log must hold, taken from outside the file. The signer logs\n"
    "\"anchor SEQ:SHA256\" to its journal for every checkpoint; with the journal kept off the\n"
    "host, lines cut off the end of the log or a regenerated chain fail verification.\n"
    "--checkpoint (up to 16): a file holding a signed checkpoint note kept outside the log (by a\n"
    "witness): the log's Merkle tree head at its size must be its root, and with the key its\n"
    "signature must verify.\n"
    "report runs the checks of verify and writes one self-contained HTML page for auditors\n"
    "(no scripts, loads nothing): the verdict and checkpoint status at its top, sign requests\n"
    "per day, per client_id, scope, consumer_org and caller, and every refused or failed\n"
    "request.\n"
    "Exit status: 0 the log verified; 1 it did not (report still writes OUT.html, which says\n"
    "FAILED at its top), or the log could not be read or the page not written (then no page);\n"
    "2 bad command line.\n";

enum {
    A_CERT = 256,
    A_SINCE,
    A_UNTIL,
    A_CLIENT,
    A_SCOPE,
    A_OUTCOME,
    A_PUBKEY,
    A_HTML,
    A_JSON,
    A_HELP,
    A_ANCHOR,
    A_CHECKPOINT,
};

static const struct option audit_opts[] = {
    {"cert", required_argument, NULL, A_CERT},
    {"since", required_argument, NULL, A_SINCE},
    {"until", required_argument, NULL, A_UNTIL},
    {"client", required_argument, NULL, A_CLIENT},
    {"scope", required_argument, NULL, A_SCOPE},
    {"outcome", required_argument, NULL, A_OUTCOME},
    {"pubkey", required_argument, NULL, A_PUBKEY},
    {"html", required_argument, NULL, A_HTML},
    {"json", no_argument, NULL, A_JSON},
    {"help", no_argument, NULL, A_HELP},
    {"anchor", required_argument, NULL, A_ANCHOR},
    {"checkpoint", required_argument, NULL, A_CHECKPOINT},
    {NULL, 0, NULL, 0},
};

struct audit_flags {
    const char *const *files;
    size_t nfiles;
    const char *cert, *since, *until, *client, *scope, *outcome, *html;
    int json;
    struct audit_anchor anchors[AUDIT_MAX_ANCHORS];
    size_t nanchors;
    const char *note_files[AUDIT_MAX_WITNESSED];
    size_t nnotes;
};

static int
anchor_add(struct audit_flags *f, const char *arg)
{
    if (f->nanchors == AUDIT_MAX_ANCHORS) {
        fprintf(stderr, "mp-signer: error: at most %d --anchor values\n", AUDIT_MAX_ANCHORS);
        return CLI_USAGE;
    }
    if (!audit_anchor_parse(arg, &f->anchors[f->nanchors])) {
        fprintf(stderr,
            "mp-signer: error: --anchor %.80s is not SEQ:SHA256 (a number, a colon, 64 hex "
            "digits, as the signer logs it)\n",
            arg);
        return CLI_USAGE;
    }
    f->nanchors++;
    return CLI_OK;
}

static enum mp_err
audit_parse(int argc, char **argv, struct audit_flags *f)
{
    const char **slot[] = {&f->cert, &f->since, &f->until, &f->client, &f->scope, &f->outcome,
        &f->cert, &f->html};
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", audit_opts, NULL)) != -1) {
        if (c >= A_CERT && c <= A_HTML)
            *slot[c - A_CERT] = optarg;
        else if (c == A_JSON)
            f->json = 1;
        else if (c == A_ANCHOR) {
            if (anchor_add(f, optarg) != CLI_OK)
                return MP_ERR_USAGE;
        } else if (c == A_CHECKPOINT) {
            if (f->nnotes == AUDIT_MAX_WITNESSED) {
                fprintf(stderr, "mp-signer: error: at most %d --checkpoint values\n",
                    AUDIT_MAX_WITNESSED);
                return MP_ERR_USAGE;
            }
            f->note_files[f->nnotes++] = optarg;
        } else if (c == A_HELP) {
            fputs(audit_usage, stdout);
            return MP_ERR_HELP;
        } else
            return cli_bad_option("audit", c, optopt, argv, optind);
    }
    if (optind >= argc) {
        fputs(audit_usage, stderr);
        return MP_ERR_USAGE;
    }
    f->files = (const char *const *)&argv[optind];
    f->nfiles = (size_t)(argc - optind);
    return MP_OK;
}

/* The one-line verdict of verify (and of report, after its page is written). */
static int
print_verdict(const struct audit_report *rep, enum mp_err r, int have_key, size_t nanchors,
    size_t nnotes)
{
    if (r == MP_ERR_CRYPTO) {
        printf("audit log BAD in %s at line %llu: %s\n", rep->segment, rep->bad_line, rep->reason);
        return CLI_FAIL;
    }
    printf("audit log OK: %llu lines", rep->lines);
    if (rep->segments > 1)
        printf(" in %llu segments", rep->segments);
    printf(", %llu granted, %llu refused, %llu errors, ", rep->granted, rep->refused, rep->errors);
    if (!have_key)
        printf("%llu checkpoints NOT verified (no --cert)", rep->checkpoints);
    else
        printf("%llu checkpoints verified", rep->checkpoints_verified);
    if (rep->checkpoints > 0)
        printf(" (last covers seq %llu, %llu lines after it)", rep->last_covers,
            rep->after_checkpoint);
    else
        printf(" (no checkpoint yet: %llu lines protected by the chain only)",
            rep->after_checkpoint);
    if (nanchors > 0)
        printf(", %llu of %zu anchors matched", rep->anchors_matched, nanchors);
    if (nnotes > 0)
        printf(", %llu of %zu checkpoints given matched", rep->notes_matched, nnotes);
    if (rep->first_seq > 0)
        printf("; starts at seq %llu: earlier segments not checked", rep->first_seq);
    putchar('\n');
    return CLI_OK;
}

/* What verify and report share: the key, the --checkpoint notes and the segments. */
struct audit_input {
    struct audit_trust t;
    struct audit_witnessed notes[AUDIT_MAX_WITNESSED];
    struct mp_buf *texts[AUDIT_MAX_WITNESSED];
    struct audit_segments *segs;
};

static void
input_free(struct audit_input *in)
{
    size_t i;

    EVP_PKEY_free(in->t.pub);
    for (i = 0; i < AUDIT_MAX_WITNESSED; i++)
        mp_buf_free(in->texts[i]);
    audit_segments_free(in->segs);
}

/* A note that does not parse is a bad input, said before anything is read (its signature is
 * the verifier's to check, under the log's origin). */
static enum mp_err
note_load(struct audit_input *in, size_t i, const char *path, struct mp_errmsg *e)
{
    struct audit_note n;
    char why[200];
    enum mp_err r;

    if ((r = mp_buf_read_file(path, AUDIT_NOTE_MAX, &in->texts[i], NULL, e)) != MP_OK)
        return r;
    in->notes[i].name = path;
    in->notes[i].text = mp_buf_str(in->texts[i]);
    in->notes[i].len = mp_buf_len(in->texts[i]);
    if (audit_note_open(in->notes[i].text, in->notes[i].len, NULL, &n, why, sizeof(why)) != MP_OK)
        return mp_errf(e, MP_ERR_PARSE, "--checkpoint %s: %s", path, why);
    return MP_OK;
}

static enum mp_err
input_open(const struct audit_flags *f, struct audit_input *in, struct mp_errmsg *e)
{
    size_t i;
    enum mp_err r;

    memset(in, 0, sizeof(*in));
    in->t.anchors = f->anchors;
    in->t.nanchors = f->nanchors;
    in->t.notes = in->notes;
    in->t.nnotes = f->nnotes;
    if (f->cert != NULL && (in->t.pub = cli_pub_load(f->cert, e)) == NULL)
        return MP_ERR_PARSE;
    for (i = 0; i < f->nnotes; i++)
        if ((r = note_load(in, i, f->note_files[i], e)) != MP_OK)
            return r;
    return audit_segments_open(f->files, f->nfiles, &in->segs, e);
}

static int
audit_verify(const struct audit_flags *f)
{
    struct audit_report rep;
    struct audit_input in;
    struct mp_errmsg e = {{0}};
    enum mp_err r;

    if ((r = input_open(f, &in, &e)) == MP_OK)
        r = audit_verify_segments(in.segs, &in.t, &rep, &e);
    input_free(&in);
    if (r != MP_OK && r != MP_ERR_CRYPTO)
        return cli_fail(&e);
    return print_verdict(&rep, r, f->cert != NULL, f->nanchors, f->nnotes);
}

/* A log that fails verification still gets its page (saying so at the top) and exit 1. */
static int
audit_report_cmd(const struct audit_flags *f)
{
    struct audit_report rep;
    struct audit_input in;
    struct mp_errmsg e = {{0}};
    char name[512];
    enum mp_err r;

    if (f->html == NULL) {
        fputs("mp-signer audit report: --html OUT.html is required\n", stderr);
        return CLI_USAGE;
    }
    if (f->nfiles == 1)
        snprintf(name, sizeof(name), "%s", f->files[0]);
    else
        snprintf(name, sizeof(name), "%.200s and %zu more segment files", f->files[0],
            f->nfiles - 1);
    if ((r = input_open(f, &in, &e)) == MP_OK)
        r = audit_report_html(in.segs, name, &in.t, f->html, &rep, &e);
    input_free(&in);
    if (r != MP_OK && r != MP_ERR_CRYPTO)
        return cli_fail(&e);
    printf("report written to %s; ", f->html);
    return print_verdict(&rep, r, f->cert != NULL, f->nanchors, f->nnotes);
}

/* YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS…]: compared as a prefix of the log's ts. */
static int
valid_time(const char *t)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t i, n = strlen(t);

    if (n != 10 && n != 16 && n != 19)
        return 0;
    for (i = 0; i < n; i++)
        if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i])
            return 0;
    return 1;
}

static int
show_match(const struct audit_flags *f, json_t *j)
{
    const char *ts = json_string_value(json_object_get(j, "ts"));
    const char *client = json_string_value(json_object_get(j, "client_id"));
    const char *outcome = json_string_value(json_object_get(j, "outcome"));
    const char *scope = json_string_value(json_object_get(json_object_get(j, "claims"), "scope"));

    if (ts == NULL || outcome == NULL)
        return 0;
    if (f->since != NULL && strncmp(ts, f->since, strlen(f->since)) < 0)
        return 0;
    if (f->until != NULL && strncmp(ts, f->until, strlen(f->until)) > 0)
        return 0;
    if (f->client != NULL && (client == NULL || strcmp(client, f->client) != 0))
        return 0;
    if (f->outcome != NULL && strcmp(outcome, f->outcome) != 0)
        return 0;
    if (f->scope != NULL && !policy_list_has(scope, f->scope, strlen(f->scope)))
        return 0;
    return 1;
}

static const char *
str_or(json_t *o, const char *key, const char *dflt)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v != NULL ? v : dflt;
}

static void
show_row(json_t *j)
{
    json_t *caller = json_object_get(j, "caller");
    const char *reason = str_or(j, "reason", NULL);
    char who[64];

    snprintf(who, sizeof(who), "%lld/%lld",
        (long long)json_integer_value(json_object_get(caller, "uid")),
        (long long)json_integer_value(json_object_get(caller, "pid")));
    printf("%-8lld %-19.19s %-8s %-14s %-24.24s %-12.12s %-36.36s %s%s%s%s\n",
        (long long)json_integer_value(json_object_get(j, "seq")), str_or(j, "ts", "?"),
        str_or(j, "outcome", "?"), who, str_or(caller, "exe", "?"), str_or(j, "profile", "?"),
        str_or(j, "client_id", "-"), str_or(json_object_get(j, "claims"), "scope", "-"),
        reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
}

/* One line of show; 0 if it is not an audit record. */
static int
show_line(const struct audit_flags *f, const char *p, size_t n)
{
    json_t *j;

    if (n > AUDIT_MAX_LINE || (j = mp_json_loadb(p, n, JSON_REJECT_DUPLICATES, NULL)) == NULL)
        return 0;
    if (json_is_string(json_object_get(j, "event")) &&
        strcmp(json_string_value(json_object_get(j, "event")), "sign") == 0 && show_match(f, j)) {
        if (f->json)
            printf("%.*s\n", (int)n, p);
        else
            show_row(j);
    }
    json_decref(j);
    return 1;
}

/* The lines of one segment; the last may lack its "\n" (a torn tail). */
static int
show_segment(const struct audit_flags *f, const char *path, const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len, *nl;
    unsigned long long lineno = 0;
    size_t n;

    for (; p < end; p += n + (nl != NULL)) {
        nl = memchr(p, '\n', (size_t)(end - p));
        n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        if (!show_line(f, p, n)) {
            fprintf(stderr, "mp-signer: error: %s:%llu is not an audit record\n", path, lineno);
            return CLI_FAIL;
        }
    }
    return CLI_OK;
}

static int
audit_show(const struct audit_flags *f)
{
    struct audit_segments *s = NULL;
    struct mp_errmsg e = {{0}};
    const char *buf;
    size_t len, i;
    int rc = CLI_OK;

    if ((f->since != NULL && !valid_time(f->since)) ||
        (f->until != NULL && !valid_time(f->until))) {
        fputs("mp-signer: error: --since/--until take YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS\n", stderr);
        return CLI_USAGE;
    }
    if (f->outcome != NULL && strcmp(f->outcome, "granted") != 0 &&
        strcmp(f->outcome, "refused") != 0 && strcmp(f->outcome, "error") != 0) {
        fputs("mp-signer: error: --outcome is granted, refused or error\n", stderr);
        return CLI_USAGE;
    }
    if (audit_segments_open(f->files, f->nfiles, &s, &e) != MP_OK)
        return cli_fail(&e);
    if (!f->json)
        printf("%-8s %-19s %-8s %-14s %-24s %-12s %-36s %s\n", "seq", "time (UTC)", "outcome",
            "uid/pid", "executable", "profile", "client_id", "scope (reason)");
    for (i = 0; rc == CLI_OK && i < audit_segments_count(s); i++) {
        if (audit_segments_read(s, i, &buf, &len, &e) != MP_OK) {
            rc = cli_fail(&e);
            break;
        }
        rc = show_segment(f, audit_segments_path(s, i), buf, len);
        audit_segments_release(s, i);
    }
    audit_segments_free(s);
    return rc;
}

/* The marks (audit_person.h) of the national identity numbers on stdin, one a line, for an
 * auditor who holds audit_person_key_file to find a person's lines with grep. The numbers come
 * on stdin, never argv, which other users can read in /proc. */
static int
person_mark(int argc, char **argv)
{
    struct mp_secret *key = NULL;
    struct mp_errmsg e = {{0}};
    char line[64], mark[AUDIT_PERSON_MARK_MAX];
    unsigned long n = 0;
    int rc = CLI_OK;

    static const char usage[] =
        "usage: mp-signer audit person-mark --key-file FILE < numbers\n"
        "Prints the audit log's mark of each national identity number on stdin (one a line).\n";

    if (argc == 3 && strcmp(argv[2], "--help") == 0) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    if (argc != 4 || strcmp(argv[2], "--key-file") != 0) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    if (mp_secret_read_named(argv[3], "key file", &key, &e) != MP_OK) {
        fprintf(stderr, "mp-signer: error: %s\n", e.text);
        return CLI_FAIL;
    }
    while (rc == CLI_OK && fgets(line, sizeof(line), stdin) != NULL) {
        n++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!mp_pid_valid(line)) {
            fprintf(stderr, "mp-signer: error: line %lu is not a national identity number\n", n);
            rc = CLI_FAIL;
        } else {
            audit_person_mark(key, line, mark);
            puts(mark);
        }
    }
    explicit_bzero(line, sizeof(line));
    mp_secret_free(key);
    return rc;
}

int
cmd_audit(int argc, char **argv)
{
    enum mp_err pr;
    struct audit_flags f;
    const char *sub = argc > 1 ? argv[1] : "";

    memset(&f, 0, sizeof(f));
    if (strcmp(sub, "person-mark") == 0)
        return person_mark(argc, argv);
    if (strcmp(sub, "prove") == 0 || strcmp(sub, "check-proof") == 0)
        return sub[0] == 'p' ? cmd_audit_prove(argc, argv) : cmd_audit_check_proof(argc, argv);
    if (strcmp(sub, "verify") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "report") != 0) {
        fputs(audit_usage, strcmp(sub, "--help") == 0 ? stdout : stderr);
        return strcmp(sub, "--help") == 0 ? CLI_OK : CLI_USAGE;
    }
    if ((pr = audit_parse(argc - 1, argv + 1, &f)) != MP_OK)
        return cli_parse_exit(pr);
    if (f.html != NULL && strcmp(sub, "report") != 0) {
        fprintf(stderr, "mp-signer audit %s: --html is an option of audit report\n", sub);
        return CLI_USAGE;
    }
    if ((f.nanchors > 0 || f.nnotes > 0) && strcmp(sub, "show") == 0) {
        fputs("mp-signer audit show: --anchor and --checkpoint are options of audit verify and "
              "audit report\n",
            stderr);
        return CLI_USAGE;
    }
    if (strcmp(sub, "report") == 0)
        return audit_report_cmd(&f);
    return strcmp(sub, "verify") == 0 ? audit_verify(&f) : audit_show(&f);
}
