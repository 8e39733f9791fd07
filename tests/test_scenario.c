/*
 * test_scenario.c -- the scenario loader (sim/scenario.h) against a test
 * schema that uses every field type.
 *
 * Each test loads in-memory YAML and checks the exact error lines the CLI
 * would print, or the bound values. The last test mutates a valid document
 * thousands of times (fixed seed) to check that no input crashes the loader.
 * Run under the sanitizer build to check that scn_free() leaks nothing.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario.h"

/* ---- the test schema ---------------------------------------------------- */

typedef struct t_work {
    uint64_t depth;
    uint64_t size;
    uint64_t think;
    int dist;
    bool pinned;
    double ratio;
} t_work;

typedef struct t_guest {
    char *name;
    uint64_t count;
    t_work work;
} t_guest;

typedef struct t_root {
    char *name;
    uint64_t clock;
    uint64_t seed;
    uint64_t limit;
    uint64_t timeout;
    t_guest *guests;
    size_t nguests;
    t_work defaults;
} t_root;

static const char *const dist_names[] = {"fixed", "exponential", "uniform", NULL};

static const scn_field work_fields[] = {
    {.key = "depth", .type = SCN_U64, .offset = SCN_AT(t_work, depth, uint64_t),
     .min = 1, .max = 64, .def = "4", .doc = "requests outstanding"},
    {.key = "size", .type = SCN_SIZE, .offset = SCN_AT(t_work, size, uint64_t),
     .max = 1048576, .def = "4KiB", .doc = "bytes per request"},
    {.key = "think", .type = SCN_DURATION, .offset = SCN_AT(t_work, think, uint64_t),
     .def = "0", .doc = "time between requests"},
    {.key = "dist", .type = SCN_ENUM, .offset = SCN_AT(t_work, dist, int),
     .def = "fixed", .enum_names = dist_names, .doc = "think distribution"},
    {.key = "pinned", .type = SCN_BOOL, .offset = SCN_AT(t_work, pinned, bool),
     .def = "false", .doc = "pin | to a CPU"},
    {.key = "ratio", .type = SCN_DOUBLE, .offset = SCN_AT(t_work, ratio, double),
     .min = 0, .max = 1, .def = "0.5", .doc = "read share"},
};

static const scn_schema work_schema = {
    .name = "workload", .size = sizeof(t_work), .fields = work_fields,
    .nfields = sizeof work_fields / sizeof work_fields[0]};

static const scn_field guest_fields[] = {
    {.key = "name", .type = SCN_STRING, .offset = SCN_AT(t_guest, name, char *),
     .flags = SCN_REQUIRED, .min = 1, .max = 16, .doc = "guest name"},
    {.key = "count", .type = SCN_U64, .offset = SCN_AT(t_guest, count, uint64_t),
     .min = 1, .max = 8, .def = "1", .doc = "instances"},
    {.key = "workload", .type = SCN_STRUCT, .offset = offsetof(t_guest, work),
     .sub = &work_schema, .doc = "the I/O"},
};

static const scn_schema guest_schema = {
    .name = "guest", .size = sizeof(t_guest), .fields = guest_fields,
    .nfields = sizeof guest_fields / sizeof guest_fields[0]};

static const scn_field root_fields[] = {
    {.key = "name", .type = SCN_STRING, .offset = SCN_AT(t_root, name, char *),
     .flags = SCN_REQUIRED, .min = 1, .max = 32, .doc = "scenario name"},
    {.key = "timeout", .type = SCN_DURATION, .offset = SCN_AT(t_root, timeout, uint64_t),
     .min = 1, .max = 1e9, .def = "1us", .doc = "give up after this"},
    {.key = "clock", .type = SCN_FREQ, .offset = SCN_AT(t_root, clock, uint64_t),
     .flags = SCN_CLOCK, .min = 1e6, .max = 1e10, .def = "1GHz",
     .doc = "host clock"},
    {.key = "seed", .type = SCN_U64, .offset = SCN_AT(t_root, seed, uint64_t),
     .def = "1", .doc = "random seed"},
    {.key = "limit", .type = SCN_U64, .offset = SCN_AT(t_root, limit, uint64_t),
     .min = 1, .max = 100, .def = "10", .doc = "a bounded integer"},
    {.key = "guests", .type = SCN_LIST, .offset = offsetof(t_root, guests),
     .count_offset = offsetof(t_root, nguests), .flags = SCN_REQUIRED,
     .min = 1, .max = 4, .sub = &guest_schema, .doc = "guest classes"},
    {.key = "defaults", .type = SCN_STRUCT, .offset = offsetof(t_root, defaults),
     .sub = &work_schema, .doc = "workload defaults"},
};

static const scn_schema root_schema = {
    .name = "test", .size = sizeof(t_root), .fields = root_fields,
    .nfields = sizeof root_fields / sizeof root_fields[0]};

