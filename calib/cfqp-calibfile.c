/* The calibration file: versioned JSON, written atomically, validated in
 * full on load (a bad calibration must never reach an INT8 runner). */
#include "cfqp-calib-private.h"

#include <json-glib/json-glib.h>
#include <float.h>
#include <math.h>
#include <string.h>

/* ---- writing ------------------------------------------------------- */

static void
add_settings (JsonBuilder *b, const CfqpCalibSettings *s)
{
  g_autofree char *aug = cfqp_augment_flags_to_string (s->augment);

  json_builder_set_member_name (b, "settings");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "observer");
  json_builder_add_string_value (b, cfqp_observer_kind_to_nick (s->observer));
  json_builder_set_member_name (b, "percentile");
  json_builder_add_double_value (b, s->percentile);
  json_builder_set_member_name (b, "bins");
  json_builder_add_int_value (b, s->n_bins);
  json_builder_set_member_name (b, "augment");
  json_builder_add_string_value (b, aug);
  json_builder_set_member_name (b, "output_crops");
  json_builder_add_int_value (b, s->n_output_crops);
  json_builder_set_member_name (b, "range_low_pct");
  json_builder_add_double_value (b, s->range_low_pct);
  json_builder_set_member_name (b, "range_high_pct");
  json_builder_add_double_value (b, s->range_high_pct);
  json_builder_set_member_name (b, "range_max_gain");
  json_builder_add_double_value (b, s->range_max_gain);
  json_builder_set_member_name (b, "max_samples");
  json_builder_add_int_value (b, s->max_samples);
  json_builder_set_member_name (b, "max_bytes");
  json_builder_add_int_value (b, (gint64) s->max_bytes);
  json_builder_set_member_name (b, "crop_size");
  json_builder_add_int_value (b, s->crop_size);
  json_builder_set_member_name (b, "scene_threshold");
  json_builder_add_double_value (b, s->scene_threshold);
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, s->seed);
  json_builder_set_member_name (b, "weight_rounding");
  json_builder_add_string_value (b, cfqp_weight_rounding_to_nick (s->weight_rounding));
  json_builder_set_member_name (b, "residual_grid");
  json_builder_add_string_value (b, cfqp_residual_grid_to_nick (s->residual_grid));
  json_builder_set_member_name (b, "activation_grids");
  json_builder_add_string_value (b, cfqp_activation_grids_to_nick (s->activation_grids));
  json_builder_end_object (b);
}

/* Each conv's taps as base64 of its int8 bytes, named by the tensor it
 * computes. */
static void
add_conv_taps (JsonBuilder *b, const CfqpCalibration *c)
{
  guint n;
  const CfqpConvTaps *taps = cfqp_calibration_get_conv_taps (c, &n);

  json_builder_set_member_name (b, "conv_taps");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++) {
    g_autofree char *b64 = g_base64_encode ((const guchar *) taps[i].taps, taps[i].n_taps);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "conv");
    json_builder_add_string_value (b, cfqp_calibration_get_tensor (c, taps[i].output)->name);
    json_builder_set_member_name (b, "taps");
    json_builder_add_string_value (b, b64);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

/* Each tensor's channel steps as numbers, named by the tensor. */
static void
add_channel_steps (JsonBuilder *b, const CfqpCalibration *c)
{
  guint n;
  const CfqpChannelSteps *steps = cfqp_calibration_get_channel_steps (c, &n);

  json_builder_set_member_name (b, "channel_steps");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "tensor");
    json_builder_add_string_value (b, cfqp_calibration_get_tensor (c, steps[i].tensor)->name);
    json_builder_set_member_name (b, "steps");
    json_builder_begin_array (b);
    for (guint k = 0; k < steps[i].n_channels; k++)
      json_builder_add_double_value (b, steps[i].steps[k]);
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

/* What the calibrator measured, when it did. */
static void
add_fidelity (JsonBuilder *b, const CfqpCalibration *c)
{
  CfqpCalibFidelity f;

  if (!cfqp_calibration_get_fidelity (c, &f))
    return;
  json_builder_set_member_name (b, "fidelity");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "psnr");
  json_builder_add_double_value (b, f.psnr);
  json_builder_set_member_name (b, "held_out");
  json_builder_add_boolean_value (b, f.held_out);
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, f.n_frames);
  json_builder_end_object (b);
}

