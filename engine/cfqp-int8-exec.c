/* INT8 on the host executor core: the program and its packing, and the
 * node callback that hands a node's views to the kernel set. */
#include "cfqp-int8-exec.h"
#include "cfqp-plan.h"

struct _CfqpInt8Exec {
  const CfqpGraph       *graph;
  const CfqpInt8Backend *backend;
  CfqpInt8Program       *program;
  gboolean               program_borrowed;   /* the caller frees program, we its packed data */
  guint                  bits;               /* 8 or 16: the programs it takes */
  CfqpHostExec          *host;
  guint16               *in16, *out16;       /* a 16-bit exec's widened input and output */
  gsize                  in16_n, out16_n;
  guint                  out_w, out_h;       /* the frame size out_n was inferred for */
  gsize                  out_n;              /* its output's elements */
};

static void
run_node (gpointer user, guint i, const CfqpView *inputs, const CfqpView *output, guint y0,
    guint y1)
{
  CfqpInt8Exec *exec = user;
  const CfqpNode *node = &exec->graph->nodes[i];

  if (exec->bits == 16) {
    CfqpU16View *in = g_newa (CfqpU16View, node->n_inputs);
    CfqpU16View out = CFQP_VIEW_AS (CfqpU16View, output);

    for (guint k = 0; k < node->n_inputs; k++)
      in[k] = CFQP_VIEW_AS (CfqpU16View, &inputs[k]);
    exec->backend->ops16[node->op] (node, &exec->program->nodes[i], in, &out, y0, y1);
  } else {
    CfqpU8View *in = g_newa (CfqpU8View, node->n_inputs);
    CfqpU8View out = CFQP_VIEW_AS (CfqpU8View, output);

    for (guint k = 0; k < node->n_inputs; k++)
      in[k] = CFQP_VIEW_AS (CfqpU8View, &inputs[k]);
    exec->backend->ops[node->op] (node, &exec->program->nodes[i], in, &out, y0, y1);
  }
}

CfqpInt8Exec *
cfqp_int8_exec_new (const CfqpGraph *graph, const CfqpInt8Backend *backend,
    CfqpWorkers *workers, gint stripe_rows, gboolean profile)
{
  return cfqp_int8_exec_new_bits (graph, backend, 8, workers, stripe_rows, profile);
}

CfqpInt8Exec *
cfqp_int8_exec_new_bits (const CfqpGraph *graph, const CfqpInt8Backend *backend, guint bits,
    CfqpWorkers *workers, gint stripe_rows, gboolean profile)
{
  CfqpInt8Exec *exec = g_new0 (CfqpInt8Exec, 1);
  CfqpHostExecConfig cfg = { bits == 16 ? "int16" : "int8", backend->name, bits / 8, run_node,
                             exec, TRUE, 0, 0, stripe_rows, profile };
  g_autofree CfqpShape *shapes = g_new0 (CfqpShape, graph->n_values);

  g_return_val_if_fail (bits == 8 || (bits == 16 && backend->ops16[CFQP_OP_CONV]), NULL);
  exec->graph = graph;
  exec->backend = backend;
  exec->bits = bits;
  /* The scale the model was validated with (cfqp-model.c probes 48×36);
   * none (0) refuses every size. */
  if (cfqp_graph_infer_shapes (graph, 48, 36, shapes, NULL)) {
    guint g = cfqp_gcd (shapes[graph->output].w, 48);
    cfg.scale = shapes[graph->output].w / g;
    cfg.scale_den = 48 / g;
  }
  exec->host = cfqp_host_exec_new (graph, &cfg, workers);
  return exec;
}

static void
free_program (CfqpInt8Exec *exec)
{
  if (!exec->program)
    return;
  for (guint i = 0; i < exec->program->n_nodes; i++)
    if (exec->program->nodes[i].packed)
      exec->backend->free_packed (g_steal_pointer (&exec->program->nodes[i].packed));
  if (exec->program_borrowed)
    exec->program = NULL;
  else
    g_clear_pointer (&exec->program, cfqp_int8_program_free);
}

void
cfqp_int8_exec_free (CfqpInt8Exec *exec)
{
  if (!exec)
    return;
  cfqp_host_exec_free (exec->host);
  free_program (exec);
  g_free (exec->in16);
  g_free (exec->out16);
  g_free (exec);
}

void
cfqp_int8_exec_set_program (CfqpInt8Exec *exec, CfqpInt8Program *program)
{
  gpointer (*pack) (const CfqpNode *node, const CfqpInt8Node *q);

  g_return_if_fail (program->bits == exec->bits);
  free_program (exec);
  exec->program = program;
  exec->program_borrowed = FALSE;
  pack = program->bits == 8 ? exec->backend->pack : exec->backend->pack16;
  if (pack)
    for (guint i = 0; i < program->n_nodes; i++)
      program->nodes[i].packed = pack (&exec->graph->nodes[i], &program->nodes[i]);
}

void
cfqp_int8_exec_borrow_program (CfqpInt8Exec *exec, CfqpInt8Program *program)
{
  cfqp_int8_exec_set_program (exec, program);
  exec->program_borrowed = TRUE;
}

const CfqpInt8Program *
cfqp_int8_exec_get_program (CfqpInt8Exec *exec)
{
  return exec->program;
}

CfqpHostExec *
cfqp_int8_exec_get_host (CfqpInt8Exec *exec)
{
  return exec->host;
}

static guint16 *
grow (guint16 **buf, gsize *n, gsize need)
{
  if (need > *n) {
    g_free (*buf);
    *buf = g_new (guint16, need);
    *n = need;
  }
  return *buf;
}

/* A 16-bit program: the pixel bytes widened onto its input grid (1/16320:
 * byte·64), its output's levels rounded back to bytes.  The output's size
 * is inferred once per frame size. */
static gboolean
run_wide (CfqpInt8Exec *exec, const guint8 *in, guint width, guint height, guint8 *out,
    GError **error)
{
  const CfqpGraph *g = exec->graph;
  gsize n_in = (gsize) g->values[0].channels * width * height, n_out;
  guint16 *in16, *out16;

  if (width != exec->out_w || height != exec->out_h || exec->out_n == 0) {
    g_autofree CfqpShape *shapes = g_new0 (CfqpShape, g->n_values);

    if (!cfqp_graph_infer_shapes (g, width, height, shapes, error))
      return FALSE;
    exec->out_n = cfqp_shape_elements (&shapes[g->output]);
    exec->out_w = width;
    exec->out_h = height;
  }
  n_out = exec->out_n;
  in16 = grow (&exec->in16, &exec->in16_n, n_in);
  out16 = grow (&exec->out16, &exec->out16_n, n_out);
  for (gsize e = 0; e < n_in; e++)
    in16[e] = in[e] * CFQP_INT16_STEPS_PER_U8;
  if (!cfqp_host_exec_run (exec->host, in16, width, height, out16, error))
    return FALSE;
  for (gsize e = 0; e < n_out; e++)
    out[e] = cfqp_int16_to_byte (out16[e]);
  return TRUE;
}

gboolean
cfqp_int8_exec_run (CfqpInt8Exec *exec, const guint8 *in, guint width, guint height,
    guint8 *out, GError **error)
{
  g_return_val_if_fail (exec->program != NULL, FALSE);
  if (exec->bits == 8)
    return cfqp_host_exec_run (exec->host, in, width, height, out, error);
  return run_wide (exec, in, width, height, out, error);
}
