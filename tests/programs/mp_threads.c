/* mp_threads: starts two threads that print "tick" every 5 ms forever, lets them tick,
 * then exits (exit_group) with status 3: the threads must end with the program, while
 * the image goes on with its next program. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *
ticker(void *arg)
{
	(void)arg;
	for (;;) {
		printf("tick\n");
		fflush(stdout);
		usleep(5000);
	}
	return NULL;
}

int
main(void)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, ticker, NULL);
	usleep(50000);
	printf("mp_threads: exiting with two threads running\n");
	fflush(stdout);
	return 3;
}