char *
cfqp_calibration_to_json (const CfqpCalibration *c, gsize *length)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, CFQP_CALIBRATION_FORMAT);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, CFQP_CALIBRATION_VERSION);

  json_builder_set_member_name (b, "model");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "hash");
  json_builder_add_string_value (b, cfqp_calibration_get_model_hash (c));
  json_builder_set_member_name (b, "clip_free");
  json_builder_add_boolean_value (b, cfqp_calibration_get_clip_free (c));
  json_builder_end_object (b);

  add_settings (b, cfqp_calibration_get_settings (c));

  json_builder_set_member_name (b, "rd");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "samples");
  json_builder_add_int_value (b, cfqp_calibration_get_n_samples (c));
  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, cfqp_calibration_get_n_images (c));
  json_builder_end_object (b);
  add_fidelity (b, c);

  json_builder_set_member_name (b, "tensors");
  json_builder_begin_array (b);
  for (guint i = 0; i < cfqp_calibration_get_n_tensors (c); i++) {
    const CfqpCalibTensor *t = cfqp_calibration_get_tensor (c, i);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, t->name);
    /* Floats as doubles: json-glib prints them round-trip exact. */
    json_builder_set_member_name (b, "scale");
    json_builder_add_double_value (b, t->qparams.scale);
    json_builder_set_member_name (b, "zero_point");
    json_builder_add_int_value (b, t->qparams.zero_point);
    json_builder_set_member_name (b, "min");
    json_builder_add_double_value (b, t->min);
    json_builder_set_member_name (b, "max");
    json_builder_add_double_value (b, t->max);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  add_conv_taps (b, c);
  add_channel_steps (b, c);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  return json_generator_to_data (gen, length);
}

gboolean
cfqp_calibration_save (const CfqpCalibration *c, const char *path, GError **error)
{
  gsize len;
  g_autofree char *data = cfqp_calibration_to_json (c, &len);
  GError *err = NULL;

  /* Temp file in the same folder, fsync, rename: a reader sees the old
   * file or the new one, never half of one. */
  if (!g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
          &err)) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_IO,
        "cannot write calibration: %s", err->message);
    g_error_free (err);
    return FALSE;
  }
  return TRUE;
}

/* ---- reading ------------------------------------------------------- */

/* Sets error (CFQP_CALIB_ERROR, code) and returns FALSE. */
static gboolean
fail (GError **error, CfqpCalibError code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, CfqpCalibError code, const char *fmt, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error_literal (error, CFQP_CALIB_ERROR, code, msg);
  return FALSE;
}

#define format_error(error, ...) fail (error, CFQP_CALIB_ERROR_FORMAT, __VA_ARGS__)
#define invalid(error, ...)      fail (error, CFQP_CALIB_ERROR_INVALID, __VA_ARGS__)

static JsonNode *
member (JsonObject *o, const char *where, const char *name, GError **error)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (!n)
    format_error (error, "missing field '%s%s'", where, name);
  return n;
}

static JsonObject *
get_object (JsonObject *o, const char *where, const char *name, GError **error)
{
  JsonNode *n = member (o, where, name, error);

  if (n && !JSON_NODE_HOLDS_OBJECT (n)) {
    format_error (error, "field '%s%s' must be an object", where, name);
    return NULL;
  }
  return n ? json_node_get_object (n) : NULL;
}

static const char *
get_string (JsonObject *o, const char *where, const char *name, GError **error)
{
  JsonNode *n = member (o, where, name, error);

  if (n && json_node_get_value_type (n) != G_TYPE_STRING) {
    format_error (error, "field '%s%s' must be a string", where, name);
    return NULL;
  }
  return n ? json_node_get_string (n) : NULL;
}

static gboolean
get_number (JsonObject *o, const char *where, const char *name, double *v, GError **error)
{
  JsonNode *n = member (o, where, name, error);
  GType t;

  if (!n)
    return FALSE;
  t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
  if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
    return format_error (error, "field '%s%s' must be a number", where, name);
  *v = json_node_get_double (n);   /* converts integers */
  return TRUE;
}

