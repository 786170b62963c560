/* cfqp — helpers shared by cfqpsr and cfqpcalib.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gio/gio.h>
#include "gstcfqputils.h"

CfqpModel *
gst_cfqp_load_model (const gchar * model_file, guint scale_factor,
    gchar ** source, GError ** error)
{
  CfqpModel *model;
  GBytes *bytes;
  gchar *path, *name;

  if (model_file != NULL && model_file[0] != '\0') {
    *source = g_strdup (model_file);
    return cfqp_model_new_from_file (model_file, error);
  }

  path = g_strdup_printf (GST_CFQP_MODEL_RESOURCE_FMT, scale_factor);
  *source = g_strdup_printf ("resource://%s", path);
  bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (bytes == NULL) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_IO,
        "no embedded model for scale %u (this build embeds no %s; set model-file)",
        scale_factor, path);
    g_free (path);
    return NULL;
  }
  name = g_path_get_basename (path);
  model = cfqp_model_new_from_bytes (bytes, name, error);
  g_free (name);
  g_free (path);
  g_bytes_unref (bytes);
  return model;
}

gboolean
gst_cfqp_packed_layout_for_format (GstVideoFormat format,
    CfqpPackedLayout * layout)
{
  /* *INDENT-OFF* */
  static const struct {
    GstVideoFormat format;
    CfqpPackedLayout layout;    /* pixel_stride, r, g, b, a */
  } table[] = {
    {GST_VIDEO_FORMAT_RGB,  {3, 0, 1, 2, -1}},
    {GST_VIDEO_FORMAT_BGR,  {3, 2, 1, 0, -1}},
    {GST_VIDEO_FORMAT_RGBx, {4, 0, 1, 2, -1}},
    {GST_VIDEO_FORMAT_BGRx, {4, 2, 1, 0, -1}},
    {GST_VIDEO_FORMAT_xRGB, {4, 1, 2, 3, -1}},
    {GST_VIDEO_FORMAT_xBGR, {4, 3, 2, 1, -1}},
    {GST_VIDEO_FORMAT_RGBA, {4, 0, 1, 2, 3}},
    {GST_VIDEO_FORMAT_BGRA, {4, 2, 1, 0, 3}},
    {GST_VIDEO_FORMAT_ARGB, {4, 1, 2, 3, 0}},
    {GST_VIDEO_FORMAT_ABGR, {4, 3, 2, 1, 0}},
  };
  /* *INDENT-ON* */
  guint i;

  for (i = 0; i < G_N_ELEMENTS (table); i++) {
    if (table[i].format == format) {
      *layout = table[i].layout;
      return TRUE;
    }
  }
  return FALSE;
}

void
gst_cfqp_post_model_error_full (GstElement * element, const gchar * source,
    const GError * err, const gchar * file, const gchar * function, gint line)
{
  gint code = g_error_matches (err, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_IO) ?
      GST_RESOURCE_ERROR_NOT_FOUND : GST_RESOURCE_ERROR_SETTINGS;

  gst_element_message_full (element, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
      code, g_strdup_printf ("Could not load model \"%s\": %s", source,
          err->message), g_strdup_printf ("%s (%s error %d)", source,
          g_quark_to_string (err->domain), err->code), file, function, line);
}
