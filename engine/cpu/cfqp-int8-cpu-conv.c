/* The cpu conv: per output row, gather each output pixel's inputs into a
 * channels-inner column (im2col), then one u8·s8 GEMM against the packed
 * weights and a requantisation pass.
 *
 * The input zero point is folded into the bias at pack time:
 *   b + Σ w·(x − z) = (b − z·Σw) + Σ w·x
 * where padded taps carry the channel's pad byte as x, exactly as ref
 * uses (pad − z).  Integer sums in any order give ref's accumulator, so
 * the requantised bytes are ref's. */
#include "cfqp-int8-cpu-config.h"
#include "cfqp-int8-cpu-gemm.h"
#include "cfqp-int8-cpu-private.h"
#include "cfqp-int8-cpu-scratch.h"
#include "cfqp-int8-cpu-wino.h"

#include <config.h>
#include <string.h>
#include <time.h>
#ifdef HAVE_ORC
#include "cfqp-orc.h"
#endif

#define K_ALIGN  32   /* zero-padded reduction length: whole vectors */
#define OC_BLOCK 4    /* output channels per micro-kernel call */

typedef struct {
  CfqpInt8CpuPacked head;
  CfqpInt8CpuConvPath path;
  const CfqpInt8CpuConfig *cfg;   /* the kernels: dot, c4, requant */
  guint   ic, ocp;
  guint   icg;         /* C4: groups of 4 input channels, ceil(ic/4) */
  gsize   k, kp;       /* kh·kw·ic, and padded to K_ALIGN */
  gint8  *weight;      /* [ocp][kp], k = (ky·kw + kx)·ic + c; zeros past k and oc */
  gint8  *weight_c4;   /* C4 (where the config has a c4 kernel): [ocp][taps·icg·4],
                        * k = ((ky·kw + kx)·icg + c/4)·4 + c%4; zeros past ic and oc;
                        * then in the kernel's CfqpInt8C4Weights form, then as the
                        * config's c4_pack leaves it */
  gint32 *bias;        /* [ocp] b − z_in·Σw */
  gint32 *bias_c4;     /* C4: the bias as c4_pack leaves it (NULL: no c4_pack, bias) */
  gboolean c4_refused; /* c4_pack refused these weights: no C4 path for this conv */
  char   *c4_note;     /* C4: what the weights' form says about them (or NULL) */
  gboolean wino_fits;  /* every channel within CFQP_INT8_WINO_MAX_ABS_SUM */
  gint32 *wino_u;      /* WINO: U' (cfqp_int8_wino_weights) */
} CpuConv;

/* A grouped conv (groups > 1): each group packed as its own 1-group conv
 * (icg → ocg channels, that group's weights, bias, pads and requant
 * parameters) and run over channel-offset views of the input and output.
 * All groups share one shape, so the plan measures the first and the
 * rest take its choice from the cache. */
typedef struct {
  CfqpInt8CpuPacked head;
  guint     groups, icg, ocg;
  CfqpNode  node;        /* the 1-group conv one group is (shallow copy: p.conv only) */
  CfqpInt8CpuPacked **sub;   /* [groups] */
} CpuGroupedConv;

static void conv_orc (const CpuConv *pc, const CfqpNode *node, const CfqpInt8Node *q,
    const CfqpU8View *in, const CfqpU8View *output, guint y0, guint y1);
static void conv_c4 (const CpuConv *pc, const CfqpNode *node, const CfqpInt8Node *q,
    const CfqpU8View *in, const CfqpU8View *output, guint y0, guint y1);

const char *
cfqp_int8_cpu_conv_path_name (CfqpInt8CpuConvPath path)
{
  switch (path) {
    case CFQP_INT8_CPU_CONV_REF: return "ref";
    case CFQP_INT8_CPU_CONV_1X1: return "1x1";
    case CFQP_INT8_CPU_CONV_ROWS: return "rows";
    case CFQP_INT8_CPU_CONV_TAPS: return "taps";
    case CFQP_INT8_CPU_CONV_C4: return "c4 (rows in channel groups of 4)";
    case CFQP_INT8_CPU_CONV_ORC: return "orc (planar rows)";
    case CFQP_INT8_CPU_CONV_WINO: return "wino (Winograd F(2x2,3x3) tiles, int16)";
  }
  return "?";
}

/* The short name model-info and the plan use: the kernel family. */
static const char *
family_name (CfqpInt8CpuConvPath path)
{
  switch (path) {
    case CFQP_INT8_CPU_CONV_C4: return "c4";
    case CFQP_INT8_CPU_CONV_ORC: return "orc";
    case CFQP_INT8_CPU_CONV_WINO: return "wino";
    case CFQP_INT8_CPU_CONV_REF: return "ref";
    default: return "dot";
  }
}

static void
cpu_conv_free (gpointer data)
{
  CpuConv *pc = data;
  g_free (pc->weight);
  g_free (pc->weight_c4);
  g_free (pc->bias);
  g_free (pc->bias_c4);
  g_free (pc->c4_note);
  g_free (pc->wino_u);
  g_free (pc->head.kernel);
  g_free (pc->head.choice);
  g_free (pc);
}

/* --- which kernels apply ------------------------------------------------ */

static gboolean
runs_cpu_kernels (const CfqpNode *node)
{
  const CfqpConvParams *cp = &node->p.conv;
  return node->op == CFQP_OP_CONV && cp->groups == 1 && cp->kernel_h <= CFQP_MAX_KERNEL;
}

static gboolean
runs_grouped (const CfqpNode *node)
{
  const CfqpConvParams *cp = &node->p.conv;
  return node->op == CFQP_OP_CONV && cp->groups > 1 && cp->kernel_h <= CFQP_MAX_KERNEL &&
      cp->in_channels % cp->groups == 0 && cp->out_channels % cp->groups == 0;
}