/* A member already fetched (named where+name in errors) that must be
 * true or false. */
static gboolean
node_boolean (JsonNode *n, const char *where, const char *name, gboolean *v, GError **error)
{
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return format_error (error, "field '%s%s' must be true or false", where, name);
  *v = json_node_get_boolean (n);
  return TRUE;
}

static gboolean
get_int (JsonObject *o, const char *where, const char *name, gint64 lo, gint64 hi,
         gint64 *v, GError **error)
{
  JsonNode *n = member (o, where, name, error);

  if (!n)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return format_error (error, "field '%s%s' must be an integer", where, name);
  *v = json_node_get_int (n);
  if (*v < lo || *v > hi) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID,
        "field '%s%s' is %" G_GINT64_FORMAT ", outside %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT,
        where, name, *v, lo, hi);
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_settings (JsonObject *root, CfqpCalibSettings *s, GError **error)
{
  const char *w = "settings.";
  JsonObject *o = get_object (root, "", "settings", error);
  const char *str;
  gint64 v;

  if (!o)
    return FALSE;
  cfqp_calib_settings_init (s);
  if (!(str = get_string (o, w, "observer", error)))
    return FALSE;
  if (!cfqp_observer_kind_from_nick (str, &s->observer))
    return format_error (error, "unknown observer '%s'", str);
  if (!(str = get_string (o, w, "augment", error)))
    return FALSE;
  if (!cfqp_augment_flags_from_string (str, &s->augment))
    return format_error (error, "unknown augmentation '%s'", str);
  if (!get_number (o, w, "percentile", &s->percentile, error) ||
      !get_number (o, w, "range_low_pct", &s->range_low_pct, error) ||
      !get_number (o, w, "range_high_pct", &s->range_high_pct, error) ||
      !get_number (o, w, "range_max_gain", &s->range_max_gain, error) ||
      !get_number (o, w, "scene_threshold", &s->scene_threshold, error))
    return FALSE;
  if (!get_int (o, w, "bins", 16, 1 << 20, &v, error))
    return FALSE;
  s->n_bins = v;
  if (!get_int (o, w, "output_crops", 0, 64, &v, error))
    return FALSE;
  s->n_output_crops = v;
  if (!get_int (o, w, "max_samples", 1, G_MAXUINT, &v, error))
    return FALSE;
  s->max_samples = v;
  if (!get_int (o, w, "max_bytes", 1, G_MAXSSIZE, &v, error))
    return FALSE;
  s->max_bytes = v;
  if (!get_int (o, w, "crop_size", 0, CFQP_MAX_FRAME_DIM, &v, error))
    return FALSE;
  s->crop_size = v;
  if (!get_int (o, w, "seed", 0, G_MAXUINT32, &v, error))
    return FALSE;
  s->seed = v;
  /* optional: calibrations written before them rounded to nearest and
   * kept every grid as observed, one per tensor */
  s->weight_rounding = CFQP_WEIGHT_ROUNDING_NEAREST;
  if (json_object_has_member (o, "weight_rounding")) {
    if (!(str = get_string (o, w, "weight_rounding", error)))
      return FALSE;
    if (!cfqp_weight_rounding_from_nick (str, &s->weight_rounding))
      return format_error (error, "unknown weight rounding '%s'", str);
  }
  s->residual_grid = CFQP_RESIDUAL_GRID_CALIBRATED;
  if (json_object_has_member (o, "residual_grid")) {
    if (!(str = get_string (o, w, "residual_grid", error)))
      return FALSE;
    if (!cfqp_residual_grid_from_nick (str, &s->residual_grid))
      return format_error (error, "unknown residual grid '%s'", str);
  }
  s->activation_grids = CFQP_ACTIVATION_GRIDS_TENSOR;
  if (json_object_has_member (o, "activation_grids")) {
    if (!(str = get_string (o, w, "activation_grids", error)))
      return FALSE;
    if (!cfqp_activation_grids_from_nick (str, &s->activation_grids))
      return format_error (error, "unknown activation grids '%s'", str);
  }
  return cfqp_calib_settings_validate (s, error);
}

