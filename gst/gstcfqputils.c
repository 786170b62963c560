/* cfqp — helpers shared by cfqpsr and cfqpcalib.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include "gstcfqputils.h"

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

gchar *
gst_cfqp_scale_text (guint num, guint den)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (den <= 1)
    return g_strdup_printf ("%u", num);
  /* locale-independent: "1.5", never "1,5" */
  return g_strdup (g_ascii_formatd (buf, sizeof (buf), "%g", (gdouble) num / den));
}

/* fmt takes the scale text (%s) */
static gchar *
gst_cfqp_model_dir_file (const gchar * fmt, guint num, guint den)
{
  const gchar *dir = g_getenv (GST_CFQP_MODEL_DIR_ENV);
  gchar *name, *path, *text;

  if (dir == NULL || dir[0] == '\0')
    return NULL;
  text = gst_cfqp_scale_text (num, den);
  name = g_strdup_printf (fmt, text);
  g_free (text);
  path = g_build_filename (dir, name, NULL);
  g_free (name);
  return path;
}

gboolean
gst_cfqp_have_default_model (guint num, guint den)
{
  gchar *path = gst_cfqp_model_dir_file ("default-x%s.onnx", num, den), *text;
  gboolean ret;

  if (path != NULL) {
    ret = g_file_test (path, G_FILE_TEST_IS_REGULAR);
    g_free (path);
    if (ret)
      return TRUE;
  }
  text = gst_cfqp_scale_text (num, den);
  path = g_strdup_printf (GST_CFQP_MODEL_RESOURCE_FMT, text);
  g_free (text);
  ret = g_resources_get_info (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL, NULL,
      NULL);
  g_free (path);
  return ret;
}

CfqpModel *
gst_cfqp_load_model (const gchar * model_file, guint num, guint den,
    gchar ** source, GError ** error)
{
  CfqpModel *model;
  GBytes *bytes;
  gchar *path, *name, *text;

  if (model_file != NULL && model_file[0] != '\0') {
    *source = g_strdup (model_file);
    return cfqp_model_new_from_file (model_file, error);
  }

  path = gst_cfqp_model_dir_file ("default-x%s.onnx", num, den);
  if (path != NULL && g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    *source = path;
    return cfqp_model_new_from_file (path, error);
  }
  g_free (path);

  text = gst_cfqp_scale_text (num, den);
  path = g_strdup_printf (GST_CFQP_MODEL_RESOURCE_FMT, text);
  *source = g_strdup_printf ("resource://%s", path);
  bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (bytes == NULL) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_IO,
        "no embedded model for scale %s (this build embeds no %s; set model-file)",
        text, path);
    g_free (text);
    g_free (path);
    return NULL;
  }
  g_free (text);
  name = g_path_get_basename (path);
  model = cfqp_model_new_from_bytes (bytes, name, error);
  g_free (name);
  g_free (path);
  g_bytes_unref (bytes);
  return model;
}

CfqpCalibration *
gst_cfqp_load_shipped_calibration (const gchar * model_file, guint num,
    guint den, CfqpModel * model, gchar ** source, GError ** error)
{
  CfqpCalibration *calib;
  GBytes *bytes;
  gchar *path, *text;

  if (model_file != NULL && model_file[0] != '\0') {
    gchar *base = g_str_has_suffix (model_file, ".onnx") ?
        g_strndup (model_file, strlen (model_file) - 5) : g_strdup (model_file);

    path = g_strconcat (base, ".calib.json", NULL);
    g_free (base);
  } else {
    path = gst_cfqp_model_dir_file ("default-x%s.calib.json", num, den);
    if (path != NULL && !g_file_test (path, G_FILE_TEST_IS_REGULAR))
      g_clear_pointer (&path, g_free);
  }

  if (path != NULL) {
    *source = path;
    if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
      return NULL;
    return cfqp_calibration_load (path, model, error);
  }

  text = gst_cfqp_scale_text (num, den);
  path = g_strdup_printf (GST_CFQP_CALIB_RESOURCE_FMT, text);
  g_free (text);
  *source = g_strdup_printf ("resource://%s", path);
  bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  g_free (path);
  if (bytes == NULL)
    return NULL;
  calib = cfqp_calibration_new_from_json (g_bytes_get_data (bytes, NULL),
      g_bytes_get_size (bytes), model, error);
  g_bytes_unref (bytes);
  return calib;
}

