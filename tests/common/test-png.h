/* Test images: the shipped PNGs of tests/data/images (libpng). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* tests/data/<sub>/<name>, honouring CFQP_TEST_DATA. */
char   *test_data_path (const char *sub, const char *name);
/* An 8-bit RGB PNG as packed RGB bytes (width·3 per row); aborts the test
 * on a missing or unreadable file. */
guint8 *test_png_load_rgb (const char *path, guint *width, guint *height);
/* The same as planar float C×H×W in [0,1]. */
float  *test_png_load_planar (const char *path, guint *width, guint *height);

G_END_DECLS
