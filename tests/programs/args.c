/* args: prints argc and every argv[i] in brackets, so that spaces and quotes are
 * visible, then acts on these arguments, in order:
 *   -env NAME      prints the value of the environment variable NAME (or <unset>)
 *   -hostname      prints the host name (gethostname)
 *   -sleep SECS    sleeps SECS seconds (prints "sleeping" first)
 * Output:
 *   argc=3
 *   argv[0]=[args]
 *   argv[1]=[two words]
 *   env[WORLD]=[mars]
 *   hostname=[box]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char host[256];
	int i;

	printf("argc=%d\n", argc);
	for (i = 0; i < argc; i++)
		printf("argv[%d]=[%s]\n", i, argv[i]);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-env") == 0 && i + 1 < argc) {
			const char *v = getenv(argv[i + 1]);
			printf("env[%s]=[%s]\n", argv[i + 1], v != NULL ? v : "<unset>");
			i++;
		} else if (strcmp(argv[i], "-hostname") == 0) {
			if (gethostname(host, sizeof(host)) != 0)
				strcpy(host, "<error>");
			host[sizeof(host) - 1] = '\0';
			printf("hostname=[%s]\n", host);
		} else if (strcmp(argv[i], "-sleep") == 0 && i + 1 < argc) {
			printf("sleeping\n");
			fflush(stdout);
			sleep((unsigned)atoi(argv[i + 1]));
			i++;
		}
	}
	return 0;
}
