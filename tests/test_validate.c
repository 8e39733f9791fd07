/*
 * test_validate.c -- validation cases: reading the `validate:` block with
 * its errors at their places, and judging a prediction against a results
 * document, each status by hand.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/validate.h"

/* The validate block is a mapping the loader hands over; a schema with
 * only the keys these cases use. */
typedef struct doc_cfg {
    char *name;
} doc_cfg;

static const scn_field fields[] = {
    {.key = "name", .type = SCN_STRING, .offset = SCN_AT(doc_cfg, name, char *)},
    {.key = "validate", .type = SCN_BLOCK},
};

static const scn_schema schema = {
    .name = "case", .size = sizeof(doc_cfg), .fields = fields, .nfields = 2};

static int read_case(const char *text, val_case *c, scn_errors *errs)
{
    scn_source src = {.path = "case.yaml", .text = text, .text_len = strlen(text)};
    doc_cfg cfg = {0};
    scn_doc *doc = NULL;
    memset(errs, 0, sizeof *errs);
    int rc = scn_load(&schema, &src, &cfg, &doc, errs);
    if (rc == 0)
        rc = val_case_read(c, doc, errs);
    scn_doc_free(doc);
    scn_free(&schema, &cfg);
    return rc;
}

static const char vmcall[] =
    "name: v\n"
    "validate:\n"
    "  figure: 'vmcall round trip'\n"
    "  source: 'kvm-unit-tests 00bfecaa'\n"
    "  kind: %s\n"
    "  published: 3898\n"
    "  unit: cycles\n"
    "  metric: %s\n"
    "  primitives: [exit, hypercall, entry]\n"
    "  tolerance: 0.01\n"
    "%s";

/* A results document whose first variant measured `cycles`, with costs
 * exit 1000, entry 1000, hypercall 1898 and host_ipi null. */
static json_t *results(double cycles)
{
    return json_pack("{s:I, s:{s:I, s:I, s:I, s:n}, s:[{s:{s:f}}]}", "clock_hz",
                     (json_int_t)2000000000, "costs_cycles", "exit", (json_int_t)1000, "entry",
                     (json_int_t)1000, "hypercall", (json_int_t)1898, "host_ipi", "variants",
                     "microbench", "cycles_per_iteration", cycles);
}

static val_outcome judge(const char *kind, const char *metric, const char *extra,
                         double cycles)
{
    char text[1024];
    snprintf(text, sizeof text, vmcall, kind, metric, extra);
    val_case c;
    scn_errors errs;
    cr_assert_eq(read_case(text, &c, &errs), 0, "%s", errs.count ? errs.items[0].message : "");
    json_t *r = results(cycles);
    val_outcome out;
    char err[128];
    cr_assert_eq(val_judge(&c, r, &out, err, sizeof err), 0, "%s", err);
    json_decref(r);
    val_case_free(&c);
    return out;
}

Test(validate, a_consistency_check_passes_within_its_tolerance_and_fails_beyond)
{
    val_outcome ok = judge("consistency", "microbench.cycles_per_iteration", "", 3900);
    cr_assert_eq(ok.status, VAL_OK);
    cr_assert_float_eq(ok.predicted, 3900, 1e-9);
    cr_assert_float_eq(ok.error, 2.0 / 3898, 1e-12);
    val_outcome bad = judge("consistency", "microbench.cycles_per_iteration", "", 4000);
    cr_assert_eq(bad.status, VAL_FAILED);
    cr_assert(val_status_fails(bad.status));
}

Test(validate, a_sum_adds_the_primitives_from_the_results)
{
    val_outcome out = judge("consistency", "sum", "", 0);
    cr_assert_float_eq(out.predicted, 3898, 1e-9);
    cr_assert_eq(out.status, VAL_OK);
}

Test(validate, a_prediction_is_judged_against_its_recorded_error)
{
    /* 3000 against 3898: -23%, beyond the 1% tolerance. */
    val_outcome first = judge("prediction", "microbench.cycles_per_iteration", "", 3000);
    cr_assert_eq(first.status, VAL_UNRECORDED);
    cr_assert(val_status_fails(first.status));
    val_outcome same = judge("prediction", "microbench.cycles_per_iteration",
                             "  recorded_error: -0.230374\n", 3000);
    cr_assert_eq(same.status, VAL_MISSED);
    cr_assert_not(val_status_fails(same.status));
    val_outcome worse = judge("prediction", "microbench.cycles_per_iteration",
                              "  recorded_error: -0.1\n", 3000);
    cr_assert_eq(worse.status, VAL_WORSE);
    cr_assert(val_status_fails(worse.status));
    val_outcome hit = judge("prediction", "microbench.cycles_per_iteration",
                            "  recorded_error: -0.230374\n", 3899);
    cr_assert_eq(hit.status, VAL_HIT);
}

Test(validate, a_primitive_without_a_figure_cannot_be_summed)
{
    const char *text =
        "name: v\nvalidate: {figure: f, source: s, kind: consistency, published: 1,\n"
        "  unit: cycles, metric: sum, primitives: [exit, host_ipi], tolerance: 0}\n";
    val_case c;
    scn_errors errs;
    cr_assert_eq(read_case(text, &c, &errs), 0);
    json_t *r = results(1);
    val_outcome out;
    char err[128];
    cr_assert_eq(val_judge(&c, r, &out, err, sizeof err), SIM_ENOTFOUND);
    cr_assert(strstr(err, "host_ipi has no figure"), "%s", err);
    json_decref(r);
    val_case_free(&c);
}

