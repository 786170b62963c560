/* An element-generic planar view (internal): a batch-1 C×H×W tensor as the
 * host executor (cfqp-host-exec.h) and the data moves (cfqp-moves.h) see it,
 * whatever the element: the u8 of INT8, the float of FP32.  The fields are
 * CfqpU8View's and CfqpF32View's, strides counted in elements; the element
 * size travels beside the view. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gpointer data;
  guint    c, h, w;
  gsize    row_stride;    /* elements */
  gsize    plane_stride;  /* elements */
} CfqpView;

/* The view v (any struct with these fields: CfqpView, CfqpU8View,
 * CfqpF32View) as a type of the same fields; data converts implicitly. */
#define CFQP_VIEW_AS(type, v) \
  ((type) { (v)->data, (v)->c, (v)->h, (v)->w, (v)->row_stride, (v)->plane_stride })

/* ORC loads and stores whole elements: its arrays must be aligned to the
 * element size (misaligned 4-byte pixels crash its SSE code). */
static inline gboolean
cfqp_aligned (gconstpointer p, gsize size)
{
  return ((guintptr) p & (size - 1)) == 0;
}

/* The first byte of row y of channel c. */
static inline guint8 *
cfqp_view_row (const CfqpView *v, gsize esize, guint c, guint y)
{
  return (guint8 *) v->data + ((gsize) c * v->plane_stride + (gsize) y * v->row_stride) * esize;
}

G_END_DECLS