/* ---- helpers -------------------------------------------------------------- */

typedef struct run {
    int rc;
    t_root cfg;
    scn_errors errs;
    char lines[SCN_MAX_ERRORS][1024];
} run;

static void load_sets(run *r, const char *text, const char *const *sets,
                      size_t nsets)
{
    memset(r, 0, sizeof *r);
    scn_source src = {.path = "t.yaml", .text = text, .text_len = strlen(text),
                      .sets = sets, .nsets = nsets};
    r->rc = scn_load(&root_schema, &src, &r->cfg, NULL, &r->errs);
    for (int i = 0; i < r->errs.count; i++)
        scn_error_format(&r->errs.items[i], r->lines[i], sizeof r->lines[i]);
}

static void load(run *r, const char *text)
{
    load_sets(r, text, NULL, 0);
}

static void done(run *r)
{
    scn_free(&root_schema, &r->cfg);
}

/* Exactly one error, rendered as `line`. */
static void expect_one(const char *text, const char *line)
{
    run r;
    load(&r, text);
    cr_expect_eq(r.rc, SIM_ESCENARIO, "rc %d for:\n%s", r.rc, text);
    cr_expect_eq(r.errs.count, 1, "%d errors, first: %s", r.errs.count,
                 r.lines[0]);
    cr_expect_str_eq(r.lines[0], line);
    done(&r);
}

static void expect_set_one(const char *text, const char *set, const char *line)
{
    run r;
    const char *sets[] = {set};
    load_sets(&r, text, sets, 1);
    cr_expect_eq(r.rc, SIM_ESCENARIO);
    cr_expect_eq(r.errs.count, 1, "%d errors, first: %s", r.errs.count,
                 r.lines[0]);
    cr_expect_str_eq(r.lines[0], line);
    done(&r);
}

#define GOOD                                   \
    "name: demo\n"                             \
    "clock: 2GHz\n"                            \
    "guests:\n"                                \
    "  - name: small\n"                        \
    "    count: 2\n"                           \
    "    workload:\n"                          \
    "      depth: 8\n"                         \
    "      size: 64 KiB\n"                     \
    "      think: 1.5us\n"                     \
    "      dist: exponential\n"                \
    "      pinned: true\n"                     \
    "      ratio: 0.25\n"                      \
    "  - name: large\n"                        \
    "    workload: {size: 1MiB, think: 300}\n"

/* ---- values ----------------------------------------------------------------- */

Test(scenario, good_document_binds_every_type)
{
    run r;
    load(&r, GOOD);
    cr_assert_eq(r.rc, 0, "%s", r.lines[0]);
    cr_expect_str_eq(r.cfg.name, "demo");
    cr_expect_eq(r.cfg.clock, 2000000000u);
    cr_expect_eq(r.cfg.nguests, 2);
    const t_guest *g = &r.cfg.guests[0];
    cr_expect_str_eq(g->name, "small");
    cr_expect_eq(g->count, 2);
    cr_expect_eq(g->work.depth, 8);
    cr_expect_eq(g->work.size, 65536);
    cr_expect_eq(g->work.think, 3000);      /* 1.5us at 2GHz */
    cr_expect_eq(g->work.dist, 1);
    cr_expect(g->work.pinned);
    cr_expect_float_eq(g->work.ratio, 0.25, 1e-12);
    g = &r.cfg.guests[1];
    cr_expect_eq(g->work.size, 1048576);
    cr_expect_eq(g->work.think, 300);       /* plain = cycles */
    done(&r);
}

Test(scenario, defaults_applied)
{
    run r;
    load(&r, "name: d\nguests:\n  - name: g\n");
    cr_assert_eq(r.rc, 0, "%s", r.lines[0]);
    cr_expect_eq(r.cfg.clock, 1000000000u);
    cr_expect_eq(r.cfg.timeout, 1000);      /* 1us at the default 1GHz */
    cr_expect_eq(r.cfg.seed, 1);
    cr_expect_eq(r.cfg.limit, 10);
    cr_expect_eq(r.cfg.guests[0].count, 1);
    cr_expect_eq(r.cfg.guests[0].work.depth, 4);
    cr_expect_eq(r.cfg.guests[0].work.size, 4096);
    cr_expect_eq(r.cfg.guests[0].work.think, 0);
    cr_expect_eq(r.cfg.guests[0].work.dist, 0);
    cr_expect(!r.cfg.guests[0].work.pinned);
    cr_expect_float_eq(r.cfg.guests[0].work.ratio, 0.5, 1e-12);
    cr_expect_eq(r.cfg.defaults.depth, 4);  /* absent struct: sub-defaults */
    done(&r);
}

