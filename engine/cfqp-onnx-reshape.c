/* ONNX import, reshape patterns: Reshape, Transpose, Resize/Upsample,
 * Tile, Expand and Unsqueeze/Squeeze of activations.  Exporters write
 * pixel shuffles as Reshape(6-D) → Transpose → Reshape(4-D) and
 * repeat_interleave as Unsqueeze → Expand → Reshape; the views are
 * followed symbol by symbol until they close into one graph node.
 */
#include "cfqp-onnx-private.h"

#include <math.h>
#include <string.h>

/* Is dimension d of a shape "axis `axis` of value v, unchanged"? 0 (copy)
 * and -1 (infer) count too: the channel dims pin everything else. */
static gboolean
dim_is_same (const CfqpConst *shape, guint d, guint value, guint axis)
{
  const CfqpSymInt *e;
  if (!shape->is_int || d >= shape->n)
    return FALSE;
  e = &shape->i[d];
  if (e->sym == (gint32) value && e->axis == axis && e->num == e->den)
    return TRUE;
  return e->sym == CFQP_SYM_KNOWN && (e->v == 0 || e->v == -1);
}

/* Dimension d of an integer shape when known; -1 for a symbolic one or
 * for one the shape does not have. */
static gint64
known_dim (const CfqpConst *shape, guint d)
{
  if (!shape->is_int || d >= shape->n)
    return -1;
  return shape->i[d].sym == CFQP_SYM_KNOWN ? shape->i[d].v : -1;
}

static gboolean
perm_is (const Sym *s, const gint64 *perm, guint n)
{
  return s->nperm == n && memcmp (s->perm, perm, n * sizeof (gint64)) == 0;
}

static gboolean
add_shuffle (Importer *imp, CfqpOpType op, CfqpD2SMode mode, guint value, gint64 block,
    const CfqpConst *out_shape, GError **error)
{
  guint c = cfqp_onnx_act_channels (imp, value), out_c;
  CfqpNode *n;

  if (block < 1 || block > 2 * CFQP_MAX_SCALE ||
      (op == CFQP_OP_DEPTH_TO_SPACE && c % (block * block))) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "pixel shuffle block %" G_GINT64_FORMAT
        " does not fit %u channels", block, c);
    return FALSE;
  }
  out_c = op == CFQP_OP_DEPTH_TO_SPACE ? c / (guint) (block * block) : c * (guint) (block * block);
  if (!cfqp_onnx_check_channels (imp, out_c, error))
    return FALSE;
  if (out_shape->n != 4 || (known_dim (out_shape, 1) > 0 && known_dim (out_shape, 1) != out_c)) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
        "pixel shuffle pattern ends in a shape that is not [1,%u,H,W]", out_c);
    return FALSE;
  }
  n = cfqp_onnx_add_node (imp, op, &value, 1, out_c);
  n->p.shuffle.block = (guint) block;
  n->p.shuffle.mode = mode;
  return TRUE;
}

/* Reshape(6-D) → Transpose → Reshape(4-D), as exporters write pixel
 * (un)shuffle when DepthToSpace/SpaceToDepth is unavailable or unused. */
