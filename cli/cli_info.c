/*
 * cli_info.c -- `pvsim presets`, `pvsim reference` and `pvsim bench`:
 * what pvsim knows (cost presets, the scenario keys) and how fast it is.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bench/hold.h"
#include "models/vmm.h"
#include "cli/cli.h"

static const char bench_usage[] =
    "usage: pvsim bench kernel [--pending P] [--events E] [--seed N]\n"
    "                          [--backend native|systemc]\n"
    "       pvsim bench all [--runs N] ... (pvsim bench all --help)\n"
    "\n"
    "The classic hold model: P events pending, each handler reschedules\n"
    "itself at now + uniform[1, 1000] cycles, until E events have run.\n"
    "Prints events per second and nanoseconds per event.\n"
    "\n"
    "options:\n"
    "  -p, --pending P   events pending at once (default 1024)\n"
    "  -e, --events E    events to run (default 10000000)\n"
    "  -s, --seed N      random seed (default 1)\n"
    "  -b, --backend B   the event kernel: native (default) or systemc, when\n"
    "                    built with it\n"
    "\n"
    "examples:\n"
    "  pvsim bench kernel --pending 16 --events 20000000\n"
    "  pvsim bench kernel --pending 65536\n"
    "  pvsim bench kernel --pending 16 --backend systemc\n";

/* presets and reference take no arguments but --help. Returns -1 to go
 * on, else the exit status. */
static int no_arguments(int argc, char **argv, const char *usage)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc == 1)
        return -1;
    fprintf(stderr, "pvsim: unexpected argument '%s'\n%s", argv[1], usage);
    return EXIT_USAGE;
}

int cli_presets(int argc, char **argv)
{
    int rc = no_arguments(argc, argv,
                          "usage: pvsim presets\n\nLists every cost preset, each number "
                          "with its published source.\n");
    if (rc >= 0)
        return rc;
    static const char *const eoi[] = {"exits", "virtualised (no exit)",
                                      "does not exit (GIC)"};
    for (const vmm_preset *p = vmm_presets; p->name; p++) {
        printf("%s: %s\n", p->name, p->description);
        printf("  the guest's EOI %s by default: %s\n", eoi[p->eoi], p->eoi_source);
        if (p->pio_in_emulated)
            printf("  a PIO read goes through the instruction emulator\n");
        for (int i = 0; i < VMM_COST_COUNT; i++) {
            const vmm_cost_source *c = &p->costs[i];
            if (!c->source)
                printf("  %-16s       - (no published figure: give costs.%s)\n",
                       vmm_cost_key((vmm_cost_id)i), vmm_cost_key((vmm_cost_id)i));
            else if (c->ns > 0)
                printf("  %-16s %7.1f ns      %s\n", vmm_cost_key((vmm_cost_id)i), c->ns,
                       c->source);
            else
                printf("  %-16s %7" PRIu64 " cycles  %s\n", vmm_cost_key((vmm_cost_id)i),
                       c->cycles, c->source);
        }
    }
    return 0;
}

int cli_reference(int argc, char **argv)
{
    int rc = no_arguments(argc, argv,
                          "usage: pvsim reference\n\nPrints the Markdown reference of "
                          "every scenario key (docs/scenarios.md embeds it).\n");
    if (rc >= 0)
        return rc;
    if (scn_write_reference(&system_schema, stdout) != 0) {
        fprintf(stderr, "pvsim: cannot write the reference\n");
        return EXIT_RUN_FAILED;
    }
    return 0;
}

/* ---- bench ----------------------------------------------------------------- */

int cli_bench(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"pending", required_argument, NULL, 'p'},
        {"events", required_argument, NULL, 'e'},
        {"seed", required_argument, NULL, 's'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    uint64_t pending = 1024, events = 10000000, seed = 1, *dst;
    sim_backend_kind backend = SIM_BACKEND_NATIVE;
    int c;
    if (argc >= 2 && !strcmp(argv[1], "all"))
        return cli_bench_all(argc - 1, argv + 1);
    if (argc < 2 || strcmp(argv[1], "kernel") != 0) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            fputs(bench_usage, stdout);
            return 0;
        }
        fprintf(stderr, "pvsim bench: expected 'kernel' or 'all'\n%s", bench_usage);
        return EXIT_USAGE;
    }
    argc--, argv++;
    while ((c = getopt_long(argc, argv, "p:e:s:b:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(bench_usage, stdout);
            return 0;
        }
        if (c == 'b') {
            if (cli_parse_backend(optarg, &backend))
                return EXIT_USAGE;
            continue;
        }
        dst = c == 'p' ? &pending : c == 'e' ? &events : c == 's' ? &seed : NULL;
        if (!dst || cli_parse_u64(optarg, dst)) {
            if (dst)
                fprintf(stderr, "pvsim bench: expected an unsigned integer, found '%s'\n",
                        optarg);
            fputs(bench_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (pending < 1 || pending > (1u << 24) || events < 1) {
        fprintf(stderr, "pvsim bench: --pending must be 1..16777216 and --events >= 1\n");
        return EXIT_USAGE;
    }
    bench_hold_result r;
    /* One kernel in this process, so SystemC's one-per-process holds. */
    int st = bench_hold(backend, (uint32_t)pending, events, seed, &r);
    if (st) {
        fprintf(stderr, "pvsim bench: %s\n", sim_strerror(st));
        return EXIT_RUN_FAILED;
    }
    printf("hold model (%s): %u pending, %" PRIu64 " events in %.3f s\n",
           backend == SIM_BACKEND_NATIVE ? "native" : "systemc", r.pending, r.events,
           r.seconds);
    printf("%.1f M events/s, %.1f ns/event\n", r.events_per_sec / 1e6, r.ns_per_event);
    return 0;
}

