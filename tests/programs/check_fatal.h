/* check_fatal.h: the fail-fast assertion helper of the C test programs that stop at
 * the first broken check. CHECK(cond, fmt, ...) prints "FAIL: <message> [file:line:
 * cond]" and exits 1 when cond is false; ok(what) prints "ok: what". (check.h is the
 * counting variant: it goes on after a failure and reports at the end.) */
#ifndef RUMPRUN_TEST_CHECK_FATAL_H
#define RUMPRUN_TEST_CHECK_FATAL_H
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("FAIL: " __VA_ARGS__);                          \
			printf(" [%s:%d: %s]\n", __FILE__, __LINE__, #cond);   \
			fflush(stdout);                                        \
			exit(1);                                               \
		}                                                              \
	} while (0)

static inline void
ok(const char *what)
{
	printf("ok: %s\n", what);
	fflush(stdout);
}
#endif