static gboolean
match_shuffle (Importer *imp, const Sym *t, const CfqpConst *out_shape, GError **error)
{
  static const gint64 d2s_crd[] = { 0, 1, 4, 2, 5, 3 }, d2s_dcr[] = { 0, 3, 4, 1, 5, 2 };
  static const gint64 s2d_crd[] = { 0, 1, 3, 5, 2, 4 }, s2d_dcr[] = { 0, 3, 5, 1, 2, 4 };
  const CfqpConst *r = t->konst;

  if (r->n == 6 && perm_is (t, d2s_crd, 6) && known_dim (r, 2) > 0 && known_dim (r, 2) == known_dim (r, 3))
    return add_shuffle (imp, CFQP_OP_DEPTH_TO_SPACE, CFQP_D2S_CRD, t->value, known_dim (r, 2),
        out_shape, error);
  if (r->n == 6 && perm_is (t, d2s_dcr, 6) && known_dim (r, 1) > 0 && known_dim (r, 1) == known_dim (r, 2))
    return add_shuffle (imp, CFQP_OP_DEPTH_TO_SPACE, CFQP_D2S_DCR, t->value, known_dim (r, 1),
        out_shape, error);
  if (r->n == 6 && perm_is (t, s2d_crd, 6) && known_dim (r, 3) > 0 && known_dim (r, 3) == known_dim (r, 5))
    return add_shuffle (imp, CFQP_OP_SPACE_TO_DEPTH, CFQP_D2S_CRD, t->value, known_dim (r, 3),
        out_shape, error);
  if (r->n == 6 && perm_is (t, s2d_dcr, 6) && known_dim (r, 3) > 0 && known_dim (r, 3) == known_dim (r, 5))
    return add_shuffle (imp, CFQP_OP_SPACE_TO_DEPTH, CFQP_D2S_DCR, t->value, known_dim (r, 3),
        out_shape, error);
  cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
      "Reshape→Transpose→Reshape is not a recognised pixel (un)shuffle pattern");
  return FALSE;
}

static gboolean
is_identity_shape (Importer *imp, const CfqpConst *shape, guint value)
{
  return shape->n == 4 && (known_dim (shape, 0) == 1 || known_dim (shape, 0) == 0) &&
      (known_dim (shape, 1) == (gint64) cfqp_onnx_act_channels (imp, value) || known_dim (shape, 1) == 0) &&
      dim_is_same (shape, 2, value, 2) && dim_is_same (shape, 3, value, 3);
}

static gboolean
add_tile (Importer *imp, guint value, guint repeats, gboolean interleave, GError **error)
{
  CfqpNode *n;
  if (!cfqp_onnx_check_channels (imp, (gint64) cfqp_onnx_act_channels (imp, value) * repeats, error))
    return FALSE;
  n = cfqp_onnx_add_node (imp, CFQP_OP_TILE_CHANNELS, &value, 1,
      cfqp_onnx_act_channels (imp, value) * repeats);
  n->p.tile.repeats = repeats;
  n->p.tile.interleave = interleave;
  return TRUE;
}

gboolean
cfqp_onnx_op_reshape (Importer *imp, GError **error)
{
  const Sym *s;
  const CfqpConst *shape;
  Sym *r;

  if (!cfqp_onnx_require_input (imp, 0, &s, error) || !(shape = cfqp_onnx_require_shape (imp, 1, error)))
    return FALSE;
  switch (s->kind) {
    case SYM_QUANTIZED:
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "input '%s' is quantised: reshape its DequantizeLinear output", imp->node->input[0]);
      return FALSE;
    case SYM_CONST: {
      gint64 dims[CFQP_CONST_MAX_DIMS];
      CfqpConst *c;
      if (!cfqp_const_ints (shape, dims, CFQP_CONST_MAX_DIMS) ||
          !(c = cfqp_onnx_fold_reshape (s->konst, dims, (guint) shape->n))) {
        cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "cannot reshape constant");
        return FALSE;
      }
      cfqp_onnx_define_const (imp, c);
      return TRUE;
    }
    case SYM_TRANSPOSED:
      /* After the transpose the element order is fixed: reshapes only
       * regroup dimensions, so the pattern ends wherever the view is 4-D. */
      if (shape->n == 4)
        return match_shuffle (imp, s, shape, error);
      r = g_memdup2 (s, sizeof (Sym));
      r->konst = cfqp_const_copy (s->konst);
      r->view_ndim = (guint) shape->n;
      cfqp_onnx_define (imp, r);
      return TRUE;
    case SYM_RESHAPED:
      if (s->expanded) {
        /* [1,C,r,H,W] → [1,C·r,H,W]: repeat_interleave along channels */
        guint c = cfqp_onnx_act_channels (imp, s->value);
        gint64 rep = known_dim (s->konst, 2);
        if (shape->n == 4 && (known_dim (shape, 1) == (gint64) c * rep || known_dim (shape, 1) == -1))
          return add_tile (imp, s->value, (guint) rep, TRUE, error);
        cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "unrecognised expand/reshape pattern");
        return FALSE;
      }
      if (is_identity_shape (imp, shape, s->value))
        break;
      /* a reshape of a reshape keeps only the last shape, its zeros
       * copying the previous view's dimensions */
      r = g_new0 (Sym, 1);
      r->kind = SYM_RESHAPED;
      r->value = s->value;
      r->konst = cfqp_const_copy (shape);
      for (guint d = 0; d < shape->n && d < s->konst->n; d++)
        if (known_dim (shape, d) == 0)
          r->konst->i[d] = s->konst->i[d];
      cfqp_onnx_define (imp, r);
      return TRUE;
    case SYM_ACT:
      if (is_identity_shape (imp, shape, s->value))
        break;
      r = g_new0 (Sym, 1);
      r->kind = SYM_RESHAPED;
      r->value = s->value;
      r->konst = cfqp_const_copy (shape);
      cfqp_onnx_define (imp, r);
      return TRUE;
  }
  cfqp_onnx_define_act (imp, s->value);
  return TRUE;
}