Test(scenario, duration_in_us_uses_the_clock_even_when_listed_after)
{
    /* timeout precedes clock in the schema and in the text. */
    run r;
    load(&r, "name: d\ntimeout: 2.5us\nclock: 3GHz\nguests: [{name: g}]\n");
    cr_assert_eq(r.rc, 0, "%s", r.lines[0]);
    cr_expect_eq(r.cfg.timeout, 7500);
    done(&r);
    load(&r, "name: d\ntimeout: 1ns\nclock: 1500MHz\nguests: [{name: g}]\n");
    cr_assert_eq(r.rc, 0, "%s", r.lines[0]);
    cr_expect_eq(r.cfg.timeout, 2);         /* 1.5 cycles rounds to 2 */
    done(&r);
    load(&r, "name: d\ntimeout: 0.3 ms\nguests: [{name: g}]\n");
    cr_assert_eq(r.rc, 0, "%s", r.lines[0]);
    cr_expect_eq(r.cfg.timeout, 300000);
    done(&r);
}

Test(scenario, duration_without_clock_field_is_an_error)
{
    static const scn_field f[] = {
        {.key = "t", .type = SCN_DURATION, .offset = 0, .doc = "t"}};
    static const scn_schema s = {.name = "s", .size = sizeof(uint64_t),
                                 .fields = f, .nfields = 1};
    uint64_t v = 0;
    scn_errors errs = {0};
    scn_source src = {.path = "c.yaml", .text = "t: 5us\n", .text_len = 7};
    cr_assert_eq(scn_load(&s, &src, &v, NULL, &errs), SIM_ESCENARIO);
    char line[1024];
    scn_error_format(&errs.items[0], line, sizeof line);
    cr_expect_str_eq(line, "c.yaml:1:4: error: t: expected a duration in cycles "
                           "(there is no clock to convert time units with), "
                           "found '5us'");
    src.text = "t: 5 cycles\n";
    src.text_len = strlen(src.text);
    errs = (scn_errors){0};
    cr_expect_eq(scn_load(&s, &src, &v, NULL, &errs), 0);
    cr_expect_eq(v, 5);
}

Test(scenario, empty_file_is_an_empty_mapping)
{
    run r;
    load(&r, "");
    cr_expect_eq(r.rc, SIM_ESCENARIO);
    cr_assert_eq(r.errs.count, 2);
    cr_expect_str_eq(r.lines[0], "t.yaml:1:1: error: name: missing required key");
    cr_expect_str_eq(r.lines[1], "t.yaml:1:1: error: guests: missing required key");
    done(&r);
}

/* ---- error lines ------------------------------------------------------------ */

Test(scenario, unknown_key_with_and_without_suggestion)
{
    expect_one("name: d\nguests:\n  - name: g\n    workload:\n      dpeth: 3\n",
               "t.yaml:5:7: error: guests.0.workload.dpeth: unknown key "
               "(did you mean 'depth'?)");
    expect_one("name: d\nguests: [{name: g}]\ncolour: red\n",
               "t.yaml:3:1: error: colour: unknown key");
    /* Distance 2 but not under half the length: no suggestion. */
    expect_one("name: d\nguests: [{name: g}]\nsd: 1\n",
               "t.yaml:3:1: error: sd: unknown key");
}

Test(scenario, wrong_types)
{
    expect_one("name: d\nguests: [{name: g}]\nlimit: [1, 2]\n",
               "t.yaml:3:8: error: limit: expected an integer, found a list");
    expect_one("name: d\nguests: [{name: g}]\ndefaults: 3\n",
               "t.yaml:3:11: error: defaults: expected a mapping, found a scalar '3'");
    expect_one("name: d\nguests: {name: g}\n",
               "t.yaml:2:9: error: guests: expected a list, found a mapping");
    expect_one("name: d\nguests: [{name: g}]\ndefaults: {pinned: yes}\n",
               "t.yaml:3:20: error: defaults.pinned: expected true or false, found 'yes'");
    expect_one("name: d\nguests: [{name: g}]\nlimit: \"5\"\n",
               "t.yaml:3:8: error: limit: expected an integer, found a string '5'");
    expect_one("name: d\nguests: [{name: g}]\ndefaults: {dist: expo}\n",
               "t.yaml:3:18: error: defaults.dist: expected one of 'fixed', "
               "'exponential', 'uniform', found 'expo'");
    expect_one("name: d\nguests: [{name: g}]\ndefaults: {dist: unifrom}\n",
               "t.yaml:3:18: error: defaults.dist: expected one of 'fixed', "
               "'exponential', 'uniform', found 'unifrom' (did you mean 'uniform'?)");
    expect_one("name:\nguests: [{name: g}]\n",
               "t.yaml:1:6: error: name: expected a string, found an empty value");
    expect_one("- 1\n- 2\n", "t.yaml:1:1: error: top level: expected a mapping, "
                             "found a list");
}