/* The dot-product family's gather for this geometry. */
static CfqpInt8CpuConvPath
dot_path (const CfqpConvParams *cp)
{
  if (cp->kernel_h == 1 && cp->kernel_w == 1 && cp->stride_h == 1 && cp->stride_w == 1 &&
      cp->auto_pad == 0 && !cp->pad_t && !cp->pad_l && !cp->pad_b && !cp->pad_r)
    return CFQP_INT8_CPU_CONV_1X1;
  return cp->dilation_w == 1 ? CFQP_INT8_CPU_CONV_ROWS : CFQP_INT8_CPU_CONV_TAPS;
}

/* The config has a c4 kernel and, where it has a pack step, that took
 * this conv's weights. */
static gboolean
have_c4 (const CpuConv *pc)
{
  return pc->cfg->conv_c4 != NULL && !pc->c4_refused;
}

/* The config has a Winograd kernel and this conv is one it computes:
 * 3×3, stride 1, dilation 1, weights within its bound. */
static gboolean
have_wino (const CfqpConvParams *cp, const CpuConv *pc)
{
  return pc->cfg->conv_wino != NULL && pc->wino_fits && cp->kernel_h == 3 &&
      cp->kernel_w == 3 && cp->stride_h == 1 && cp->stride_w == 1 && cp->dilation_h == 1 &&
      cp->dilation_w == 1;
}

gboolean
cfqp_int8_cpu_have_orc (void)
{
#ifdef HAVE_ORC
  return TRUE;
#else
  return FALSE;
#endif
}

/* Candidates in a fixed order (ties go to the first). */
static guint
candidates (const CfqpConvParams *cp, const CpuConv *pc, CfqpInt8CpuConvPath *out)
{
  guint n = 0;
  if (have_c4 (pc))
    out[n++] = CFQP_INT8_CPU_CONV_C4;
  out[n++] = dot_path (cp);
  if (cfqp_int8_cpu_have_orc ())
    out[n++] = CFQP_INT8_CPU_CONV_ORC;
  if (have_wino (cp, pc))
    out[n++] = CFQP_INT8_CPU_CONV_WINO;
  return n;
}

static CfqpInt8CpuConvPath
forced_path (const CfqpConvParams *cp, const CpuConv *pc, CfqpInt8CpuGemmKind kind)
{
  if (kind == CFQP_INT8_CPU_GEMM_ORC && cfqp_int8_cpu_have_orc ())
    return CFQP_INT8_CPU_CONV_ORC;
  if (kind == CFQP_INT8_CPU_GEMM_WINO && have_wino (cp, pc))
    return CFQP_INT8_CPU_CONV_WINO;
  if (kind == CFQP_INT8_CPU_GEMM_DOT || !have_c4 (pc))
    return dot_path (cp);
  return CFQP_INT8_CPU_CONV_C4;
}

/* --- the AUTO plan: measured once per (layer shape, ISA) ------------------- */

#define MEASURE_PATHS   4
#define MEASURE_WIDTH   256   /* output pixels of the timed stripe */
#define MEASURE_ROWS    2     /* output rows of the timed stripe */
#define MEASURE_REPS    3     /* timed runs per kernel after one warm-up; the minimum counts */
#define MEASURE_BUDGET  4.0   /* ms per layer: repetitions stop once it is spent */

typedef struct {
  CfqpInt8CpuConvPath path;
  guint               n;
  CfqpInt8CpuConvPath paths[MEASURE_PATHS];
  double              ms[MEASURE_PATHS];
} PlanEntry;

static GMutex plan_lock;
static GHashTable *plan;   /* key string → PlanEntry */
static guint plan_measured;

void
cfqp_int8_cpu_conv_plan_clear (void)
{
  g_mutex_lock (&plan_lock);
  g_clear_pointer (&plan, g_hash_table_unref);
  plan_measured = 0;
  g_mutex_unlock (&plan_lock);
}

guint
cfqp_int8_cpu_conv_plan_n_measured (void)
{
  guint n;
  g_mutex_lock (&plan_lock);
  n = plan_measured;
  g_mutex_unlock (&plan_lock);
  return n;
}

static char *
plan_key (const CfqpConvParams *cp, const char *isa, gboolean c4_refused, gboolean wino_fits)
{
  /* a conv whose weights the c4 pack refused (or that the Winograd bound
   * keeps out) has other candidates than one of the same shape whose it
   * took: its own entry, so a cached choice it lacks never reaches it */
  return g_strdup_printf ("%s%s%s %ux%u s%ux%u d%ux%u p%u,%u,%u,%u a%d %u->%u", isa,
      c4_refused ? "/no-c4" : "", wino_fits ? "" : "/no-wino",
      cp->kernel_h, cp->kernel_w, cp->stride_h, cp->stride_w, cp->dilation_h, cp->dilation_w,
      cp->pad_t, cp->pad_l, cp->pad_b, cp->pad_r, cp->auto_pad, cp->in_channels,
      cp->out_channels);
}

static double
thread_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Times each candidate on a MEASURE_ROWS × MEASURE_WIDTH stripe of
 * synthetic bytes, this thread's CPU time (other jobs on the core do not
 * count), minimum of the repetitions. */
