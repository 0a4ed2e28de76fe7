/* The grant signer: one logged-in key, its certificate and JWS header, signing grants (grant.h). */
#include "signer/grant/grant.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "common/b64.h"
#include "common/json.h"
#include "common/log.h"
#include "common/uuid.h"
#include "pkcs11/hsm.h"
#include "signer/audit/audit_writer.h"
#include "signer/grant/cert.h"
#include "signer/grant/jws.h"
#include "signer/grant/signer_token.h"

struct grant_signer {
    struct hsm_module *mod; /* NULL when the token belongs to the caller */
    struct hsm_token *tok;
    int owns_token;
    struct hsm_key *key;
    X509 *leaf;
    STACK_OF(X509) * chain;
    enum jws_alg alg;
    char orgno[10];
    char cert_sha256[65];
    struct mp_buf *header_b64;
    struct jws_verifier *verifier; /* every signature is checked before it leaves */
};

void
grant_signer_free(struct grant_signer *s)
{
    if (s == NULL)
        return;
    mp_buf_free(s->header_b64);
    jws_verifier_free(s->verifier);
    sk_X509_pop_free(s->chain, X509_free);
    X509_free(s->leaf);
    hsm_key_free(s->key);
    if (s->owns_token) {
        hsm_token_free(s->tok);
        hsm_module_free(s->mod);
    }
    free(s);
}

static enum mp_err
signer_key(struct grant_signer *s, const char *uri, struct mp_errmsg *e)
{
    enum hsm_err h;

    if ((h = hsm_key_find(s->tok, uri, &s->key, e)) != HSM_OK ||
        (h = hsm_key_check(s->key, e)) != HSM_OK)
        return hsm_to_mp(h);
    if (hsm_key_imported(s->key))
        mp_warn("key %s on token %s was imported (CKA_NEVER_EXTRACTABLE or "
                "CKA_ALWAYS_SENSITIVE is false): a copy may exist outside the token",
            hsm_key_label(s->key), hsm_token_label(s->tok));
    return MP_OK;
}

/* Without a chain file, x5c carries the intermediates kept on the token (import-cert --chain),
 * if any. */
static enum mp_err
signer_token_chain(struct grant_signer *s, struct mp_errmsg *e)
{
    enum hsm_err h;

    if ((h = hsm_key_chain(s->key, s->leaf, &s->chain, e)) != HSM_OK)
        return hsm_to_mp(h);
    if (sk_X509_num(s->chain) == 0) {
        sk_X509_free(s->chain);
        s->chain = NULL;
    }
    return MP_OK;
}

/* A certificate about to expire is said at every start and reload, early enough to order a new
 * one (Buypass and Commfides take days). */
static void
warn_expiry(X509 *leaf, const struct signer_conf_profile *p, time_t now)
{
    char subj[256];
    long long left;

    if (cert_seconds_left(leaf, now, &left) != MP_OK || left >= CERT_WARN_DAYS * 86400LL)
        return;
    cert_subject(leaf, subj, sizeof(subj));
    mp_warn("profile %s: certificate %s expires in %lld days: order a new one and store it with "
            "mp-signer key import-cert",
        p->name, subj, left / 86400);
}

/* x5c mode needs the certificate; kid mode uses it only for the organisation number. */
static enum mp_err
signer_cert(struct grant_signer *s, const struct signer_conf_profile *p, time_t now,
    struct mp_errmsg *e)
{
    enum hsm_err h;
    enum mp_err r;

    h = hsm_key_cert(s->key, now, &s->leaf, e);
    if (p->kid != NULL) {
        if (h == HSM_OK && cert_orgno(s->leaf, s->orgno) != MP_OK)
            s->orgno[0] = '\0';
        X509_free(s->leaf);
        s->leaf = NULL;
        return MP_OK;
    }
    if (h != HSM_OK)
        return hsm_to_mp(h);
    if ((r = cert_check_time(s->leaf, now, e)) != MP_OK)
        return r;
    warn_expiry(s->leaf, p, now);
    cert_sha256_hex(s->leaf, s->cert_sha256);
    if (cert_orgno(s->leaf, s->orgno) != MP_OK)
        mp_warn("certificate has no organizationIdentifier NTRNO-<orgno>: Maskinporten will "
                "not accept it as a virksomhetssertifikat");
    if (p->chain == NULL)
        return signer_token_chain(s, e);
    if ((r = cert_load_pem_file(p->chain, &s->chain, e)) != MP_OK)
        return r;
    return cert_check_chain(s->leaf, s->chain, e);
}

static enum mp_err
signer_header(struct grant_signer *s, const struct signer_conf_profile *p, struct mp_errmsg *e)
{
    json_t *h = NULL;
    char *txt = NULL;
    enum mp_err r;

    if ((r = jws_header_json(p->alg, p->kid, s->leaf, s->chain, &h, e)) != MP_OK)
        return r;
    r = MP_ERR_NOMEM;
    if ((txt = mp_json_dumps(h, JSON_COMPACT)) == NULL ||
        (s->header_b64 = mp_buf_new(JWS_MAX)) == NULL)
        goto out;
    if ((r = mp_b64url_encode(s->header_b64, txt, strlen(txt))) != MP_OK)
        mp_errf(e, r, "JWS header too large");
out:
    if (r == MP_ERR_NOMEM)
        mp_errf(e, r, "out of memory");
    free(txt);
    json_decref(h);
    return r;
}