Test(scenario, out_of_range)
{
    expect_one("name: d\nguests: [{name: g}]\nlimit: 101\n",
               "t.yaml:3:8: error: limit: expected an integer from 1 to 100, "
               "found '101'");
    expect_one("name: d\nguests: [{name: g, workload: {size: 2MiB}}]\n",
               "t.yaml:2:37: error: guests.0.workload.size: expected a size of "
               "at most 1MiB, found '2MiB'");
    expect_one("name: d\nguests: [{name: g}]\ntimeout: 2s\n",
               "t.yaml:3:10: error: timeout: expected a duration from 1 to "
               "1000000000 cycles, found '2s' (2000000000 cycles)");
    expect_one("name: d\nguests: [{name: g}]\nclock: 100kHz\n",
               "t.yaml:3:8: error: clock: expected a frequency from 1MHz to "
               "10GHz, found '100kHz'");
    expect_one("name: d\nguests: [{name: g}]\ndefaults: {ratio: 1.5}\n",
               "t.yaml:3:19: error: defaults.ratio: expected a number from 0 to 1, "
               "found '1.5'");
    expect_one("name: ''\nguests: [{name: g}]\n",
               "t.yaml:1:7: error: name: expected a string from 1 to 32 "
               "characters, found ''");
}

Test(scenario, missing_required)
{
    expect_one("name: d\nguests:\n  - count: 2\n",
               "t.yaml:3:5: error: guests.0.name: missing required key");
    expect_one("guests: [{name: g}]\n",
               "t.yaml:1:1: error: name: missing required key");
}

Test(scenario, bad_units)
{
    expect_one("name: d\nguests: [{name: g, workload: {size: 4KB}}]\n",
               "t.yaml:2:37: error: guests.0.workload.size: expected a size in "
               "B, KiB, MiB, GiB or TiB, found '4KB' (did you mean '4KiB'?)");
    expect_one("name: d\nguests: [{name: g}]\ndefaults: {size: 2 mb}\n",
               "t.yaml:3:18: error: defaults.size: expected a size in B, KiB, "
               "MiB, GiB or TiB, found '2 mb' (did you mean '2 MiB'?)");
    expect_one("name: d\nguests: [{name: g}]\ntimeout: 3 sec\n",
               "t.yaml:3:10: error: timeout: expected a duration in cycles, ns, "
               "us, ms or s, found '3 sec' (did you mean '3 s'?)");
    expect_one("name: d\nguests: [{name: g}]\nclock: 3ghz\n",
               "t.yaml:3:8: error: clock: expected a frequency in Hz, kHz, MHz "
               "or GHz, found '3ghz' (did you mean '3GHz'?)");
    expect_one("name: d\nguests: [{name: g}]\ndefaults: {size: 1.1KiB}\n",
               "t.yaml:3:18: error: defaults.size: expected a whole number of "
               "bytes, found '1.1KiB'");
}

Test(scenario, bad_integers)
{
    expect_one("name: d\nguests: [{name: g}]\nseed: 1.5\n",
               "t.yaml:3:7: error: seed: expected an integer, found '1.5'");
    expect_one("name: d\nguests: [{name: g}]\nseed: -3\n",
               "t.yaml:3:7: error: seed: expected a non-negative integer, found '-3'");
    expect_one("name: d\nguests: [{name: g}]\nseed: 18446744073709551616\n",
               "t.yaml:3:7: error: seed: expected an integer of at most "
               "18446744073709551615, found '18446744073709551616'");
    expect_one("name: d\nguests: [{name: g}]\ndefaults: {think: 99999999999s}\n",
               "t.yaml:3:19: error: defaults.think: expected a duration that "
               "fits in 64 bits, found '99999999999s'");
    expect_one("name: d\nguests: [{name: g}]\ndefaults: {ratio: .nan}\n",
               "t.yaml:3:19: error: defaults.ratio: expected a finite number, "
               "found '.nan'");
    expect_one("name: d\nguests: [{name: g}]\ndefaults: {ratio: 1e999}\n",
               "t.yaml:3:19: error: defaults.ratio: expected a finite number, "
               "found '1e999'");
    run r;
    load(&r, "name: d\nguests: [{name: g}]\nseed: 18446744073709551615\n");
    cr_expect_eq(r.rc, 0);
    cr_expect_eq(r.cfg.seed, UINT64_MAX);
    done(&r);
}

Test(scenario, list_count_range)
{
    expect_one("name: d\nguests: []\n",
               "t.yaml:2:9: error: guests: expected a list from 1 to 4 items, "
               "found 0 items");
    expect_one("name: d\nguests: [{name: a}, {name: b}, {name: c}, {name: d}, "
               "{name: e}]\n",
               "t.yaml:2:9: error: guests: expected a list from 1 to 4 items, "
               "found 5 items");
}

Test(scenario, duplicate_key)
{
    expect_one("name: d\nguests:\n  - name: g\n    count: 1\n    count: 2\n",
               "t.yaml:5:5: error: guests.0.count: duplicate key, first at line 4");
}