static void
measure (CpuConv *pc, const CfqpNode *node, const CfqpInt8Node *q, PlanEntry *e)
{
  const CfqpConvParams *cp = &node->p.conv;
  guint eff_h = (cp->kernel_h - 1) * cp->dilation_h + 1, eff_w = (cp->kernel_w - 1) * cp->dilation_w + 1;
  guint pt, pl, pb, pr, oh, ow;
  CfqpU8View in = { NULL, cp->in_channels, MEASURE_ROWS * cp->stride_h + eff_h,
                    (MEASURE_WIDTH - 1) * cp->stride_w + eff_w, 0, 0 };
  CfqpU8View out = { NULL, cp->out_channels, 0, 0, 0, 0 };
  CfqpInt8Node qq = *q;
  CfqpInt8CpuConvPath saved = pc->path;
  double spent = 0, best = G_MAXDOUBLE;

  cfqp_conv_resolve_pads (cp, in.h, in.w, &pt, &pl, &pb, &pr);
  oh = (in.h + pt + pb - eff_h) / cp->stride_h + 1;
  ow = (in.w + pl + pr - eff_w) / cp->stride_w + 1;
  in.row_stride = in.w;
  in.plane_stride = (gsize) in.w * in.h;
  in.data = g_malloc (in.plane_stride * in.c);
  for (gsize i = 0; i < in.plane_stride * in.c; i++)
    in.data[i] = (guint8) (i * 2654435761u >> 13);
  out.h = oh;
  out.w = ow;
  out.row_stride = ow;
  out.plane_stride = (gsize) ow * oh;
  out.data = g_malloc (out.plane_stride * out.c);
  qq.packed = pc;

  for (guint i = 0; i < e->n; i++) {
    double ms = G_MAXDOUBLE;
    pc->path = e->paths[i];
    /* one warm-up run (scratch, caches), then the timed ones */
    for (guint r = 0; r <= MEASURE_REPS; r++) {
      double t0 = thread_ms (), t;
      cfqp_int8_cpu_conv (node, &qq, &in, &out, 0, MIN (MEASURE_ROWS, oh));
      t = thread_ms () - t0;
      spent += t;
      if (r == 0) {
        if (t > 3 * best) {   /* lost already: the warm-up is its time */
          ms = t;
          break;
        }
        continue;
      }
      ms = MIN (ms, t);
      if (spent > MEASURE_BUDGET)
        break;
    }
    e->ms[i] = ms;
    if (ms < best) {
      best = ms;
      e->path = e->paths[i];
    }
  }
  pc->path = saved;
  g_free (in.data);
  g_free (out.data);
}

/* The AUTO choice for this layer: from the plan, else measured now. */
static CfqpInt8CpuConvPath
planned_path (CpuConv *pc, const CfqpNode *node, const CfqpInt8Node *q, PlanEntry *how,
    gboolean *cached)
{
  g_autofree char *key = plan_key (&node->p.conv, pc->cfg->isa_name, pc->c4_refused,
      pc->wino_fits);
  PlanEntry *e;

  g_mutex_lock (&plan_lock);
  if (!plan)
    plan = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  e = g_hash_table_lookup (plan, key);
  if (e && ((e->path == CFQP_INT8_CPU_CONV_C4 && !have_c4 (pc)) ||
      (e->path == CFQP_INT8_CPU_CONV_WINO && !have_wino (&node->p.conv, pc))))
    e = NULL;   /* cannot happen (the key), but never a path this conv lacks */
  if (e)
    *how = *e;
  g_mutex_unlock (&plan_lock);
  *cached = e != NULL;
  if (e)
    return how->path;

  memset (how, 0, sizeof *how);
  how->n = candidates (&node->p.conv, pc, how->paths);
  if (how->n == 1)
    how->path = how->paths[0];
  else
    measure (pc, node, q, how);
  g_mutex_lock (&plan_lock);
  if (!g_hash_table_contains (plan, key)) {
    g_hash_table_insert (plan, g_steal_pointer (&key), g_memdup2 (how, sizeof *how));
    plan_measured++;
  }
  g_mutex_unlock (&plan_lock);
  return how->path;
}

/* --- packing ------------------------------------------------------------------ */

CfqpInt8CpuPacked *
cfqp_int8_cpu_conv_pack (const CfqpNode *node, const CfqpInt8Node *q)
{
  return cfqp_int8_cpu_conv_pack_kind (node, q, CFQP_INT8_CPU_GEMM_AUTO);
}

static void
grouped_free (gpointer data)
{
  CpuGroupedConv *gc = data;
  for (guint g = 0; g < gc->groups; g++)
    if (gc->sub[g])
      gc->sub[g]->free (gc->sub[g]);
  g_free (gc->sub);
  g_free (gc->head.kernel);
  g_free (gc->head.choice);
  g_free (gc);
}

/* Group g's parameters: offsets into the node's per-channel arrays. */
static void
group_params (const CpuGroupedConv *gc, const CfqpInt8Node *q, guint g, CfqpInt8Node *out)
{
  const CfqpConvParams *cp = &gc->node.p.conv;
  gsize oc0 = (gsize) g * gc->ocg, ic0 = (gsize) g * gc->icg;

  *out = *q;
  out->weight = q->weight + oc0 * gc->icg * cp->kernel_h * cp->kernel_w;
  out->bias = q->bias ? q->bias + oc0 : NULL;
  out->rq_pos = q->rq_pos ? q->rq_pos + oc0 : NULL;
  out->rq_neg = q->rq_neg ? q->rq_neg + oc0 : NULL;
  out->pad = q->pad ? q->pad + ic0 : NULL;
  out->packed = gc->sub ? gc->sub[g] : NULL;
}

