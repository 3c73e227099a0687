/*
 * powercut.so — an LD_PRELOAD layer that lets a test cut the power under a process.
 *
 * A power cut keeps exactly what was fsynced: a file's bytes as of its last fsync/fdatasync, a directory's
 * entries as of its last fsync. This layer records that durable state as the process runs: each successful
 * fsync(2) or fdatasync(2) of a file or directory under $FERRY_POWERCUT_ROOT copies the file's bytes (or the
 * directory's entries) into $FERRY_POWERCUT_SHADOW, keyed by inode and birth time. The process works on the
 * real files as usual. To cut the power, the test kill -9s the process and rebuilds the directory tree from
 * the shadow alone (test/power-loss/lazy-disk.ts): every byte and every name that was not fsynced is gone —
 * the way Jepsen's LazyFS drops its page cache. A file whose name was synced but whose bytes never were comes
 * back empty (as ext4 leaves a file created and never synced).
 *
 * What it does not model: torn or reordered writes inside one fsync interval (a real disk may keep some of
 * the unsynced writes — keeping none is the harsher case), O_SYNC/O_DSYNC files, sync(2)/syncfs(2), mmap'd
 * writes (msync). Ferry and SQLite use none of them for data (SQLite's -shm file is mmap'd, never synced, and
 * rebuilt after a crash). Node must not use io_uring for file I/O (UV_USE_IO_URING=0), so that every fsync
 * goes through libc.
 *
 * Our own code, built by the test with the system C compiler: cc -shared -fPIC -O2 -o powercut.so powercut.c -ldl -lpthread
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* One snapshot at a time: two threads syncing the same file must not leave the older copy in place. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void resolve(void) {
  if (!real_fsync) real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  if (!real_fdatasync) real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
}

/* A stable identity for an inode: its number and birth time (inode numbers are reused after a delete). */
static int key_of(int dirfd, const char *name, int flags, char *out, size_t len, unsigned *mode) {
  struct statx sx;
  if (statx(dirfd, name, flags | AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME | STATX_TYPE, &sx) != 0) return -1;
  snprintf(out, len, "%llu-%lld.%09u", (unsigned long long)sx.stx_ino, (long long)sx.stx_btime.tv_sec, sx.stx_btime.tv_nsec);
  *mode = sx.stx_mode;
  return 0;
}

static int under_root(const char *path) {
  const char *root = getenv("FERRY_POWERCUT_ROOT");
  if (!root || !*root) return 0;
  size_t n = strlen(root);
  return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, buf, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

/* Writes the shadow entry `<shadow>/<kind>-<key>` from a temporary name, then renames it into place. */
static int open_tmp(const char *shadow, char *tmp, size_t len) {
  snprintf(tmp, len, "%s/tmp-%ld", shadow, (long)syscall(SYS_gettid));
  return open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

static void snapshot_file(int fd, const char *shadow, const char *key) {
  char tmp[PATH_MAX], dst[PATH_MAX], link[64];
  /* The synced descriptor may be write-only: read the same file through a descriptor of our own. */
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  int in = open(link, O_RDONLY | O_CLOEXEC);
  if (in < 0) return;
  int out = open_tmp(shadow, tmp, sizeof tmp);
  if (out < 0) {
    close(in);
    return;
  }
  static __thread char buf[1 << 16];
  off_t off = 0;
  int ok = 1;
  for (;;) {
    ssize_t r = pread(in, buf, sizeof buf, off);
    if (r < 0) {
      if (errno == EINTR) continue;
      ok = 0;
      break;
    }
    if (r == 0) break;
    if (write_all(out, buf, (size_t)r) != 0) {
      ok = 0;
      break;
    }
    off += r;
  }
  close(in);
  close(out);
  snprintf(dst, sizeof dst, "%s/file-%s", shadow, key);
  if (ok) rename(tmp, dst);
  else unlink(tmp);
}

static void snapshot_dir(const char *path, const char *shadow, const char *key) {
  char tmp[PATH_MAX], dst[PATH_MAX];
  DIR *d = opendir(path);
  if (!d) return;
  int out = open_tmp(shadow, tmp, sizeof tmp);
  if (out < 0) {
    closedir(d);
    return;
  }
  int ok = 1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char child[128];
    unsigned mode;
    if (key_of(dirfd(d), e->d_name, 0, child, sizeof child, &mode) != 0) continue; /* deleted meanwhile */
    char type = S_ISDIR(mode) ? 'd' : S_ISREG(mode) ? 'f' : 'o';
    char line[PATH_MAX + 160];
    int n = snprintf(line, sizeof line, "%c\t%s\t%s\n", type, child, e->d_name);
    if (write_all(out, line, (size_t)n) != 0) ok = 0;
  }
  closedir(d);
  close(out);
  snprintf(dst, sizeof dst, "%s/dir-%s", shadow, key);
  if (ok) rename(tmp, dst);
  else unlink(tmp);
}

static void snapshot(int fd) {
  const char *shadow = getenv("FERRY_POWERCUT_SHADOW");
  if (!shadow || !*shadow) return;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return;
  path[n] = '\0';
  if (!under_root(path)) return;
  char key[128];
  unsigned mode;
  if (key_of(fd, "", AT_EMPTY_PATH, key, sizeof key, &mode) != 0) return;
  int saved = errno;
  pthread_mutex_lock(&lock);
  if (S_ISDIR(mode)) snapshot_dir(path, shadow, key);
  else if (S_ISREG(mode)) snapshot_file(fd, shadow, key);
  pthread_mutex_unlock(&lock);
  errno = saved;
}

int fsync(int fd) {
  resolve();
  int rc = real_fsync(fd);
  if (rc == 0) snapshot(fd);
  return rc;
}

int fdatasync(int fd) {
  resolve();
  int rc = real_fdatasync(fd);
  if (rc == 0) snapshot(fd);
  return rc;
}