static gboolean
valid_hash (const char *h)
{
  gsize n = strlen (h);

  if (n != 64)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isxdigit (h[i]))
      return FALSE;
  return TRUE;
}

static gboolean
read_tensor (JsonNode *node, guint i, CfqpCalibTensor *t, GError **error)
{
  g_autofree char *where = g_strdup_printf ("tensors[%u].", i);
  JsonObject *o;
  double scale, mn, mx;
  gint64 zp;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return format_error (error, "tensors[%u] must be an object", i);
  o = json_node_get_object (node);
  if (!(t->name = get_string (o, where, "name", error)) ||
      !get_number (o, where, "scale", &scale, error) ||
      !get_number (o, where, "min", &mn, error) ||
      !get_number (o, where, "max", &mx, error))
    return FALSE;
  /* checked as written, before float rounds 1e-300 to 0 or 1e300 to inf */
  if (!(isfinite (scale) && scale > 0)) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID,
        "tensor '%s': scale %g is not a finite positive number", t->name, scale);
    return FALSE;
  }
  if (scale < FLT_MIN || scale > FLT_MAX) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID,
        "tensor '%s': scale %g is outside the range a float scale holds (%g to %g)",
        t->name, scale, (double) FLT_MIN, (double) FLT_MAX);
    return FALSE;
  }
  if (!(fabs (mn) <= FLT_MAX && fabs (mx) <= FLT_MAX)) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID,
        "tensor '%s': min %g / max %g are not a finite float range", t->name, mn, mx);
    return FALSE;
  }
  if (!get_int (o, where, "zero_point", G_MININT32, G_MAXINT32, &zp, error))
    return FALSE;
  t->qparams.scale = (float) scale;
  t->qparams.zero_point = (gint32) zp;
  t->min = (float) mn;
  t->max = (float) mx;
  return cfqp_calib_tensor_validate (t, error);
}

/* Strict base64 (g_base64_decode skips what it does not know). */
static gboolean
valid_base64 (const char *str)
{
  gsize n = strlen (str), pad = 0;

  if (n == 0 || n % 4)
    return FALSE;
  for (gsize i = 0; i < n; i++) {
    if (str[i] == '=' && i >= n - 2)
      pad++;
    else if (pad || !(g_ascii_isalnum (str[i]) || str[i] == '+' || str[i] == '/'))
      return FALSE;
  }
  return TRUE;
}

/* The index of the calibration's tensor called name, or n_tensors. */
static guint
tensor_index (const CfqpCalibTensor *tensors, guint n_tensors, const char *name)
{
  guint v;

  for (v = 0; v < n_tensors && strcmp (tensors[v].name, name) != 0; v++)
    ;
  return v;
}

/* conv_taps[i]: a tensor of the calibration, once, with int8 taps in
 * −127..127 (their count is the model's to check). */
static gboolean
read_conv_taps (JsonNode *node, guint i, const CfqpCalibTensor *tensors, guint n_tensors,
                gboolean *taken, CfqpConvTaps *t, GError **error)
{
  g_autofree char *where = g_strdup_printf ("conv_taps[%u].", i);
  const char *conv, *b64;
  guint v;
  gsize n;
  guint8 *bytes;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return format_error (error, "conv_taps[%u] must be an object", i);
  if (!(conv = get_string (json_node_get_object (node), where, "conv", error)) ||
      !(b64 = get_string (json_node_get_object (node), where, "taps", error)))
    return FALSE;
  if ((v = tensor_index (tensors, n_tensors, conv)) == n_tensors)
    return invalid (error, "conv taps for '%s', which is no tensor of the calibration", conv);
  if (taken[v])
    return invalid (error, "conv taps for '%s' appear twice", conv);
  if (!valid_base64 (b64))
    return invalid (error, "conv taps for '%s' are not base64", conv);
  bytes = g_base64_decode (b64, &n);
  if (n == 0 || n > G_MAXUINT) {
    g_free (bytes);
    return invalid (error, "conv taps for '%s' are empty", conv);
  }
  for (gsize e = 0; e < n; e++)
    if ((gint8) bytes[e] < -127) {
      g_free (bytes);
      return invalid (error, "conv taps for '%s': tap %" G_GSIZE_FORMAT " is −128, "
          "outside −127..127", conv, e);
    }
  taken[v] = TRUE;
  *t = (CfqpConvTaps) { v, (guint) n, (const gint8 *) bytes };
  return TRUE;
}

