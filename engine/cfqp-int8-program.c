/* Building the INT8 program: float weights and per-tensor scales →
 * int8 weights, int32 biases, fixed-point multipliers and clamp bounds. */
#include "cfqp-int8.h"
#include "cfqp-op-table.h"

#include <math.h>
#include <string.h>

gboolean
cfqp_requant_from_real (double real, CfqpRequant *rq)
{
  int e;
  double f;
  gint64 m;

  if (!isfinite (real) || fabs (real) >= (double) (1 << 30))
    return FALSE;
  if (real == 0) {
    rq->m = 0;
    rq->shift = 31;
    return TRUE;
  }
  f = frexp (fabs (real), &e);          /* |real| = f·2^e, f in [0.5, 1) */
  m = llround (f * 2147483648.0);
  if (m == G_GINT64_CONSTANT (2147483648)) {
    m /= 2;
    e++;
  }
  if (31 - e < 1)
    return FALSE;   /* rounded up to 2^30: shift 0 is not a rounding shift */
  if (31 - e > 62) {
    /* tiny multiplier: keep the largest shift, lose low mantissa bits */
    m = llround (fabs (real) * 4611686018427387904.0);   /* 2^62 */
    e = 31 - 62;
  }
  rq->m = (gint32) (real < 0 ? -m : m);
  rq->shift = (guint8) (31 - e);
  return TRUE;
}

/* The real range a u8 tensor with these parameters represents. */
static void
qparams_range (const CfqpQParams *q, double *lo, double *hi)
{
  *lo = -(double) q->zero_point * q->scale;
  *hi = (255.0 - q->zero_point) * q->scale;
}

/* A concat input that feeds only the concat and whose parameters are not
 * set yet takes the concat's (its producer requantises onto them). */
static gboolean
concat_input_unifies (const CfqpGraph *g, const gboolean *fixed, guint v)
{
  return v != 0 && !fixed[v] && cfqp_graph_count_consumers (g, v) == 1;
}

static void
widen_concat (const CfqpGraph *g, const CfqpNode *n, const gboolean *fixed, CfqpQParams *out)
{
  double lo, hi, l, h, z;
  gboolean wider = FALSE;

  qparams_range (&out[n->output], &lo, &hi);
  for (guint k = 0; k < n->n_inputs; k++) {
    guint v = n->inputs[k];
    if (concat_input_unifies (g, fixed, v))
      continue;   /* unified below */
    qparams_range (&out[v], &l, &h);
    if (l < lo || h > hi) {
      lo = MIN (lo, l);
      hi = MAX (hi, h);
      wider = TRUE;
    }
  }
  if (!wider)
    return;
  /* as calib's cfqp_qparams_from_range: s = range/255, z = round(-lo/s) */
  out[n->output].scale = (float) ((hi - lo) / 255.0);
  z = rint (-lo / out[n->output].scale);
  out[n->output].zero_point = (gint32) CLAMP (z, 0.0, 255.0);
}

void
cfqp_int8_resolve_qparams (const CfqpGraph *g, const CfqpQParams *table, CfqpQParams *out,
    gboolean *derived)
{
  const CfqpQParams pixel = cfqp_int8_pixel_grid ();
  g_autofree gboolean *fixed = g_new0 (gboolean, g->n_values);

  memcpy (out, table, g->n_values * sizeof (CfqpQParams));
  out[0] = pixel;
  out[g->output] = pixel;
  fixed[0] = fixed[g->output] = TRUE;
  /* Backwards: a data move's sole-consumer input takes the output's
   * parameters, so the conv before a final depth-to-space requantises
   * straight onto the pixel grid; concat inputs are unified likewise. */
  for (gint i = (gint) g->n_nodes - 1; i >= 0; i--) {
    const CfqpNode *n = &g->nodes[i];
    guint in = n->inputs[0];

    /* Concat inputs that feed only the concat take its range (the union
     * of theirs): each producer requantises straight onto it, and the
     * concat itself becomes a copy.  Inputs that keep their own
     * parameters (the graph input, fixed or shared tensors) widen the
     * concat's range to what they can hold first: an anchor that
     * concatenates the input would otherwise be requantised to the range
     * the RD showed, clipping brighter frames. */
    if (n->op == CFQP_OP_CONCAT) {
      if (!fixed[n->output])
        widen_concat (g, n, fixed, out);
      for (guint k = 0; k < n->n_inputs; k++) {
        guint v = n->inputs[k];
        if (concat_input_unifies (g, fixed, v)) {
          out[v] = out[n->output];
          fixed[v] = TRUE;
        }
      }
      continue;
    }
    if (!cfqp_op_is_data_movement (n->op) || in == 0 || cfqp_graph_count_consumers (g, in) != 1 ||
        !fixed[n->output])
      continue;
    out[in] = out[n->output];
    fixed[in] = TRUE;
  }
  /* Forwards: every other data move shares its input's parameters. */
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *n = &g->nodes[i];
    if (!cfqp_op_is_data_movement (n->op) || fixed[n->output])
      continue;
    out[n->output] = out[n->inputs[0]];
    fixed[n->output] = TRUE;
  }
  if (derived)
    memcpy (derived, fixed, g->n_values * sizeof (gboolean));
}

