/* The exact resampler (engine/cfqp-resample.c) and the runner's any-size
 * path (cfqp_runner_run_packed_resized).
 *
 * - weight tables: sums of exactly 2^14, windows inside the image, each
 *   weight within the rounding of a double-precision Catmull-Rom computed
 *   here independently;
 * - the vectorised rows are bit-exact with the scalar definition
 *   (cfqp_resample_rows_scalar) over many sizes, planar and packed;
 * - identity and constant images are exact; a double-precision resample
 *   of the same kernel is within 1 LSB;
 * - the runner: ref and cpu backends and 1 or 3 threads give the same
 *   bytes, which are the scalar resample of the ×s network output.
 */
#include <math.h>
#include <string.h>

#include "cfqp-engine.h"
#include "cfqp-graph.h"
#include "cfqp-model-private.h"
#include "cfqp-resample.h"
#include "minmax-qparams.h"
#include "test-models.h"

static guint8
texture (guint x, guint y, guint c)
{
  guint i = (x * 7 + y * 13 + c * 31) ^ (x * y);
  return (guint8) (i * 2654435761u >> 24);
}

static double
keys (double x)
{
  x = fabs (x);
  if (x < 1)
    return 1.5 * x * x * x - 2.5 * x * x + 1;
  if (x < 2)
    return -0.5 * x * x * x + 2.5 * x * x - 4 * x + 2;
  return 0;
}

/* the window and weights of output i, straight from the definition */
static guint
reference_weights (guint n_in, guint n_out, guint i, gint *first, double *w)
{
  double scale = (double) n_in / n_out, fs = MAX (scale, 1), support = 2 * fs;
  double center = (i + 0.5) * scale, total = 0;
  gint lo = MAX ((gint) (center - support + 0.5), 0);
  gint hi = MIN ((gint) (center + support + 0.5), (gint) n_in);

  for (gint x = lo; x < hi; x++)
    total += w[x - lo] = keys ((x + 0.5 - center) / fs);
  for (gint x = lo; x < hi; x++)
    w[x - lo] /= total;
  *first = lo;
  return hi - lo;
}

static void
test_weights (void)
{
  const guint sizes[][2] = { {4, 3}, {2560, 1920}, {1440, 1080}, {39, 25}, {13, 19},
    {640, 1920}, {7, 7}, {1, 5}, {5, 1}, {2160, 1080}, {3, 2} };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    guint n_in = sizes[s][0], n_out = sizes[s][1];
    CfqpResampler *rs = cfqp_resampler_new (n_in, 1, n_out, 1);
    const CfqpResampleAxis *ax = &rs->h;
    double w[64];

    g_assert_cmpuint (ax->taps % 8, ==, 0);
    for (guint i = 0; i < n_out; i++) {
      gint first, sum = 0;
      guint n = reference_weights (n_in, n_out, i, &first, w);

      g_assert_cmpuint (ax->count[i], >=, 1);
      g_assert_cmpuint (ax->count[i], <=, ax->taps);
      g_assert_cmpuint (ax->start[i] + ax->count[i], <=, n_in);
      g_assert_cmpint ((gint) ax->start[i], >=, first);
      g_assert_cmpuint (ax->start[i] + ax->count[i], <=, first + n);
      for (guint k = 0; k < ax->taps; k++) {
        gint q = ax->weights[(gsize) i * ax->taps + k];
        gint x = (gint) ax->start[i] + (gint) k;

        sum += q;
        if (k >= ax->count[i]) {
          g_assert_cmpint (q, ==, 0);
          continue;
        }
        /* within the rounding, or the tap that took the remainder */
        g_assert_cmpfloat (fabs (q - w[x - first] * 16384), <=, 2.5);
      }
      g_assert_cmpint (sum, ==, 16384);
    }
    if (n_in == n_out)
      for (guint i = 0; i < n_out; i++) {
        g_assert_cmpuint (ax->count[i], ==, 1);
        g_assert_cmpuint (ax->start[i], ==, i);
      }
    cfqp_resampler_free (rs);
  }
}

static void
check_sizes (guint iw, guint ih, guint ow, guint oh, guint pixel)
{
  gsize src_stride = (gsize) iw * pixel + 5, dst_stride = (gsize) ow * pixel + 3;
  g_autofree guint8 *src = g_malloc (src_stride * ih);
  g_autofree guint8 *fast = g_malloc0 (dst_stride * oh);
  g_autofree guint8 *slow = g_malloc0 (dst_stride * oh);
  CfqpResampler *rs = cfqp_resampler_new (iw, ih, ow, oh);
  gpointer scratch = g_aligned_alloc0 (1, cfqp_resampler_scratch_size (rs), 64);

  for (guint y = 0; y < ih; y++)
    for (gsize x = 0; x < src_stride; x++)
      src[y * src_stride + x] = texture (x, y, pixel);
  for (guint c = 0; c < pixel; c++) {
    /* two row ranges, as two workers would */
    cfqp_resample_rows (rs, src + c, src_stride, pixel, fast + c, dst_stride, pixel, 0,
        oh / 2, scratch);
    cfqp_resample_rows (rs, src + c, src_stride, pixel, fast + c, dst_stride, pixel, oh / 2,
        oh, scratch);
    cfqp_resample_rows_scalar (rs, src + c, src_stride, pixel, slow + c, dst_stride, pixel,
        0, oh);
  }
  for (guint y = 0; y < oh; y++)
    if (memcmp (fast + y * dst_stride, slow + y * dst_stride, (gsize) ow * pixel) != 0)
      g_error ("%u×%u → %u×%u (pixel %u): row %u differs from the scalar definition", iw,
          ih, ow, oh, pixel, y);
  g_aligned_free (scratch);
  cfqp_resampler_free (rs);
}

