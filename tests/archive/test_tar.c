/* Unit tests of the tar reader (src/archive/tar.c): what it reads, and everything it refuses,
 * each with its message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/tar.h"
#include "tar_build.h"
#include "test.h"

static struct tar_limits limits(void)
{
    struct tar_limits l;
    tar_limits_default(&l);
    return l;
}

/* Reads t (ended here) with lim; returns tar_read's result, err filled. */
static int read_tar(struct tarb *t, const struct tar_limits *lim, struct tar_tree *tree, char *err,
                    size_t errlen)
{
    tarb_end(t);
    return tar_read(t->data, t->len, lim, tree, err, errlen);
}

/* Expects the archive to be refused with a message containing want. */
static void expect_refused(struct tarb *t, const struct tar_limits *lim, const char *want)
{
    struct tar_tree tree;
    char err[512] = "";
    int rc = read_tar(t, lim, &tree, err, sizeof(err));
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(tree.n, 0);
    if (strstr(err, want) == NULL)
        test_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"", err, want);
    tarb_free(t);
}

TEST(tar_reads_files_dirs_links_sorted)
{
    struct tarb t = {0};
    struct tar_limits lim = limits();
    tarb_entry(&t, '5', "src/", 0755, NULL, 0, NULL);
    tarb_file(&t, "src/main.py", "print(1)\n");
    tarb_entry(&t, '0', "./run.sh", 0755, "#!/bin/sh\n", 10, NULL);
    tarb_entry(&t, '2', "src/link", 0777, NULL, 0, "../run.sh");
    tarb_file(&t, "src-b", "x");
    tarb_file(&t, "README", "");
    struct tar_tree tree;
    char err[256] = "";
    ASSERT_EQ(read_tar(&t, &lim, &tree, err, sizeof(err)), 0);
    ASSERT_EQ(tree.n, 5);
    /* '/' sorts before every other byte: src/ entries come before src-b. */
    ASSERT_STR_EQ(tree.files[0].path, "README");
    ASSERT_STR_EQ(tree.files[1].path, "run.sh");
    ASSERT_EQ(tree.files[1].mode, TAR_MODE_EXEC);
    ASSERT_MEM_STR(tree.files[1].data, tree.files[1].len, "#!/bin/sh\n");
    ASSERT_STR_EQ(tree.files[2].path, "src/link");
    ASSERT_EQ(tree.files[2].mode, TAR_MODE_LINK);
    ASSERT_MEM_STR(tree.files[2].data, tree.files[2].len, "../run.sh");
    ASSERT_STR_EQ(tree.files[3].path, "src/main.py");
    ASSERT_EQ(tree.files[3].mode, TAR_MODE_FILE);
    ASSERT_MEM_STR(tree.files[3].data, tree.files[3].len, "print(1)\n");
    ASSERT_STR_EQ(tree.files[4].path, "src-b");
    ASSERT_EQ(tree.total, 9 + 10 + 1);
    tar_tree_release(&tree);
    tarb_free(&t);
}

TEST(tar_long_names_ustar_prefix_pax_gnu)
{
    char longdir[300], pax[300], gnu[300];
    memset(longdir, 'd', 120);
    strcpy(longdir + 120, "/file-in-a-long-directory.txt");
    memset(pax, 'p', 250);
    strcpy(pax + 250, "/x.txt");
    memset(gnu, 'g', 200);
    strcpy(gnu + 200, ".txt");
    struct tarb t = {0};
    struct tar_limits lim = limits();
    tarb_file(&t, longdir, "ustar");
    tarb_pax(&t, pax, NULL);
    tarb_file(&t, "ignored-by-pax", "pax");
    tarb_gnu_longname(&t, gnu);
    tarb_file(&t, "ignored-by-gnu", "gnu");
    struct tar_tree tree;
    char err[256] = "";
    ASSERT_EQ(read_tar(&t, &lim, &tree, err, sizeof(err)), 0);
    ASSERT_EQ(tree.n, 3);
    ASSERT_STR_EQ(tree.files[0].path, longdir);
    ASSERT_MEM_STR(tree.files[0].data, tree.files[0].len, "ustar");
    ASSERT_STR_EQ(tree.files[1].path, gnu);
    ASSERT_MEM_STR(tree.files[1].data, tree.files[1].len, "gnu");
    ASSERT_STR_EQ(tree.files[2].path, pax);
    ASSERT_MEM_STR(tree.files[2].data, tree.files[2].len, "pax");
    tar_tree_release(&tree);
    tarb_free(&t);
}