void
cfqp_int8_find_derived (const CfqpGraph *g, gboolean *derived)
{
  g_autofree CfqpQParams *table = g_new0 (CfqpQParams, g->n_values);
  g_autofree CfqpQParams *resolved = g_new (CfqpQParams, g->n_values);

  cfqp_int8_resolve_qparams (g, table, resolved, derived);
}

void
cfqp_int8_node_clear (CfqpInt8Node *q)
{
  g_free (q->weight);
  g_free (q->bias);
  g_free (q->weight16);
  g_free (q->bias64);
  g_free (q->rq_pos);
  g_free (q->rq_neg);
  g_free (q->pad);
  g_free (q->pad16);
  g_free (q->rq_in);
  g_free (q->offset);
  g_free (q->z_inputs);
}

void
cfqp_int8_program_free (CfqpInt8Program *p)
{
  if (!p)
    return;
  for (guint i = 0; i < p->n_nodes; i++)
    cfqp_int8_node_clear (&p->nodes[i]);
  g_free (p->nodes);
  g_free (p->qparams);
  g_free (p->pad_misfit);
  g_free (p);
}

/* x on the grid qp, saturated to 0..levels (255, or 65535 in a 16-bit program). */
static gint32
quantize (double x, const CfqpQParams *qp, guint levels)
{
  double q = round (x / qp->scale) + qp->zero_point;
  return (gint32) CLAMP (q, 0, levels);
}

/* Clamp bounds and negative-side slope of a fused activation. */
static void
activation_bounds (const CfqpActivation *act, const CfqpQParams *out, guint levels,
    CfqpInt8Node *q)
{
  q->z_out = out->zero_point;
  q->lo = 0;
  q->hi = levels;
  if (act->kind == CFQP_ACT_RELU) {
    q->lo = out->zero_point;
  } else if (act->kind == CFQP_ACT_CLIP) {
    if (isfinite (act->lo))
      q->lo = quantize (act->lo, out, levels);
    if (isfinite (act->hi))
      q->hi = quantize (act->hi, out, levels);
  }
  /* ONNX Clip: min(max(x, lo), hi), so everything is hi when lo > hi.
   * With lo ≤ hi every backend's clamp order gives the same byte. */
  if (q->lo > q->hi)
    q->lo = q->hi;
}

static double
negative_slope (const CfqpActivation *act, guint c)
{
  if (act->kind == CFQP_ACT_LEAKY_RELU)
    return act->alpha;
  if (act->kind == CFQP_ACT_PRELU)
    return act->slopes[act->n_slopes == 1 ? 0 : c];
  return 1.0;
}

#define FAIL(msg) G_STMT_START { \
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED, "node '%s' (%s): %s", \
        node->name, cfqp_op_type_to_string (node->op), msg); \
    return FALSE; } G_STMT_END

/* The largest |acc| an 8-bit conv can reach: |bias| + Σ|w|·max|q − z_in|
 * over one output's taps (a pad byte is a u8 too), bounding a transposed
 * conv's phases by all its taps. */
