/* Constant tensors met while importing ONNX (internal to the importer).
 *
 * Float constants hold weights and operands.  Integer constants hold shapes,
 * indices and axes; an element of an integer constant may be *symbolic*:
 * "axis A of activation value V, times num/den", which is what Shape()
 * of an activation yields and what Gather/Slice/Concat/Mul/Div carry along.
 * That is enough to see through the shape-only chains exporters emit
 * (Shape → Gather → Unsqueeze → Concat → Reshape) without knowing H and W.
 */
#pragma once

#include <glib.h>
#include "onnx.pb-c.h"

G_BEGIN_DECLS

#define CFQP_CONST_MAX_DIMS 8
#define CFQP_CONST_MAX_INTS 4096

typedef struct {
  gint64 v;        /* the value when sym == CFQP_SYM_KNOWN */
  gint32 sym;      /* CFQP_SYM_KNOWN, CFQP_SYM_UNKNOWN or a value id */
  guint8 axis;
  gint64 num, den;
} CfqpSymInt;

#define CFQP_SYM_KNOWN   (-1)
#define CFQP_SYM_UNKNOWN (-2)

typedef struct {
  guint     ndim;
  gint64    dims[CFQP_CONST_MAX_DIMS];
  gsize     n;
  gboolean  is_int;
  float    *f;        /* n floats, when !is_int */
  CfqpSymInt *i;      /* n ints, when is_int */
} CfqpConst;

CfqpConst *cfqp_const_new_float (guint ndim, const gint64 *dims);
CfqpConst *cfqp_const_new_int   (guint ndim, const gint64 *dims);
CfqpConst *cfqp_const_copy      (const CfqpConst *c);
void       cfqp_const_free      (CfqpConst *c);

/* Decodes a TensorProto (float, double, int8..int64, uint8, bool); bounds
 * every size against the limits of cfqp-engine.h. */
CfqpConst *cfqp_const_from_tensor (const Onnx__TensorProto *t, GError **error);

/* The value of element k as a double (float or known int); FALSE if symbolic. */
gboolean   cfqp_const_get_known (const CfqpConst *c, gsize k, double *out);
/* All elements known integers → copies them to out (n entries). */
gboolean   cfqp_const_ints      (const CfqpConst *c, gint64 *out, gsize max_n);

G_END_DECLS