TEST(tar_gzip_round_trip_and_bomb)
{
    struct tarb t = {0};
    struct tar_limits lim = limits();
    tarb_file(&t, "a.txt", "hello");
    tarb_end(&t);
    size_t zlen, plen;
    uint8_t *z = tarb_gzip(t.data, t.len, &zlen), *plain;
    char err[256] = "";
    ASSERT_TRUE(tar_is_gzip(z, zlen));
    ASSERT_FALSE(tar_is_gzip(t.data, t.len));
    ASSERT_EQ(tar_gunzip(z, zlen, 1 << 20, &plain, &plen, err, sizeof(err)), 0);
    ASSERT_MEM_EQ(plain, plen, t.data, t.len);
    free(plain);
    /* Unpacking past the cap is refused, whatever the compressed size. */
    ASSERT_EQ(tar_gunzip(z, zlen, 1000, &plain, &plen, err, sizeof(err)), -1);
    ASSERT_TRUE(strstr(err, "unpacks to more than 1000 bytes") != NULL);
    /* Truncated. */
    ASSERT_EQ(tar_gunzip(z, zlen / 2, 1 << 20, &plain, &plen, err, sizeof(err)), -1);
    ASSERT_TRUE(strstr(err, "not valid gzip") != NULL);
    free(z);
    tarb_free(&t);
    (void)lim;
}

TEST(tar_refuses_traversal_and_absolute)
{
    struct tar_limits lim = limits();
    struct tarb t = {0};
    tarb_file(&t, "ok.txt", "x");
    tarb_file(&t, "src/../../etc/passwd", "x");
    expect_refused(&t, &lim, "'..'");
    t = (struct tarb){0};
    tarb_file(&t, "/etc/passwd", "x");
    expect_refused(&t, &lim, "absolute path");
    t = (struct tarb){0};
    tarb_pax(&t, "a/../../b", NULL);
    tarb_file(&t, "innocent", "x");
    expect_refused(&t, &lim, "'..'");
}

TEST(tar_refuses_bad_names)
{
    struct tar_limits lim = limits();
    struct tarb t = {0};
    tarb_file(&t, "evil\nname.txt", "x");
    expect_refused(&t, &lim, "newline");
    t = (struct tarb){0};
    tarb_file(&t, "dir/-rf", "x");
    expect_refused(&t, &lim, "starts with '-'");
    t = (struct tarb){0};
    tarb_file(&t, ".git/config", "x");
    expect_refused(&t, &lim, ".git");
    t = (struct tarb){0};
    tarb_file(&t, "bad\xff.txt", "x");
    expect_refused(&t, &lim, "UTF-8");
}

TEST(tar_refuses_links_out_and_special_files)
{
    struct tar_limits lim = limits();
    struct tarb t = {0};
    tarb_entry(&t, '2', "a/link", 0777, NULL, 0, "../../outside");
    expect_refused(&t, &lim, "points outside the tree");
    t = (struct tarb){0};
    tarb_entry(&t, '2', "link", 0777, NULL, 0, "/etc/passwd");
    expect_refused(&t, &lim, "absolute target");
    t = (struct tarb){0};
    /* Lexically inside, but ".." after a name could climb through another link. */
    tarb_entry(&t, '2', "d", 0777, NULL, 0, ".");
    tarb_entry(&t, '2', "x", 0777, NULL, 0, "d/..");
    expect_refused(&t, &lim, "only leading '..'");
    t = (struct tarb){0};
    tarb_entry(&t, '3', "dev/tty", 0600, NULL, 0, NULL);
    expect_refused(&t, &lim, "device files");
    t = (struct tarb){0};
    tarb_entry(&t, '6', "fifo", 0600, NULL, 0, NULL);
    expect_refused(&t, &lim, "FIFOs");
    t = (struct tarb){0};
    tarb_file(&t, "a", "x");
    tarb_entry(&t, '1', "b", 0644, NULL, 0, "a");
    expect_refused(&t, &lim, "hard links");
    /* A link inside the tree is fine. */
    t = (struct tarb){0};
    tarb_entry(&t, '2', "a/b/link", 0777, NULL, 0, "../../top");
    struct tar_tree tree;
    char err[256];
    ASSERT_EQ(read_tar(&t, &lim, &tree, err, sizeof(err)), 0);
    ASSERT_EQ(tree.n, 1);
    tar_tree_release(&tree);
    tarb_free(&t);
}

TEST(tar_refuses_limits)
{
    struct tar_limits lim = limits();
    lim.max_file = 100;
    lim.max_files = 3;
    lim.max_total = 150;
    char big[101];
    memset(big, 'b', 100);
    big[100] = '\0';
    struct tarb t = {0};
    tarb_file(&t, "ok", big); /* exactly the limit */
    tarb_file(&t, "big", "x");
    struct tar_tree tree;
    char err[256];
    ASSERT_EQ(read_tar(&t, &lim, &tree, err, sizeof(err)), 0);
    tar_tree_release(&tree);
    tarb_free(&t);
    t = (struct tarb){0};
    tarb_entry(&t, '0', "huge", 0644, big, 100, NULL);
    tarb_entry(&t, '0', "huger", 0644, "0123456789", 10, NULL);
    lim.max_file = 99;
    expect_refused(&t, &lim, "huge is larger than 99 bytes");
    lim.max_file = 100;
    t = (struct tarb){0};
    tarb_file(&t, "a", big);
    tarb_file(&t, "b", big);
    expect_refused(&t, &lim, "add up to more than 150 bytes");
    t = (struct tarb){0};
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%d", i);
        tarb_file(&t, name, "x");
    }
    expect_refused(&t, &lim, "more than 3 files");
}

