/* dyn_test: a dynamically linked program (built without -static). `dyn_test exit N
 * ARGS...` prints its arguments, checks the auxiliary vector the kernel gave the
 * dynamic loader (AT_BASE: where the loader is; AT_ENTRY: the program's _start),
 * with glibc loads libm at run time through dlopen/dlsym, and exits with status N. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#ifdef __GLIBC__
#include <dlfcn.h>
#endif

#include "check_fatal.h"

extern char _start[];

int
main(int argc, char **argv)
{
	CHECK(argc >= 3 && strcmp(argv[1], "exit") == 0, "usage: dyn_test exit N ARGS...");
	for (int i = 0; i < argc; i++)
		printf("argv[%d] = %s\n", i, argv[i]);
	CHECK(getauxval(AT_BASE) != 0, "AT_BASE is 0: no interpreter?");
	CHECK(getauxval(AT_ENTRY) == (unsigned long)_start, "AT_ENTRY %#lx, _start %p",
	      getauxval(AT_ENTRY), (void *)_start);
	ok("AT_BASE is the interpreter's load address");
#ifdef __GLIBC__
	void *libm = dlopen("libm.so.6", RTLD_NOW);
	CHECK(libm != NULL, "dlopen(libm.so.6): %s", dlerror());
	double (*cosine)(double) = (double (*)(double))dlsym(libm, "cos");
	CHECK(cosine != NULL, "dlsym(cos): %s", dlerror());
	volatile double zero = 0.0;
	CHECK(cosine(zero) == 1.0, "cos(0) = %g", cosine(zero));
	ok("cos(0) through dlopen(libm) = 1");
	dlclose(libm);
#endif
	return atoi(argv[2]);
}