Test(scenario, anchors_and_aliases_rejected)
{
    expect_one("name: &n d\nguests: [{name: g}]\n",
               "t.yaml:1:7: error: name: expected a value, found an anchor '&n' "
               "(anchors and aliases are not allowed)");
    expect_one("name: d\nguests: [{name: g}]\nseed: *s\n",
               "t.yaml:3:7: error: seed: expected a value, found an alias '*s' "
               "(anchors and aliases are not allowed)");
    /* An alias in a key's place (a fuzz find: the path was garbage). */
    expect_one("name: d\nguests:\n  - *ame : x\n",
               "t.yaml:3:5: error: guests.0: expected a value, found an alias "
               "'*ame' (anchors and aliases are not allowed)");
}

Test(scenario, multiple_documents_rejected)
{
    expect_one("name: d\n---\nname: e\n",
               "t.yaml:2:1: error: expected one document, found a second one");
}

Test(scenario, depth_cap)
{
    char text[256] = "x: ", line[512];
    for (int i = 0; i < 40; i++)
        strcat(text, "[");
    strcat(text, "1");
    for (int i = 0; i < 40; i++)
        strcat(text, "]");
    strcat(text, "\n");
    /* The root mapping is level 1, so the 32nd '[' (column 35) is level 33. */
    char path[128] = "x";
    for (int i = 0; i < 31; i++)
        strcat(path, ".0");
    snprintf(line, sizeof line, "t.yaml:1:35: error: %s: expected at most 32 "
             "levels of nesting, found more", path);
    expect_one(text, line);
}

Test(scenario, node_cap)
{
    /* 200,001 list items: over the node cap, well under the size cap. */
    size_t n = 200001, len = 4 + 2 * n + 2;
    char *text = malloc(len + 1);
    cr_assert(text);
    strcpy(text, "x: [");
    for (size_t i = 0; i < n; i++)
        memcpy(text + 4 + 2 * i, "1,", 2);
    memcpy(text + 4 + 2 * n - 1, "]\n", 3);
    run r;
    load(&r, text);
    cr_expect_eq(r.rc, SIM_ESCENARIO);
    cr_assert_eq(r.errs.count, 1);
    cr_expect(strstr(r.lines[0], "error: expected at most 200000 nodes, found more"),
              "%s", r.lines[0]);
    done(&r);
    free(text);
}

Test(scenario, size_cap)
{
    size_t len = ((size_t)4 << 20) + 1;
    char *text = malloc(len + 1);
    cr_assert(text);
    memset(text, '#', len);
    text[len] = '\0';
    expect_one(text, "t.yaml: error: expected at most 4 MiB of YAML, "
                     "found 4194305 bytes");
    free(text);
}

Test(scenario, syntax_error_position)
{
    expect_one("name: d\nguests: [{name: g}\nseed: 1\n",
               "t.yaml:3:1: error: syntax error: did not find expected ',' or ']' "
               "(while parsing a flow sequence at line 2)");
    expect_one("name: d\n  bad: indent\n",
               "t.yaml:2:6: error: syntax error: mapping values are not allowed "
               "in this context");
}

Test(scenario, errors_in_document_order)
{
    run r;
    load(&r, "seed: x\n"
             "guests:\n"
             "  - name: g\n"
             "    count: 0\n"
             "  - workload: {depth: 0}\n"
             "limit: 0\n"
             "name: d\n"
             "bogus: 1\n");
    cr_expect_eq(r.rc, SIM_ESCENARIO);
    cr_assert_eq(r.errs.count, 6);
    cr_expect_str_eq(r.lines[0], "t.yaml:1:7: error: seed: expected an integer, found 'x'");
    cr_expect_str_eq(r.lines[1], "t.yaml:4:12: error: guests.0.count: expected an "
                                 "integer from 1 to 8, found '0'");
    cr_expect_str_eq(r.lines[2], "t.yaml:5:5: error: guests.1.name: missing required key");
    cr_expect_str_eq(r.lines[3], "t.yaml:5:23: error: guests.1.workload.depth: expected "
                                 "an integer from 1 to 64, found '0'");
    cr_expect_str_eq(r.lines[4], "t.yaml:6:8: error: limit: expected an integer from "
                                 "1 to 100, found '0'");
    cr_expect_str_eq(r.lines[5], "t.yaml:8:1: error: bogus: unknown key");
    done(&r);
}

Test(scenario, error_cap_counts_the_rest)
{
    char text[4096] = "name: d\nguests: [{name: g}]\n";
    for (int i = 0; i < 30; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "junk%d: 1\n", i);
    run r;
    load(&r, text);
    cr_expect_eq(r.errs.count, SCN_MAX_ERRORS);
    cr_expect_eq(r.errs.dropped, 30 - SCN_MAX_ERRORS);
    cr_expect_str_eq(r.lines[0], "t.yaml:3:1: error: junk0: unknown key");
    done(&r);
}

