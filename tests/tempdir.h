/*
 * tempdir.h -- what tests that write files share: counting what a
 * directory holds, so a test can prove no temporary file was left behind.
 * Header-only: each test is its own executable.
 */
#ifndef PVSIM_TESTS_TEMPDIR_H
#define PVSIM_TESTS_TEMPDIR_H

#include <criterion/criterion.h>
#include <dirent.h>

/* Entries of `dir` other than dot files. */
static inline int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

#endif