static guint64
conv_acc_bound (const CfqpNode *node, const CfqpInt8Node *q, guint oc, gint32 z_in)
{
  const CfqpConvParams *cp = &node->p.conv;
  guint icg = cp->in_channels / cp->groups, ocg = cp->out_channels / cp->groups;
  gsize k = (gsize) cp->kernel_h * cp->kernel_w;
  guint64 wsum = 0;

  if (node->op == CFQP_OP_CONV) {
    const gint8 *w = q->weight + (gsize) oc * icg * k;
    for (gsize t = 0; t < icg * k; t++)
      wsum += ABS (w[t]);
  } else {
    guint g = oc / ocg, o = oc % ocg;
    for (guint j = 0; j < icg; j++) {
      const gint8 *w = q->weight + ((gsize) (g * icg + j) * ocg + o) * k;
      for (gsize t = 0; t < k; t++)
        wsum += ABS (w[t]);
    }
  }
  return (guint64) ABS ((gint64) q->bias[oc]) + wsum * (guint64) MAX (z_in, 255 - z_in);
}

static gboolean
requant_fits (guint64 bound, CfqpRequant rq)
{
  guint64 m = (guint64) ABS ((gint64) rq.m);
  guint64 room = (guint64) G_MAXINT64 - ((guint64) 1 << (rq.shift - 1));

  return m == 0 || bound <= room / m;
}

/* Refuses a layer whose worst-case accumulator times its multiplier (plus
 * the rounding half) does not fit int64: requantisation would overflow. */
static gboolean
conv_requant_fits (const CfqpNode *node, const CfqpInt8Node *q, gint32 z_in, GError **error)
{
  for (guint oc = 0; oc < node->p.conv.out_channels; oc++) {
    guint64 bound = conv_acc_bound (node, q, oc, z_in);
    if (!requant_fits (bound, q->rq_pos[oc]) || !requant_fits (bound, q->rq_neg[oc])) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "node '%s' (%s): output channel %u can accumulate up to %" G_GUINT64_FORMAT
          ", too much to requantise exactly in 64 bits (too many taps of large weights)",
          node->name, cfqp_op_type_to_string (node->op), oc, bound);
      return FALSE;
    }
  }
  return TRUE;
}

/* taps: the calibration's for this conv (checked by cfqp_int8_check_conv_taps),
 * or NULL.  levels 65535: a 16-bit program's conv (int16 taps, int64 bias). */
