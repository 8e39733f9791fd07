/*
 * sweep_pool.c -- the inline and forked pools of sweep_pool.h, and the
 * master loop.
 *
 * The forked pool's wire, per job: the master writes the job number
 * (a uint64_t) on the worker's command pipe; the worker answers on its
 * answer pipe with a header {uint32_t ok, uint64_t length} and `length`
 * bytes: the answer's text when ok, else why the job failed. A worker
 * leaves when its command pipe closes (the master closed the pool or
 * died), so no worker outlives its master's run by more than the job it
 * is running; on Linux it is also killed at once when the master dies
 * (PR_SET_PDEATHSIG). A fresh pool's worker leaves after its one answer,
 * and the master reaps it and forks the next when it hands out a job. While the sweep has a stop flag the master
 * polls in short slices, so a stop is noticed even when its signal came
 * just before poll(2) rather than during it.
 */
#include "sim/sweep_pool.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#ifdef PVSIM_COVERAGE
/* libgcov's: gcov writes its counts at exit(), which a worker never calls. */
void __gcov_dump(void);
#endif

#define MAX_ANSWER ((uint64_t)1 << 32)   /* bytes of one point's file */
#define STOP_POLL_MS 100                 /* slice of a wait that can be stopped */

static int stopping(const volatile sig_atomic_t *stop)
{
    return stop && *stop;
}

/* A sweep's point as a job. */
static int run_point_job(const void *ctx, size_t job, char **text, char *err, size_t errlen)
{
    return swp_run_point(ctx, job, text, err, errlen);
}

static swp_jobs sweep_jobs(const swp_sweep *s)
{
    return (swp_jobs){s->npoints, run_point_job, s, s->stop, s->claimed ? s->lock_fd : -1, 0};
}

/* ---- inline --------------------------------------------------------------- */

typedef struct inline_pool {
    swp_pool base;
    swp_jobs j;
    size_t job;
} inline_pool;

static int inline_assign(swp_pool *p, int worker, size_t job)
{
    (void)worker;
    ((inline_pool *)p)->job = job;
    return 0;
}

static int inline_collect(swp_pool *p, int *worker, char **text, int *lost, char *err,
                          size_t errlen)
{
    inline_pool *ip = (inline_pool *)p;
    *worker = 0;
    *lost = 0;
    if (ip->j.run(ip->j.ctx, ip->job, text, err, errlen) != 0)
        *text = NULL;
    return 0;
}

static void inline_close(swp_pool *p)
{
    free(p);
}

swp_pool *swp_pool_inline_jobs(const swp_jobs *j)
{
    inline_pool *ip = calloc(1, sizeof *ip);
    if (!ip)
        return NULL;
    ip->base = (swp_pool){1, inline_assign, inline_collect, inline_close};
    ip->j = *j;
    return &ip->base;
}

swp_pool *swp_pool_inline(const swp_sweep *s)
{
    swp_jobs j = sweep_jobs(s);
    return swp_pool_inline_jobs(&j);
}

/* ---- forked workers ---------------------------------------------------------- */

typedef struct fork_worker {
    pid_t pid;
    int cmd;                         /* write end of the command pipe */
    int ans;                         /* read end of the answer pipe */
    int busy, alive;
} fork_worker;

typedef struct fork_pool {
    swp_pool base;
    swp_jobs j;
    int n;                           /* workers started at least once */
    fork_worker w[];
} fork_pool;

/* read(2)/write(2) of all `n` bytes through EINTR and short counts:
 * returns the bytes moved, less than n only at end of file or on error. */
