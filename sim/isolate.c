/*
 * isolate.c -- sim_isolate(): a job in a forked child, its answer back
 * through a pipe.
 *
 * The answer is text: the job's status in decimal, a newline, then its
 * text (status 0) or its error message. The child leaves with _exit(), so
 * nothing of the parent (stdio buffers, atexit handlers) runs twice.
 */
#include "sim/isolate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/error.h"

#ifdef PVSIM_COVERAGE
void __gcov_dump(void);
#endif

/* The child's side: runs the job, writes its answer, leaves. */
static void child(int fd, sim_job_fn job, void *ctx)
{
    char err[512] = "failed";
    char *text = NULL;
    int rc = job(ctx, &text, err, sizeof err);
    FILE *out = fdopen(fd, "w");
    if (out) {
        fprintf(out, "%d\n%s", rc, rc == 0 ? text : err);
        fclose(out);
    }
#ifdef PVSIM_COVERAGE
    __gcov_dump();
#endif
    _exit(out ? 0 : 1);
}

/* Everything the child wrote, NUL-terminated; NULL when memory is short. */
static char *read_answer(int fd)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *all = open_memstream(&buf, &len);
    FILE *in = all ? fdopen(fd, "r") : NULL;
    char chunk[4096];
    size_t n;
    while (in && (n = fread(chunk, 1, sizeof chunk, in)) > 0)
        fwrite(chunk, 1, n, all);
    if (in)
        fclose(in);
    else
        close(fd);
    if (all && fclose(all) == 0)
        return buf;
    free(buf);
    return NULL;
}

/* Splits the answer into its status and `*text` or `err`. */
static int take_answer(char *answer, char **text, char *err, size_t errlen)
{
    char *body = strchr(answer, '\n');
    if (!body) {
        snprintf(err, errlen, "the child process running it gave no answer");
        return SIM_EIO;
    }
    int rc = atoi(answer);
    body++;
    if (rc != 0) {
        snprintf(err, errlen, "%s", body);
        return rc;
    }
    *text = strdup(body);
    return *text ? 0 : SIM_ENOMEM;
}

/* Why the child ended without an answer, when it did. */
static int child_status(pid_t pid, char *err, size_t errlen)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return SIM_EIO;
    if (WIFSIGNALED(status)) {
        snprintf(err, errlen, "the child process running it died of signal %d",
                 WTERMSIG(status));
        return SIM_EIO;
    }
    return 0;
}

int sim_isolate(sim_job_fn job, void *ctx, char **text, char *err, size_t errlen)
{
    *text = NULL;
    int fds[2];
    if (pipe(fds)) {
        snprintf(err, errlen, "no pipe for a child process: %s", strerror(errno));
        return SIM_EIO;
    }
    fflush(NULL);   /* what stdio holds is the parent's to write, once */
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "no child process: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return SIM_EIO;
    }
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], job, ctx);
    }
    close(fds[1]);
    char *answer = read_answer(fds[0]);
    int died = child_status(pid, err, errlen);
    int rc = died ? died : answer ? take_answer(answer, text, err, errlen) : SIM_ENOMEM;
    if (!answer && !died)
        snprintf(err, errlen, "out of memory");
    free(answer);
    return rc;
}