static enum mp_err
signer_setup(struct grant_signer *s, const struct signer_conf_profile *p, struct mp_errmsg *e)
{
    enum mp_err r;

    if (p->kid != NULL && p->chain != NULL)
        return mp_errf(e, MP_ERR_INVALID,
            "--kid and --chain exclude each other: a kid grant "
            "carries no certificate chain");
    if (p->key == NULL)
        return mp_errf(e, MP_ERR_INVALID, "profile %s has no key", p->name);
    s->alg = p->alg;
    if ((r = signer_key(s, p->key, e)) != MP_OK ||
        (r = jws_verifier_new(s->alg, hsm_key_public(s->key), &s->verifier, e)) != MP_OK ||
        (r = signer_cert(s, p, time(NULL), e)) != MP_OK)
        return r;
    return signer_header(s, p, e);
}

enum mp_err
grant_signer_open(const struct signer_conf *c, const struct signer_conf_profile *p,
    struct grant_signer **out, struct mp_errmsg *e)
{
    struct grant_signer *s = NULL;
    enum mp_err r;

    if (p->kid != NULL && p->chain != NULL)
        return mp_errf(e, MP_ERR_INVALID,
            "--kid and --chain exclude each other: a kid grant "
            "carries no certificate chain");
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    s->owns_token = 1;
    if ((r = signer_token_open(c, p->key, false, &s->mod, &s->tok, e)) != MP_OK ||
        (r = signer_setup(s, p, e)) != MP_OK)
        goto out;
    *out = s;
    s = NULL;
out:
    grant_signer_free(s);
    return r;
}

enum mp_err
grant_signer_open_on(struct hsm_token *tok, const struct signer_conf_profile *p,
    struct grant_signer **out, struct mp_errmsg *e)
{
    struct grant_signer *s = NULL;
    enum mp_err r;

    if ((s = calloc(1, sizeof(*s))) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    s->tok = tok;
    if ((r = signer_setup(s, p, e)) != MP_OK)
        goto out;
    *out = s;
    s = NULL;
out:
    grant_signer_free(s);
    return r;
}

const char *
grant_signer_orgno(const struct grant_signer *s)
{
    return s->orgno;
}

const char *
grant_signer_cert_sha256(const struct grant_signer *s)
{
    return s->cert_sha256[0] != '\0' ? s->cert_sha256 : NULL;
}

static enum mp_err
signing_input(struct grant_signer *s, const struct grant_request *g, time_t now, struct mp_buf *out,
    char jti[MP_UUID_STRLEN + 1], struct mp_errmsg *e)
{
    json_t *claims = NULL;
    char *txt = NULL;
    enum mp_err r;

    if ((r = mp_uuid_v4(jti)) != MP_OK)
        return mp_errf(e, r, "no randomness for jti");
    if ((r = grant_claims_json(g, now, jti, &claims, e)) != MP_OK)
        return r;
    if ((txt = mp_json_dumps(claims, JSON_COMPACT)) == NULL) {
        r = mp_errf(e, MP_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((r = mp_buf_put(out, mp_buf_ptr(s->header_b64), mp_buf_len(s->header_b64))) != MP_OK ||
        (r = mp_buf_put(out, ".", 1)) != MP_OK ||
        (r = mp_b64url_encode(out, txt, strlen(txt))) != MP_OK)
        mp_errf(e, r, "grant too large");
out:
    free(txt);
    json_decref(claims);
    return r;
}

static enum hsm_hash
alg_hash(enum jws_alg alg)
{
    return alg == JWS_RS512 ? HSM_SHA512 : alg == JWS_RS384 ? HSM_SHA384 : HSM_SHA256;
}

enum mp_err
grant_sign(struct grant_signer *s, struct hsm_session *sess, const struct grant_request *g,
    time_t now, struct mp_buf *out, struct grant_info *info, struct mp_errmsg *e)
{
    struct mp_buf *jws = NULL;
    unsigned char sig[1024];
    char jti[MP_UUID_STRLEN + 1];
    size_t siglen = sizeof(sig);
    enum hsm_hash hash = alg_hash(s->alg);
    enum hsm_err h;
    enum mp_err r;

    if ((r = grant_request_check(g, s->orgno[0] ? s->orgno : NULL, e)) != MP_OK)
        return r;
    if ((jws = mp_buf_new(JWS_MAX)) == NULL)
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    if ((r = signing_input(s, g, now, jws, jti, e)) != MP_OK)
        goto out;
    h = sess != NULL
        ? hsm_sign_in(sess, s->key, hash, mp_buf_ptr(jws), mp_buf_len(jws), sig, &siglen, e)
        : hsm_sign(s->key, hash, mp_buf_ptr(jws), mp_buf_len(jws), sig, &siglen, e);
    if (h != HSM_OK) {
        r = hsm_to_mp(h);
        goto out;
    }
    /* A token that returns a wrong signature must not hand out a grant. */
    if ((r = jws_verifier_check(s->verifier, mp_buf_ptr(jws), mp_buf_len(jws), sig, siglen, e)) !=
        MP_OK)
        goto out;
    if ((r = jws_append_signature(jws, sig, siglen)) != MP_OK) {
        mp_errf(e, r, "grant too large");
        goto out;
    }
    if ((r = mp_buf_put(out, mp_buf_ptr(jws), mp_buf_len(jws))) != MP_OK) {
        mp_errf(e, r, "grant too large");
        goto out;
    }
    if (info != NULL) {
        memcpy(info->jti, jti, sizeof(info->jti));
        info->iat = (long long)now;
        info->exp = (long long)now + g->lifetime;
        audit_sha256_hex(mp_buf_ptr(jws), mp_buf_len(jws), info->jws_sha256);
    }
out:
    explicit_bzero(sig, sizeof(sig));
    mp_buf_free(jws);
    return r;
}