/* channel_steps[i]: a tensor of the calibration, once, with steps that are
 * numbers in [2^-8, 2^8] (their count is the model's to check). */
static gboolean
read_channel_steps (JsonNode *node, guint i, const CfqpCalibTensor *tensors, guint n_tensors,
                    gboolean *taken, CfqpChannelSteps *cs, GError **error)
{
  g_autofree char *where = g_strdup_printf ("channel_steps[%u].", i);
  g_autofree float *steps = NULL;
  const char *name;
  JsonNode *sn;
  JsonArray *arr;
  guint v, n;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return format_error (error, "channel_steps[%u] must be an object", i);
  if (!(name = get_string (json_node_get_object (node), where, "tensor", error)) ||
      !(sn = member (json_node_get_object (node), where, "steps", error)))
    return FALSE;
  if ((v = tensor_index (tensors, n_tensors, name)) == n_tensors)
    return invalid (error, "channel steps for '%s', which is no tensor of the calibration", name);
  if (taken[v])
    return invalid (error, "channel steps for '%s' appear twice", name);
  if (!JSON_NODE_HOLDS_ARRAY (sn))
    return format_error (error, "field '%ssteps' must be an array", where);
  arr = json_node_get_array (sn);
  n = json_array_get_length (arr);
  if (n == 0 || n > CFQP_MAX_CHANNELS)
    return invalid (error, "channel steps for '%s': %u, a tensor has 1 to %u channels", name, n,
        CFQP_MAX_CHANNELS);
  steps = g_new (float, n);
  for (guint k = 0; k < n; k++) {
    JsonNode *e = json_array_get_element (arr, k);
    GType t = JSON_NODE_HOLDS_VALUE (e) ? json_node_get_value_type (e) : G_TYPE_INVALID;
    double d;

    if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
      return format_error (error, "%ssteps[%u] must be a number", where, k);
    d = json_node_get_double (e);
    if (!(d >= CFQP_MIN_CHANNEL_STEP && d <= 1.0 / CFQP_MIN_CHANNEL_STEP))
      return invalid (error, "channel steps for '%s': step %u is %g, outside [%g, %g]", name, k,
          d, CFQP_MIN_CHANNEL_STEP, 1.0 / CFQP_MIN_CHANNEL_STEP);
    steps[k] = (float) d;
  }
  taken[v] = TRUE;
  *cs = (CfqpChannelSteps) { v, n, g_steal_pointer (&steps) };
  return TRUE;
}


/* An optional array field of root: NULL without an error when absent. */
static JsonArray *
optional_array (JsonObject *root, const char *name, gboolean *ok, GError **error)
{
  JsonNode *n = json_object_get_member (root, name);

  *ok = !n || JSON_NODE_HOLDS_ARRAY (n);
  if (!*ok)
    format_error (error, "field '%s' must be an array", name);
  return *ok && n ? json_node_get_array (n) : NULL;
}

/* The calibration, with its optional conv_taps (calibrations that round
 * to nearest have none, or an empty list) and channel_steps (those with
 * one grid per tensor). */
