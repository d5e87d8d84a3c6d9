/* ctor_test: constructors run in priority order before main, destructors after it
 * (after the original rumprun's tests/basic/ctor_test.c).  myvalue starts at 2,
 * the priority-1000 constructor adds 2, the priority-2000 constructor doubles it:
 * 8 only if they ran, and in that order. */
#include <stdio.h>
#include <stdlib.h>

static int myvalue = 2;

static void __attribute__((constructor(2000)))
ctor_double(void)
{
	myvalue *= 2;
}

static void __attribute__((constructor(1000)))
ctor_add(void)
{
	myvalue += 2;
}

static void __attribute__((constructor))
ctor_print(void)
{
	printf("I'm a constructor!\n");
}

static void __attribute__((destructor))
dtor_print(void)
{
	printf("I'm a destructor!\n");
}

int
main(void)
{
	printf("myvalue = %d (expect 8)\n", myvalue);
	if (myvalue != 8) {
		printf("ctor_test: FAILED\n");
		return 1;
	}
	printf("ctor_test: ok\n");
	return 0;
}