/* ---- --set ----------------------------------------------------------------- */

Test(scenario, set_replaces_and_creates)
{
    run r;
    const char *sets[] = {"guests.0.workload.depth=16", "guests[1].name=added",
                          "defaults.think=2us", "name='quoted name'"};
    load_sets(&r, GOOD, sets, 4);
    cr_assert_eq(r.rc, 0, "%s", r.lines[0]);
    cr_expect_eq(r.cfg.guests[0].work.depth, 16);
    cr_expect_str_eq(r.cfg.guests[1].name, "added");
    cr_expect_eq(r.cfg.defaults.think, 4000);
    cr_expect_str_eq(r.cfg.name, "quoted name");
    done(&r);
    /* Appending one past the end creates a list item. */
    const char *append[] = {"guests.2.name=third"};
    load_sets(&r, GOOD, append, 1);
    cr_assert_eq(r.rc, 0, "%s", r.lines[0]);
    cr_expect_eq(r.cfg.nguests, 3);
    cr_expect_str_eq(r.cfg.guests[2].name, "third");
    done(&r);
}

Test(scenario, set_errors)
{
    expect_set_one(GOOD, "guests.0.workload.depth=lots",
                   "--set:1: error: guests.0.workload.depth: expected an integer, "
                   "found 'lots'");
    expect_set_one(GOOD, "guests.0.workload.colour=red",
                   "--set:1: error: guests.0.workload.colour: unknown key");
    expect_set_one(GOOD, "guests.5.name=x",
                   "--set:1: error: guests: expected a list index from 0 to 2, "
                   "found '5'");
    expect_set_one(GOOD, "name.first=x",
                   "--set:1: error: name: expected a mapping or a list, "
                   "found a scalar 'demo'");
    expect_set_one(GOOD, "seed",
                   "--set:1: error: expected path=value, found 'seed'");
    expect_set_one(GOOD, "=5", "--set:1: error: expected path=value, found '=5'");
    expect_set_one(GOOD, "guests..name=x",
                   "--set:1: error: expected a path such as a.b.0.c or a.b[0].c "
                   "(at most 32 parts), found 'guests..name=x'");
    expect_set_one(GOOD, "name=[x",
                   "--set:1: error: name: syntax error: did not find expected ',' "
                   "or ']' (while parsing a flow sequence at line 1)");
}

Test(scenario, set_index_counts_from_one_in_messages)
{
    run r;
    const char *sets[] = {"seed=2", "limit=0"};
    load_sets(&r, GOOD, sets, 2);
    cr_assert_eq(r.errs.count, 1);
    cr_expect_str_eq(r.lines[0], "--set:2: error: limit: expected an integer from "
                                 "1 to 100, found '0'");
    done(&r);
}

/* ---- marks, files, freeing -------------------------------------------------- */

Test(scenario, mark_of)
{
    scn_source src = {.path = "m.yaml", .text = GOOD, .text_len = strlen(GOOD),
                      .sets = (const char *const[]){"seed=7"}, .nsets = 1};
    t_root cfg = {0};
    scn_errors errs = {0};
    scn_doc *doc = NULL;
    cr_assert_eq(scn_load(&root_schema, &src, &cfg, &doc, &errs), 0);
    scn_mark m = scn_mark_of(doc, "guests.1.workload.size");
    cr_expect_str_eq(m.file, "m.yaml");
    cr_expect_eq(m.line, 14);
    cr_expect_eq(m.col, 22);
    m = scn_mark_of(doc, "guests[0].name");
    cr_expect_eq(m.line, 4);
    cr_expect_eq(m.col, 11);
    m = scn_mark_of(doc, "seed");
    cr_expect_str_eq(m.file, "--set");
    cr_expect_eq(m.line, 0);
    cr_expect_eq(m.col, 1);
    m = scn_mark_of(doc, "limit");
    cr_expect_str_eq(m.file, "m.yaml");
    cr_expect_eq(m.line, 0);
    cr_expect_eq(m.col, 0);
    m = scn_mark_of(doc, "guests.9.name");
    cr_expect_eq(m.line, 0);
    scn_doc_free(doc);
    scn_free(&root_schema, &cfg);
    cr_expect_null(cfg.guests);
    cr_expect_null(cfg.name);
}

Test(scenario, errors_add_and_format)
{
    scn_errors errs = {0};
    for (int i = 0; i < SCN_MAX_ERRORS + 3; i++)
        scn_errors_add(&errs, (scn_mark){"f.yaml", 2, 3}, "x%d: bad", i);
    cr_expect_eq(errs.count, SCN_MAX_ERRORS);
    cr_expect_eq(errs.dropped, 3);
    char line[600];
    scn_error_format(&errs.items[1], line, sizeof line);
    cr_expect_str_eq(line, "f.yaml:2:3: error: x1: bad");
    errs.items[1].mark = (scn_mark){"f.yaml", 0, 0};
    scn_error_format(&errs.items[1], line, sizeof line);
    cr_expect_str_eq(line, "f.yaml: error: x1: bad");
}

