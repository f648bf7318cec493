/* SPDX-License-Identifier: MIT */
/* CPU a run's requests cost: the server's (any process, by its pid, from
 * /proc) and this load generator's own. On a machine whose cores the
 * clients share with the server, requests/s goes as one over the sum of
 * the two a request, and a shared machine's other work moves
 * requests/s far more than it moves either (bench/RESULTS.md). */
#include "bench.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The decimal number at s (after blanks), and in *endp where it ended;
 * false if there is none. */
static bool
number_at(const char *s, unsigned long long *vp, const char **endp)
{
	char *end;

	while (*s == ' ') {
		s++;
	}
	*vp   = strtoull(s, &end, 10);
	*endp = end;
	return end != s;
}

/* utime + stime of process 'pid' (all its threads), in seconds. */
static bool
proc_cpu_s(int pid, double *sp)
{
	char               path[64], line[1024];
	const char        *p;
	unsigned long long ut, st;
	FILE              *f;
	bool               ok;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL) {
		return false;
	}
	ok = fgets(line, sizeof(line), f) != NULL;
	(void) fclose(f); /* read only: nothing to lose */
	/* The name, in parentheses, may hold spaces and ')': the fields
	 * are counted from the last ')', the 3rd field after its space.
	 * utime and stime are the 14th and 15th: after the 12th space. */
	p = ok ? strrchr(line, ')') : NULL;
	for (int field = 1; p != NULL && field <= 12; field++) {
		p = strchr(p + 1, ' ');
	}
	if (p == NULL || !number_at(p, &ut, &p) || !number_at(p, &st, &p)) {
		return false;
	}
	*sp = (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
	return true;
}

/* Context switches, voluntary or not, of one thread's status file. */
static uint64_t
task_switches(int pid, unsigned long tid)
{
	static const char *const keys[] = { "voluntary_ctxt_switches:",
		"nonvoluntary_ctxt_switches:" };
	char                     path[96], line[256];
	unsigned long long       n, sum = 0;
	const char              *end;
	FILE                    *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%lu/status", pid, tid);
	f = fopen(path, "r");
	if (f == NULL) {
		return 0; /* the thread ended in between */
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		for (size_t k = 0; k < 2; k++) {
			size_t len = strlen(keys[k]);

			if (strncmp(line, keys[k], len) == 0 &&
			    number_at(line + len, &n, &end)) {
				sum += n;
			}
		}
	}
	(void) fclose(f); /* read only: nothing to lose */
	return sum;
}

/* Context switches of every thread process 'pid' has now. */
static bool
proc_switches(int pid, uint64_t *np)
{
	char           path[64];
	DIR           *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (d == NULL) {
		return false;
	}
	*np = 0;
	while ((e = readdir(d)) != NULL) {
		char         *end;
		unsigned long tid = strtoul(e->d_name, &end, 10);

		if (end != e->d_name && *end == '\0') {
			*np += task_switches(pid, tid);
		}
	}
	closedir(d);
	return true;
}

bool
bench_cpu_read(int server_pid, struct bench_cpu *c)
{
	struct rusage ru;

	memset(c, 0, sizeof(*c));
	if (getrusage(RUSAGE_SELF, &ru) != 0) {
		return false;
	}
	c->client_s = (double) ru.ru_utime.tv_sec +
	    (double) ru.ru_utime.tv_usec / 1e6 + (double) ru.ru_stime.tv_sec +
	    (double) ru.ru_stime.tv_usec / 1e6;
	if (server_pid == 0) {
		return true;
	}
	c->has_server = proc_cpu_s(server_pid, &c->server_s) &&
	    proc_switches(server_pid, &c->server_cs);
	return c->has_server;
}

void
bench_cpu_between(const struct bench_cpu *a, const struct bench_cpu *b,
    struct bench_result *r)
{
	r->has_cpu      = true;
	r->client_cpu_s = b->client_s - a->client_s;
	r->has_server   = a->has_server && b->has_server;
	if (r->has_server) {
		r->server_cpu_s = b->server_s - a->server_s;
		r->server_cs    = b->server_cs - a->server_cs;
	}
}