static CfqpInt8CpuPacked *
pack_grouped (const CfqpNode *node, const CfqpInt8Node *q, CfqpInt8CpuGemmKind kind)
{
  const CfqpConvParams *cp = &node->p.conv;
  CpuGroupedConv *gc = g_new0 (CpuGroupedConv, 1);
  CfqpConvParams *sc = &gc->node.p.conv;
  guint n_ref = 0;

  gc->head.free = grouped_free;
  gc->groups = cp->groups;
  gc->icg = cp->in_channels / cp->groups;
  gc->ocg = cp->out_channels / cp->groups;
  gc->node = *node;
  gc->node.out_channels = gc->ocg;
  sc->groups = 1;
  sc->in_channels = gc->icg;
  sc->out_channels = gc->ocg;
  sc->weight = sc->bias = sc->pad_value = sc->weight_scale = NULL;   /* not ours to read */
  gc->sub = g_new0 (CfqpInt8CpuPacked *, gc->groups);
  for (guint g = 0; g < gc->groups; g++) {
    CfqpInt8Node gq;
    group_params (gc, q, g, &gq);
    gc->sub[g] = cfqp_int8_cpu_conv_pack_kind (&gc->node, &gq, kind);
    n_ref += g_str_equal (gc->sub[g]->choice, "ref");
  }
  gc->head.kernel = g_strdup_printf ("conv %ux%u g%u (%u groups of %u->%u, %u on ref): %s",
      cp->kernel_h, cp->kernel_w, gc->groups, gc->groups, gc->icg, gc->ocg, n_ref,
      gc->sub[0]->kernel);
  gc->head.choice = n_ref == gc->groups ? g_strdup ("ref") :
      g_strdup_printf ("g%u %s%s", gc->groups, gc->sub[0]->choice, n_ref ? " (some ref)" : "");
  g_debug ("node '%s': %s", node->name, gc->head.kernel);
  return &gc->head;
}

/* CFQP_INT8_C4_WEIGHTS_S16_PAIRS from the int8 form: per 4-byte group
 * the int16 pairs (w0, w2) and (w1, w3) as two int32 words.  Frees w8. */
static gint8 *
c4_weights_s16_pairs (gint8 *w8, gsize n_groups)
{
  guint32 *w16 = g_new (guint32, n_groups * 2);

  for (gsize i = 0; i < n_groups; i++) {
    const gint8 *g = w8 + 4 * i;
    w16[2 * i] = (guint16) (gint16) g[0] | (guint32) (guint16) (gint16) g[2] << 16;
    w16[2 * i + 1] = (guint16) (gint16) g[1] | (guint32) (guint16) (gint16) g[3] << 16;
  }
  g_free (w8);
  return (gint8 *) w16;
}

