/*
 * cli.h -- what the files of the `pvsim` command share (cli/cli*.c).
 *
 * The command is the only part of pvsim that prints or exits. cli.c holds
 * main(), the dispatch and the helpers below; each subcommand lives in its
 * own file and is entered like a program, with argv starting at its name.
 * A subcommand returns the process exit status.
 */
#ifndef PVSIM_CLI_CLI_H
#define PVSIM_CLI_CLI_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "models/system.h"
#include "sim/scenario.h"

/* Exit status: 0 success, 1 the run or its output failed, 2 bad usage or a
 * bad scenario. */
enum { EXIT_RUN_FAILED = 1, EXIT_USAGE = 2 };

#define MAX_SETS 256

/* The scenario file and the overrides of run, check and sweep. */
typedef struct scenario_opts {
    const char *file;               /* NULL: the built-in scenario */
    const char *sets[MAX_SETS];
    size_t nsets;
    char seed_set[48];              /* "seed=N" when --seed was given */
    char replications_set[48];      /* "run.replications=N" when
                                       --replications was given */
    char backend_set[48];           /* "backend=NAME" when --backend was
                                       given */
} scenario_opts;

/* Parses a whole unsigned decimal; 0 on success. */
int cli_parse_u64(const char *s, uint64_t *out);

/* Prints every error as file:line:col: error: ... on stderr. */
void cli_print_errors(const scn_errors *errs);

/* Appends one --set; -1 after saying why when there are too many. */
int cli_add_set(scenario_opts *o, const char *set);

/* Records --seed N as the last override, so it wins over any --set seed=.
 * 0, or -1 after saying why. */
int cli_set_seed(scenario_opts *o, const char *arg);

/* Records --replications N (1 to SYSTEM_MAX_REPLICATIONS); 0, or -1
 * after saying why. */
int cli_set_replications(scenario_opts *o, const char *arg);

/* Records --backend native|systemc; 0, or -1 after saying why. */
int cli_set_backend(scenario_opts *o, const char *arg);

/* Parses the --backend of bench: native, or systemc when this pvsim has it.
 * 0, or -1 after saying why. */
int cli_parse_backend(const char *arg, sim_backend_kind *out);

/* Appends the --seed, --replications and --backend of `o` as the last overrides, so
 * they win over any --set of the same keys, whatever the order; 0, or -1
 * after saying why. */
int cli_add_flag_sets(scenario_opts *o);

/* Loads the scenario with its overrides; prints the errors and returns -1
 * on failure. Free `cfg` with system_config_free() either way. */
int cli_load_scenario(const scenario_opts *o, system_config *cfg);

/* Loads the scenario `file` with `sets` into `cfg`; 0, or -1 after
 * printing why. Free `cfg` with system_config_free() either way. */
int cli_load_file(const char *file, const char *const *sets, size_t nsets,
                  system_config *cfg);


/* Simulates `cfg` (loaded from `file`) into a new `*results`; 0, or -1
 * after printing why. */
int cli_simulate(const system_config *cfg, const char *file, json_t **results);

/* cli_load_file() and cli_simulate(). */
int cli_simulate_file(const char *file, const char *const *sets, size_t nsets,
                      json_t **results);

/* The names in `dir` that end in `suffix` and are not hidden, sorted
 * bytewise; free them with cli_free_names(). -1 with errno set on
 * failure. */
int cli_list_files(const char *dir, const char *suffix, char ***out, size_t *count);
void cli_free_names(char **names, size_t n);

/* `name` (a scenario's) as a file name: at most len - 1 bytes of
 * [A-Za-z0-9._-], anything else as '_', and no leading dot. */
void cli_safe_name(const char *name, char *buf, size_t len);

/* DIR/<safe name>.json, where run writes results and regress baselines. */
void cli_json_path(char *buf, size_t len, const char *dir, const char *name);

/* A directory named on the command line (`what`: "--out", "DIR"): 0, or
 * -1 after saying why when it is empty. */
int cli_dir_arg(const char *what, const char *dir);

/* mkdir -p; 0, or -1 with errno set. */
int cli_make_dirs(const char *dir);

/* Exit status of a command stopped by Ctrl-C (128 + SIGINT). */
enum { EXIT_INTERRUPTED = 130 };

/* Progress of long work on stderr: a bar with an ETA on a terminal, a
 * plain line every 10 s otherwise; nothing for work shorter than that. */
typedef struct cli_progress {
    double start, last;
    int tty, shown;
    int silent;                     /* show nothing (--quiet) */
    const char *what;               /* "simulated", "of the points done" */
    char detail[64];                /* shown after the percentage, if set */
} cli_progress;

void cli_progress_start(cli_progress *p, const char *what);
/* `fraction` of the work is done, in [0, 1]. Takes a void * so the models'
 * progress callback can be this function. */
void cli_progress_show(void *p, double fraction);
/* Clears the bar, if one was shown. */
void cli_progress_end(const cli_progress *p);

/* The progress callback of system_run() onto a cli_progress: shows the
 * simulated time reached, and asks the run to stop once Ctrl-C was
 * pressed (cli_catch_interrupt). */
int cli_run_progress(void *p, const system_progress *sp);

/* Installs a SIGINT handler that only records the interrupt, so a long
 * run can stop cleanly between events; cli_interrupted() tells. */
void cli_catch_interrupt(void);
int cli_interrupted(void);
/* The flag the handler sets, for a loop that polls it (a pool's stop). */
const volatile sig_atomic_t *cli_interrupt_flag(void);

/* The recording options of `pvsim run` (cli_trace.c): output paths
 * (NULL: not asked for) and the --trace-limit arguments as given. */
typedef struct cli_trace_opts {
    const char *json, *vcd, *csv;
    const char *limits[2];
    size_t nlimits;
} cli_trace_opts;

/* Keeps one --trace-limit; -1 after saying why. */
int cli_trace_limit_arg(cli_trace_opts *o, const char *arg);

/* A recorder for what `o` asks of a run of `cfg` (its clock converts a
 * window), in `*out`; NULL when nothing is asked. 0, or an exit status
 * after saying why. */
int cli_trace_begin(const cli_trace_opts *o, const system_config *cfg, trc_recorder **out);

/* Writes the files `o` names from `t` (NULL: nothing) and, unless quiet,
 * the summary line; 0 or an exit status after saying why. */
int cli_trace_finish(const cli_trace_opts *o, const trc_recorder *t, int quiet);

int cli_run(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_presets(int argc, char **argv);
int cli_reference(int argc, char **argv);
int cli_bench(int argc, char **argv);
/* `pvsim bench all` (cli_bench.c); argv starts at "all". */
int cli_bench_all(int argc, char **argv);
int cli_sweep(int argc, char **argv);
int cli_plot(int argc, char **argv);
int cli_regress(int argc, char **argv);
int cli_validate(int argc, char **argv);

#endif
