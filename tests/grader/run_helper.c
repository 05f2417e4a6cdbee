/* Running an evaluator to its end in a test; see run_helper.h. */
#include "run_helper.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xalloc.h"
#include "test.h"

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src != NULL ? src : "(none)");
}

static void on_progress(void *ud, int percent, const char *message)
{
    struct capture *c = ud;
    if (!c->start_returned)
        c->early_callbacks++;
    if (c->progress_count < CAPTURE_MAX) {
        c->percents[c->progress_count] = percent;
        copy(c->progress_messages[c->progress_count], sizeof(c->progress_messages[0]), message);
    }
    c->progress_count++;
    if (percent == c->cancel_at_percent)
        eval_cancel(c->run, c->cancel_reason);
}

static void on_info(void *ud, const char *message)
{
    struct capture *c = ud;
    if (!c->start_returned)
        c->early_callbacks++;
    if (c->info_count < CAPTURE_MAX)
        copy(c->infos[c->info_count], sizeof(c->infos[0]), message);
    c->info_count++;
}

static void on_done(void *ud, const struct eval_outcome *o)
{
    struct capture *c = ud;
    if (!c->start_returned)
        c->early_callbacks++;
    c->done_count++;
    c->ok = o->ok;
    c->kind = o->kind;
    copy(c->message, sizeof(c->message), o->message);
    copy(c->stderr_tail, sizeof(c->stderr_tail), o->stderr_tail);
    copy(c->result_json, sizeof(c->result_json), o->result_json);
    c->score = o->score;
    c->score_secondary = o->score_secondary;
    c->has_score_secondary = o->has_score_secondary;
    c->retryable = o->retryable;
    c->exit_status = o->exit_status;
    c->term_signal = o->term_signal;
    c->wall_ms = o->wall_ms;
    c->cpu_ms = o->cpu_ms;
    c->max_rss_kb = o->max_rss_kb;
    c->output_bytes = o->output_bytes;
    c->garbage_lines = o->garbage_lines;
    c->leftover_processes = o->leftover_processes;
    if (c->cancel_on_done != NULL)
        eval_cancel(c->cancel_on_done, "the other run is done");
}

static const struct eval_callbacks callbacks = {on_progress, on_info, on_done};

struct eval_spec spec_with(const char *const *argv)
{
    struct eval_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.argv = argv;
    spec.submission_id = 42;
    spec.round = 2;
    spec.data_json = "{\"k\":1}";
    spec.limits.wall_ms = 50000;
    spec.limits.output_bytes = 1024 * 1024;
    spec.grace_ms = 300;
    return spec;
}

void capture_init(struct capture *c)
{
    memset(c, 0, sizeof(*c));
    c->cancel_at_percent = -1;
}

void capture_start(uv_loop_t *loop, const struct eval_spec *spec, struct capture *c)
{
    char err[256] = "";
    c->run = eval_start(loop, spec, &callbacks, c, err, sizeof(err));
    if (c->run == NULL)
        test_fail(__FILE__, __LINE__, "eval_start failed: %s", err);
    c->start_returned = 1;
}

void loop_finish(uv_loop_t *loop)
{
    ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
    ASSERT_EQ(uv_loop_close(loop), 0); /* every handle of the run was closed */
}

void run_to_end(const struct eval_spec *spec, struct capture *c)
{
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    capture_start(&loop, spec, c);
    loop_finish(&loop);
    ASSERT_EQ(c->done_count, 1);
    ASSERT_EQ(c->early_callbacks, 0);
}

static const char *keep(char *path)
{
    static char *kept[64];
    static size_t next;
    free(kept[next % 64]);
    kept[next++ % 64] = path;
    return path;
}

static const char *joined(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = xmalloc(n);
    snprintf(path, n, "%s/%s", dir, name);
    return keep(path);
}

const char *evaluator_path(const char *name)
{
    return joined(EVAL_TEST_EVALUATORS, name);
}

const char *example_path(const char *name)
{
    return joined(EVAL_TEST_EXAMPLES, name);
}

const char *make_workdir(void)
{
    char *dir = xstrdup("/tmp/crowdai-grader-test-XXXXXX");
    if (mkdtemp(dir) == NULL)
        test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
    return keep(dir);
}

const char *workdir_file(const char *dir, const char *name)
{
    return joined(dir, name);
}

void remove_workdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlink(workdir_file(dir, e->d_name));
    }
    closedir(d);
    rmdir(dir);
}

pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        test_fail(__FILE__, __LINE__, "no pid file %s: %s", path, strerror(errno));
    long pid = 0;
    int n = fscanf(f, "%ld", &pid);
    fclose(f);
    ASSERT_EQ(n, 1);
    ASSERT_TRUE(pid > 1);
    return (pid_t)pid;
}

void assert_process_gone(pid_t pid)
{
    errno = 0;
    int rc = kill(pid, 0);
    int e = errno;
    if (rc == 0)
        kill(pid, SIGKILL); /* do not leave it behind when the test fails */
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(e, ESRCH);
}

int contains(const char *haystack, const char *needle)
{
    return haystack != NULL && strstr(haystack, needle) != NULL;
}