CfqpCalibration *
gst_cfqp_load_calibration_file (const gchar * path, GError ** error)
{
  const gchar *what = NULL;
  struct stat st;
  int fd;

  /* non-blocking: a FIFO must not hang the state change until a writer
   * comes; fstat: what is checked is what was opened */
  fd = g_open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0) {
    int errsv = errno;

    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_IO,
        "cannot open it: %s", g_strerror (errsv));
    return NULL;
  }
  if (fstat (fd, &st) != 0) {
    int errsv = errno;

    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_IO,
        "cannot stat it: %s", g_strerror (errsv));
    close (fd);
    return NULL;
  }
  close (fd);
  if (S_ISDIR (st.st_mode))
    what = "a directory";
  else if (S_ISFIFO (st.st_mode))
    what = "a FIFO or pipe (process substitution gives one)";
  else if (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode))
    what = "a device";
  else if (S_ISSOCK (st.st_mode))
    what = "a socket";
  else if (!S_ISREG (st.st_mode))
    what = "not a regular file";
  if (what != NULL) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_IO,
        "it is %s: a calibration is read from a regular file only (write it "
        "to a file first)", what);
    return NULL;
  }
  if (st.st_size == 0) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_FORMAT,
        "the file is empty (0 bytes): a calibration is the JSON object "
        "cfqpcalib writes");
    return NULL;
  }
  return cfqp_calibration_load (path, NULL, error);
}

typedef struct
{
  CfqpCalibration *calib;
  guint64 serial;
} RegistryEntry;

static GMutex registry_lock;
static GHashTable *registry;
static guint64 registry_serial;

static void
registry_entry_free (gpointer data)
{
  RegistryEntry *e = data;

  cfqp_calibration_unref (e->calib);
  g_free (e);
}

void
gst_cfqp_registry_publish (const gchar * name, CfqpCalibration * calib)
{
  RegistryEntry *e = g_new0 (RegistryEntry, 1);

  e->calib = cfqp_calibration_ref (calib);
  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        registry_entry_free);
  e->serial = ++registry_serial;
  g_hash_table_replace (registry, g_strdup (name), e);
  g_mutex_unlock (&registry_lock);
}

CfqpCalibration *
gst_cfqp_registry_lookup (const gchar * name, guint64 * serial)
{
  CfqpCalibration *ret = NULL;
  RegistryEntry *e;

  g_mutex_lock (&registry_lock);
  if (registry != NULL && (e = g_hash_table_lookup (registry, name)) != NULL
      && e->serial > *serial) {
    ret = cfqp_calibration_ref (e->calib);
    *serial = e->serial;
  }
  g_mutex_unlock (&registry_lock);
  return ret;
}

/* The models paired cfqpsr elements run, by calibration-name. */
typedef struct
{
  gpointer owner;
  CfqpModel *model;
  gboolean clip_free;
} PairedModel;

static GHashTable *paired_models;

static void
paired_model_free (gpointer data)
{
  PairedModel *p = data;

  cfqp_model_unref (p->model);
  g_free (p);
}

void
gst_cfqp_registry_set_model (const gchar * name, gpointer owner,
    CfqpModel * model, gboolean clip_free)
{
  PairedModel *p = g_new0 (PairedModel, 1);

  p->owner = owner;
  p->model = cfqp_model_ref (model);
  p->clip_free = clip_free;
  g_mutex_lock (&registry_lock);
  if (paired_models == NULL)
    paired_models = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        paired_model_free);
  g_hash_table_replace (paired_models, g_strdup (name), p);
  g_mutex_unlock (&registry_lock);
}