TEST(tar_refuses_duplicates_and_conflicts)
{
    struct tar_limits lim = limits();
    struct tarb t = {0};
    tarb_file(&t, "a.txt", "1");
    tarb_file(&t, "./a.txt", "2");
    expect_refused(&t, &lim, "a.txt appears twice");
    t = (struct tarb){0};
    tarb_file(&t, "a", "1");
    tarb_file(&t, "a/b", "2");
    expect_refused(&t, &lim, "a is both a file and a directory");
    t = (struct tarb){0};
    tarb_entry(&t, '5', "a", 0755, NULL, 0, NULL);
    tarb_file(&t, "a", "1");
    expect_refused(&t, &lim, "a is both a file and a directory");
}

TEST(tar_refuses_malformed)
{
    struct tar_limits lim = limits();
    struct tar_tree tree;
    char err[256];
    struct tarb t = {0};
    tarb_file(&t, "a", "hello");
    t.data[148] ^= 1; /* checksum */
    ASSERT_EQ(read_tar(&t, &lim, &tree, err, sizeof(err)), -1);
    ASSERT_TRUE(strstr(err, "checksum") != NULL);
    tarb_free(&t);
    /* Data cut short. */
    t = (struct tarb){0};
    tarb_entry(&t, '0', "a", 0644, "0123456789", 10, NULL);
    ASSERT_EQ(tar_read(t.data, 520, &lim, &tree, err, sizeof(err)), -1);
    ASSERT_TRUE(strstr(err, "truncated") != NULL);
    /* No end marker. */
    ASSERT_EQ(tar_read(t.data, t.len, &lim, &tree, err, sizeof(err)), -1);
    ASSERT_TRUE(strstr(err, "truncated") != NULL);
    tarb_free(&t);
    ASSERT_EQ(tar_read((const uint8_t *)"", 0, &lim, &tree, err, sizeof(err)), -1);
}

TEST(tar_path_helpers)
{
    char out[64], err[128];
    ASSERT_EQ(tar_path_clean("./a//b/./c/", 11, 0, out, sizeof(out), err, sizeof(err)), 0);
    ASSERT_STR_EQ(out, "a/b/c");
    ASSERT_EQ(tar_path_clean("./", 2, 1, out, sizeof(out), err, sizeof(err)), 0);
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(tar_path_clean("./", 2, 0, out, sizeof(out), err, sizeof(err)), -1);
    ASSERT_EQ(tar_path_clean("a/.GIT/x", 8, 0, out, sizeof(out), err, sizeof(err)), -1);
    /* Names NTFS or HFS+ take for .git. */
    static const char *const dotgits[] = {
        ".git.",           ".git ..", "GIT~1", ".git::$INDEX_ALLOCATION", ".g\xe2\x80\x8cit",
        "\xef\xbb\xbf.GiT"};
    for (size_t i = 0; i < sizeof(dotgits) / sizeof(dotgits[0]); i++) {
        ASSERT_EQ(
            tar_path_clean(dotgits[i], strlen(dotgits[i]), 0, out, sizeof(out), err, sizeof(err)),
            -1);
        ASSERT_TRUE(strstr(err, ".git directory") != NULL);
    }
    ASSERT_EQ(tar_path_clean(".gitignore", 10, 0, out, sizeof(out), err, sizeof(err)), 0);
    ASSERT_EQ(tar_path_clean("git~2", 5, 0, out, sizeof(out), err, sizeof(err)), 0);
    ASSERT_EQ(tar_path_clean("a/.github/x", 11, 0, out, sizeof(out), err, sizeof(err)), 0);
    ASSERT_EQ(tar_link_check("a/b/l", "../../x", 7, err, sizeof(err)), 0);
    ASSERT_EQ(tar_link_check("a/b/l", "../../../x", 10, err, sizeof(err)), -1);
    ASSERT_EQ(tar_link_check("l", "x/./y", 5, err, sizeof(err)), 0);
    ASSERT_TRUE(tar_path_cmp("a/b", "a-b") < 0);
    ASSERT_TRUE(tar_path_cmp("a", "a/b") < 0);
    ASSERT_EQ(tar_path_cmp("same", "same"), 0);
}
