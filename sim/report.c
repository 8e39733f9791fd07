/*
 * report.c -- JSON helpers and the atomic writer of report.h.
 */
#include "sim/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/error.h"

#define DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12))

double rep_ns(double cycles, uint64_t clock_hz)
{
    return clock_hz ? cycles * 1e9 / (double)clock_hz : 0.0;
}

json_t *rep_get(const json_t *o, const char *path)
{
    char key[128];
    json_t *v = (json_t *)o;
    while (v && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        if (json_is_array(v) && n > 0 && strspn(key, "0123456789") == n)
            v = json_array_get(v, strtoul(key, NULL, 10));
        else
            v = json_object_get(v, key);
        path += n + (path[n] == '.');
    }
    return v;
}

int rep_set(json_t *obj, const char *key, json_t *value)
{
    if (!value)
        return -1;
    return json_object_set_new(obj, key, value) ? -1 : 0;
}

static json_t *cycles_or_ns(uint64_t cycles, uint64_t clock_hz)
{
    if (clock_hz)
        return json_real(rep_ns((double)cycles, clock_hz));
    return json_integer((json_int_t)cycles);
}

json_t *rep_quantiles(const sim_hist *h, uint64_t clock_hz)
{
    static const struct { const char *key; double q; } qs[] = {
        {"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}, {"max", 1.0},
    };
    json_t *o = json_object();
    if (!o)
        return NULL;
    double mean = sim_hist_mean(h);
    int bad = rep_set(o, "mean", json_real(clock_hz ? rep_ns(mean, clock_hz) : mean));
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        bad |= rep_set(o, qs[i].key, cycles_or_ns(sim_hist_quantile(h, qs[i].q), clock_hz));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Not json_dumps(): Jansson 2.14 ignores a failure to append an object's
 * key to its growing buffer, so when memory is short it can return a text
 * that lacks a key. json_dumpb() writes into the buffer it is given, so
 * the text is measured first, then written into a buffer of that size; it
 * fails whole when its own bookkeeping cannot allocate. */
char *rep_dump(const json_t *doc)
{
    size_t n = json_dumpb(doc, NULL, 0, DUMP_FLAGS);
    char *text = n ? malloc(n + 1) : NULL;
    if (!text)
        return NULL;
    if (json_dumpb(doc, text, n, DUMP_FLAGS) != n) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

static void set_err(char *err, size_t errlen, const char *what, const char *path)
{
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
}

int rep_write_json(const char *path, const json_t *doc, char *err, size_t errlen)
{
    char *text = rep_dump(doc);
    if (!text) {
        snprintf(err, errlen, "out of memory encoding results for %s", path);
        return SIM_ENOMEM;
    }
    int rc = rep_write_text(path, text, "\n", err, errlen);
    free(text);
    return rc;
}

static int write_text_to(FILE *f, void *ctx)
{
    const char *const *parts = ctx;
    return fputs(parts[0], f) >= 0 && fputs(parts[1], f) >= 0 ? 0 : SIM_EIO;
}

int rep_write_text(const char *path, const char *text, const char *tail, char *err,
                   size_t errlen)
{
    const char *parts[2] = {text, tail};
    return rep_write_with(path, write_text_to, (void *)parts, err, errlen);
}

int rep_write_with(const char *path, int (*write)(FILE *f, void *ctx), void *ctx, char *err,
                   size_t errlen)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    int rc = SIM_EIO;
    if (!tmp) {
        snprintf(err, errlen, "out of memory writing %s", path);
        return SIM_ENOMEM;
    }
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        set_err(err, errlen, "cannot create", tmp);
        goto done;
    }
    /* mkstemp makes the file 0600; results are meant to be shared like any
     * file the user creates, so honour the umask instead. */
    mode_t mask = umask(0);
    umask(mask);
    FILE *f = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        close(fd);
        set_err(err, errlen, "cannot open", tmp);
        unlink(tmp);
        goto done;
    }
    int written = write(f, ctx);
    int ok = (fclose(f) == 0) && written == 0;
    if (!ok || rename(tmp, path) != 0) {
        if (written == SIM_ENOMEM)
            snprintf(err, errlen, "out of memory writing %s", path);
        else
            set_err(err, errlen, ok ? "cannot rename to" : "cannot write", ok ? path : tmp);
        unlink(tmp);
        rc = written == SIM_ENOMEM ? SIM_ENOMEM : SIM_EIO;
        goto done;
    }
    rc = 0;
done:
    free(tmp);
    return rc;
}

void rep_csv_text(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* ---- flattening --------------------------------------------------------- */

/* True when every item of `a` is an object with a string "name" and no two
 * names are equal, so the names can stand for the indices. */
static int named_items(const json_t *a)
{
    size_t i, j, n = json_array_size(a);
    for (i = 0; i < n; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(a, i), "name"));
        if (!name || !*name)
            return 0;
        for (j = 0; j < i; j++)
            if (!strcmp(name, json_string_value(json_object_get(json_array_get(a, j), "name"))))
                return 0;
    }
    return n > 0;
}

/* Adds the leaves under `v` to `out`, each key `prefix` + its path. An
 * item keyed by its name (`named`) leaves its "name" out: it is the key. */
static int flatten_into(json_t *out, const json_t *v, int named, char *prefix, size_t len,
                        size_t cap)
{
    const char *key;
    json_t *kid;
    size_t i;
    int rc = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, key, kid) {
            if (named && !strcmp(key, "name"))
                continue;
            int n = snprintf(prefix + len, cap - len, "%s%s", len ? "." : "", key);
            if (n < 0 || (size_t)n >= cap - len)
                return -1;
            rc |= flatten_into(out, kid, 0, prefix, len + (size_t)n, cap);
        }
        break;
    case JSON_ARRAY: {
        int by_name = named_items(v);
        json_array_foreach(v, i, kid) {
            int n = by_name ? snprintf(prefix + len, cap - len, "%s%s", len ? "." : "",
                                       json_string_value(json_object_get(kid, "name")))
                            : snprintf(prefix + len, cap - len, "%s%zu", len ? "." : "", i);
            if (n < 0 || (size_t)n >= cap - len)
                return -1;
            rc |= flatten_into(out, kid, by_name, prefix, len + (size_t)n, cap);
        }
        break;
    }
    case JSON_NULL:
        break;
    default:
        prefix[len] = '\0';
        rc = json_object_set(out, prefix, (json_t *)v);
    }
    prefix[len] = '\0';
    return rc;
}

json_t *rep_flatten(const json_t *doc)
{
    char prefix[1024] = "";
    json_t *out = json_object();
    if (out && flatten_into(out, doc, 0, prefix, 0, sizeof prefix) != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}