CfqpInt8CpuPacked *
cfqp_int8_cpu_conv_pack_kind (const CfqpNode *node, const CfqpInt8Node *q,
    CfqpInt8CpuGemmKind kind)
{
  const CfqpConvParams *cp = &node->p.conv;
  CpuConv *pc;

  if (runs_grouped (node))
    return pack_grouped (node, q, kind);
  pc = g_new0 (CpuConv, 1);
  const CfqpInt8CpuConfig *cfg = cfqp_int8_cpu_config ();
  const char *isa = cfg->isa_name;
  guint taps = cp->kernel_h * cp->kernel_w;
  g_autofree char *how = NULL;

  pc->head.free = cpu_conv_free;
  pc->cfg = cfg;
  pc->path = runs_cpu_kernels (node) ? dot_path (cp) : CFQP_INT8_CPU_CONV_REF;
  if (pc->path != CFQP_INT8_CPU_CONV_REF) {
    pc->ic = cp->in_channels;
    pc->k = (gsize) taps * pc->ic;
    pc->kp = (pc->k + K_ALIGN - 1) / K_ALIGN * K_ALIGN;
    pc->ocp = (cp->out_channels + OC_BLOCK - 1) / OC_BLOCK * OC_BLOCK;
    pc->icg = (pc->ic + 3) / 4;
    pc->weight = g_new0 (gint8, pc->ocp * pc->kp);
    if (have_c4 (pc))
      pc->weight_c4 = g_new0 (gint8, (gsize) pc->ocp * taps * pc->icg * 4);
    pc->bias = g_new0 (gint32, pc->ocp);
    pc->wino_fits = TRUE;
    for (guint oc = 0; oc < cp->out_channels; oc++) {
      gint64 sum = 0, abs_sum = 0, bias;
      for (guint c = 0; c < pc->ic; c++)
        for (guint t = 0; t < taps; t++) {
          gint8 w = q->weight[((gsize) oc * pc->ic + c) * taps + t];
          pc->weight[oc * pc->kp + (gsize) t * pc->ic + c] = w;
          if (pc->weight_c4)
            pc->weight_c4[((gsize) oc * taps + t) * pc->icg * 4 + c] = w;
          sum += w;
          abs_sum += ABS (w);
        }
      bias = q->bias[oc] - (gint64) q->z_in[0] * sum;
      /* every partial sum of the int32 GEMM must stay exact */
      if (ABS (bias) + 255 * abs_sum > G_MAXINT32) {
        pc->path = CFQP_INT8_CPU_CONV_REF;
        break;
      }
      pc->bias[oc] = (gint32) bias;
      pc->wino_fits = pc->wino_fits && abs_sum <= CFQP_INT8_WINO_MAX_ABS_SUM;
    }
  }
  /* U' only where this pack may take the Winograd path */
  if (pc->path != CFQP_INT8_CPU_CONV_REF && have_wino (cp, pc) &&
      (kind == CFQP_INT8_CPU_GEMM_AUTO || kind == CFQP_INT8_CPU_GEMM_WINO))
    pc->wino_u = cfqp_int8_wino_weights (q->weight, pc->ic, cp->out_channels);
  if (pc->path != CFQP_INT8_CPU_CONV_REF && pc->weight_c4 &&
      cfg->c4_weights == CFQP_INT8_C4_WEIGHTS_S16_PAIRS)
    pc->weight_c4 = c4_weights_s16_pairs (pc->weight_c4, (gsize) pc->ocp * taps * pc->icg);
  if (pc->path != CFQP_INT8_CPU_CONV_REF && pc->weight_c4 &&
      cfg->c4_weights == CFQP_INT8_C4_WEIGHTS_S8_MADDUBS) {
    gsize size, n_fixups;
    gint8 *wm = cfqp_int8_c4_weights_maddubs (pc->weight_c4, pc->ocp, (gsize) taps * pc->icg,
        &size, &n_fixups);
    g_free (pc->weight_c4);
    pc->weight_c4 = wm;
    /* the share of (channel, group) steps the int16 bound sent to a fix-up */
    pc->c4_note = g_strdup_printf (", %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
        " weight groups fixed up", n_fixups, (gsize) pc->ocp * taps * pc->icg);
  }
  if (pc->path != CFQP_INT8_CPU_CONV_REF && pc->weight_c4 && cfg->c4_pack) {
    /* the kernel's own order and bias (ARM: 128·Σw folded in); refused
     * (8x4c4__neon: a −128 weight): this conv runs without C4 */
    pc->bias_c4 = g_memdup2 (pc->bias, pc->ocp * sizeof (gint32));
    if (!cfg->c4_pack (pc->weight_c4, pc->ocp, (gsize) taps * pc->icg, pc->bias_c4)) {
      g_clear_pointer (&pc->weight_c4, g_free);
      g_clear_pointer (&pc->bias_c4, g_free);
      pc->c4_refused = TRUE;
    }
  }
  if (pc->path != CFQP_INT8_CPU_CONV_REF) {
    if (kind == CFQP_INT8_CPU_GEMM_AUTO) {
      PlanEntry e;
      gboolean cached;
      GString *ms = g_string_new (NULL);
      pc->path = planned_path (pc, node, q, &e, &cached);
      for (guint i = 0; i < e.n && e.n > 1; i++)
        g_string_append_printf (ms, "%s%s %.3f", i ? ", " : "", family_name (e.paths[i]),
            e.ms[i]);
      how = e.n > 1 ? g_strdup_printf ("%s: %s ms", cached ? "cached" : "measured", ms->str) :
          g_strdup ("only kernel");
      g_string_free (ms, TRUE);
    } else {
      pc->path = forced_path (cp, pc, kind);
      how = g_strdup ("forced");
    }
  }
  if (pc->path != CFQP_INT8_CPU_CONV_C4) {
    g_clear_pointer (&pc->weight_c4, g_free);
    g_clear_pointer (&pc->bias_c4, g_free);
  }
  if (pc->path != CFQP_INT8_CPU_CONV_WINO)
    g_clear_pointer (&pc->wino_u, g_free);
  if (pc->path == CFQP_INT8_CPU_CONV_REF) {
    g_clear_pointer (&pc->weight, g_free);
    g_clear_pointer (&pc->weight_c4, g_free);
    g_clear_pointer (&pc->bias, g_free);
    pc->head.kernel = g_strdup_printf ("%s %ux%u g%u: ref kernel",
        node->op == CFQP_OP_CONV ? "conv" : "conv-transpose", cp->kernel_h, cp->kernel_w,
        cp->groups);
    pc->head.choice = g_strdup ("ref");
  } else {
    const char *gemm_name = pc->path == CFQP_INT8_CPU_CONV_C4 ? cfg->conv_c4_name :
        pc->path == CFQP_INT8_CPU_CONV_WINO ? cfg->conv_wino_name :
        pc->path == CFQP_INT8_CPU_CONV_ORC ? "cfqp_orc_mac4_u8s8" : cfg->gemm_name;
    /* the short form: the name past the family's common prefix */
    const char *short_name = g_str_has_prefix (gemm_name, "cfqp_orc_") ? gemm_name + 9 :
        strstr (gemm_name, "u8s8_") ? strstr (gemm_name, "u8s8_") + 5 :
        strstr (gemm_name, "wino_") ? strstr (gemm_name, "wino_") + 5 : gemm_name;
    pc->head.kernel = g_strdup_printf ("conv %ux%u s%u d%u: %s gather + "
        "%s (k %" G_GSIZE_FORMAT "->%" G_GSIZE_FORMAT ", oc %u->%u) [%s, isa %s%s%s]",
        cp->kernel_h, cp->kernel_w, cp->stride_w, cp->dilation_w,
        cfqp_int8_cpu_conv_path_name (pc->path), gemm_name, pc->k,
        pc->path == CFQP_INT8_CPU_CONV_C4 ? (gsize) taps * pc->icg * 4 :
        pc->path == CFQP_INT8_CPU_CONV_WINO ? pc->k : pc->kp,
        cp->out_channels, pc->ocp, how, isa,
        pc->c4_refused ? ", c4 pack refused the weights" : "",
        pc->path == CFQP_INT8_CPU_CONV_C4 && pc->c4_note ? pc->c4_note : "");
    pc->head.choice = g_strdup_printf ("%s %s (%s)", family_name (pc->path), short_name, how);
  }
  g_debug ("node '%s': %s", node->name, pc->head.kernel);
  return &pc->head;
}

/* One input row in channels-inner order over the columns the conv reads,
 * pad bytes outside the image.  iy out of range: all pad. */
static void
gather_hwc_row (const CfqpU8View *in, gint iy, guint pl, guint cols, guint ic,
    const guint8 *pad, guint8 *dst)
{
  guint x0 = MIN (pl, cols), x1 = MIN (cols, pl + in->w);

  if (iy < 0 || iy >= (gint) in->h)
    x0 = x1 = cols;
  for (guint c = 0; c < ic; c++) {
    const guint8 *src = x1 > x0 ? cfqp_u8_row (in, c, iy) : NULL;
    guint8 p = pad[c];
    for (guint x = 0; x < x0; x++)
      dst[x * ic + c] = p;
    for (guint x = x0; x < x1; x++)
      dst[x * ic + c] = src[x - pl];
    for (guint x = MAX (x0, x1); x < cols; x++)
      dst[x * ic + c] = p;
  }
}