gboolean
cfqp_onnx_op_transpose (Importer *imp, GError **error)
{
  const Sym *s;
  gint64 perm[CFQP_CONST_MAX_DIMS] = { 0 };
  gint n;
  Sym *r;

  if (!cfqp_onnx_require_input (imp, 0, &s, error))
    return FALSE;
  n = cfqp_onnx_attr_ints (imp->node, "perm", perm, CFQP_CONST_MAX_DIMS);
  if (s->kind == SYM_CONST) {
    CfqpConst *c;
    if (n == -1) {
      n = s->konst->ndim;
      for (gint d = 0; d < n; d++)
        perm[d] = n - 1 - d;
    }
    if (n != (gint) s->konst->ndim || !(c = cfqp_onnx_fold_transpose (s->konst, perm))) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "bad permutation");
      return FALSE;
    }
    cfqp_onnx_define_const (imp, c);
    return TRUE;
  }
  if (s->kind == SYM_ACT && n == 4 && perm[0] == 0 && perm[1] == 1 && perm[2] == 2 && perm[3] == 3) {
    cfqp_onnx_define_act (imp, s->value);
    return TRUE;
  }
  if (s->kind != SYM_RESHAPED || s->expanded || n != (gint) s->konst->n) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "transposes are supported only inside pixel (un)shuffle patterns");
    return FALSE;
  }
  r = g_new0 (Sym, 1);
  r->kind = SYM_TRANSPOSED;
  r->value = s->value;
  r->konst = cfqp_const_copy (s->konst);
  r->nperm = (guint) n;
  r->view_ndim = (guint) n;
  memcpy (r->perm, perm, n * sizeof (gint64));
  cfqp_onnx_define (imp, r);
  return TRUE;
}

/* Resize / Upsample, nearest, integer scales.  Every coordinate mode that
 * maps output y to input floor(y/s) for integer s is accepted. */