Test(scenario, files_are_read_and_missing_files_reported)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/scenario/good.yaml", PVSIM_TEST_DIR);
    scn_source src = {.path = path};
    t_root cfg = {0};
    scn_errors errs = {0};
    cr_expect_eq(scn_load(&root_schema, &src, &cfg, NULL, &errs), 0);
    cr_expect_eq(cfg.nguests, 1);
    scn_free(&root_schema, &cfg);
    src.path = "/nonexistent/x.yaml";
    errs = (scn_errors){0};
    cr_expect_eq(scn_load(&root_schema, &src, &cfg, NULL, &errs), SIM_EIO);
    cr_assert_eq(errs.count, 1);
    char line[600];
    scn_error_format(&errs.items[0], line, sizeof line);
    cr_expect_str_eq(line, "/nonexistent/x.yaml: error: cannot read the file: "
                           "No such file or directory");
    scn_free(&root_schema, &cfg);
}

Test(scenario, free_after_partial_failure_leaks_nothing)
{
    /* Strings and lists bound before and after errors all go to scn_free;
     * the sanitizer build reports any leak. */
    run r;
    load(&r, "name: d\nguests:\n  - name: a\n    count: 99\n  - name: b\n"
             "    workload: {dist: nope}\n");
    cr_expect_eq(r.rc, SIM_ESCENARIO);
    cr_expect_eq(r.errs.count, 2);
    cr_expect_str_eq(r.cfg.guests[1].name, "b");
    done(&r);
    scn_free(&root_schema, NULL);
}

/* ---- the reference ----------------------------------------------------------- */

Test(scenario, reference_tables)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f);
    cr_assert_eq(scn_write_reference(&root_schema, f), 0);
    fclose(f);
    static const char *const rows[] = {
        "## test\n\nKeys at the top level.\n\n"
        "| key | type | default | range | description |\n",
        "| `name` | string | required | 1 to 32 characters | scenario name |\n",
        "| `timeout` | duration (cycles, ns, us, ms, s) | `1us` | 1 to 1000000000 "
        "cycles | give up after this |\n",
        "| `clock` | frequency (Hz, kHz, MHz, GHz) | `1GHz` | 1MHz to 10GHz | "
        "host clock |\n",
        "| `guests` | list of [guest](#guest) | required | 1 to 4 items | "
        "guest classes |\n",
        "| `defaults` | [workload](#workload) | - |  | workload defaults |\n",
        "## guest\n\nKeys under `guests.<i>`.\n",
        "## workload\n\nKeys under `defaults`.\n",
        "| `size` | size (B, KiB, MiB, GiB, TiB) | `4KiB` | at most 1MiB | "
        "bytes per request |\n",
        "| `dist` | one of `fixed`, `exponential`, `uniform` | `fixed` |  | "
        "think distribution |\n",
        "| `pinned` | bool (`true`, `false`) | `false` |  | pin \\| to a CPU |\n",
        "| `ratio` | number | `0.5` | 0 to 1 | read share |\n",
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_expect(strstr(buf, rows[i]), "missing:\n%s\nin:\n%s", rows[i], buf);
    /* Each schema once, even when two fields share it. */
    cr_expect_null(strstr(strstr(buf, "## workload") + 1, "## workload"));
    free(buf);
}

/* ---- allocation failures ---------------------------------------------------- */

/*
 * glibc lets a program replace malloc and friends and still reach the real
 * ones as __libc_*. The replacement fails the Nth allocation after it is
 * armed and counts the blocks live, so the loop below can check that every
 * failure point ends in SIM_ENOMEM (or a clean result) with nothing leaked.
 * Sanitizers bring their own malloc, so there the test is skipped.
 */
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define FAIL_ALLOC 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static struct {
    bool armed;
    long countdown;             /* allocations left before one fails */
    long live;                  /* blocks allocated minus blocks freed */
} alloc_test;

static bool fail_now(void)
{
    return alloc_test.armed && alloc_test.countdown-- == 0;
}

void *malloc(size_t n)
{
    void *p = fail_now() ? NULL : __libc_malloc(n);
    alloc_test.live += p != NULL;
    return p;
}

void *calloc(size_t n, size_t size)
{
    void *p = fail_now() ? NULL : __libc_calloc(n, size);
    alloc_test.live += p != NULL;
    return p;
}

void *realloc(void *old, size_t n)
{
    void *p = fail_now() ? NULL : __libc_realloc(old, n);
    alloc_test.live += old == NULL && p != NULL;
    return p;
}