static CfqpCalibration *
with_quantisation (JsonObject *root, const char *hash, gboolean clip_free,
                   const CfqpCalibSettings *settings, guint n_samples, guint n_images,
                   const CfqpCalibTensor *tensors, guint n, GError **error)
{
  GArray *taps = g_array_new (FALSE, FALSE, sizeof (CfqpConvTaps));
  GArray *steps = g_array_new (FALSE, FALSE, sizeof (CfqpChannelSteps));
  g_autofree gboolean *taken = g_new0 (gboolean, n);
  g_autofree gboolean *stepped = g_new0 (gboolean, n);
  CfqpCalibration *c = NULL;
  JsonArray *tarr, *sarr;
  gboolean ok;

  tarr = optional_array (root, "conv_taps", &ok, error);
  for (guint i = 0; ok && tarr && i < json_array_get_length (tarr); i++) {
    CfqpConvTaps t;

    if ((ok = read_conv_taps (json_array_get_element (tarr, i), i, tensors, n, taken, &t, error)))
      g_array_append_val (taps, t);
  }
  sarr = ok ? optional_array (root, "channel_steps", &ok, error) : NULL;
  for (guint i = 0; ok && sarr && i < json_array_get_length (sarr); i++) {
    CfqpChannelSteps cs;

    if ((ok = read_channel_steps (json_array_get_element (sarr, i), i, tensors, n, stepped, &cs,
            error)))
      g_array_append_val (steps, cs);
  }
  if (ok)
    c = cfqp_calibration_new_full (hash, clip_free, settings, n_samples, n_images, tensors, n,
        (const CfqpConvTaps *) taps->data, taps->len, (const CfqpChannelSteps *) steps->data,
        steps->len);
  cfqp_conv_taps_array_free (taps);
  cfqp_channel_steps_array_free (steps);
  return c;
}

/* The optional fidelity object: *has FALSE when there is none. */
static gboolean
read_fidelity (JsonObject *root, guint n_samples, gboolean *has, CfqpCalibFidelity *f,
               GError **error)
{
  JsonObject *o;
  JsonNode *ho;
  gint64 frames;

  *has = json_object_has_member (root, "fidelity");
  if (!*has)
    return TRUE;
  if (!(o = get_object (root, "", "fidelity", error)) ||
      !get_number (o, "fidelity.", "psnr", &f->psnr, error) ||
      !(ho = member (o, "fidelity.", "held_out", error)) ||
      !get_int (o, "fidelity.", "frames", 0, G_MAXUINT, &frames, error))
    return FALSE;
  if (!node_boolean (ho, "fidelity.", "held_out", &f->held_out, error))
    return FALSE;
  f->n_frames = (guint) frames;
  return cfqp_calib_fidelity_validate (f, n_samples, error);
}

static CfqpCalibration *
from_root (JsonNode *root_node, GError **error)
{
  JsonObject *root, *model, *rd;
  JsonNode *tn;
  JsonArray *arr;
  const char *format, *hash;
  CfqpCalibSettings settings;
  gint64 version, n_samples, n_images;
  CfqpCalibFidelity fidelity = { 0 };
  gboolean clip_free = FALSE, has_fidelity;
  CfqpCalibration *c;
  g_autofree CfqpCalibTensor *tensors = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint n;
  JsonNode *cf;

  if (!root_node) {
    format_error (error, "not a calibration: empty");
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (root_node)) {
    format_error (error, "not a calibration: the top level is not an object");
    return NULL;
  }
  root = json_node_get_object (root_node);
  if (!(format = get_string (root, "", "format", error)))
    return NULL;
  if (strcmp (format, CFQP_CALIBRATION_FORMAT) != 0) {
    format_error (error, "not a calibration: format is '%s', not '%s'", format,
        CFQP_CALIBRATION_FORMAT);
    return NULL;
  }
  if (!get_int (root, "", "version", G_MININT64, G_MAXINT64, &version, error))
    return NULL;
  if (version != CFQP_CALIBRATION_VERSION) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_VERSION,
        "calibration version %" G_GINT64_FORMAT " is not supported (only %d)", version,
        CFQP_CALIBRATION_VERSION);
    return NULL;
  }
  if (!(model = get_object (root, "", "model", error)) ||
      !(hash = get_string (model, "model.", "hash", error)) ||
      !(cf = member (model, "model.", "clip_free", error)))
    return NULL;
  if (!valid_hash (hash)) {
    format_error (error, "model.hash '%s' is not a SHA-256 in hex", hash);
    return NULL;
  }
  if (!node_boolean (cf, "model.", "clip_free", &clip_free, error))
    return NULL;
  if (!read_settings (root, &settings, error))
    return NULL;
  if (!(rd = get_object (root, "", "rd", error)) ||
      !get_int (rd, "rd.", "samples", 0, G_MAXUINT, &n_samples, error) ||
      !get_int (rd, "rd.", "images", 0, G_MAXUINT, &n_images, error) ||
      !read_fidelity (root, n_samples, &has_fidelity, &fidelity, error))
    return NULL;

  if (!(tn = member (root, "", "tensors", error)))
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (tn)) {
    format_error (error, "field 'tensors' must be an array");
    return NULL;
  }
  arr = json_node_get_array (tn);
  n = json_array_get_length (arr);
  if (n < 2 || n > CFQP_MAX_NODES * 2) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID,
        "%u tensors: a model has between 2 and %u", n, CFQP_MAX_NODES * 2);
    return NULL;
  }
  tensors = g_new0 (CfqpCalibTensor, n);
  for (guint i = 0; i < n; i++) {
    if (!read_tensor (json_array_get_element (arr, i), i, &tensors[i], error))
      return NULL;
    if (!g_hash_table_add (seen, (gpointer) tensors[i].name)) {
      g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID,
          "tensor '%s' appears twice", tensors[i].name);
      return NULL;
    }
  }
  c = with_quantisation (root, hash, clip_free, &settings, n_samples,
      n_images, tensors, n, error);
  if (c && has_fidelity)
    cfqp_calibration_set_fidelity (c, &fidelity);
  return c;
}