gboolean
cfqp_onnx_op_resize (Importer *imp, GError **error)
{
  const Onnx__NodeProto *node = imp->node;
  gboolean upsample = !strcmp (node->op_type, "Upsample");
  g_autofree char *mode = cfqp_onnx_attr_string (node, "mode", "nearest");
  g_autofree char *ctm = cfqp_onnx_attr_string (node, "coordinate_transformation_mode",
      upsample || imp->opset < 11 ? "asymmetric" : "half_pixel");
  g_autofree char *nm = cfqp_onnx_attr_string (node, "nearest_mode",
      upsample || imp->opset < 11 ? "floor" : "round_prefer_floor");
  double scales[4] = { 1, 1, 0, 0 };
  const Sym *ss = NULL;
  guint x;
  CfqpNode *n;

  if (!cfqp_onnx_require_act (imp, 0, &x, error))
    return FALSE;
  if (strcmp (mode, "nearest") != 0) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "mode '%s' (only nearest)", mode);
    return FALSE;
  }
  if (!((!strcmp (ctm, "asymmetric") && !strcmp (nm, "floor")) ||
        ((!strcmp (ctm, "half_pixel") || !strcmp (ctm, "pytorch_half_pixel")) &&
         g_str_has_prefix (nm, "round_prefer_")))) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "coordinate mode '%s' with nearest mode '%s'", ctm, nm);
    return FALSE;
  }
  if (upsample && imp->opset < 9) {
    const Onnx__AttributeProto *a = cfqp_onnx_find_attr (node, "scales");
    if (a && a->n_floats == 4)
      for (guint k = 0; k < 4; k++)
        scales[k] = a->floats[k];
  } else {
    guint scales_input = (upsample || imp->opset < 11) ? 1 : 2;
    const Sym *sz = imp->opset >= 11 && !upsample ? cfqp_onnx_input_sym (imp, 3) : NULL;
    ss = cfqp_onnx_input_sym (imp, scales_input);
    if (ss && ss->kind == SYM_CONST && ss->konst->n == 4) {
      for (guint k = 0; k < 4; k++)
        cfqp_const_get_known (ss->konst, k, &scales[k]);
    } else if (sz && sz->kind == SYM_CONST && sz->konst->n == 4 && sz->konst->is_int) {
      /* sizes = [N, C, H·s, W·s] computed from Shape(x) */
      for (guint d = 2; d < 4; d++) {
        const CfqpSymInt *e = &sz->konst->i[d];
        if (e->sym == (gint32) x && e->axis == d && e->num % e->den == 0)
          scales[d] = (double) (e->num / e->den);
      }
    }
  }
  for (guint d = 2; d < 4; d++)
    if (scales[d] < 1 || scales[d] > 2 * CFQP_MAX_SCALE || scales[d] != floor (scales[d])) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "scales must be constant integers ≥ 1 on H and W (got %g, %g)", scales[2], scales[3]);
      return FALSE;
    }
  if (scales[0] != 1 || scales[1] != 1) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "batch/channel scales must be 1");
    return FALSE;
  }
  n = cfqp_onnx_add_node (imp, CFQP_OP_RESIZE_NEAREST, &x, 1, cfqp_onnx_act_channels (imp, x));
  n->p.resize.scale_h = (guint) scales[2];
  n->p.resize.scale_w = (guint) scales[3];
  return TRUE;
}

gboolean
cfqp_onnx_op_tile (Importer *imp, GError **error)
{
  const CfqpConst *rep;
  gint64 r[4];
  guint x;

  if (!cfqp_onnx_require_act (imp, 0, &x, error) || !(rep = cfqp_onnx_require_const (imp, 1, error)))
    return FALSE;
  if (!cfqp_const_ints (rep, r, 4) || rep->n != 4 || r[0] != 1 || r[2] != 1 || r[3] != 1 ||
      r[1] < 1) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "only channel repeats [1,k,1,1] are supported");
    return FALSE;
  }
  if (r[1] == 1) {
    cfqp_onnx_define_act (imp, x);
    return TRUE;
  }
  return add_tile (imp, x, (guint) r[1], FALSE, error);
}

gboolean
cfqp_onnx_op_expand (Importer *imp, GError **error)
{
  const Sym *s;
  const CfqpConst *shape;
  Sym *r;

  if (!cfqp_onnx_require_input (imp, 0, &s, error) || !(shape = cfqp_onnx_require_shape (imp, 1, error)))
    return FALSE;
  if (s->kind == SYM_ACT && shape->n <= 4) {
    guint c = cfqp_onnx_act_channels (imp, s->value);
    gint64 target = shape->n >= 3 ? known_dim (shape, shape->n - 3) : 1;
    gboolean spatial_ok = TRUE;
    for (guint d = shape->n >= 2 ? shape->n - 2 : 0; d < shape->n; d++)
      spatial_ok = spatial_ok && (shape->i[d].sym != CFQP_SYM_KNOWN || shape->i[d].v == 1);
    if (spatial_ok && (target == 1 || target == (gint64) c)) {
      cfqp_onnx_define_act (imp, s->value);
      return TRUE;
    }
    if (spatial_ok && c == 1 && target > 1)
      return add_tile (imp, s->value, (guint) target, FALSE, error);
  }
  /* Unsqueeze(x, 2) → Expand([1,C,r,H,W]) → Reshape: repeat_interleave */
  if (s->kind == SYM_RESHAPED && !s->expanded && s->konst->n == 5 && shape->n == 5 &&
      known_dim (s->konst, 2) == 1 && known_dim (shape, 2) > 1 &&
      known_dim (shape, 2) <= CFQP_MAX_CHANNELS) {
    r = g_new0 (Sym, 1);
    r->kind = SYM_RESHAPED;
    r->value = s->value;
    r->konst = cfqp_const_copy (s->konst);
    r->konst->i[2].v = known_dim (shape, 2);
    r->expanded = TRUE;
    cfqp_onnx_define (imp, r);
    return TRUE;
  }
  cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
      "only channel broadcasts of a 1-channel tensor and repeat_interleave patterns");
  return FALSE;
}

