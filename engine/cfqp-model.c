/* CfqpModel: an imported, optimised, immutable network. */
#include "cfqp-model-private.h"
#include "cfqp-onnx.h"
#include "cfqp-passes.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

G_DEFINE_QUARK (cfqp-engine-error-quark, cfqp_engine_error)

/* The scale is read from the graph: run shape inference at a probe size and
 * compare output to input.  Two probe sizes catch graphs whose output is not
 * a fixed multiple of the input.  The multiple may be a ratio (a ×3/2 net:
 * space-to-depth 2 in, depth-to-space 3 out); both probes are multiples of
 * 12, so any denominator up to 12 that divides them shows. */
static gboolean
check_sr_convention (CfqpModel *model, GError **error)
{
  const CfqpGraph *g = model->graph;
  static const guint probes[][2] = { { 48, 36 }, { 60, 24 } };
  g_autofree CfqpShape *shapes = g_new0 (CfqpShape, g->n_values);
  guint num = 0, den = 0;

  model->channels = g->values[0].channels;
  if (model->channels != 1 && model->channels != 3) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "input '%s' has %u channels: an SR model takes RGB (3) or luma (1)",
        g->values[0].name, model->channels);
    return FALSE;
  }
  if (g->values[g->output].channels != model->channels) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "output '%s' has %u channels but the input has %u",
        g->values[g->output].name, g->values[g->output].channels, model->channels);
    return FALSE;
  }
  for (guint i = 0; i < G_N_ELEMENTS (probes); i++) {
    guint w = probes[i][0], h = probes[i][1];
    CfqpShape out;

    if (!cfqp_graph_infer_shapes (g, w, h, shapes, error))
      return FALSE;
    out = shapes[g->output];
    if (out.w == 0 || (num && !cfqp_is_upscale (out.w, out.h, w, h, num, den)) ||
        (!num && (guint64) out.h * w != (guint64) out.w * h)) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
          "output '%s' is %u×%u for a %u×%u input: not a fixed upscale",
          g->values[g->output].name, out.w, out.h, w, h);
      return FALSE;
    }
    if (!num) {
      guint d = cfqp_gcd (out.w, w);
      num = out.w / d;
      den = w / d;
    }
  }
  if (num < den || num > CFQP_MAX_SCALE * den) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "scale %u/%u is outside 1..%u", num, den, CFQP_MAX_SCALE);
    return FALSE;
  }
  if (den != 1 && model->channels != 3) {
    /* luma nets upscale their chroma by the integer scale (cfqp-pixels.c) */
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "a ×%u/%u net must be RGB, not luma", num, den);
    return FALSE;
  }
  model->scale = (num + den - 1) / den;
  model->scale_num = num;
  model->scale_den = den;
  return TRUE;
}

CfqpModel *
cfqp_model_new_from_graph (CfqpGraph *graph, const char *name, GError **error)
{
  CfqpModel *model = g_new0 (CfqpModel, 1);

  model->ref_count = 1;
  model->name = g_strdup (name ? name : "model");
  model->graph = graph;
  cfqp_passes_optimise (graph);
  if (!check_sr_convention (model, error)) {
    g_prefix_error (error, "%s: ", model->name);
    cfqp_model_unref (model);
    return NULL;
  }
  model->macs_per_pixel = cfqp_graph_macs_per_pixel (graph);
  model->embedded_qparams = cfqp_graph_embedded_qparams (graph);
  if (!model->hash)
    model->hash = g_strdup ("");
  return model;
}

CfqpModel *
cfqp_model_new_from_bytes (GBytes *bytes, const char *name, GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  CfqpGraph *graph;
  CfqpModel *model;

  g_return_val_if_fail (bytes != NULL, NULL);

  if (size > CFQP_MAX_MODEL_BYTES) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT,
        "%s: %" G_GSIZE_FORMAT " bytes is over the %u-byte model limit",
        name ? name : "model", size, CFQP_MAX_MODEL_BYTES);
    return NULL;
  }
  graph = cfqp_onnx_import (data, size, error);
  if (!graph) {
    g_prefix_error (error, "%s: ", name ? name : "model");
    return NULL;
  }
  model = cfqp_model_new_from_graph (graph, name, error);
  if (model) {
    g_free (model->hash);
    model->hash = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, size);
  }
  return model;
}

/* Opens path for reading as a regular file only: non-blocking, so that a
 * FIFO (or a shell's process substitution, /dev/fd/N) does not block the
 * caller until a writer appears, then fstat()ed, so that what is checked is
 * what is read.  A directory, FIFO, socket or device is refused with a
 * message saying what it is; so is a file over CFQP_MAX_MODEL_BYTES. */
