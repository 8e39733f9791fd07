/*
 * test_report.c -- results documents: quantile objects, nanosecond
 * conversion, paths and flattening, and the atomic writer, whole or not at
 * all (a directory in the way, a full disk).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/error.h"
#include "sim/report.h"
#include "tests/tempdir.h"

static char *make_temp_dir(void)
{
    char *dir = strdup("/tmp/pvsim-report-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

Test(report, quantiles_in_cycles_and_ns)
{
    sim_hist h;
    cr_assert_eq(sim_hist_init(&h), 0);
    for (uint64_t v = 1; v <= 100; v++)
        sim_hist_record(&h, v);
    json_t *c = rep_quantiles(&h, 0);
    json_t *ns = rep_quantiles(&h, 2000000000);     /* 2 GHz: 0.5 ns/cycle */
    cr_assert_eq(json_integer_value(json_object_get(c, "p50")), 50);
    cr_assert_eq(json_integer_value(json_object_get(c, "max")), 100);
    cr_assert_float_eq(json_real_value(json_object_get(c, "mean")), 50.5, 1e-12);
    cr_assert_float_eq(json_real_value(json_object_get(ns, "p99")), 49.5, 1e-12);
    cr_assert_float_eq(json_real_value(json_object_get(ns, "mean")), 25.25, 1e-12);
    const char *keys[] = {"mean", "p50", "p90", "p99", "p999", "max"};
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v) {
        cr_assert_lt(i, 6);
        cr_assert_str_eq(key, keys[i++]);
    }
    json_decref(c);
    json_decref(ns);
    sim_hist_fini(&h);
    cr_assert_float_eq(rep_ns(3000, 3000000000), 1000.0, 1e-9);
}

Test(report, writes_exactly_the_dump_and_no_temporary)
{
    char *dir = make_temp_dir();
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/r.json", dir);
    mode_t old_mask = umask(022);
    json_t *doc = json_pack("{s:s, s:f, s:[i,i]}", "schema", REP_SCHEMA, "x", 0.1, "l", 1, 2);
    cr_assert_eq(rep_write_json(path, doc, err, sizeof err), 0, "%s", err);
    char *dump = rep_dump(doc);
    char *text = read_all(path);
    cr_assert_eq(strncmp(text, dump, strlen(dump)), 0);
    cr_assert_str_eq(text + strlen(dump), "\n");
    cr_assert_eq(count_entries(dir), 1);
    /* Rewriting replaces the file whole. */
    cr_assert_eq(rep_write_json(path, doc, err, sizeof err), 0, "%s", err);
    cr_assert_eq(count_entries(dir), 1);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644, "mode %o under umask 022", st.st_mode & 0777);
    umask(old_mask);
    free(dump);
    json_decref(doc);
    unlink(path);
    rmdir(dir);
    free(dir);
}

Test(report, unwritable_place_fails_cleanly)
{
    char err[256] = "";
    json_t *doc = json_pack("{s:i}", "a", 1);
    int rc = rep_write_json("/nonexistent-pvsim-dir/r.json", doc, err, sizeof err);
    cr_assert_eq(rc, SIM_EIO);
    cr_assert(strstr(err, "/nonexistent-pvsim-dir/r.json"), "%s", err);
    json_decref(doc);
}

Test(report, reals_are_written_with_twelve_digits)
{
    json_t *doc = json_pack("{s:f}", "third", 1.0 / 3.0);
    char *dump = rep_dump(doc);
    cr_assert(strstr(dump, "0.333333333333"), "%s", dump);
    cr_assert_null(strstr(dump, "0.3333333333333"), "%s", dump);
    free(dump);
    json_decref(doc);
}

Test(report, every_status_has_a_text)
{
    cr_assert_str_eq(sim_strerror(0), "success");
    cr_assert_str_eq(sim_strerror(SIM_EPAST), "time lies in the past");
    cr_assert_str_eq(sim_strerror(12345), "unknown error");
    for (int s = SIM_EINVAL; s <= SIM_ENOSPACE; s++)
        cr_assert_str_neq(sim_strerror(s), "unknown error");
}

/* A directory where the file should go: the temporary is written, the
 * rename fails, and nothing is left behind. */
Test(report, a_directory_in_the_way_fails_cleanly)
{
    char *dir = make_temp_dir();
    char path[512], err[512] = "";
    snprintf(path, sizeof path, "%s/r.json", dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    cr_assert_eq(rep_write_text(path, "{}", "\n", err, sizeof err), SIM_EIO);
    cr_assert(strstr(err, "cannot rename to") && strstr(err, "Is a directory"), "%s", err);
    cr_assert_eq(count_entries(dir), 1);
    rmdir(path);
    rmdir(dir);
    free(dir);
}

/* A disk that fills up (here, a file size limit): the write fails, and the
 * partial temporary goes. */
Test(report, a_full_disk_fails_cleanly)
{
    char *dir = make_temp_dir();
    char path[512], err[512] = "";
    snprintf(path, sizeof path, "%s/r.json", dir);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = {1024, 1024};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    static char big[65536];
    memset(big, 'x', sizeof big - 1);
    cr_assert_eq(rep_write_text(path, big, "\n", err, sizeof err), SIM_EIO);
    cr_assert(strstr(err, "cannot write") && strstr(err, "r.json.tmp"), "%s", err);
    cr_assert_eq(count_entries(dir), 0);
    rmdir(dir);
    free(dir);
}

Test(report, flattening_names_items_by_name_when_it_can)
{
    json_t *doc = json_loads("{\"variants\": [{\"name\": \"a\", \"x\": 1, \"n\": null},"
                             "                {\"name\": \"b\", \"x\": 2, \"e\": {}}],"
                             " \"twins\": [{\"name\": \"t\", \"y\": 1}, {\"name\": \"t\", \"y\": 2}],"
                             " \"blank\": [{\"name\": \"\", \"z\": true}],"
                             " \"list\": [3, \"s\"]}", 0, NULL);
    cr_assert_not_null(doc);
    json_t *flat = rep_flatten(doc);
    char *text = json_dumps(flat, JSON_COMPACT);
    cr_assert_str_eq(text, "{\"variants.a.x\":1,\"variants.b.x\":2,\"twins.0.name\":\"t\","
                           "\"twins.0.y\":1,\"twins.1.name\":\"t\",\"twins.1.y\":2,"
                           "\"blank.0.name\":\"\",\"blank.0.z\":true,\"list.0\":3,"
                           "\"list.1\":\"s\"}");
    free(text);
    json_decref(flat);
    json_decref(doc);
}

/* Paths are bounded: a leaf whose path passes 1,023 bytes fails the whole
 * flattening, and rep_get refuses a key of 128 bytes or more. */
Test(report, paths_past_their_bounds_are_refused)
{
    char key[1100], path[160];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    json_t *doc = json_pack("{s:{s:i}}", "a", key, 1);
    cr_assert_null(rep_flatten(doc));
    json_decref(doc);
    for (size_t n = 127; n <= 128; n++) {
        snprintf(path, sizeof path, "a.%.*s", (int)n, key);
        doc = json_pack("{s:{s:i}}", "a", path + 2, 1);
        json_t *v = rep_get(doc, path);
        cr_assert(n == 127 ? json_integer_value(v) == 1 : v == NULL, "a key of %zu bytes", n);
        json_decref(doc);
    }
    doc = json_pack("{s:i}", "a", 1);
    cr_assert_null(rep_get(doc, "a.b.c"));
    json_decref(doc);
}