static gboolean
build_conv (const CfqpNode *node, const CfqpQParams *qp, guint levels, const gint8 *taps,
            CfqpInt8Node *q, char **pad_misfit, GError **error)
{
  const CfqpConvParams *cp = &node->p.conv;
  gboolean transpose = node->op == CFQP_OP_CONV_TRANSPOSE, wide = levels > 255;
  const CfqpQParams *in = &qp[node->inputs[0]], *out = &qp[node->output];
  guint oc_n = cp->out_channels, ic_n = cp->in_channels;
  gsize n_w = (gsize) oc_n * (ic_n / cp->groups) * cp->kernel_h * cp->kernel_w;
  g_autofree double *wscale = g_new0 (double, oc_n);
  double max_bias = wide ? CFQP_INT16_MAX_BIAS : CFQP_INT8_MAX_BIAS;

  q->rq_pos = g_new (CfqpRequant, oc_n);
  q->rq_neg = g_new (CfqpRequant, oc_n);
  /* Finite at import, but folded constants (Mul, Add into the conv) can
   * overflow to inf and NaN: not quantisable, and casting them is UB. */
  for (guint oc = 0; cp->bias && oc < oc_n; oc++)
    if (!isfinite (cp->bias[oc]))
      FAIL ("biases are not finite");
  if (wide) {
    cfqp_int16_conv_weight_scales (cp, transpose, wscale);
    q->weight16 = g_new (gint16, n_w);
    q->bias64 = g_new0 (gint64, oc_n);
    if (!cfqp_int16_quantize_conv_weights (cp, transpose, wscale, q->weight16))
      FAIL ("weights are not finite");
  } else {
    cfqp_int8_conv_weight_scales (cp, transpose, wscale);
    q->weight = g_new (gint8, n_w);
    q->bias = g_new0 (gint32, oc_n);
    if (taps)
      memcpy (q->weight, taps, n_w);
    else if (!cfqp_int8_quantize_conv_weights (cp, transpose, wscale, q->weight))
      FAIL ("weights are not finite");
  }
  activation_bounds (&node->act, out, levels, q);
  for (guint oc = 0; oc < oc_n; oc++) {
    double acc_scale = (double) in->scale * wscale[oc];
    double real = acc_scale / out->scale;
    if (cp->bias) {
      double b = round (cp->bias[oc] / acc_scale);
      if (!(fabs (b) <= max_bias)) {
        g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
            "node '%s' (%s): the bias of output channel %u is %.3g accumulator steps, "
            "beyond the ±2^%d an %s bias holds (its input or weight scale is too small)",
            node->name, cfqp_op_type_to_string (node->op), oc, b, wide ? 46 : 30,
            wide ? "INT16" : "INT8");
        return FALSE;
      }
      if (wide)
        q->bias64[oc] = (gint64) b;
      else
        q->bias[oc] = (gint32) b;
    }
    if (!cfqp_requant_from_real (real, &q->rq_pos[oc]) ||
        !cfqp_requant_from_real (real * negative_slope (&node->act, oc), &q->rq_neg[oc]))
      FAIL ("requantisation multiplier out of range");
  }
  /* a 16-bit program requantises in 128 bits: nothing to overflow */
  if (!wide && !conv_requant_fits (node, q, in->zero_point, error))
    return FALSE;
  if (wide)
    q->pad16 = g_new (guint16, ic_n);
  else
    q->pad = g_new (guint8, ic_n);
  for (guint ic = 0; ic < ic_n; ic++) {
    /* as quantize, keeping the unsaturated value to tell a misfit */
    double qv = cp->pad_value ? round (cp->pad_value[ic] / in->scale) + in->zero_point
                              : in->zero_point;

    if (wide)
      q->pad16[ic] = (guint16) CLAMP (qv, 0, 65535);
    else
      q->pad[ic] = (guint8) CLAMP (qv, 0, 255);
    if (!(qv >= 0 && qv <= levels) && !*pad_misfit)
      *pad_misfit = g_strdup (node->name);
  }
  q->z_in[0] = in->zero_point;
  return TRUE;
}

gboolean
cfqp_int8_program_pads_fit (const CfqpInt8Program *program, GError **error)
{
  if (!program->pad_misfit)
    return TRUE;
  g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
      "node '%s' (Conv): its pad value (from a folded input normalisation) is outside its "
      "input's INT8 range", program->pad_misfit);
  return FALSE;
}

/* Binary: t = Σ requant(q_k − z_k, M_k·2^20) + offset; q = z + round(t / 2^20). */
static gboolean
build_binary (const CfqpNode *node, const CfqpQParams *qp, guint levels, CfqpInt8Node *q,
    GError **error)
{
  const CfqpBinaryParams *bp = &node->p.binary;
  const CfqpQParams *out = &qp[node->output];
  guint c_n = node->out_channels;
  double unit = (double) (1 << CFQP_INT8_FRAC_BITS) / out->scale;

  activation_bounds (&node->act, out, levels, q);
  if (node->act.kind == CFQP_ACT_LEAKY_RELU || node->act.kind == CFQP_ACT_PRELU)
    FAIL ("INT8 supports only ReLU/Clip fused into add/sub/mul");
  q->rq_in = g_new0 (CfqpRequant, 2 * c_n);
  q->offset = g_new0 (gint64, c_n);
  for (guint k = 0; k < node->n_inputs; k++)
    q->z_in[k] = qp[node->inputs[k]].zero_point;

  for (guint c = 0; c < c_n; c++) {
    double sa = qp[node->inputs[0]].scale, m0, m1 = 0, off = 0;
    if (bp->constant) {
      double k = bp->constant[bp->n_constant == 1 ? 0 : c];
      switch (bp->kind) {
        case CFQP_BINARY_ADD: m0 = sa; off = k; break;
        case CFQP_BINARY_SUB: m0 = bp->constant_first ? -sa : sa;
                              off = bp->constant_first ? k : -k; break;
        case CFQP_BINARY_MUL: m0 = sa * k; break;
        default:
          if (bp->constant_first)
            FAIL ("INT8 cannot divide a constant by an activation");
          m0 = sa / k;
          break;
      }
    } else {
      double sb = qp[node->inputs[1]].scale;
      switch (bp->kind) {
        case CFQP_BINARY_ADD: m0 = sa; m1 = sb; break;
        case CFQP_BINARY_SUB: m0 = sa; m1 = -sb; break;
        case CFQP_BINARY_MUL: m0 = sa * sb; break;
        default: FAIL ("INT8 cannot divide by an activation");
      }
    }
    if (!cfqp_requant_from_real (m0 * unit, &q->rq_in[c]) ||
        !cfqp_requant_from_real (m1 * unit, &q->rq_in[c_n + c]))
      FAIL ("rescale multiplier out of range");
    if (!(fabs (off * unit) <= CFQP_INT8_MAX_OFFSET))
      FAIL ("its constant is too large for the output scale");
    q->offset[c] = llround (off * unit);
  }
  return TRUE;
}

