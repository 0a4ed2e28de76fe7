/* Runs a fuzz target over corpus files and directories without libFuzzer, so ctest replays
 * every corpus (and every crash found once) with the normal and the sanitizer builds. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX (1024 * 1024)

static int
run_file(const char *path)
{
    static uint8_t buf[REPLAY_MAX];
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    return 0;
}

static int
run_path(const char *path, unsigned int *count)
{
    struct stat st;
    struct dirent *de;
    char child[4096];
    DIR *d;
    int rc = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s does not exist\n", path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    if ((d = opendir(path)) == NULL)
        return 1;
    while ((de = readdir(d)) != NULL && rc == 0) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
        rc = run_path(child, count);
    }
    closedir(d);
    return rc;
}

int
main(int argc, char **argv)
{
    unsigned int count = 0;
    int i, rc = 0;

    for (i = 1; i < argc && rc == 0; i++)
        rc = run_path(argv[i], &count);
    if (rc == 0 && count == 0) {
        fprintf(stderr, "replay: no corpus input\n");
        return 1;
    }
    printf("replayed %u inputs\n", count);
    return rc;
}