/* Planar input rows, pad bytes around, over the columns the conv reads. */
void
cfqp_int8_cpu_gather_planar_rows (const CfqpU8View *in, gint iy, guint pl, guint cols, guint ic,
    const guint8 *pad, guint8 *dst)
{
  guint x0 = MIN (pl, cols), x1 = MIN (cols, pl + in->w);

  if (iy < 0 || iy >= (gint) in->h)
    x0 = x1 = cols;
  for (guint c = 0; c < ic; c++, dst += cols) {
    memset (dst, pad[c], x0);
    if (x1 > x0)
      memcpy (dst + x0, cfqp_u8_row (in, c, iy) + (x0 - pl), x1 - x0);
    memset (dst + MAX (x0, x1), pad[c], cols - MAX (x0, x1));
  }
}

/* d[4x + j] = s[j][x·stride] */
static void
interleave4 (guint8 *d, const guint8 *const *s, guint stride, guint n)
{
#ifdef HAVE_ORC
  if (stride == 1 && ((guintptr) d & 3) == 0) {
    cfqp_orc_interleave4_u8 (d, s[0], s[1], s[2], s[3], n);
    return;
  }
#endif
  for (guint x = 0; x < n; x++) {
    d[4 * x] = s[0][x * stride];
    d[4 * x + 1] = s[1][x * stride];
    d[4 * x + 2] = s[2][x * stride];
    d[4 * x + 3] = s[3][x * stride];
  }
}

/* One input row for the C4 path: groups of 4 channels interleaved,
 * [icg][colsp][4], pad bytes outside the image (all pad when iy is out
 * of range), zeros for the channels past ic (their weights are zero). */
static void
gather_c4_row (const CfqpU8View *in, gint iy, guint pl, guint cols, guint colsp, guint ic,
    guint icg, const guint8 *pad, const guint8 *zeros, guint8 *dst)
{
  guint x0 = MIN (pl, cols), x1 = MIN (cols, pl + in->w);

  if (iy < 0 || iy >= (gint) in->h)
    x0 = x1 = cols;
  for (guint g = 0; g < icg; g++, dst += (gsize) colsp * 4) {
    guint8 p[4];
    const guint8 *src[4];
    for (guint j = 0; j < 4; j++) {
      guint c = 4 * g + j;
      p[j] = c < ic ? pad[c] : 0;
      src[j] = c < ic && x1 > x0 ? cfqp_u8_row (in, c, iy) + (x0 - pl) : zeros;
    }
    for (guint x = 0; x < x0; x++)
      memcpy (dst + 4 * x, p, 4);
    if (x1 > x0)
      interleave4 (dst + 4 * x0, src, 1, x1 - x0);
    for (guint x = MAX (x0, x1); x < colsp; x++)
      memcpy (dst + 4 * x, p, 4);
  }
}

/* Pixel-lanes path: a ring of input rows, each already in groups of 4
 * channels ([icg][x][4], built once per input row), and the 64×4 conv
 * kernel reads its k/4 groups straight from them through one pointer per
 * (tap, channel group): at stride 1 a tap is an offset into the row, so
 * nothing is copied per output row.  Strided convs copy each tap's 4-byte
 * groups into a [k/4][px][4] block first.  The kernel requantises in
 * registers and writes the output bytes. */