static gboolean
build_rescale (const CfqpNode *node, const CfqpQParams *qp, guint levels, CfqpInt8Node *q,
    GError **error)
{
  guint c_n = node->out_channels;
  const CfqpQParams *out = &qp[node->output];

  activation_bounds (&node->act, out, levels, q);
  q->rq_in = g_new0 (CfqpRequant, node->n_inputs * 2 * c_n);
  q->z_inputs = g_new0 (gint32, node->n_inputs);
  for (guint k = 0; k < node->n_inputs; k++) {
    double real = (double) qp[node->inputs[k]].scale / out->scale;
    q->z_inputs[k] = qp[node->inputs[k]].zero_point;
    for (guint c = 0; c < c_n; c++)
      /* [k·2C + c]: positive side, [k·2C + C + c]: negative side */
      if (!cfqp_requant_from_real (real, &q->rq_in[k * 2 * c_n + c]) ||
          !cfqp_requant_from_real (real * negative_slope (&node->act, c),
              &q->rq_in[k * 2 * c_n + c_n + c]))
        FAIL ("rescale multiplier out of range");
  }
  q->z_in[0] = q->z_inputs[0];
  return TRUE;
}

gboolean
cfqp_int8_check_conv_taps (const CfqpGraph *graph, const CfqpConvTaps *taps, guint n_taps,
                           const gint8 **by_output, GError **error)
{
  g_autofree const gint8 **own = by_output ? NULL : g_new0 (const gint8 *, graph->n_values);

  if (own)
    by_output = own;
  for (guint t = 0; t < n_taps; t++) {
    guint v = taps[t].output;
    const CfqpNode *node;
    const CfqpConvParams *cp;
    gsize n_w;

    if (v >= graph->n_values || graph->values[v].producer < 0 ||
        graph->nodes[graph->values[v].producer].op != CFQP_OP_CONV) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
          "conv taps for tensor %u ('%s'), which no Conv computes", v,
          v < graph->n_values ? graph->values[v].name : "none");
      return FALSE;
    }
    node = &graph->nodes[graph->values[v].producer];
    cp = &node->p.conv;
    n_w = (gsize) cp->out_channels * (cp->in_channels / cp->groups) * cp->kernel_h *
        cp->kernel_w;
    if (cp->weight_scale || by_output[v] || taps[t].n_taps != n_w || !taps[t].taps) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
          "node '%s' (Conv): %s", node->name, cp->weight_scale ?
          "taps given for the integer weights of a QDQ model" : by_output[v] ?
          "taps given twice" : "taps given are not its weight count");
      return FALSE;
    }
    for (gsize e = 0; e < n_w; e++)
      if (taps[t].taps[e] < -127) {
        g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
            "node '%s' (Conv): tap %" G_GSIZE_FORMAT " is %d, outside −127..127",
            node->name, e, taps[t].taps[e]);
        return FALSE;
      }
    by_output[v] = taps[t].taps;
  }
  return TRUE;
}

