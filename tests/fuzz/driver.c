/* SPDX-License-Identifier: MIT */
/* Runs a libFuzzer harness without libFuzzer: each file named on the
 * command line, or each file in each directory named, is fed once to
 * LLVMFuzzerTestOneInput. The gcc build links this with fuzz_decode.c
 * and fuzz_load.c so that ctest replays the seed corpus and every
 * regression file on every run, without clang. A broken promise aborts
 * the harness, which fails the test; the file being fed is printed
 * first so the failure names it. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer's own cap on an input is far smaller; this only bounds a
 * mistaken argument. */
#define DRIVER_FILE_MAX ((long) 64 << 20)

static int
run_file(const char *path)
{
	FILE    *f = fopen(path, "rb");
	uint8_t *buf;
	long     len;
	size_t   got;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
	if (len < 0 || len > DRIVER_FILE_MAX || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "%s: cannot size the file\n", path);
		fclose(f);
		return -1;
	}
	buf = malloc(len > 0 ? (size_t) len : 1);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	got = fread(buf, 1, (size_t) len, f);
	fclose(f);
	if (got != (size_t) len) {
		fprintf(stderr, "%s: short read\n", path);
		free(buf);
		return -1;
	}
	fprintf(stderr, "feeding %s (%ld bytes)\n", path, len);
	LLVMFuzzerTestOneInput(buf, got);
	free(buf);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Every regular file of 'dir', in name order (so a failure repeats). */
static int
run_dir(const char *dir, unsigned *n_run)
{
	DIR           *d = opendir(dir);
	struct dirent *de;
	char         **names = NULL;
	size_t         n = 0, cap = 0;
	int            rc = 0;

	if (d == NULL) {
		perror(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char **grown;

		if (de->d_name[0] == '.') {
			continue; /* ., .., and .gitkeep */
		}
		if (n == cap) {
			cap   = cap ? cap * 2 : 64;
			grown = realloc(names, cap * sizeof(*names));
			if (grown == NULL) {
				rc = -1;
				break;
			}
			names = grown;
		}
		names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2);
		if (names[n] == NULL) {
			rc = -1;
			break;
		}
		sprintf(names[n], "%s/%s", dir, de->d_name);
		n++;
	}
	closedir(d);
	if (n > 0) {
		qsort(names, n, sizeof(*names), cmp_names);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct stat sb;

		if (stat(names[i], &sb) == 0 && S_ISREG(sb.st_mode)) {
			rc = run_file(names[i]);
			(*n_run)++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned n_run = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat sb;
		int         rc;

		if (stat(argv[i], &sb) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (S_ISDIR(sb.st_mode)) {
			rc = run_dir(argv[i], &n_run);
		} else {
			rc = run_file(argv[i]);
			n_run++;
		}
		if (rc != 0) {
			return 1;
		}
	}
	printf("%u inputs, no broken promise\n", n_run);
	return 0;
}
