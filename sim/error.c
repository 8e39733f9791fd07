/*
 * error.c -- text for the status codes of error.h.
 */
#include "sim/error.h"

const char *sim_strerror(int status)
{
    switch (status) {
    case SIM_OK:
        return "success";
#define X(name, text) \
    case SIM_##name:  \
        return text;
        SIM_ERRNO_MAP(X)
#undef X
    default:
        return "unknown error";
    }
}