static void
test_bit_exact (void)
{
  GRand *rand = g_rand_new_with_seed (19);

  check_sizes (2560, 32, 1920, 24, 1);   /* the ×2 net at 720p → 1080p, a band */
  check_sizes (32, 1440, 24, 1080, 1);
  check_sizes (51, 39, 25, 19, 1);       /* 17×13 ×3 → 25×19 */
  check_sizes (34, 26, 25, 19, 4);
  check_sizes (17, 13, 25, 19, 3);       /* upscaling */
  check_sizes (1, 1, 4, 4, 1);
  check_sizes (9, 9, 1, 1, 1);
  for (guint i = 0; i < 200; i++) {
    guint iw = g_rand_int_range (rand, 1, 70), ih = g_rand_int_range (rand, 1, 40);
    guint ow = g_rand_int_range (rand, 1, 90), oh = g_rand_int_range (rand, 1, 50);
    check_sizes (iw, ih, ow, oh, g_rand_int_range (rand, 1, 5));
  }
  g_rand_free (rand);
}

static void
test_identity_and_constant (void)
{
  const guint w = 23, h = 11;
  guint8 src[23 * 11], dst[40 * 30];
  CfqpResampler *rs = cfqp_resampler_new (w, h, w, h);
  gpointer scratch = g_aligned_alloc0 (1, cfqp_resampler_scratch_size (rs), 64);

  for (guint i = 0; i < w * h; i++)
    src[i] = texture (i % w, i / w, 0);
  cfqp_resample_rows (rs, src, w, 1, dst, w, 1, 0, h, scratch);
  g_assert_cmpmem (src, w * h, dst, w * h);
  g_aligned_free (scratch);
  cfqp_resampler_free (rs);

  for (guint v = 0; v < 256; v += 17) {
    rs = cfqp_resampler_new (w, h, 40, 30);
    scratch = g_aligned_alloc0 (1, cfqp_resampler_scratch_size (rs), 64);
    memset (src, v, sizeof src);
    cfqp_resample_rows (rs, src, w, 1, dst, 40, 1, 0, 30, scratch);
    for (guint i = 0; i < 40 * 30; i++)
      g_assert_cmpuint (dst[i], ==, v);
    g_aligned_free (scratch);
    cfqp_resampler_free (rs);
  }
}

/* The same kernel in double precision, rounded once: within 1 LSB. */
static void
test_against_double (void)
{
  const guint iw = 64, ih = 48, ow = 48, oh = 36;
  g_autofree guint8 *src = g_malloc (iw * ih), *dst = g_malloc (ow * oh);
  CfqpResampler *rs = cfqp_resampler_new (iw, ih, ow, oh);
  gpointer scratch = g_aligned_alloc0 (1, cfqp_resampler_scratch_size (rs), 64);
  double wx[64], wy[64];

  for (guint i = 0; i < iw * ih; i++)
    src[i] = texture (i % iw, i / iw, 1);
  cfqp_resample_rows (rs, src, iw, 1, dst, ow, 1, 0, oh, scratch);
  for (guint y = 0; y < oh; y++) {
    gint fy, fx;
    guint ny = reference_weights (ih, oh, y, &fy, wy);

    for (guint x = 0; x < ow; x++) {
      guint nx = reference_weights (iw, ow, x, &fx, wx);
      double v = 0;

      for (guint k = 0; k < ny; k++)
        for (guint j = 0; j < nx; j++)
          v += wy[k] * wx[j] * src[(fy + k) * iw + fx + j];
      v = CLAMP (floor (v + 0.5), 0, 255);
      g_assert_cmpfloat (fabs (v - dst[y * ow + x]), <=, 1);
    }
  }
  g_aligned_free (scratch);
  cfqp_resampler_free (rs);
}

