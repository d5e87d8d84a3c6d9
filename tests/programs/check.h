/* check.h: the assertion helper of the C test programs. CHECK(cond) prints
 * "ok   cond" or "FAIL cond (errno N) line L" and counts failures; CHECK_DONE()
 * prints "ALL OK" or "SOME FAILED" and gives main's exit status. The system tests
 * look for "ALL OK" and for no "FAIL " line. */
#ifndef RUMPRUN_TEST_CHECK_H
#define RUMPRUN_TEST_CHECK_H
#include <errno.h>
#include <stdio.h>

static int check_fails;

#define CHECK(c)                                                                    \
	do {                                                                        \
		if (c) {                                                            \
			printf("ok   %s\n", #c);                                    \
		} else {                                                            \
			printf("FAIL %s (errno %d) line %d\n", #c, errno, __LINE__); \
			check_fails++;                                              \
		}                                                                   \
	} while (0)

#define CHECK_DONE() (printf(check_fails ? "SOME FAILED\n" : "ALL OK\n"), check_fails != 0)
#endif