static void
conv_c4 (const CpuConv *pc, const CfqpNode *node, const CfqpInt8Node *q,
    const CfqpU8View *in, const CfqpU8View *output, guint y0, guint y1)
{
  const CfqpConvParams *cp = &node->p.conv;
  guint ow = output->w, kw = cp->kernel_w, sw = cp->stride_w, dw = cp->dilation_w;
  guint blk = pc->cfg->c4_pixels, npx = (ow + blk - 1) / blk * blk;
  guint taps = cp->kernel_h * kw, icg = pc->icg;
  guint pt, pl, pb, pr, cols, colsp, ring;
  gsize slot_bytes, col_bytes, ptr_bytes, tag_bytes, k4n = (gsize) taps * icg;
  guint8 *scratch, *rows, *col, *zeros;
  const guint8 **a;
  CfqpInt8ConvOut o = { q->rq_pos, q->rq_neg, q->z_out, q->lo, q->hi };
  gint *tags;

  cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  cols = (ow - 1) * sw + (kw - 1) * dw + 1;
  /* stride 1: the kernel reads whole pixel blocks from every tap's offset */
  colsp = sw == 1 ? npx + (kw - 1) * dw : cols;
  ring = (cp->kernel_h - 1) * cp->dilation_h + 1;
  slot_bytes = (gsize) colsp * icg * 4;
  col_bytes = sw == 1 ? 0 : (gsize) npx * k4n * 4;
  ptr_bytes = (k4n * sizeof (gpointer) + 63) / 64 * 64;
  tag_bytes = (ring * sizeof (gint) + 63) / 64 * 64;
  scratch = cfqp_int8_cpu_scratch (64 + ptr_bytes + tag_bytes + col_bytes +
      ring * slot_bytes + in->w);
  /* pointer and int arrays first, the column block and rows on cache lines */
  scratch = (guint8 *) (((guintptr) scratch + 63) & ~(guintptr) 63);
  a = (const guint8 **) scratch;
  tags = (gint *) (scratch + ptr_bytes);
  col = scratch + ptr_bytes + tag_bytes;
  rows = col + col_bytes;
  zeros = rows + ring * slot_bytes;
  memset (zeros, 0, in->w);
  for (guint r = 0; r < ring; r++)
    tags[r] = G_MININT;
  /* strided: pixels past the row meet the kernel too; cleared so they read no stale byte */
  if (sw > 1 && npx > ow)
    for (gsize k4 = 0; k4 < k4n; k4++)
      memset (col + (k4 * npx + ow) * 4, 0, (gsize) (npx - ow) * 4);

  for (guint oy = y0; oy < y1; oy++) {
    const guint8 *slot_of_ky[CFQP_MAX_KERNEL];
    for (guint ky = 0; ky < cp->kernel_h; ky++) {
      gint iy = (gint) (oy * cp->stride_h + ky * cp->dilation_h) - (gint) pt;
      guint slot = (guint) (((iy % (gint) ring) + (gint) ring) % (gint) ring);
      if (tags[slot] != iy) {
        gather_c4_row (in, iy, pl, cols, colsp, pc->ic, icg, q->pad, zeros,
            rows + slot * slot_bytes);
        tags[slot] = iy;
      }
      slot_of_ky[ky] = rows + slot * slot_bytes;
    }
    for (guint t = 0; t < taps; t++)
      for (guint g = 0; g < icg; g++) {
        const guint8 *src = slot_of_ky[t / kw] + ((gsize) g * colsp + (t % kw) * dw) * 4;
        gsize k4 = (gsize) t * icg + g;
        if (sw == 1) {
          a[k4] = src;
        } else {
          guint32 *d = (guint32 *) (col + k4 * npx * 4);
          for (guint x = 0; x < ow; x++)
            memcpy (d + x, src + (gsize) x * sw * 4, 4);
          a[k4] = (const guint8 *) d;
        }
      }
    pc->cfg->conv_c4 (a, k4n, ow, pc->weight_c4, output->c,
        pc->bias_c4 ? pc->bias_c4 : pc->bias, &o, cfqp_u8_row (output, 0, oy),
        output->plane_stride);
  }
}

/* ORC path: per output row, the same ring of padded planar rows as C4;
 * per output channel an int32 row of accumulators starts at the bias and
 * takes 4 taps per cfqp_orc_mac4_u8s8 call (strided convs first copy each
 * tap's samples into a contiguous row), then the requant pass. */
static void
conv_orc (const CpuConv *pc, const CfqpNode *node, const CfqpInt8Node *q,
    const CfqpU8View *in, const CfqpU8View *output, guint y0, guint y1)
{
#ifdef HAVE_ORC
  const CfqpConvParams *cp = &node->p.conv;
  guint ow = output->w, ic = pc->ic, kw = cp->kernel_w, sw = cp->stride_w, dw = cp->dilation_w;
  guint pt, pl, pb, pr, cols, ring;
  gsize slot_bytes, acc_bytes, ptr_bytes, tmp_bytes, off;
  guint8 *scratch, *rows, *zeros, *tmp;
  const guint8 **src;
  gint32 *acc;
  gint *tags;

  cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  cols = (ow - 1) * sw + (kw - 1) * dw + 1;
  ring = (cp->kernel_h - 1) * cp->dilation_h + 1;
  slot_bytes = (gsize) cols * ic;
  acc_bytes = ((gsize) ow * sizeof (gint32) + 63) / 64 * 64;
  ptr_bytes = (pc->kp * sizeof (gpointer) + 63) / 64 * 64;
  tmp_bytes = sw > 1 ? pc->k * ow : 0;
  scratch = cfqp_int8_cpu_scratch (acc_bytes + ptr_bytes + ring * sizeof (gint) + 64 +
      tmp_bytes + ring * slot_bytes + cols);
  acc = (gint32 *) scratch;
  src = (const guint8 **) (scratch + acc_bytes);
  off = acc_bytes + ptr_bytes;
  tags = (gint *) (scratch + off);
  off += (ring * sizeof (gint) + 63) / 64 * 64;
  tmp = scratch + off;
  rows = tmp + tmp_bytes;
  zeros = rows + ring * slot_bytes;
  memset (zeros, 0, cols);
  for (guint r = 0; r < ring; r++)
    tags[r] = G_MININT;

  for (guint oy = y0; oy < y1; oy++) {
    const guint8 *slot_of_ky[CFQP_MAX_KERNEL];
    for (guint ky = 0; ky < cp->kernel_h; ky++) {
      gint iy = (gint) (oy * cp->stride_h + ky * cp->dilation_h) - (gint) pt;
      guint slot = (guint) (((iy % (gint) ring) + (gint) ring) % (gint) ring);
      if (tags[slot] != iy) {
        cfqp_int8_cpu_gather_planar_rows (in, iy, pl, cols, ic, q->pad,
            rows + slot * slot_bytes);
        tags[slot] = iy;
      }
      slot_of_ky[ky] = rows + slot * slot_bytes;
    }
    for (gsize k = 0; k < pc->kp; k++) {
      gsize tap = k / ic;
      if (k >= pc->k) {
        src[k] = zeros;   /* zero weights there too */
        continue;
      }
      src[k] = slot_of_ky[tap / kw] + (k % ic) * cols + (tap % kw) * dw;
      if (sw > 1) {
        guint8 *d = tmp + k * ow;
        for (guint x = 0; x < ow; x++)
          d[x] = src[k][x * sw];
        src[k] = d;
      }
    }
    for (guint oc = 0; oc < output->c; oc++) {
      const gint8 *w = pc->weight + (gsize) oc * pc->kp;
      gint32 b = pc->bias[oc];
      for (guint x = 0; x < ow; x++)
        acc[x] = b;
      for (gsize k = 0; k < pc->k; k += 4) {
        const guint8 *const *s = src + k;
        cfqp_orc_mac4_u8s8 (acc, s[0], s[1], s[2], s[3], w[k], w[k + 1], w[k + 2], w[k + 3],
            ow);
      }
      pc->cfg->requant (acc, ow, q->rq_pos[oc], q->rq_neg[oc], q->z_out, q->lo, q->hi,
          cfqp_u8_row (output, oc, oy));
    }
  }
#else
  g_assert_not_reached ();
#endif
}