static void expect_error(const char *text, const char *want)
{
    val_case c;
    scn_errors errs;
    cr_assert_neq(read_case(text, &c, &errs), 0);
    char line[1024];
    scn_error_format(&errs.items[0], line, sizeof line);
    cr_assert(strstr(line, want), "%s", line);
    val_case_free(&c);
}

Test(validate, mistakes_in_the_block_are_errors_at_their_place)
{
    expect_error("name: v\n", "case.yaml:1:7: error: validate: expected a validation block");
    expect_error("name: v\nvalidate: {figur: x}\n",
                 "case.yaml:2:12: error: validate.figur: unknown key (did you mean 'figure'?)");
    expect_error("name: v\nvalidate: {figure: f, source: s, kind: guess, published: 1,\n"
                 "  unit: cycles, metric: m, primitives: [exit], tolerance: 0}\n",
                 "validate.kind: expected consistency or prediction, found 'guess'");
    expect_error("name: v\nvalidate: {figure: f, source: s, kind: consistency, published: 1,\n"
                 "  unit: cycles, metric: m, primitives: [exit], tolerance: 0,\n"
                 "  recorded_error: 0.1}\n",
                 "validate.recorded_error: expected none in a consistency check");
    expect_error("name: v\nvalidate: {figure: f, source: s, kind: prediction, published: x,\n"
                 "  unit: cycles, metric: m, primitives: [exit], tolerance: 0}\n",
                 "validate.published: expected a number, found 'x'");
    expect_error("name: v\nvalidate: {figure: f}\n", "validate.source: expected a value");
}

/* A good prediction's block with `key` given `value` instead (or added). */
static void block_with(char *text, size_t len, const char *key, const char *value)
{
    static const char *const good[][2] = {
        {"figure", "f"}, {"source", "s"}, {"kind", "prediction"}, {"published", "1"},
        {"unit", "cycles"}, {"metric", "m"}, {"primitives", "[exit]"}, {"tolerance", "0"},
    };
    size_t n = (size_t)snprintf(text, len, "name: v\nvalidate:\n");
    int found = 0;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int mine = !strcmp(good[i][0], key);
        found |= mine;
        n += (size_t)snprintf(text + n, len - n, "  %s: %s\n", good[i][0],
                              mine ? value : good[i][1]);
    }
    if (!found)
        snprintf(text + n, len - n, "  %s: %s\n", key, value);
}

/* Each field refuses what it cannot take, with what it found. */
Test(validate, every_field_says_what_it_expected)
{
    static const struct { const char *key, *value, *want; } cases[] = {
        {"published", "'3898'", "validate.published: expected a number, found '3898'"},
        {"published", ".inf", "validate.published: expected a number, found '.inf'"},
        {"published", "-1", "validate.published: expected a positive number, found '-1'"},
        {"figure", "[a]", "validate.figure: expected some text, found a list"},
        {"source", "{a: b}", "validate.source: expected some text, found a mapping"},
        {"metric", "''", "validate.metric: expected some text, found ''"},
        {"unit", "hz", "validate.unit: expected cycles, ns or count, found 'hz'"},
        {"kind", "[a]", "validate.kind: expected consistency or prediction, found a list"},
        {"primitives", "[]", "validate.primitives: expected a list of 1 to 16"},
        {"primitives", "exit", "validate.primitives: expected a list of 1 to 16"},
        {"primitives", "[exit, [entry]]", "validate.primitives: expected some text"},
        {"tolerance", "-0.1", "validate.tolerance: expected a relative error of 0"},
        {"zzzzzz", "1", "validate.zzzzzz: unknown key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512], line[1024];
        block_with(text, sizeof text, cases[i].key, cases[i].value);
        val_case c;
        scn_errors errs;
        cr_assert_neq(read_case(text, &c, &errs), 0, "case %zu", i);
        scn_error_format(&errs.items[0], line, sizeof line);
        cr_assert(strstr(line, cases[i].want), "case %zu: %s", i, line);
        /* A key far from every name gets no suggestion. */
        cr_assert_null(strstr(line, "did you mean"), "case %zu: %s", i, line);
        val_case_free(&c);
    }
}

Test(validate, a_sum_in_ns_converts_with_the_clock)
{
    const char *text =
        "name: v\nvalidate: {figure: f, source: s, kind: consistency, published: 1949,\n"
        "  unit: ns, metric: sum, primitives: [exit, entry, hypercall], tolerance: 0}\n";
    val_case c;
    scn_errors errs;
    cr_assert_eq(read_case(text, &c, &errs), 0);
    json_t *r = results(1);
    val_outcome out;
    char err[128];
    /* 3898 cycles at 2 GHz. */
    cr_assert_eq(val_judge(&c, r, &out, err, sizeof err), 0, "%s", err);
    cr_assert_float_eq(out.predicted, 1949, 1e-9);
    cr_assert_eq(out.status, VAL_OK);
    cr_assert_str_eq(val_unit_name(c.unit), "ns");
    val_case_free(&c);
    json_decref(r);
}

Test(validate, a_metric_missing_from_the_results_is_not_found)
{
    const char *text =
        "name: v\nvalidate: {figure: f, source: s, kind: consistency, published: 1,\n"
        "  unit: count, metric: ivshmem.intercepts_per_message, primitives: [exit],\n"
        "  tolerance: 0}\n";
    val_case c;
    scn_errors errs;
    cr_assert_eq(read_case(text, &c, &errs), 0);
    json_t *r = results(1);
    val_outcome out;
    char err[128];
    cr_assert_eq(val_judge(&c, r, &out, err, sizeof err), SIM_ENOTFOUND);
    cr_assert_str_eq(err, "metric ivshmem.intercepts_per_message is not a number in the results");
    val_case_free(&c);
    json_decref(r);
}