static int
open_regular_file (const char *path, struct stat *st, GError **error)
{
  const char *what;
  int fd = g_open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);

  if (fd < 0) {
    int errsv = errno;

    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_IO, "cannot open \"%s\": %s",
        path, g_strerror (errsv));
    return -1;
  }
  if (fstat (fd, st) != 0) {
    int errsv = errno;

    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_IO, "cannot stat \"%s\": %s",
        path, g_strerror (errsv));
    close (fd);
    return -1;
  }
  if (!S_ISREG (st->st_mode)) {
    if (S_ISDIR (st->st_mode))
      what = "a directory";
    else if (S_ISFIFO (st->st_mode))
      what = "a FIFO or pipe (process substitution gives one)";
    else if (S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode))
      what = "a device";
    else if (S_ISSOCK (st->st_mode))
      what = "a socket";
    else
      what = "not a regular file";
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_IO,
        "\"%s\" is %s: a model is read from a regular file only", path, what);
    close (fd);
    return -1;
  }
  if ((guint64) st->st_size > CFQP_MAX_MODEL_BYTES) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT,
        "\"%s\" has %" G_GUINT64_FORMAT " bytes, more than the %u a model may have", path,
        (guint64) st->st_size, CFQP_MAX_MODEL_BYTES);
    close (fd);
    return -1;
  }
  return fd;
}

CfqpModel *
cfqp_model_new_from_file (const char *path, GError **error)
{
  g_autoptr (GMappedFile) file = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) io_error = NULL;
  struct stat st;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  fd = open_regular_file (path, &st, error);
  if (fd < 0)
    return NULL;
  if (st.st_size == 0) {
    close (fd);
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_PARSE,
        "\"%s\" is empty (0 bytes): not an ONNX model", path);
    return NULL;
  }
  file = g_mapped_file_new_from_fd (fd, FALSE, &io_error);
  close (fd);
  if (!file) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_IO, "cannot read \"%s\": %s",
        path, io_error->message);
    return NULL;
  }
  bytes = g_mapped_file_get_bytes (file);
  return cfqp_model_new_from_bytes (bytes, path, error);
}

CfqpModel *
cfqp_model_ref (CfqpModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_atomic_int_inc (&model->ref_count);
  return model;
}

void
cfqp_model_unref (CfqpModel *model)
{
  if (!model || !g_atomic_int_dec_and_test (&model->ref_count))
    return;
  cfqp_graph_free (model->graph);
  g_free (model->embedded_qparams);
  g_free (model->name);
  g_free (model->hash);
  g_free (model);
}

guint
cfqp_model_get_scale (const CfqpModel *model)
{
  return model->scale;
}

void
cfqp_model_get_scale_ratio (const CfqpModel *model, guint *num, guint *den)
{
  *num = model->scale_num;
  *den = model->scale_den;
}

guint
cfqp_model_get_channels (const CfqpModel *model)
{
  return model->channels;
}

const char *
cfqp_model_get_name (const CfqpModel *model)
{
  return model->name;
}

const char *
cfqp_model_get_hash (const CfqpModel *model)
{
  return model->hash;
}

guint64
cfqp_model_get_macs_per_pixel (const CfqpModel *model)
{
  return model->macs_per_pixel;
}

const CfqpQParams *
cfqp_model_get_embedded_qparams (const CfqpModel *model)
{
  return model->embedded_qparams;
}

const CfqpGraph *
cfqp_model_get_graph (const CfqpModel *model)
{
  return model->graph;
}

char *
cfqp_model_describe (const CfqpModel *model)
{
  const CfqpGraph *g = model->graph;
  guint counts[CFQP_OP_N_OPS] = { 0 };
  GString *s = g_string_new (NULL);
  const char *base = strrchr (model->name, '/');

  for (guint i = 0; i < g->n_nodes; i++)
    counts[g->nodes[i].op]++;
  g_string_append_printf (s, "%s: x%u", base ? base + 1 : model->name, model->scale_num);
  if (model->scale_den != 1)
    g_string_append_printf (s, "/%u", model->scale_den);
  g_string_append_printf (s, " %s, %u nodes (", model->channels == 3 ? "RGB" : "luma",
      g->n_nodes);
  for (guint op = 0, first = 1; op < CFQP_OP_N_OPS; op++) {
    if (!counts[op])
      continue;
    g_string_append_printf (s, "%s%u %s", first ? "" : ", ", counts[op],
        cfqp_op_type_to_string (op));
    first = 0;
  }
  g_string_append_printf (s, "), %" G_GUINT64_FORMAT " MACs/pixel, sha256 %.12s",
      model->macs_per_pixel, model->hash);
  return g_string_free (s, FALSE);
}
