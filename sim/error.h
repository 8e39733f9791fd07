/*
 * error.h -- the one list of pvsim status codes.
 *
 * Functions that can fail return 0 on success or one of these negative codes,
 * and on failure change nothing. The list is an X-macro so the enum and
 * sim_strerror() cannot drift apart (the libuv way).
 */
#ifndef PVSIM_SIM_ERROR_H
#define PVSIM_SIM_ERROR_H

#define SIM_ERRNO_MAP(X)                                                  \
    X(EINVAL, "invalid argument")                                         \
    X(ENOMEM, "out of memory")                                            \
    X(ELIMIT, "a configured limit was reached")                           \
    X(EPAST, "time lies in the past")                                     \
    X(ENOTPENDING, "event is not pending")                                \
    X(EIO, "input/output error")                                          \
    X(ESCENARIO, "invalid scenario")                                      \
    X(ENOTFOUND, "not found")                                             \
    X(ENOSPACE, "no free run of the size asked for")                      \
    X(EINTR, "interrupted")                                               \
    X(ENOTBUILT, "not built into this pvsim")                             \
    X(EONCE, "SystemC allows one simulation per process")                 \
    X(ERESPONSE, "the TLM-2.0 target answered with an error response")    \
    X(ETARGET, "the TLM-2.0 target raised a SystemC error (a wait() in "  \
               "b_transport? targets must be loosely timed)")

typedef enum sim_status {
    SIM_OK = 0,
#define X(name, text) SIM_##name,
    SIM_ERRNO_FIRST_ = -1000,
    SIM_ERRNO_MAP(X)
#undef X
} sim_status;

/* A static description of `status`; "unknown error" for foreign values. */
const char *sim_strerror(int status);

#endif