static size_t read_full(int fd, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(fd, (char *)buf + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    return done;
}

static size_t write_full(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = write(fd, (const char *)buf + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    return done;
}

static int send_answer(int fd, uint32_t ok, const char *body)
{
    uint64_t len = strlen(body);
    return write_full(fd, &ok, sizeof ok) == sizeof ok &&
                   write_full(fd, &len, sizeof len) == sizeof len &&
                   write_full(fd, body, len) == len
               ? 0
               : -1;
}

/* A worker's life: run the jobs it is given until its command pipe
 * closes, or after one job when the pool is fresh. Never returns. */
static void worker_main(const swp_jobs *j, int cmd, int ans)
{
    uint64_t job;
    while (read_full(cmd, &job, sizeof job) == sizeof job) {
        char err[512], *text = NULL;
        int rc = job < j->njobs ? j->run(j->ctx, (size_t)job, &text, err, sizeof err)
                                : SIM_EINVAL;
        if (rc && job >= j->njobs)
            snprintf(err, sizeof err, "no job %llu", (unsigned long long)job);
        int sent = send_answer(ans, rc == 0, rc == 0 ? text : err);
        free(text);
        if (sent != 0 || j->fresh)
            break;
    }
#ifdef PVSIM_COVERAGE
    __gcov_dump();
#endif
    _exit(0);
}

/* In a new worker: keep only its own pipes, and die with the master. */
static void become_worker(fork_pool *fp, int i, int cmd_read, int ans_write)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    signal(SIGPIPE, SIG_DFL);
    if (fp->j.master_fd >= 0)
        close(fp->j.master_fd);      /* e.g. a lock, the master's to drop */
    for (int k = 0; k < fp->n; k++) {
        if (k != i && fp->w[k].alive) {
            close(fp->w[k].cmd);
            close(fp->w[k].ans);
        }
    }
    worker_main(&fp->j, cmd_read, ans_write);
}

static int start_worker(fork_pool *fp, int i, char *err, size_t errlen)
{
    int cmd[2], ans[2];
    if (pipe(cmd) != 0) {
        snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
        return SIM_EIO;
    }
    if (pipe(ans) != 0) {
        snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
        close(cmd[0]);
        close(cmd[1]);
        return SIM_EIO;
    }
    fflush(NULL);                    /* no buffered output twice */
    pid_t pid = fork();
    if (pid == 0) {
        close(cmd[1]);
        close(ans[0]);
        become_worker(fp, i, cmd[0], ans[1]);
    }
    close(cmd[0]);
    close(ans[1]);
    if (pid < 0) {
        snprintf(err, errlen, "cannot start a worker: %s", strerror(errno));
        close(cmd[1]);
        close(ans[0]);
        return SIM_EIO;
    }
    fp->w[i] = (fork_worker){pid, cmd[1], ans[0], 0, 1};
    if (fp->n < i + 1)
        fp->n = i + 1;
    return 0;
}

static int fork_assign(swp_pool *p, int worker, size_t job)
{
    fork_pool *fp = (fork_pool *)p;
    fork_worker *w = &fp->w[worker];
    char err[256];
    /* A fresh pool's worker left after its last job (reap_fresh). */
    if (!w->alive && fp->j.fresh && start_worker(fp, worker, err, sizeof err) != 0)
        return SIM_EIO;
    uint64_t v = job;
    if (write_full(w->cmd, &v, sizeof v) != sizeof v)
        return SIM_EIO;
    w->busy = 1;
    return 0;
}

/* Why worker `w` is gone, once it has been reaped. Its pipes are closed
 * first: a worker still alive (its answer was garbled) then leaves instead
 * of waiting for its next point, or for its answer to be read, forever. */
static void describe_death(fork_worker *w, int i, char *err, size_t errlen)
{
    int status = 0;
    pid_t r;
    close(w->cmd);
    close(w->ans);
    while ((r = waitpid(w->pid, &status, 0)) < 0 && errno == EINTR)
        ;
    if (r == w->pid && WIFSIGNALED(status))
        snprintf(err, errlen, "worker %d (pid %ld) was killed by signal %d", i,
                 (long)w->pid, WTERMSIG(status));
    else
        snprintf(err, errlen, "worker %d (pid %ld) stopped without answering", i,
                 (long)w->pid);
    w->alive = w->busy = 0;
    w->pid = 0;
}

/* Reads and drops the `len` bytes of an answer; 0 once they are read. */
static int skip_answer(int fd, uint64_t len)
{
    char buf[4096];
    while (len > 0) {
        size_t n = len < sizeof buf ? (size_t)len : sizeof buf;
        if (read_full(fd, buf, n) != n)
            return -1;
        len -= n;
    }
    return 0;
}

/* A fresh pool's worker, once it has answered, is leaving: reap it now
 * rather than leave a zombie until the pool closes. */
static void reap_fresh(fork_worker *w)
{
    close(w->cmd);
    close(w->ans);
    while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    w->alive = w->busy = 0;
    w->pid = 0;
}

/* Reads one answer from worker `w`; *lost when it died instead. */
static int read_answer(fork_worker *w, int i, char **text, int *lost, char *err,
                       size_t errlen)
{
    uint32_t ok;
    uint64_t len;
    w->busy = 0;
    int header = read_full(w->ans, &ok, sizeof ok) == sizeof ok &&
                 read_full(w->ans, &len, sizeof len) == sizeof len && len < MAX_ANSWER;
    char *body = header ? malloc(len + 1) : NULL;
    if (header && !body && skip_answer(w->ans, len) == 0) {
        /* The worker is well: only its answer cannot be kept. */
        snprintf(err, errlen, "out of memory for the answer of worker %d", i);
        return 0;
    }
    if (body && read_full(w->ans, body, len) == len) {
        body[len] = '\0';
        if (ok) {
            *text = body;
            return 0;
        }
        snprintf(err, errlen, "%s", body);
        free(body);
        return 0;
    }
    free(body);
    *lost = 1;
    describe_death(w, i, err, errlen);
    return 0;
}

/* poll(2) on the answer pipes until one is ready (> 0), the sweep is
 * stopped (0) or poll fails (< 0). An answer already there is taken
 * even after a stop: its point is done. */
static int wait_answers(const fork_pool *fp, struct pollfd *fds)
{
    int slice = fp->j.stop ? STOP_POLL_MS : -1;
    for (;;) {
        int r = poll(fds, (nfds_t)fp->n, slice);
        if (r > 0 || (r < 0 && errno != EINTR))
            return r;
        if (stopping(fp->j.stop))
            return 0;
    }
}

static int fork_collect(swp_pool *p, int *worker, char **text, int *lost, char *err,
                        size_t errlen)
{
    fork_pool *fp = (fork_pool *)p;
    struct pollfd *fds = calloc((size_t)fp->n, sizeof *fds);
    *text = NULL;
    *lost = 0;
    *worker = -1;
    if (!fds) {
        snprintf(err, errlen, "out of memory");
        return SIM_ENOMEM;
    }
    for (int i = 0; i < fp->n; i++)
        fds[i] = (struct pollfd){fp->w[i].busy ? fp->w[i].ans : -1, POLLIN, 0};
    int r = wait_answers(fp, fds);
    int rc = r == 0 ? 0 : SIM_EIO;
    if (r < 0)
        snprintf(err, errlen, "poll: %s", strerror(errno));
    for (int i = 0; r > 0 && i < fp->n; i++) {
        if (fds[i].fd >= 0 && fds[i].revents) {
            *worker = i;
            rc = read_answer(&fp->w[i], i, text, lost, err, errlen);
            if (fp->j.fresh && fp->w[i].alive)
                reap_fresh(&fp->w[i]);
            break;
        }
    }
    free(fds);
    return rc;
}

/* Closing the command pipes lets idle workers leave; busy ones are
 * stopped, since nobody will read their answer. */
static void fork_close(swp_pool *p)
{
    fork_pool *fp = (fork_pool *)p;
    for (int i = 0; i < fp->n; i++) {
        fork_worker *w = &fp->w[i];
        if (!w->alive)
            continue;
        close(w->cmd);
        if (w->busy)
            kill(w->pid, SIGTERM);
        while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        close(w->ans);
    }
    free(fp);
}

swp_pool *swp_pool_fork_jobs(const swp_jobs *j, int n, char *err, size_t errlen)
{
    if (n < 1 || n > SWP_MAX_WORKERS) {
        snprintf(err, errlen, "workers must be 1 to %d", SWP_MAX_WORKERS);
        return NULL;
    }
    fork_pool *fp = calloc(1, sizeof *fp + (size_t)n * sizeof fp->w[0]);
    if (!fp) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    fp->base = (swp_pool){n, fork_assign, fork_collect, fork_close};
    fp->j = *j;
    signal(SIGPIPE, SIG_IGN);
    /* A fresh pool forks each worker as it hands out its job. */
    for (int i = 0; !j->fresh && i < n; i++) {
        if (start_worker(fp, i, err, errlen) != 0) {
            fork_close(&fp->base);
            return NULL;
        }
    }
    return &fp->base;
}

swp_pool *swp_pool_fork(const swp_sweep *s, int n, char *err, size_t errlen)
{
    swp_jobs j = sweep_jobs(s);
    return swp_pool_fork_jobs(&j, n, err, errlen);
}

/* ---- the master loop ------------------------------------------------------------ */

static void record_failure(swp_outcome *out, size_t job, const char *why)
{
    out->failed++;
    if (out->nshown < SWP_SHOWN_FAILURES) {
        swp_failure *f = &out->shown[out->nshown++];
        f->point = job;
        snprintf(f->why, sizeof f->why, "%s", why);
    }
}

/* The loop's state: which job each worker holds (SIZE_MAX: none), and
 * which group it last ran one of. */
typedef struct dispatch {
    const swp_master *m;
    size_t *holding;
    int *dead;
    size_t *group;
    unsigned char *handed;           /* by entry of m->todo */
    size_t next;                     /* first entry not handed out */
    int busy;
} dispatch;

/* Whether a live worker other than `w` last ran a job of group `g`. */
static int group_taken(const dispatch *d, size_t g, int w)
{
    for (int v = 0; v < d->m->pool->nworkers; v++)
        if (v != w && !d->dead[v] && d->group[v] == g)
            return 1;
    return 0;
}

/* The entry of m->todo for worker `w`: without groups the next in order;
 * with them the next of the group `w` last ran, else the next of a group
 * no other worker is on, else the next in order. d->next is not handed. */
static size_t pick(const dispatch *d, int w)
{
    const swp_master *m = d->m;
    if (!m->group)
        return d->next;
    size_t untaken = SIZE_MAX;
    for (size_t i = d->next; i < m->ntodo; i++) {
        if (d->handed[i])
            continue;
        size_t g = m->group(m->ctx, m->todo[i]);
        if (g == d->group[w])
            return i;
        if (untaken == SIZE_MAX && !group_taken(d, g, w))
            untaken = i;
    }
    return untaken != SIZE_MAX ? untaken : d->next;
}

/* Gives every idle, live worker a job. */
static void hand_out(dispatch *d, swp_outcome *out)
{
    const swp_master *m = d->m;
    for (int w = 0; w < m->pool->nworkers; w++) {
        while (d->next < m->ntodo && d->handed[d->next])
            d->next++;
        if (d->next == m->ntodo)
            return;
        if (d->dead[w] || d->holding[w] != SIZE_MAX)
            continue;
        size_t i = pick(d, w);
        if (m->pool->assign(m->pool, w, m->todo[i]) != 0) {
            d->dead[w] = 1;
            out->workers_lost++;
            continue;
        }
        d->handed[i] = 1;
        d->holding[w] = m->todo[i];
        d->group[w] = m->group ? m->group(m->ctx, m->todo[i]) : SIZE_MAX;
        d->busy++;
    }
}

/* Files one answer; an error of m->take ends the loop. */
static int take_answer(dispatch *d, int w, char *text, int lost, const char *why,
                       swp_outcome *out, char *err, size_t errlen)
{
    size_t job = d->holding[w];
    d->holding[w] = SIZE_MAX;
    d->busy--;
    if (lost) {
        d->dead[w] = 1;
        out->workers_lost++;
    }
    if (!text) {
        /* After a stop, a dead worker most likely shared the master's
         * Ctrl-C: its job is not done, but did not fail. */
        if (!(lost && stopping(d->m->stop)))
            record_failure(out, job, why);
        return 0;
    }
    int rc = d->m->take(d->m->ctx, job, text, err, errlen);
    if (rc == 0)
        out->ran++;
    return rc;
}

int swp_run_jobs(const swp_master *m, swp_outcome *out, char *err, size_t errlen)
{
    swp_pool *pool = m->pool;
    size_t nw = (size_t)pool->nworkers;
    dispatch d = {m, calloc(nw, sizeof(size_t)), calloc(nw, sizeof(int)),
                  calloc(nw, sizeof(size_t)), calloc(m->ntodo ? m->ntodo : 1, 1), 0, 0};
    int rc = d.holding && d.dead && d.group && d.handed ? 0 : SIM_ENOMEM;
    *out = (swp_outcome){.to_run = m->ntodo};
    if (rc)
        snprintf(err, errlen, "out of memory");
    for (size_t w = 0; rc == 0 && w < nw; w++)
        d.holding[w] = d.group[w] = SIZE_MAX;
    while (rc == 0 && !(m->first_failure_ends && out->failed)) {
        if (stopping(m->stop)) {
            out->interrupted = out->ran + out->failed < out->to_run;
            break;
        }
        hand_out(&d, out);
        if (d.busy == 0)
            break;
        int w = -1, lost = 0;
        char *text = NULL, why[512] = "";
        rc = pool->collect(pool, &w, &text, &lost, why, sizeof why);
        if (rc == 0 && w >= 0)
            rc = take_answer(&d, w, text, lost, why, out, err, errlen);
        else if (rc)
            snprintf(err, errlen, "%s", why);
        free(text);
        if (m->progress)
            m->progress(m->progress_ctx, out->ran + out->failed, out->to_run);
    }
    free(d.holding);
    free(d.dead);
    free(d.group);
    free(d.handed);
    return rc;
}

/* A sweep's answer: its point's file, now done. */
static int store_point(void *ctx, size_t point, const char *text, char *err, size_t errlen)
{
    swp_sweep *s = ctx;
    int rc = swp_store_point(s, point, text, err, errlen);
    if (rc == 0)
        s->points[point].done = 1;
    return rc;
}

/* The distinct points not done, in order: the sweep's jobs. */
static size_t *points_to_run(const swp_sweep *s, size_t *n)
{
    size_t *todo = malloc((s->npoints ? s->npoints : 1) * sizeof *todo);
    *n = 0;
    for (size_t i = 0; todo && i < s->npoints; i++)
        if (s->points[i].first == i && !s->points[i].done)
            todo[(*n)++] = i;
    return todo;
}

int swp_execute(swp_sweep *s, swp_pool *pool, swp_progress_fn progress, void *ctx,
                swp_outcome *out, char *err, size_t errlen)
{
    swp_master m = {.pool = pool, .stop = s->stop, .take = store_point, .ctx = s,
                    .progress = progress, .progress_ctx = ctx};
    size_t *todo = points_to_run(s, &m.ntodo);
    m.todo = todo;
    *out = (swp_outcome){.to_run = m.ntodo};
    if (!todo) {
        snprintf(err, errlen, "out of memory");
        return SIM_ENOMEM;
    }
    int rc = swp_run_jobs(&m, out, err, errlen);
    free(todo);
    return rc;
}