CfqpInt8Program *
cfqp_int8_program_new (const CfqpGraph *graph, const CfqpQParams *table, GError **error)
{
  CfqpQuantisation q = { table, NULL, 0, NULL, 0 };

  return cfqp_int8_program_new_full (graph, &q, error);
}

static CfqpInt8Program *
program_build (const CfqpGraph *graph, const CfqpQuantisation *quant, guint bits,
    GError **error)
{
  CfqpInt8Program *p;
  const CfqpQParams *table = quant->qparams;
  guint levels = (1u << bits) - 1;
  g_autofree const gint8 **by_output = g_new0 (const gint8 *, graph->n_values);

  if (!cfqp_int8_check_conv_taps (graph, quant->conv_taps, quant->n_conv_taps, by_output, error))
    return NULL;
  p = g_new0 (CfqpInt8Program, 1);

  p->bits = bits;
  p->n_tensors = graph->n_values;
  p->qparams = g_new (CfqpQParams, graph->n_values);
  for (guint v = 0; v < graph->n_values; v++)
    if (!isfinite (table[v].scale) || table[v].scale <= 0 || table[v].zero_point < 0 ||
        table[v].zero_point > 255) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
          "tensor '%s': invalid quantisation (scale %g, zero point %d)",
          graph->values[v].name, table[v].scale, table[v].zero_point);
      cfqp_int8_program_free (p);
      return NULL;
    }
  cfqp_int8_resolve_qparams (graph, table, p->qparams, NULL);
  /* resolved on 8 bits (concat ranges, pixel grid), then spread */
  for (guint v = 0; bits == 16 && v < graph->n_values; v++)
    p->qparams[v] = cfqp_int16_grid (p->qparams[v]);
  p->n_nodes = graph->n_nodes;
  p->nodes = g_new0 (CfqpInt8Node, graph->n_nodes);
  for (guint i = 0; i < graph->n_nodes; i++) {
    const CfqpNode *node = &graph->nodes[i];
    CfqpInt8Node *q = &p->nodes[i];
    gboolean ok = TRUE;

    /* what the op's entry holds is its row of the op table's int8 */
    switch (cfqp_op_info (node->op)->int8) {
      case CFQP_OP_INT8_CONV:
        ok = build_conv (node, p->qparams, levels, node->op == CFQP_OP_CONV && bits == 8 ?
            by_output[node->output] : NULL, q, &p->pad_misfit, error);
        break;
      case CFQP_OP_INT8_BINARY:
        ok = build_binary (node, p->qparams, levels, q, error);
        break;
      case CFQP_OP_INT8_RESCALE:
        ok = build_rescale (node, p->qparams, levels, q, error);
        break;
      case CFQP_OP_INT8_MOVE:
        activation_bounds (&node->act, &p->qparams[node->output], levels, q);
        break;
    }
    if (!ok) {
      cfqp_int8_program_free (p);
      return NULL;
    }
  }
  return p;
}

CfqpInt8Program *
cfqp_int8_program_new_full (const CfqpGraph *graph, const CfqpQuantisation *q, GError **error)
{
  return cfqp_int8_program_new_bits (graph, q, 8, error);
}

CfqpInt8Program *
cfqp_int8_program_new_bits (const CfqpGraph *graph, const CfqpQuantisation *q, guint bits,
    GError **error)
{
  g_autoptr (CfqpGraph) folded = NULL;

  g_return_val_if_fail (q != NULL && q->qparams != NULL, NULL);
  g_return_val_if_fail (bits == 8 || bits == 16, NULL);
  if (q->n_channel_steps == 0)
    return program_build (graph, q, bits, error);
  /* the steps live in the weights, biases and multipliers of the convs
   * around each tensor: built from a graph with them folded in */
  if (!(folded = cfqp_int8_graph_with_channel_steps (graph, q->channel_steps,
          q->n_channel_steps, error)))
    return NULL;
  return program_build (folded, q, bits, error);
}