void
gst_cfqp_registry_unset_model (const gchar * name, gpointer owner)
{
  PairedModel *p;

  g_mutex_lock (&registry_lock);
  if (paired_models != NULL &&
      (p = g_hash_table_lookup (paired_models, name)) != NULL &&
      p->owner == owner)
    g_hash_table_remove (paired_models, name);
  g_mutex_unlock (&registry_lock);
}

CfqpModel *
gst_cfqp_registry_get_model (const gchar * name, gboolean * clip_free)
{
  CfqpModel *ret = NULL;
  PairedModel *p;

  g_mutex_lock (&registry_lock);
  if (paired_models != NULL &&
      (p = g_hash_table_lookup (paired_models, name)) != NULL) {
    ret = cfqp_model_ref (p->model);
    *clip_free = p->clip_free;
  }
  g_mutex_unlock (&registry_lock);
  return ret;
}

void
gst_cfqp_rgb_info_like (GstVideoInfo * rgb, const GstVideoInfo * like,
    guint width, guint height)
{
  gst_video_info_set_format (rgb, GST_VIDEO_FORMAT_RGB, width, height);
  rgb->fps_n = like->fps_n;
  rgb->fps_d = like->fps_d;
  rgb->par_n = like->par_n;
  rgb->par_d = like->par_d;
  rgb->interlace_mode = like->interlace_mode;
  rgb->views = like->views;
}

CfqpImage *
gst_cfqp_frame_to_image (GstVideoFrame * frame, guint channels)
{
  guint w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  CfqpImage *img = cfqp_image_new (channels, w, h);
  CfqpPackedLayout l;
  GstVideoInfo rgb_info;
  GstVideoFrame rgb_frame;
  GstBuffer *rgb = NULL;
  const guint8 *data;
  gsize stride, plane = (gsize) w * h;
  guint x, y;

  if (!gst_cfqp_packed_layout_for_format (GST_VIDEO_FRAME_FORMAT (frame), &l)) {
    /* YUV: through RGB with the frame's own matrix and range */
    GstVideoConverter *conv;

    gst_cfqp_rgb_info_like (&rgb_info, &frame->info, w, h);
    rgb = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&rgb_info), NULL);
    gst_video_frame_map (&rgb_frame, &rgb_info, rgb, GST_MAP_WRITE);
    conv = gst_video_converter_new (&frame->info, &rgb_info,
        gst_structure_new ("cfqp", GST_VIDEO_CONVERTER_OPT_DITHER_METHOD,
            GST_TYPE_VIDEO_DITHER_METHOD, GST_VIDEO_DITHER_NONE, NULL));
    gst_video_converter_frame (conv, frame, &rgb_frame);
    gst_video_converter_free (conv);
    gst_cfqp_packed_layout_for_format (GST_VIDEO_FORMAT_RGB, &l);
    data = GST_VIDEO_FRAME_PLANE_DATA (&rgb_frame, 0);
    stride = GST_VIDEO_FRAME_PLANE_STRIDE (&rgb_frame, 0);
  } else {
    data = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
    stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  }

  for (y = 0; y < h; y++) {
    const guint8 *row = data + y * stride;
    float *r = img->data + (gsize) y * w;

    for (x = 0; x < w; x++) {
      const guint8 *p = row + x * l.pixel_stride;

      if (channels == 1) {
        r[x] = (0.299f * p[l.r] + 0.587f * p[l.g] + 0.114f * p[l.b]) / 255.f;
      } else {
        r[x] = p[l.r] / 255.f;
        r[x + plane] = p[l.g] / 255.f;
        r[x + 2 * plane] = p[l.b] / 255.f;
      }
    }
  }

  if (rgb != NULL) {
    gst_video_frame_unmap (&rgb_frame);
    gst_buffer_unref (rgb);
  }
  return img;
}

void
gst_cfqp_structure_set_fidelity (GstStructure * s, const CfqpCalibration * calib)
{
  CfqpCalibFidelity f;

  if (calib && cfqp_calibration_get_fidelity (calib, &f))
    gst_structure_set (s, "int8-psnr", G_TYPE_DOUBLE, f.psnr,
        "int8-psnr-held-out", G_TYPE_BOOLEAN, f.held_out, NULL);
}