/* Unsqueeze of an activation starts a view: repeat_interleave
 * (axis 2, then Expand) or a pixel shuffle written with extra unit dims. */
gboolean
cfqp_onnx_op_unsqueeze_any (Importer *imp, GError **error)
{
  const Sym *s;
  gint64 axes[CFQP_CONST_MAX_DIMS], nd;
  gboolean marked[CFQP_CONST_MAX_DIMS] = { 0 };
  gint n;
  Sym *r;

  if (!cfqp_onnx_require_input (imp, 0, &s, error))
    return FALSE;
  if (s->kind == SYM_CONST)
    return cfqp_onnx_op_unsqueeze (imp, error);
  n = cfqp_onnx_get_axes (imp, axes, error);
  nd = 4 + n;
  if (s->kind != SYM_ACT || n < 1 || nd > CFQP_CONST_MAX_DIMS) {
    if (error && !*error)
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "unsqueeze of an activation is supported only inside shuffle/repeat patterns");
    return FALSE;
  }
  for (gint k = 0; k < n; k++) {
    gint a = cfqp_onnx_normalise_axis (axes[k], (guint) nd);
    if (a < 0) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "axis out of range");
      return FALSE;
    }
    marked[a] = TRUE;
  }
  r = g_new0 (Sym, 1);
  r->kind = SYM_RESHAPED;
  r->value = s->value;
  r->konst = cfqp_const_new_int (1, &nd);
  for (guint d = 0, src = 0; d < nd; d++) {
    if (marked[d]) {
      r->konst->i[d].v = 1;
      continue;
    }
    if (src < 2) {
      r->konst->i[d].v = src == 0 ? 1 : cfqp_onnx_act_channels (imp, s->value);
    } else {
      r->konst->i[d].sym = (gint32) s->value;
      r->konst->i[d].axis = src;
    }
    src++;
  }
  cfqp_onnx_define (imp, r);
  return TRUE;
}

/* Squeeze of a constant, or the end of a shuffle pattern's view. */
gboolean
cfqp_onnx_op_squeeze_any (Importer *imp, GError **error)
{
  const Sym *s;
  gint64 axes[CFQP_CONST_MAX_DIMS];
  gint n;
  Sym *r;

  if (!cfqp_onnx_require_input (imp, 0, &s, error))
    return FALSE;
  if (s->kind == SYM_CONST)
    return cfqp_onnx_op_squeeze (imp, error);
  n = cfqp_onnx_get_axes (imp, axes, error);
  if (s->kind != SYM_TRANSPOSED || n < 1 || (guint) n >= s->view_ndim) {
    if (error && !*error)
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "squeeze of an activation is supported only inside pixel shuffle patterns");
    return FALSE;
  }
  if (s->view_ndim - n == 4) {
    gint64 four = 4;
    g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) cfqp_const_free);
    CfqpConst *shape = cfqp_const_new_int (1, &four);
    g_ptr_array_add (keep, shape);
    for (guint d = 0; d < 4; d++)
      shape->i[d].v = d == 0 ? 1 : -1;
    return match_shuffle (imp, s, shape, error);
  }
  r = g_memdup2 (s, sizeof (Sym));
  r->konst = cfqp_const_copy (s->konst);
  r->view_ndim = s->view_ndim - n;
  cfqp_onnx_define (imp, r);
  return TRUE;
}
