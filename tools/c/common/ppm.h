/* Binary PPM (P6, 8 bit) files for the quality tools. */
#pragma once

#include "cfqp-calib.h"

G_BEGIN_DECLS

/* The image of path as a 3-channel planar float image in [0, 1]; NULL with
 * error set when the file is unreadable or not an 8-bit binary PPM. */
CfqpImage *ppm_read_image     (const char *path, GError **error);
/* Writes planar 8-bit RGB (3 planes of w×h bytes) to path; a file that
 * cannot be written is a line on stderr. */
void       ppm_write_planar_u8 (const char *path, const guint8 *planar, guint w, guint h);

G_END_DECLS