/* The runner's any-size path on an INT8 ABPN-like ×2 net. */
static void
test_runner (void)
{
  const guint w = 21, h = 14, ow = 31, oh = 25, scale = 2;
  CfqpModel *model = cfqp_model_new_from_graph (test_model_abpn (3, 8, 2, scale, 7), "x2",
      NULL);
  const CfqpPackedLayout layouts[] = { { 3, 0, 1, 2, -1 }, { 4, 2, 1, 0, 3 },
    { 4, 1, 2, 3, -1 } };
  g_autofree float *planar = g_new (float, 3 * w * h);
  CfqpQParams *qp;

  for (guint c = 0; c < 3; c++)
    for (guint i = 0; i < w * h; i++)
      planar[c * w * h + i] = texture (i % w, i / w, c) / 255.f;
  qp = minmax_qparams_observe (model, planar, w, h, NULL, NULL);
  g_assert_nonnull (qp);

  for (guint l = 0; l < G_N_ELEMENTS (layouts); l++) {
    const CfqpPackedLayout *lay = &layouts[l];
    gsize src_stride = (gsize) w * lay->pixel_stride + 7;
    gsize net_stride = (gsize) w * scale * lay->pixel_stride;
    gsize dst_stride = (gsize) ow * lay->pixel_stride + 1;
    g_autofree guint8 *src = g_malloc (src_stride * h);
    g_autofree guint8 *net = g_malloc (net_stride * h * scale);
    g_autofree guint8 *want = g_malloc0 (dst_stride * oh);
    CfqpResampler *rs = cfqp_resampler_new (w * scale, h * scale, ow, oh);
    CfqpResampler *ra = cfqp_resampler_new (w, h, ow, oh);
    /* OpenCL (device 0, e.g. PoCL) when there is one: the resample is on
     * the host, so its bytes too */
    const CfqpBackendKind backends[] = { CFQP_BACKEND_REF, CFQP_BACKEND_CPU, CFQP_BACKEND_CPU,
      CFQP_BACKEND_OPENCL };
    const guint threads[] = { 1, 1, 3, 2 };
    gint ch[4] = { lay->r, lay->g, lay->b, lay->a };

    for (guint y = 0; y < h; y++)
      for (gsize x = 0; x < src_stride; x++)
        src[y * src_stride + x] = texture (x, y, l);

    for (guint b = 0; b < G_N_ELEMENTS (backends); b++) {
      CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
      g_autofree guint8 *got = g_malloc0 (dst_stride * oh);
      g_autoptr (GError) error = NULL;
      CfqpRunner *runner;

      opts.precision = CFQP_PRECISION_INT8;
      opts.qparams = qp;
      opts.backend = backends[b];
      opts.n_threads = threads[b];
      opts.device = backends[b] == CFQP_BACKEND_OPENCL ? "0" : NULL;
      runner = cfqp_runner_new (model, &opts, &error);
      if (runner == NULL && backends[b] == CFQP_BACKEND_OPENCL) {
        g_test_message ("no OpenCL device: %s", error->message);
        continue;
      }
      g_assert_no_error (error);
      g_test_message ("layout %u on %s, %u thread(s)", l,
          cfqp_runner_get_active_backend (runner), threads[b]);
      if (b == 0) {
        /* the definition: the network, then the scalar resample */
        g_assert_true (cfqp_runner_run_packed (runner, lay, src, src_stride, w, h, net,
                net_stride, &error));
        for (guint c = 0; c < 3; c++)
          cfqp_resample_rows_scalar (rs, net + ch[c], net_stride, lay->pixel_stride,
              want + ch[c], dst_stride, lay->pixel_stride, 0, oh);
        if (lay->a >= 0)
          cfqp_resample_rows_scalar (ra, src + lay->a, src_stride, lay->pixel_stride,
              want + lay->a, dst_stride, lay->pixel_stride, 0, oh);
      }
      g_assert_true (cfqp_runner_run_packed_resized (runner, lay, src, src_stride, w, h,
              got, dst_stride, ow, oh, &error));
      g_assert_no_error (error);
      for (guint y = 0; y < oh; y++)
        for (guint x = 0; x < ow; x++)
          for (guint c = 0; c < 4; c++)
            if (ch[c] >= 0 && got[y * dst_stride + x * lay->pixel_stride + ch[c]] !=
                want[y * dst_stride + x * lay->pixel_stride + ch[c]])
              g_error ("layout %u backend %u threads %u: (%u,%u) channel %u differs", l,
                  backends[b], threads[b], x, y, c);
      /* larger than the network's scale: refused */
      g_assert_false (cfqp_runner_run_packed_resized (runner, lay, src, src_stride, w, h,
              got, dst_stride, w * scale + 1, oh, &error));
      g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
      cfqp_runner_free (runner);
    }
    cfqp_resampler_free (rs);
    cfqp_resampler_free (ra);
  }
  g_free (qp);
  cfqp_model_unref (model);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/resample/weights", test_weights);
  g_test_add_func ("/resample/bit-exact", test_bit_exact);
  g_test_add_func ("/resample/identity-constant", test_identity_and_constant);
  g_test_add_func ("/resample/against-double", test_against_double);
  g_test_add_func ("/resample/runner", test_runner);
  return g_test_run ();
}
