/* Uploads through libcurl; see cli_upload.h. */
#include "cli/cli_upload.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_json.h"
#include "core/buf.h"

#define ANSWER_MAX (64 * 1024) /* the broker's answer is a small JSON object */

int cli_upload_base(const char *broker, char *out, size_t n)
{
    const char *rest = NULL;
    const char *scheme = NULL;
    if (strncmp(broker, "http://", 7) == 0 || strncmp(broker, "ws://", 5) == 0) {
        scheme = "http://";
        rest = strstr(broker, "://") + 3;
    } else if (strncmp(broker, "https://", 8) == 0 || strncmp(broker, "wss://", 6) == 0) {
        scheme = "https://";
        rest = strstr(broker, "://") + 3;
    } else {
        return -1;
    }
    size_t host = strcspn(rest, "/?#");
    if (host == 0)
        return -1;
    int len = snprintf(out, n, "%s%.*s", scheme, (int)host, rest);
    return len > 0 && (size_t)len < n ? 0 : -1;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct buf *answer = ud;
    size_t len = size * nmemb;
    return buf_append(answer, data, len) == 0 ? len : 0;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct cli_upload *u = ud;
    (void)dltotal, (void)dlnow, (void)ultotal;
    return u->progress != NULL && u->progress(u->ud, (uint64_t)ulnow, u->size) != 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* Reads the broker's JSON answer (status: the HTTP status). */
static int read_answer(struct cli_upload *u, long status, const struct buf *answer)
{
    json_t *r = answer->len > 0 ? json_loadb(answer->data, answer->len, 0, NULL) : NULL;
    int rc;
    if (status == 200 && json_is_true(json_object_get(r, "ok")) &&
        cli_json_str(r, "file_key") != NULL) {
        int64_t stored = 0;
        cli_json_int(r, "size", &stored);
        snprintf(u->file_key, sizeof(u->file_key), "%s", cli_json_str(r, "file_key"));
        const char *sha = cli_json_str(r, "sha256");
        snprintf(u->sha256, sizeof(u->sha256), "%s", sha != NULL ? sha : u->file_key);
        u->stored = (uint64_t)stored;
        rc = 0;
    } else if (json_is_object(r) && cli_json_str(r, "message") != NULL) {
        snprintf(u->problem, sizeof(u->problem), "The upload was refused: %.900s",
                 cli_json_str(r, "message"));
        u->refusal = json_incref(r);
        rc = CLI_EXIT_REFUSED;
    } else {
        snprintf(u->problem, sizeof(u->problem),
                 "The upload got an answer crowdai does not understand (HTTP %ld). Is the broker "
                 "URL right?",
                 status);
        rc = CLI_EXIT_CONNECTION;
    }
    if (r != NULL)
        json_decref(r);
    return rc;
}

/* Sets the request up on curl; the strings it needs live in the caller's frame. */
static void set_up(CURL *curl, struct cli_upload *u, FILE *f, const char *url,
                   struct curl_slist *headers, struct buf *answer, char *errbuf)
{
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READDATA, f);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u->size);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, u);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    /* No overall limit (files can be large), but a stalled transfer ends after a minute. */
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "crowdai-cli");
}

static int transfer(struct cli_upload *u, CURL *curl, FILE *f, const char *url)
{
    char auth[1100], errbuf[CURL_ERROR_SIZE] = "";
    struct buf answer;
    struct curl_slist *headers = NULL;
    long status = 0;
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", u->token);
    headers = curl_slist_append(headers, auth);
    headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
    headers = curl_slist_append(headers, "Expect:");
    buf_init(&answer, ANSWER_MAX);
    set_up(curl, u, f, url, headers, &answer, errbuf);
    CURLcode res = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    int rc;
    if (res == CURLE_ABORTED_BY_CALLBACK) {
        snprintf(u->problem, sizeof(u->problem), "The upload was stopped; nothing was submitted.");
        rc = CLI_EXIT_INTERRUPTED;
    } else if (status != 0 && answer.len > 0) {
        /* A refusal may come before the whole body went out (too large): read it anyway. */
        rc = read_answer(u, status, &answer);
    } else {
        snprintf(u->problem, sizeof(u->problem), "The upload to %.300s failed: %.300s. Try again.",
                 url, errbuf[0] != '\0' ? errbuf : curl_easy_strerror(res));
        rc = CLI_EXIT_CONNECTION;
    }
    curl_slist_free_all(headers);
    buf_release(&answer);
    return rc;
}

int cli_upload_run(struct cli_upload *u)
{
    char base[CLI_URL_MAX], url[CLI_URL_MAX + 600];
    u->refusal = NULL;
    u->problem[0] = '\0';
    if (cli_upload_base(u->broker, base, sizeof(base)) != 0) {
        snprintf(u->problem, sizeof(u->problem), "The broker URL %.300s has no host to upload to.",
                 u->broker);
        return CLI_EXIT_USAGE;
    }
    CURL *curl = curl_easy_init();
    FILE *f = fopen(u->path, "rb");
    if (curl == NULL || f == NULL) {
        snprintf(u->problem, sizeof(u->problem), "Cannot read %.300s: %s.", u->path,
                 f == NULL ? strerror(errno) : "libcurl could not start");
        if (f != NULL)
            fclose(f);
        curl_easy_cleanup(curl);
        return CLI_EXIT_LOCAL;
    }
    char *name = curl_easy_escape(curl, base_name(u->path), 0);
    snprintf(url, sizeof(url), "%s/upload?name=%.512s", base, name != NULL ? name : "file");
    curl_free(name);
    int rc = transfer(u, curl, f, url);
    fclose(f);
    curl_easy_cleanup(curl);
    return rc;
}
