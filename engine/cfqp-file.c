/* Reading small input files (calibrations, and whatever else must not
 * hang on a FIFO or read /dev/zero until memory runs out). */
#include "cfqp-engine.h"

#include <errno.h>
#include <gio/gio.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

gboolean
cfqp_read_regular_file (const char *path, gsize max_size, char **contents, gsize *length,
    GError **error)
{
  /* O_NONBLOCK: opening a FIFO for reading returns at once instead of
   * waiting for a writer; fstat then refuses it */
  int fd = g_open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
  struct stat st;
  g_autofree char *buf = NULL;
  gsize n = 0, cap;

  if (fd < 0) {
    int e = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot open %s: %s",
        path, g_strerror (e));
    return FALSE;
  }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
        "%s is not a regular file (a directory, FIFO or device cannot be read as one)", path);
    close (fd);
    return FALSE;
  }
  if ((guint64) st.st_size > max_size) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
        "%s is %" G_GUINT64_FORMAT " bytes, over the %" G_GSIZE_FORMAT "-byte limit for "
        "this kind of file", path, (guint64) st.st_size, max_size);
    close (fd);
    return FALSE;
  }
  /* the file may grow while it is read: never more than max_size + 1 bytes */
  cap = (gsize) st.st_size + 1;
  buf = g_malloc (cap + 1);
  for (;;) {
    gssize r;
    if (n == cap) {
      cap = MIN (max_size + 1, cap * 2 + 4096);
      buf = g_realloc (buf, cap + 1);
    }
    r = read (fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot read %s: %s",
          path, g_strerror (e));
      close (fd);
      return FALSE;
    }
    if (r == 0)
      break;
    n += (gsize) r;
    if (n > max_size) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
          "%s is over the %" G_GSIZE_FORMAT "-byte limit for this kind of file", path,
          max_size);
      close (fd);
      return FALSE;
    }
  }
  close (fd);
  buf[n] = '\0';
  *contents = g_steal_pointer (&buf);
  if (length)
    *length = n;
  return TRUE;
}