void
cfqp_int8_cpu_conv (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  const CpuConv *pc = q->packed;
  const CfqpConvParams *cp = &node->p.conv;
  const CfqpU8View *in = &inputs[0];
  guint ow = output->w, ic, kh, kw, sw, dw, pt, pl, pb, pr, cols, ring;
  gsize row_bytes, col_bytes, acc_bytes;
  guint8 *scratch, *rows, *col;
  gint32 *acc;
  gint *tags;

  if (pc && pc->head.free == grouped_free) {
    /* each group a 1-group conv over its channels of the input and output */
    const CpuGroupedConv *gc = q->packed;
    for (guint g = 0; g < gc->groups; g++) {
      CfqpInt8Node gq;
      CfqpU8View gin = *in, gout = *output;
      group_params (gc, q, g, &gq);
      gin.data += (gsize) g * gc->icg * in->plane_stride;
      gin.c = gc->icg;
      gout.data += (gsize) g * gc->ocg * output->plane_stride;
      gout.c = gc->ocg;
      cfqp_int8_cpu_conv (&gc->node, &gq, &gin, &gout, y0, y1);
    }
    return;
  }
  if (!pc || pc->path == CFQP_INT8_CPU_CONV_REF) {
    cfqp_int8_ref_backend.ops[node->op] (node, q, inputs, output, y0, y1);
    return;
  }
  if (pc->path == CFQP_INT8_CPU_CONV_C4) {
    conv_c4 (pc, node, q, in, output, y0, y1);
    return;
  }
  if (pc->path == CFQP_INT8_CPU_CONV_ORC) {
    conv_orc (pc, node, q, in, output, y0, y1);
    return;
  }
  if (pc->path == CFQP_INT8_CPU_CONV_WINO) {
    cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
    cfqp_int8_cpu_conv_wino (pc->cfg->conv_wino, pc->cfg->wino_tiles, pc->wino_u, pc->bias, q, in,
        output, pt, pl, y0, y1);
    return;
  }
  ic = pc->ic;
  kh = cp->kernel_h;
  kw = cp->kernel_w;
  sw = cp->stride_w;
  dw = cp->dilation_w;
  cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  cols = (ow - 1) * sw + (kw - 1) * dw + 1;
  /* rows alive at once: one output row's taps span (kh − 1)·dh + 1 input rows */
  ring = pc->path == CFQP_INT8_CPU_CONV_1X1 ? 0 : (kh - 1) * cp->dilation_h + 1;
  row_bytes = (gsize) cols * ic;
  col_bytes = (gsize) ow * pc->kp;
  acc_bytes = (gsize) pc->ocp * ow * sizeof (gint32);
  scratch = cfqp_int8_cpu_scratch (acc_bytes + col_bytes + ring * row_bytes +
      ring * sizeof (gint) + 64);
  acc = (gint32 *) scratch;
  tags = (gint *) (scratch + acc_bytes);
  col = scratch + acc_bytes + ring * sizeof (gint);
  rows = col + col_bytes;
  for (guint r = 0; r < ring; r++)
    tags[r] = G_MININT;
  /* the k tail meets zero weights; cleared so no stale byte is read */
  if (pc->kp > pc->k)
    for (guint x = 0; x < ow; x++)
      memset (col + x * pc->kp + pc->k, 0, pc->kp - pc->k);

  for (guint oy = y0; oy < y1; oy++) {
    if (pc->path == CFQP_INT8_CPU_CONV_1X1) {
      for (guint c = 0; c < ic; c++) {
        const guint8 *src = cfqp_u8_row (in, c, oy);
        for (guint x = 0; x < ow; x++)
          col[x * pc->kp + c] = src[x];
      }
    } else {
      for (guint ky = 0; ky < kh; ky++) {
        gint iy = (gint) (oy * cp->stride_h + ky * cp->dilation_h) - (gint) pt;
        guint slot = (guint) (((iy % (gint) ring) + (gint) ring) % (gint) ring);
        const guint8 *row = rows + slot * row_bytes;
        if (tags[slot] != iy) {
          gather_hwc_row (in, iy, pl, cols, ic, q->pad, rows + slot * row_bytes);
          tags[slot] = iy;
        }
        if (pc->path == CFQP_INT8_CPU_CONV_ROWS) {
          for (guint x = 0; x < ow; x++)
            memcpy (col + x * pc->kp + (gsize) ky * kw * ic, row + (gsize) x * sw * ic,
                (gsize) kw * ic);
        } else {
          for (guint x = 0; x < ow; x++)
            for (guint kx = 0; kx < kw; kx++)
              memcpy (col + x * pc->kp + ((gsize) ky * kw + kx) * ic,
                  row + ((gsize) x * sw + kx * dw) * ic, ic);
        }
      }
    }
    pc->cfg->gemm (col, pc->kp, ow, pc->weight, pc->ocp, pc->bias, acc, ow);
    for (guint oc = 0; oc < output->c; oc++)
      pc->cfg->requant (acc + (gsize) oc * ow, ow, q->rq_pos[oc], q->rq_neg[oc], q->z_out, q->lo,
          q->hi, cfqp_u8_row (output, oc, oy));
  }
}