/* json-glib's parser recurses once per [ or {: a few MB of "[[[[…" overflow
 * the stack.  A calibration nests 3 deep; anything past MAX_NESTING is
 * refused before json-glib sees it.  Brackets inside strings do not count. */
#define MAX_NESTING 32

static gboolean
nesting_ok (const char *data, gsize length)
{
  guint depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < length; i++) {
    char ch = data[i];
    if (in_string) {
      if (ch == '\\')
        i++;
      else if (ch == '"')
        in_string = FALSE;
    } else if (ch == '"') {
      in_string = TRUE;
    } else if (ch == '[' || ch == '{') {
      if (++depth > MAX_NESTING)
        return FALSE;
    } else if ((ch == ']' || ch == '}') && depth > 0) {
      depth--;
    }
  }
  return TRUE;
}

CfqpCalibration *
cfqp_calibration_new_from_json (const char *data, gssize length, CfqpModel *model,
                                GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  GError *err = NULL;
  CfqpCalibration *c;
  gsize n = length < 0 ? strlen (data) : (gsize) length;

  if (n > CFQP_CALIBRATION_MAX_BYTES) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_FORMAT,
        "not a calibration: %" G_GSIZE_FORMAT " bytes, over the %d-byte (4 MiB) limit "
        "(calibrations are ~2–100 kB)", n, CFQP_CALIBRATION_MAX_BYTES);
    return NULL;
  }
  if (!nesting_ok (data, n)) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_FORMAT,
        "not a calibration: nested more than %d deep", MAX_NESTING);
    return NULL;
  }

  if (!json_parser_load_from_data (parser, data, length, &err)) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_PARSE,
        "calibration is not valid JSON (truncated?): %s", err->message);
    g_error_free (err);
    return NULL;
  }
  c = from_root (json_parser_get_root (parser), error);
  if (c && model && !cfqp_calibration_check_model (c, model, error))
    g_clear_pointer (&c, cfqp_calibration_unref);
  return c;
}

CfqpCalibration *
cfqp_calibration_load (const char *path, CfqpModel *model, GError **error)
{
  g_autofree char *data = NULL;
  gsize len;
  GError *err = NULL;
  CfqpCalibration *c;

  /* regular files only (a FIFO would block, /dev/zero never end), and at
   * most CFQP_CALIBRATION_MAX_BYTES */
  if (!cfqp_read_regular_file (path, CFQP_CALIBRATION_MAX_BYTES, &data, &len, &err)) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_IO, "%s%s", err->message,
        g_error_matches (err, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE) ?
        " (4 MiB; calibrations are ~2–100 kB)" : "");
    g_error_free (err);
    return NULL;
  }
  if (len == 0) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_FORMAT,
        "%s: the file is empty, not a calibration", path);
    return NULL;
  }
  c = cfqp_calibration_new_from_json (data, len, model, error);
  if (!c)
    g_prefix_error (error, "%s: ", path);
  return c;
}
