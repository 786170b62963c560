/* CfqpFileWatch: calls back when a new version of a file has settled, on a
 * thread of its own (its own main context), GLib only.
 *
 * A file rewritten in place, or in several writes, is reported once, when
 * it has been quiet for CFQP_FILE_WATCH_SETTLE_MS, but no later than
 * CFQP_FILE_WATCH_MAX_DELAY_MS after the first change; a version (inode,
 * size, mtime and ctime to the nanosecond) is reported at most once.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CFQP_FILE_WATCH_SETTLE_MS 200
#define CFQP_FILE_WATCH_MAX_DELAY_MS 2000

typedef struct _CfqpFileWatch CfqpFileWatch;

/* Called on the watch thread with the watched path. */
typedef void (*CfqpFileWatchFunc) (const char *path, gpointer user_data);

/* Starts watching path (its current version is not reported).  The watch
 * is returned even when the file cannot be monitored (error set then: it
 * never calls back). */
CfqpFileWatch *cfqp_file_watch_new  (const char *path, CfqpFileWatchFunc func,
                                     gpointer user_data, GError **error);
/* Stops the thread (no callback runs after it returns) and frees. */
void           cfqp_file_watch_free (CfqpFileWatch *watch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfqpFileWatch, cfqp_file_watch_free)

G_END_DECLS