void free(void *p)
{
    alloc_test.live -= p != NULL;
    __libc_free(p);
}
#endif

/* Fails allocation 0, 1, 2, ... of one load until a load needs no more. */
static void allocation_failure_loop(const char *text, int ok_rc)
{
#ifdef FAIL_ALLOC
    const char *sets[] = {"guests.0.workload.depth=9", "defaults.size=2KiB"};
    for (long n = 0;; n++) {
        t_root cfg = {0};
        scn_errors errs = {0};
        scn_doc *doc = NULL;
        scn_source src = {.path = "a.yaml", .text = text,
                          .text_len = strlen(text), .sets = sets, .nsets = 2};
        alloc_test.live = 0;
        alloc_test.countdown = n;
        alloc_test.armed = true;
        int rc = scn_load(&root_schema, &src, &cfg, &doc, &errs);
        scn_doc_free(doc);
        scn_free(&root_schema, &cfg);
        bool failed = alloc_test.countdown < 0;
        alloc_test.armed = false;
        cr_assert_eq(alloc_test.live, 0, "failing allocation %ld leaks", n);
        if (!failed) {
            cr_assert_eq(rc, ok_rc, "rc %d with no failure", rc);
            cr_assert_gt(n, 50, "too few allocations to be a real test");
            break;
        }
        cr_assert(rc == SIM_ENOMEM || rc == ok_rc,
                  "failing allocation %ld: rc %d", n, rc);
        cr_assert(rc != SIM_ESCENARIO || errs.count + errs.dropped > 0);
    }
#else
    (void)text;
    (void)ok_rc;
    cr_skip_test("needs glibc's malloc, not a sanitizer's");
#endif
}

Test(scenario, allocation_failures_on_a_good_document)
{
    allocation_failure_loop(GOOD, 0);
}

Test(scenario, allocation_failures_on_a_bad_document)
{
    allocation_failure_loop(GOOD "limit: 0\nbogus: 1\n", SIM_ESCENARIO);
}

/* ---- fuzz ------------------------------------------------------------------------ */

/* xorshift64*: a fixed-seed stream local to the test. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static size_t mutate(char *buf, size_t len, size_t cap, uint64_t *seed)
{
    static const char pool[] = ":-[]{},&*!|>'\"#\n \t.0123456789eEkKiBsuGHz\\%@`?";
    int edits = 1 + (int)(next_rand(seed) % 4);
    for (int e = 0; e < edits && len > 0; e++) {
        size_t at = next_rand(seed) % len;
        switch (next_rand(seed) % 5) {
        case 0: /* flip a byte to anything */
            buf[at] = (char)(next_rand(seed) & 0xFF);
            break;
        case 1: /* a YAML-significant byte */
            buf[at] = pool[next_rand(seed) % (sizeof pool - 1)];
            break;
        case 2: /* truncate */
            len = at;
            break;
        case 3: /* delete */
            memmove(buf + at, buf + at + 1, len - at - 1);
            len--;
            break;
        default: /* duplicate a chunk */
            if (len + 16 < cap) {
                memmove(buf + at + 16, buf + at, len - at);
                len += 16;
            }
            break;
        }
    }
    return len;
}

Test(scenario, fuzz_never_crashes)
{
    static const char base[] = GOOD "seed: 42\nlimit: 5\ntimeout: 2us\n"
                               "defaults: {depth: 2, ratio: 0.1, dist: uniform}\n";
    char buf[sizeof base + 4096];
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    const char *sets[] = {"guests.0.count=3", "defaults.size=8KiB"};
    for (int iter = 0; iter < 5000; iter++) {
        memcpy(buf, base, sizeof base);
        size_t len = mutate(buf, sizeof base - 1, sizeof buf, &seed);
        t_root cfg = {0};
        scn_errors errs = {0};
        scn_source src = {.path = "f.yaml", .text = buf, .text_len = len,
                          .sets = sets, .nsets = iter % 3 == 0 ? 2 : 0};
        scn_doc *doc = NULL;
        int rc = scn_load(&root_schema, &src, &cfg, iter % 2 ? &doc : NULL, &errs);
        cr_assert(rc == 0 || (rc == SIM_ESCENARIO && errs.count >= 1),
                  "iteration %d: rc %d, %d errors", iter, rc, errs.count);
        /* Messages quote input: control bytes must have been replaced. */
        for (int i = 0; i < errs.count; i++) {
            char line[1024];
            scn_error_format(&errs.items[i], line, sizeof line);
            for (const char *p = line; *p; p++)
                cr_assert((unsigned char)*p >= 0x20 && *p != 0x7F,
                          "iteration %d: raw byte in '%s'", iter, line);
        }
        if (doc)
            (void)scn_mark_of(doc, "guests.0.workload.depth");
        scn_doc_free(doc);
        scn_free(&root_schema, &cfg);
    }
}
